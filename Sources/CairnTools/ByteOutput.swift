// Where the tools write their reports: a file descriptor (stdout) behind a buffer, or memory
// (tests). Output is bytes: keys and values are written as they are, never through `String`.

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

public final class ByteOutput {
    /// Flushed to the descriptor once this full; large enough that a dump makes few syscalls.
    static let bufferBytesMax = 64 * 1024

    private let fd: Int32?
    /// Pending bytes for a descriptor; everything written so far for memory.
    public private(set) var bytes: [UInt8] = []

    /// Writes to `fd` (not closed here).
    public init(fd: Int32) {
        self.fd = fd
        bytes.reserveCapacity(Self.bufferBytesMax)
    }

    /// Keeps everything in `bytes`.
    public init() { fd = nil }

    public static func standardOutput() -> ByteOutput { ByteOutput(fd: STDOUT_FILENO) }

    /// What was written to a memory output, as text (tests).
    public var text: String { String(decoding: bytes, as: UTF8.self) }

    public func write(_ data: UnsafeRawBufferPointer) throws {
        bytes.append(contentsOf: data)
        if fd != nil && bytes.count >= Self.bufferBytesMax { try flush() }
    }

    public func write(_ data: [UInt8]) throws { try data.withUnsafeBytes { try write($0) } }
    public func write(_ data: ArraySlice<UInt8>) throws { try data.withUnsafeBytes { try write($0) } }
    public func write(_ text: String) throws {
        var text = text
        try text.withUTF8 { try write(UnsafeRawBufferPointer($0)) }
    }

    public func flush() throws {
        guard let fd, !bytes.isEmpty else { return }
        if let code = bytes.withUnsafeBytes({ POSIX.writeAll(fd, $0) }) {
            throw ToolError.io("cannot write output", errno: code)
        }
        bytes.removeAll(keepingCapacity: true)
    }
}
