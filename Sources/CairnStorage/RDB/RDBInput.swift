import CairnRESP

// The inner RDB stream being read (docs/format-rdb.md): a buffer refilled from the source, the
// position in the inner stream (for error messages), and the running CRC-64 of consumed bytes.
// Every read is bounds-checked; running out of bytes is a "truncated" error, never a trap.

final class RDBInput {
    private let source: ByteSource
    private let buffer: UnsafeMutableRawBufferPointer
    private var start = 0, end = 0
    /// Inner-stream offset of buffer[0].
    private var base = 0
    /// buffer[0..<crcMark] is already in `crc`.
    private var crcMark = 0
    private var crc: UInt64 = 0
    private let checksumming: Bool

    static let bufferBytes = 256 * 1024

    init(source: ByteSource, checksum: Bool) {
        self.source = source
        self.checksumming = checksum
        buffer = .allocate(byteCount: Self.bufferBytes, alignment: 16)
    }

    deinit { buffer.deallocate() }

    /// Position of the next byte in the inner stream.
    var offset: Int { base + start }

    /// CRC-64 of every byte consumed so far.
    func checksum() -> UInt64 {
        if checksumming && crcMark < start {
            crc = CRC64.update(crc, UnsafeRawBufferPointer(rebasing: buffer[crcMark..<start]))
            crcMark = start
        }
        return crc
    }

    /// Makes at least `n` (≤ buffer size) unread bytes available.
    private func fill(_ n: Int) throws {
        if try !fillIfPossible(n) { throw RDBError.endOfInput(offset: base + end) }
    }

    /// As `fill`, but false when the stream ends first.
    private func fillIfPossible(_ n: Int) throws -> Bool {
        if end - start >= n { return true }
        if start > 0 {
            _ = checksum()
            let live = end - start
            if live > 0 { buffer.baseAddress!.copyMemory(from: buffer.baseAddress! + start, byteCount: live) }
            base += start
            start = 0
            end = live
            crcMark = 0
        }
        while end - start < n {
            let got: Int
            do {
                got = try source.read(into: UnsafeMutableRawBufferPointer(rebasing: buffer[end...]))
            } catch var e as RDBError {
                // The outer layer (LZ4, gzip) knows no inner offset: name where the inner stream stopped.
                e.offset = e.offset ?? base + end
                throw e
            }
            if got == 0 { return false }
            end += got
        }
        return true
    }

    /// True when the inner stream has no more bytes (and the outer layer ended cleanly).
    func atEnd() throws -> Bool { try !fillIfPossible(1) }

    @inline(__always)
    func byte() throws -> UInt8 {
        if start == end { try fill(1) }
        let b = buffer[start]
        start += 1
        return b
    }

    func littleEndian<T: FixedWidthInteger>(_: T.Type) throws -> T {
        let n = MemoryLayout<T>.size
        try fill(n)
        let v = T(littleEndian: UnsafeRawPointer(buffer.baseAddress! + start).loadUnaligned(as: T.self))
        start += n
        return v
    }

    /// Calls `body` with the next `n` bytes in place (n at most the buffer size).
    func withBytes<R>(_ n: Int, _ body: (UnsafeRawBufferPointer) throws -> R) throws -> R {
        precondition(n <= buffer.count)
        try fill(n)
        let r = try body(UnsafeRawBufferPointer(rebasing: buffer[start..<start + n]))
        start += n
        return r
    }

    /// The next `n` bytes as an array. Grows with the data, so a damaged huge length fails at
    /// the end of the file instead of allocating it up front.
    func array(_ n: Int) throws -> [UInt8] {
        if n <= end - start {
            let a = Array(UnsafeRawBufferPointer(rebasing: buffer[start..<start + n]))
            start += n
            return a
        }
        var out = [UInt8]()
        out.reserveCapacity(min(n, 1 << 24))
        while out.count < n {
            if start == end { try fill(1) }
            let take = min(n - out.count, end - start)
            out.append(contentsOf: UnsafeRawBufferPointer(rebasing: buffer[start..<start + take]))
            start += take
        }
        return out
    }

