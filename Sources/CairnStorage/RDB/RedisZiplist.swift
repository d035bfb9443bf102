// Redis's ziplist blob (RDB types 10, 12, 13 and the nodes of type 14), written by Redis up to
// 6.2 and still loaded by 7.x. Byte layout: docs/format-rdb.md, "ziplist".
//
// Validation follows Redis's ziplistValidateIntegrity (header sizes, every prevlen, the tail
// offset, the count) with every read bounds-checked; the whole blob is checked before the first
// callback.

public enum RedisZiplist {
    static let headerSize = 10
    static let end: UInt8 = 0xFF
    /// Header count meaning "too many to count in 16 bits: walk the entries".
    static let countUnknown = 0xFFFF
    /// A prevlen first byte of 254 announces a 4-byte length.
    static let bigPrevlen: UInt8 = 0xFE

    public static func forEach(_ blob: UnsafeRawBufferPointer, _ body: (CompactEntry) throws -> Void) throws {
        try walk(blob, deliver: false) { _ in }
        try walk(blob, deliver: true, body)
    }

    /// One pass over the entries; with `deliver` false it only validates.
    private static func walk(_ blob: UnsafeRawBufferPointer, deliver: Bool, _ body: (CompactEntry) throws -> Void) throws {
        let last = try CompactBytes.checkFrame(blob, kind: "ziplist", totalField: "zlbytes", headerSize: headerSize)
        let tail = Int(CompactBytes.le(blob, 4, 4))
        guard tail <= last else {
            throw CompactEncodingError("ziplist zltail \(tail) points past the end", offset: 4)
        }
        let headerCount = Int(CompactBytes.le(blob, 8, 2))
        var p = headerSize
        var previousSize = 0
        var lastEntry: Int? = nil
        var count = 0
        while p < last {
            let first = blob[p]
            if first == end {
                throw CompactEncodingError("ziplist terminator 0xFF before the end of the blob", offset: p)
            }
            // prevlen: one byte, or 0xFE and four little-endian bytes. Redis may keep the long
            // form for a small length (it avoids cascading rewrites), so only the value counts.
            var q = p + 1
            var prevlen = Int(first)
            if first == bigPrevlen {
                guard 5 <= last - p else {
                    throw CompactEncodingError("ziplist entry prevlen runs past the end", offset: p)
                }
                prevlen = Int(CompactBytes.le(blob, p + 1, 4))
                q = p + 5
            }
            guard prevlen == previousSize else {
                throw CompactEncodingError("ziplist entry prevlen \(prevlen) but the previous entry has \(previousSize) bytes",
                                           offset: p)
            }
            guard q < last else {
                throw CompactEncodingError("ziplist entry encoding runs past the end", offset: q)
            }
            let (lengthBytes, dataLength) = try decodeEncoding(blob, at: q, last: last)
            let data = q + lengthBytes
            guard dataLength <= last - data else {
                throw CompactEncodingError("ziplist entry of \(dataLength) data bytes runs past the end", offset: p)
            }
            if deliver { try body(value(blob, encodingAt: q, data: data, dataLength)) }
            lastEntry = p
            previousSize = data + dataLength - p
            p = data + dataLength
            count += 1
        }
        if let lastEntry, lastEntry != tail {
            throw CompactEncodingError("ziplist zltail \(tail) but the last entry starts at \(lastEntry)", offset: 4)
        }
        if headerCount != countUnknown && headerCount != count {
            throw CompactEncodingError("ziplist header counts \(headerCount) entries but holds \(count)", offset: 8)
        }
    }

    /// Length of the encoding field at `q` and of the data after it.
    private static func decodeEncoding(_ blob: UnsafeRawBufferPointer, at q: Int, last: Int) throws -> (Int, Int) {
        let enc = blob[q]
        switch enc >> 6 {
        case 0:  // 00pppppp: string of up to 63 bytes
            return (1, Int(enc & 0x3F))
        case 1:  // 01pppppp qqqqqqqq: 14-bit big-endian length
            guard 2 <= last - q else { throw CompactEncodingError("ziplist string length runs past the end", offset: q) }
            return (2, Int(enc & 0x3F) << 8 | Int(blob[q + 1]))
        case 2:  // 10______ + 4 bytes big-endian length (Redis ignores the low six bits)
            guard 5 <= last - q else { throw CompactEncodingError("ziplist string length runs past the end", offset: q) }
            var n = 0
            for i in 1...4 { n = n << 8 | Int(blob[q + i]) }
            return (5, n)
        default:
            switch enc {
            case 0xC0: return (1, 2)
            case 0xD0: return (1, 4)
            case 0xE0: return (1, 8)
            case 0xF0: return (1, 3)
            case 0xFE: return (1, 1)
            case 0xF1...0xFD: return (1, 0)  // 4-bit immediate 0...12
            default:
                throw CompactEncodingError("ziplist entry has invalid encoding byte 0x\(String(enc, radix: 16))", offset: q)
            }
        }
    }

    /// The validated entry whose encoding byte is at `q` and data at `data`.
    private static func value(_ blob: UnsafeRawBufferPointer, encodingAt q: Int, data: Int, _ length: Int) -> CompactEntry {
        let enc = blob[q]
        if enc < 0xC0 { return .bytes(UnsafeRawBufferPointer(rebasing: blob[data..<(data + length)])) }
        if length == 0 { return .int(Int64(enc & 0x0F) - 1) }
        return .int(CompactBytes.signed(blob, data, length))
    }
}
