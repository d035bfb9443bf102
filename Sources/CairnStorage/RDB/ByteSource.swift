import CLZ4
import CZlib
#if canImport(Glibc)
import Glibc
#endif

// Where the bytes of an RDB stream come from: a file descriptor or memory, possibly through an
// outer LZ4 frame or gzip stream detected by its magic (docs/format-rdb.md, "Outer layer").
// Each decoder keeps one input buffer; nothing holds the whole file.

public protocol ByteSource: AnyObject {
    /// Fills up to `buffer.count` bytes; 0 means the stream ended cleanly.
    func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int
}

/// Reads a file descriptor, retrying EINTR.
public final class FileSource: ByteSource {
    public let fd: Int32
    /// Bytes taken from the descriptor so far.
    public private(set) var bytesRead: Int64 = 0

    public init(fd: Int32) { self.fd = fd }

    public func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        guard buffer.count > 0 else { return 0 }
        while true {
            let n = Glibc.read(fd, buffer.baseAddress, buffer.count)
            if n >= 0 {
                bytesRead += Int64(n)
                return n
            }
            if errno == EINTR { continue }
            throw RDBError(.io, "read failed: \(String(cString: strerror(errno)))")
        }
    }
}

public final class MemorySource: ByteSource {
    private let bytes: [UInt8]
    private var position = 0
    public init(_ bytes: [UInt8]) { self.bytes = bytes }
    public func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        let n = min(buffer.count, bytes.count - position)
        guard n > 0 else { return 0 }
        bytes.withUnsafeBytes { buffer.baseAddress!.copyMemory(from: $0.baseAddress! + position, byteCount: n) }
        position += n
        return n
    }
}

/// Reads `count` bytes ahead of a source and pushes them back, to sniff the outer format.
private final class PeekedSource: ByteSource {
    private let next: ByteSource
    private var pending: [UInt8]
    init(next: ByteSource, pending: [UInt8]) {
        self.next = next
        self.pending = pending
    }
    func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        if pending.isEmpty { return try next.read(into: buffer) }
        let n = min(pending.count, buffer.count)
        pending.withUnsafeBytes { buffer.baseAddress!.copyMemory(from: $0.baseAddress!, byteCount: n) }
        pending.removeFirst(n)
        return n
    }
}

private let inputChunkBytes = 256 * 1024

/// Decodes one LZ4 frame. Damage, a bad content checksum, a truncated frame or bytes after the
/// frame are errors that say which, with the offset in the file (not in the decompressed stream).
final class LZ4FrameSource: ByteSource {
    private let next: ByteSource
    private var context: OpaquePointer?
    private let input = UnsafeMutableRawBufferPointer.allocate(byteCount: inputChunkBytes, alignment: 16)
    private var inputStart = 0, inputEnd = 0
    /// File offset of input[0].
    private var inputBase = 0
    private var frameDone = false

    init(next: ByteSource) throws {
        self.next = next
        var ctx: OpaquePointer?
        guard LZ4F_isError(LZ4F_createDecompressionContext(&ctx, UInt32(LZ4F_VERSION))) == 0 else {
            input.deallocate()
            throw RDBError(.io, "cannot create an LZ4 decompression context")
        }
        context = ctx
    }

    deinit {
        LZ4F_freeDecompressionContext(context)
        input.deallocate()
    }

    private func refill() throws {
        inputBase += inputEnd
        inputEnd = try next.read(into: input)
        inputStart = 0
    }