    // MARK: RDB encodings

    /// Redis's rdbLoadLen: the length, or the special-encoding code when `encoded`.
    func length() throws -> (value: Int, encoded: Bool) {
        let first = try byte()
        switch first >> 6 {
        case RDBFormat.len6Bit: return (Int(first & 0x3F), false)
        case RDBFormat.len14Bit: return (Int(first & 0x3F) << 8 | Int(try byte()), false)
        case RDBFormat.lenEncoded: return (Int(first & 0x3F), true)
        default:
            if first == RDBFormat.len32Bit { return (Int(UInt32(bigEndian: try littleEndian(UInt32.self))), false) }
            if first == RDBFormat.len64Bit {
                let v = UInt64(bigEndian: try littleEndian(UInt64.self))
                guard v <= UInt64(Int.max) else { throw RDBError(.corrupt, "length \(v) out of range", offset: offset - 9) }
                return (Int(v), false)
            }
            throw RDBError(.corrupt, "bad length encoding 0x\(String(first, radix: 16))", offset: offset - 1)
        }
    }

    /// A plain length (not a special string encoding).
    func plainLength() throws -> Int {
        let at = offset
        let (v, encoded) = try length()
        if encoded { throw RDBError(.corrupt, "string encoding where a length was expected", offset: at) }
        return v
    }

    /// What a string field holds: an integer (INT8/16/32) or bytes.
    enum StringField {
        case int(Int64)
        case bytes(Int)      // length of raw bytes that follow
        case lzf(compressed: Int, length: Int)
    }

    func stringField() throws -> StringField {
        let at = offset
        let (v, encoded) = try length()
        guard encoded else { return .bytes(v) }
        switch v {
        case RDBFormat.encodingInt8: return .int(Int64(try littleEndian(Int8.self)))
        case RDBFormat.encodingInt16: return .int(Int64(try littleEndian(Int16.self)))
        case RDBFormat.encodingInt32: return .int(Int64(try littleEndian(Int32.self)))
        case RDBFormat.encodingLZF:
            let compressed = try plainLength()
            let length = try plainLength()
            guard compressed > 0, length > 0 else { throw RDBError(.corrupt, "bad LZF string lengths", offset: at) }
            return .lzf(compressed: compressed, length: length)
        default:
            throw RDBError(.corrupt, "unknown string encoding \(v)", offset: at)
        }
    }

    /// The next string's bytes, as an array (integers as their decimal digits).
    func string() throws -> [UInt8] {
        switch try stringField() {
        case .int(let v): return CairnRESP.Decimal.bytes(v)
        case .bytes(let n): return try array(n)
        case .lzf(let c, let n): return try lzfString(compressed: c, length: n)
        }
    }

    /// Calls `body` with the next string's bytes, borrowed when they fit the buffer.
    func withString<R>(_ body: (UnsafeRawBufferPointer) throws -> R) throws -> R {
        switch try stringField() {
        case .int(let v):
            return try CairnRESP.Decimal.bytes(v).withUnsafeBytes { try body($0) }
        case .bytes(let n):
            if n <= buffer.count { return try withBytes(n, body) }
            return try array(n).withUnsafeBytes { try body($0) }
        case .lzf(let c, let n):
            return try lzfString(compressed: c, length: n).withUnsafeBytes { try body($0) }
        }
    }

    func lzfString(compressed: Int, length: Int) throws -> [UInt8] {
        let at = offset
        let packed = try array(compressed)
        guard length <= Int(UInt32.max) else { throw RDBError(.corrupt, "LZF string too long", offset: at) }
        // The claimed length is checked against what the data can expand to before allocating.
        guard length <= compressed * 300 + 64 else { throw RDBError(.corrupt, "bad LZF string lengths", offset: at) }
        var out = [UInt8](repeating: 0, count: length)
        let ok = packed.withUnsafeBytes { src in out.withUnsafeMutableBytes { LZF.decompress(src, into: $0) } }
        guard ok else { throw RDBError(.corrupt, "damaged LZF string", offset: at) }
        return out
    }
}
