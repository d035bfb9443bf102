// Redis's zipmap blob (RDB type 9, hashes written by Redis before 2.6). Byte layout:
// docs/format-rdb.md, "zipmap".
//
// Validation follows Redis's zipmapValidateIntegrity, a little stricter where Redis never writes
// otherwise: the end marker must be the blob's last byte and 0xFF is never a value length.

public enum RedisZipmap {
    static let end: UInt8 = 0xFF
    /// A length byte of 254 announces a 4-byte little-endian length; as the count byte it means
    /// "254 or more: walk the entries".
    static let bigLength: UInt8 = 0xFE

    /// Calls `body` with each field and value (borrowed, valid only during the call). An empty
    /// zipmap is corrupt, as in Redis.
    public static func forEach(_ blob: UnsafeRawBufferPointer,
                               _ body: (_ field: UnsafeRawBufferPointer, _ value: UnsafeRawBufferPointer) throws -> Void) throws {
        try walk(blob, deliver: false) { _, _ in }
        try walk(blob, deliver: true, body)
    }

    private static func walk(_ blob: UnsafeRawBufferPointer,
                             deliver: Bool, _ body: (UnsafeRawBufferPointer, UnsafeRawBufferPointer) throws -> Void) throws {
        let size = blob.count
        guard size >= 2 else {
            throw CompactEncodingError("zipmap of \(size) bytes is shorter than its 2-byte minimum", offset: 0)
        }
        let last = size - 1
        guard blob[last] == end else {
            throw CompactEncodingError("zipmap does not end with 0xFF", offset: last)
        }
        var p = 1
        var count = 0
        while blob[p] != end {
            let field = try string(blob, &p, last: last, what: "field", free: false)
            let value = try string(blob, &p, last: last, what: "value", free: true)
            if deliver {
                try body(UnsafeRawBufferPointer(rebasing: blob[field]), UnsafeRawBufferPointer(rebasing: blob[value]))
            }
            count += 1
        }
        guard p == last else {
            throw CompactEncodingError("zipmap end marker before the end of the blob", offset: p)
        }
        guard count > 0 else {
            throw CompactEncodingError("zipmap is empty", offset: 0)
        }
        let headerCount = Int(blob[0])
        if headerCount != Int(bigLength) && headerCount != count {
            throw CompactEncodingError("zipmap header counts \(headerCount) entries but holds \(count)", offset: 0)
        }
    }

    /// Reads a length (and for values the free-byte count) at `p`, returns the string's range and
    /// moves `p` past it and its unused free bytes. Leaves `p` at or before `last`.
    private static func string(_ blob: UnsafeRawBufferPointer, _ p: inout Int, last: Int, what: String,
                               free: Bool) throws -> Range<Int> {
        let start = p
        let first = blob[p]
        var length = Int(first)
        if first == end {
            throw CompactEncodingError("zipmap \(what) length byte is the end marker", offset: p)
        } else if first == bigLength {
            guard 5 <= last - p else {
                throw CompactEncodingError("zipmap \(what) length runs past the end", offset: p)
            }
            length = Int(CompactBytes.le(blob, p + 1, 4))
            p += 5
        } else {
            p += 1
        }
        var unused = 0
        if free {
            guard p < last else {
                throw CompactEncodingError("zipmap free-byte count runs past the end", offset: p)
            }
            unused = Int(blob[p])
            p += 1
        }
        guard length + unused <= last - p else {
            throw CompactEncodingError("zipmap \(what) of \(length) bytes (+\(unused) free) runs past the end",
                                       offset: start)
        }
        let range = p..<(p + length)
        p += length + unused
        return range
    }
}
