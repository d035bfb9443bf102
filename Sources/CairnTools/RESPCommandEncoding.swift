// Commands as RESP arrays of bulk strings: what `redis-cli --pipe` sends to a server
// (docs/format-resp.md gives the encoding).

public enum RESPCommandEncoding {
    public static func appendArrayHeader(_ count: Int, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "*"))
        appendDecimal(count, to: &out)
        out.append(contentsOf: [13, 10])
    }

    public static func appendBulk(_ bytes: UnsafeRawBufferPointer, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "$"))
        appendDecimal(bytes.count, to: &out)
        out.append(contentsOf: [13, 10])
        out.append(contentsOf: bytes)
        out.append(contentsOf: [13, 10])
    }

    public static func appendBulk(_ bytes: [UInt8], to out: inout [UInt8]) {
        bytes.withUnsafeBytes { appendBulk($0, to: &out) }
    }

    public static func appendBulk(_ bytes: ArraySlice<UInt8>, to out: inout [UInt8]) {
        bytes.withUnsafeBytes { appendBulk($0, to: &out) }
    }

    public static func appendBulk(_ text: StaticString, to out: inout [UInt8]) {
        appendBulk(UnsafeRawBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount), to: &out)
    }

    /// One whole command.
    public static func command(_ arguments: [[UInt8]]) -> [UInt8] {
        var out: [UInt8] = []
        appendArrayHeader(arguments.count, to: &out)
        for a in arguments { appendBulk(a, to: &out) }
        return out
    }

    static func appendDecimal(_ value: Int, to out: inout [UInt8]) {
        out.append(contentsOf: String(value).utf8)
    }
}
