import CLZ4
import CZlib
#if canImport(Glibc)
import Glibc
#endif

// Where the bytes of an RDB stream go: a file descriptor, memory, or one of the outer
// compression frames wrapped around another sink (docs/format-rdb.md, "Outer layer"). Writers
// hand over chunks of up to a few hundred KiB; the compressing sinks keep one output buffer each
// and never hold the whole stream.

public protocol ByteSink: AnyObject {
    func consume(_ bytes: UnsafeRawBufferPointer) throws
    /// Ends the stream (frame trailers). Does not fsync or close anything.
    func finish() throws
}

/// Writes to a file descriptor through `fileSystem`, continuing after short writes. A failed
/// write throws a FileError that keeps the errno (a full disk is logged as "No space left on
/// device").
public final class FileSink: ByteSink {
    public let fd: Int32
    /// Names the file in errors.
    public let path: String
    public let fileSystem: any FileSystem
    public private(set) var bytesWritten: Int64 = 0

    public init(fd: Int32, path: String = "", fileSystem: any FileSystem = POSIXFileSystem()) {
        self.fd = fd
        self.path = path
        self.fileSystem = fileSystem
    }

    public func consume(_ bytes: UnsafeRawBufferPointer) throws {
        var written = 0
        defer { bytesWritten += Int64(written) }
        do throws(Errno) {
            try fileSystem.writeAll(fd, bytes, written: &written)
        } catch {
            throw FileError(.write, path, error)
        }
    }

    public func finish() throws {}
}

/// Collects everything in memory (DUMP payloads, tests).
public final class MemorySink: ByteSink {
    public private(set) var bytes: [UInt8] = []
    public init() {}
    public func consume(_ chunk: UnsafeRawBufferPointer) throws { bytes.append(contentsOf: chunk) }
    public func finish() throws {}
}

/// One standard LZ4 frame (lz4frame API) with content checksum, so `lz4 -d` can read it.
final class LZ4FrameSink: ByteSink {
    private let next: ByteSink
    private var context: OpaquePointer?
    private var preferences = LZ4F_preferences_t()
    private var output: UnsafeMutableRawBufferPointer
    private var outputCapacityInput: Int
    private var started = false

    init(next: ByteSink, level: Int) throws {
        self.next = next
        preferences.frameInfo.blockSizeID = LZ4F_max256KB
        preferences.frameInfo.blockMode = LZ4F_blockLinked
        preferences.frameInfo.contentChecksumFlag = LZ4F_contentChecksumEnabled
        preferences.compressionLevel = Int32(max(0, min(level, 12)))
        outputCapacityInput = 256 * 1024
        let bound = LZ4F_compressBound(outputCapacityInput, &preferences)
        output = .allocate(byteCount: max(bound, LZ4F_HEADER_SIZE_MAX_constant), alignment: 16)
        var ctx: OpaquePointer?
        guard LZ4F_isError(LZ4F_createCompressionContext(&ctx, UInt32(LZ4F_VERSION))) == 0 else {
            output.deallocate()
            throw RDBError(.io, "cannot create an LZ4 compression context")
        }
        context = ctx
    }

    deinit {
        LZ4F_freeCompressionContext(context)
        output.deallocate()
    }

    private func check(_ code: Int, _ what: String) throws -> Int {
        if LZ4F_isError(code) != 0 {
            throw RDBError(.io, "LZ4 \(what) failed: \(String(cString: LZ4F_getErrorName(code)))")
        }
        return code
    }

    private func begin() throws {
        guard !started else { return }
        started = true
        let n = try check(LZ4F_compressBegin(context, output.baseAddress, output.count, &preferences), "frame start")
        try next.consume(UnsafeRawBufferPointer(rebasing: output[0..<n]))
    }

    func consume(_ bytes: UnsafeRawBufferPointer) throws {
        try begin()
        var offset = 0
        while offset < bytes.count {
            let take = min(outputCapacityInput, bytes.count - offset)
            let n = try check(LZ4F_compressUpdate(context, output.baseAddress, output.count,
                                                  bytes.baseAddress! + offset, take, nil), "compression")
            if n > 0 { try next.consume(UnsafeRawBufferPointer(rebasing: output[0..<n])) }
            offset += take
        }
    }

