import CairnRESP

// The inner RDB stream being written (docs/format-rdb.md): a reused buffer of encoded bytes that
// is checksummed (CRC-64) and handed to the sink, possibly an outer compressor, when full.
// Encodes lengths and strings exactly as Redis's rdb.c does, including the INT8/16/32 forms and,
// in lzf mode, LZF-compressed strings.

final class RDBOutput {
    private let sink: ByteSink
    private let buffer: UnsafeMutableRawBufferPointer
    private var used = 0
    private let checksumming: Bool
    private let lzf: Bool
    private var lzfScratch = UnsafeMutableRawBufferPointer.allocate(byteCount: 64 * 1024, alignment: 16)
    private(set) var crc: UInt64 = 0
    /// Inner bytes produced so far.
    private(set) var offset: Int64 = 0

    static let bufferBytes = 64 * 1024

    init(sink: ByteSink, checksum: Bool, lzf: Bool) {
        self.sink = sink
        self.checksumming = checksum
        self.lzf = lzf
        buffer = .allocate(byteCount: Self.bufferBytes, alignment: 16)
    }

    deinit {
        buffer.deallocate()
        lzfScratch.deallocate()
    }

    func flush() throws {
        guard used > 0 else { return }
        let chunk = UnsafeRawBufferPointer(rebasing: buffer[0..<used])
        if checksumming { crc = CRC64.update(crc, chunk) }
        used = 0
        try sink.consume(chunk)
    }

    /// Writes the checksum trailer (outside the checksummed range) and ends the sink.
    func finish() throws {
        try flush()
        var trailer = (checksumming ? crc : 0).littleEndian
        try withUnsafeBytes(of: &trailer) { try sink.consume($0) }
        try sink.finish()
    }

    @inline(__always)
    private func reserve(_ n: Int) throws {
        if used + n > buffer.count { try flush() }
    }

    @inline(__always)
    func byte(_ b: UInt8) throws {
        try reserve(1)
        buffer[used] = b
        used += 1
        offset += 1
    }

    func bytes(_ p: UnsafeRawBufferPointer) throws {
        offset += Int64(p.count)
        if p.count > buffer.count / 2 {
            try flush()
            if checksumming { crc = CRC64.update(crc, p) }
            try sink.consume(p)
            return
        }
        try reserve(p.count)
        if let src = p.baseAddress { (buffer.baseAddress! + used).copyMemory(from: src, byteCount: p.count) }
        used += p.count
    }

    func bytes(_ a: [UInt8]) throws { try a.withUnsafeBytes { try bytes($0) } }

    @inline(__always)
    func littleEndian<T: FixedWidthInteger>(_ v: T) throws {
        let n = MemoryLayout<T>.size
        try reserve(n)
        buffer.storeBytes(of: v.littleEndian, toByteOffset: used, as: T.self)
        used += n
        offset += Int64(n)
    }

    func double(_ d: Double) throws { try littleEndian(d.bitPattern) }

    /// Redis's rdbSaveLen: 6-bit, 14-bit, 32-bit or 64-bit big-endian forms.
    func length(_ v: Int) throws {
        let u = UInt64(v)
        if u < 1 << 6 {
            try byte(UInt8(u))
        } else if u < 1 << 14 {
            try byte(0x40 | UInt8(u >> 8))
            try byte(UInt8(u & 0xFF))
        } else if u <= UInt64(UInt32.max) {
            try byte(RDBFormat.len32Bit)
            try littleEndian(UInt32(u).byteSwapped)
        } else {
            try byte(RDBFormat.len64Bit)
            try littleEndian(u.byteSwapped)
        }
    }

    /// Redis's rdbEncodeInteger: INT8/16/32 forms for values that fit 32 bits; false otherwise.
    private func encodedInteger(_ v: Int64) throws -> Bool {
        let prefix = RDBFormat.lenEncoded << 6
        if v >= Int64(Int8.min) && v <= Int64(Int8.max) {
            try byte(prefix | UInt8(RDBFormat.encodingInt8))
            try littleEndian(Int8(v))
        } else if v >= Int64(Int16.min) && v <= Int64(Int16.max) {
            try byte(prefix | UInt8(RDBFormat.encodingInt16))
            try littleEndian(Int16(v))
        } else if v >= Int64(Int32.min) && v <= Int64(Int32.max) {
            try byte(prefix | UInt8(RDBFormat.encodingInt32))
            try littleEndian(Int32(v))
        } else {
            return false
        }
        return true
    }

    /// An integer string value (Redis's rdbSaveLongLongAsStringObject).
    func string(int v: Int64) throws {
        if try encodedInteger(v) { return }
        try string(raw: CairnRESP.Decimal.bytes(v))
    }

    /// A string (Redis's rdbSaveRawString): integer form when it is a canonical integer of at
    /// most 11 bytes that fits 32 bits, LZF in lzf mode when longer than 20 bytes and it saves
    /// at least 4 bytes, else length + bytes.
    func string(_ p: UnsafeRawBufferPointer) throws {
        if p.count <= 11, p.count > 0, let v = CairnRESP.Decimal.parseInt64(p), try encodedInteger(v) { return }
        if lzf && p.count >= LZF.minimumInputBytes {
            if lzfScratch.count < p.count {
                lzfScratch.deallocate()
                lzfScratch = .allocate(byteCount: p.count, alignment: 16)
            }
            if let n = LZF.compress(p, into: lzfScratch) {
                try byte(RDBFormat.lenEncoded << 6 | UInt8(RDBFormat.encodingLZF))
                try length(n)
                try length(p.count)
                try bytes(UnsafeRawBufferPointer(rebasing: lzfScratch[0..<n]))
                return
            }
        }
        try length(p.count)
        try bytes(p)
    }

    private func string(raw: [UInt8]) throws {
        try length(raw.count)
        try bytes(raw)
    }

    func string(_ a: [UInt8]) throws { try a.withUnsafeBytes { try string($0) } }
    func string(_ s: ArraySlice<UInt8>) throws { try s.withUnsafeBytes { try string($0) } }
}
