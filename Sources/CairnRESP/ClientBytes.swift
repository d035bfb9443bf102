// Bytes a client sent, quoted back the way Redis quotes them. Redis builds its error texts with
// printf-style `%s`, so a quoted argument is the client's bytes exactly as they arrived (never
// re-encoded as UTF-8) and ends at the first NUL byte, as a C string does.

public enum ClientBytes {
    /// `bytes` up to (not including) the first NUL.
    public static func cString<C: Collection<UInt8>>(_ bytes: C) -> C.SubSequence {
        bytes[..<(bytes.firstIndex(of: 0) ?? bytes.endIndex)]
    }
}

/// A broken request: the reply is `-ERR Protocol error: <message>` and the connection closes.
/// The message may quote a byte the client sent, so it is kept as bytes.
public struct ProtocolError: Error, Equatable, Sendable, CustomStringConvertible {
    public let message: [UInt8]

    public init(_ message: String) { self.message = Array(message.utf8) }
    public init(bytes: [UInt8]) { message = bytes }

    /// The message for logs: bytes outside printable ASCII as \xNN escapes.
    public var description: String {
        var text = ""
        for b in message {
            if b >= 0x20 && b < 0x7f && b != UInt8(ascii: "\\") {
                text.unicodeScalars.append(Unicode.Scalar(b))
            } else {
                text += "\\x" + (b < 16 ? "0" : "") + String(b, radix: 16)
            }
        }
        return text
    }
}