    func finish() throws {
        try begin()
        let n = try check(LZ4F_compressEnd(context, output.baseAddress, output.count, nil), "frame end")
        try next.consume(UnsafeRawBufferPointer(rebasing: output[0..<n]))
        try next.finish()
    }
}

/// LZ4F_HEADER_SIZE_MAX is a C macro Swift cannot import.
private let LZ4F_HEADER_SIZE_MAX_constant = 19

/// One gzip stream (RFC 1952 through zlib's deflate with window bits 31), so `gzip -d` can read it.
final class GzipSink: ByteSink {
    private let next: ByteSink
    private var stream = z_stream()
    private var output: UnsafeMutableRawBufferPointer
    /// zlib keeps a pointer to the header until the first deflate call writes it.
    private var header: UnsafeMutablePointer<gz_header>?

    /// `headerCRC` sets FHCRC, so that damage to the header's mtime, XFL or OS bytes (which
    /// nothing else covers) is detected too (backup archives).
    init(next: ByteSink, level: Int, headerCRC: Bool = false) throws {
        self.next = next
        output = .allocate(byteCount: 256 * 1024, alignment: 16)
        guard cairn_deflateInit2(&stream, Int32(max(1, min(level, 9))), 15 + 16, 8) == Z_OK else {
            output.deallocate()
            throw RDBError(.io, "cannot initialise zlib")
        }
        if headerCRC {
            let h = UnsafeMutablePointer<gz_header>.allocate(capacity: 1)
            h.initialize(to: gz_header())
            h.pointee.os = 3
            h.pointee.hcrc = 1
            header = h
            guard deflateSetHeader(&stream, h) == Z_OK else { throw RDBError(.io, "cannot set the gzip header") }
        }
    }

    deinit {
        deflateEnd(&stream)
        output.deallocate()
        header?.deallocate()
    }

    private func run(_ input: UnsafeRawBufferPointer, flush: Int32) throws {
        stream.next_in = UnsafeMutablePointer(mutating: input.baseAddress?.assumingMemoryBound(to: Bytef.self))
        stream.avail_in = UInt32(input.count)
        while true {
            stream.next_out = output.baseAddress?.assumingMemoryBound(to: Bytef.self)
            stream.avail_out = UInt32(output.count)
            let status = deflate(&stream, flush)
            guard status == Z_OK || status == Z_STREAM_END || status == Z_BUF_ERROR else {
                throw RDBError(.io, "zlib compression failed (\(status))")
            }
            let produced = output.count - Int(stream.avail_out)
            if produced > 0 { try next.consume(UnsafeRawBufferPointer(rebasing: output[0..<produced])) }
            if flush == Z_FINISH ? status == Z_STREAM_END : (stream.avail_in == 0 && stream.avail_out > 0) { break }
        }
    }

    func consume(_ bytes: UnsafeRawBufferPointer) throws {
        // zlib's avail_in is 32-bit: feed huge chunks in pieces.
        var offset = 0
        while offset < bytes.count {
            let take = min(1 << 30, bytes.count - offset)
            try run(UnsafeRawBufferPointer(rebasing: bytes[offset..<offset + take]), flush: Z_NO_FLUSH)
            offset += take
        }
    }

    func finish() throws {
        try run(UnsafeRawBufferPointer(start: nil, count: 0), flush: Z_FINISH)
        try next.finish()
    }
}

extension RDBCompression {
    /// The sink that applies this mode's outer layer on top of `sink` (lzf and no write plain bytes).
    func outerSink(over sink: ByteSink, level: Int) throws -> ByteSink {
        switch self {
        case .lz4: return try LZ4FrameSink(next: sink, level: level)
        case .zlib: return try GzipSink(next: sink, level: level)
        case .lzf, .none: return sink
        }
    }
}