    func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        while true {
            if frameDone {
                if inputStart == inputEnd { try refill() }
                if inputStart < inputEnd {
                    throw RDBError(.corrupt, "unexpected bytes after the LZ4 frame", offset: inputBase + inputStart)
                }
                return 0
            }
            if inputStart == inputEnd {
                try refill()
                if inputEnd == 0 {
                    throw RDBError(.corrupt, "truncated LZ4 frame (the file ends inside the frame)", offset: inputBase)
                }
            }
            var produced = buffer.count
            var consumed = inputEnd - inputStart
            let hint = LZ4F_decompress(context, buffer.baseAddress, &produced, input.baseAddress! + inputStart, &consumed, nil)
            if LZ4F_isError(hint) != 0 {
                // liblz4 does not say where in the bytes it was given the damage lies.
                let name = String(cString: LZ4F_getErrorName(hint))
                throw RDBError(.corrupt, "damaged LZ4 frame: \(Self.explain(name)) (\(name)) in the compressed bytes "
                               + "\(inputBase + inputStart)..<\(inputBase + inputEnd)", offset: inputBase + inputStart)
            }
            inputStart += consumed
            if hint == 0 { frameDone = true }
            if produced > 0 { return produced }
        }
    }

    /// What a liblz4 frame error name means, in words.
    static func explain(_ name: String) -> String {
        switch name {
        case "ERROR_contentChecksum_invalid": return "content checksum mismatch"
        case "ERROR_blockChecksum_invalid": return "block checksum mismatch"
        case "ERROR_headerChecksum_invalid": return "frame header checksum mismatch"
        case "ERROR_decompressionFailed": return "bad block (its data does not decompress)"
        case "ERROR_frameType_unknown": return "unknown frame type"
        case "ERROR_frameHeader_incomplete": return "truncated frame header"
        case "ERROR_maxBlockSize_invalid": return "invalid maximum block size in the frame header"
        case "ERROR_reservedFlag_set": return "reserved flag set in the frame header"
        case "ERROR_frameSize_wrong": return "content size differs from the frame header"
        case "ERROR_headerVersion_wrong": return "unsupported frame version"
        default: return "frame error"
        }
    }
}

/// Decodes one gzip stream (zlib, header and CRC-32 trailer checked).
final class GzipSource: ByteSource {
    private let next: ByteSource
    private var stream = z_stream()
    private let input = UnsafeMutableRawBufferPointer.allocate(byteCount: inputChunkBytes, alignment: 16)
    private var streamDone = false

    init(next: ByteSource) throws {
        self.next = next
        guard cairn_inflateInit2(&stream, 15 + 16) == Z_OK else {
            input.deallocate()
            throw RDBError(.io, "cannot initialise zlib")
        }
    }

    deinit {
        inflateEnd(&stream)
        input.deallocate()
    }

    func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        while true {
            if streamDone {
                let end = Int(stream.total_in)
                if stream.avail_in > 0 { throw RDBError(.corrupt, "unexpected bytes after the gzip stream", offset: end) }
                var probe: UInt8 = 0
                if try withUnsafeMutableBytes(of: &probe, { try next.read(into: $0) }) > 0 {
                    throw RDBError(.corrupt, "unexpected bytes after the gzip stream", offset: end)
                }
                return 0
            }
            if stream.avail_in == 0 {
                let n = try next.read(into: input)
                if n == 0 {
                    throw RDBError(.corrupt, "truncated gzip stream (the file ends inside the stream)", offset: Int(stream.total_in))
                }
                stream.next_in = input.baseAddress?.assumingMemoryBound(to: Bytef.self)
                stream.avail_in = UInt32(n)
            }
            stream.next_out = buffer.baseAddress?.assumingMemoryBound(to: Bytef.self)
            stream.avail_out = UInt32(min(buffer.count, Int(UInt32.max)))
            let status = inflate(&stream, Z_NO_FLUSH)
            switch status {
            case Z_OK, Z_BUF_ERROR: break
            case Z_STREAM_END: streamDone = true
            default:
                let reason = stream.msg.map { String(cString: $0) } ?? "status \(status)"
                // total_in: compressed bytes consumed, the offset in the file where inflate stopped.
                throw RDBError(.corrupt, "damaged gzip stream: \(reason)", offset: Int(stream.total_in))
            }
            let produced = buffer.count - Int(stream.avail_out)
            if produced > 0 { return produced }
        }
    }
}

enum OuterFormat {
    static let lz4Magic: [UInt8] = [0x04, 0x22, 0x4D, 0x18]
    static let gzipMagic: [UInt8] = [0x1F, 0x8B]

    /// Reads the first bytes of `source` and returns the source of the inner RDB stream with the
    /// outer layer found: `.lz4`, `.zlib`, or `.none` for a plain RDB (which may hold LZF strings).
    static func open(_ source: ByteSource) throws -> (ByteSource, RDBCompression) {
        var head: [UInt8] = []
        var scratch = [UInt8](repeating: 0, count: 4)
        while head.count < 4 {
            let n = try scratch.withUnsafeMutableBytes { try source.read(into: UnsafeMutableRawBufferPointer(rebasing: $0[0..<(4 - head.count)])) }
            if n == 0 { break }
            head.append(contentsOf: scratch[0..<n])
        }
        let peeked = PeekedSource(next: source, pending: head)
        if head.starts(with: lz4Magic) { return (try LZ4FrameSource(next: peeked), .lz4) }
        if head.starts(with: gzipMagic) { return (try GzipSource(next: peeked), .zlib) }
        return (peeked, .none)
    }
}
