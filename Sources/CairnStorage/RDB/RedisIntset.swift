// Redis's intset blob (RDB type 11): a sorted array of unique integers, each stored in the set's
// one width. Byte layout: docs/format-rdb.md, "intset".

public enum RedisIntset {
    static let headerSize = 8

    /// Calls `body` with each member in ascending order. As in Redis's intsetValidateIntegrity, an
    /// empty intset is corrupt (Redis never stores an empty set), and so is any member that is not
    /// greater than the one before it.
    public static func forEach(_ blob: UnsafeRawBufferPointer, _ body: (Int64) throws -> Void) throws {
        let size = blob.count
        guard size >= headerSize else {
            throw CompactEncodingError("intset of \(size) bytes is shorter than its 8-byte header", offset: 0)
        }
        let width = Int(CompactBytes.le(blob, 0, 4))
        guard width == 2 || width == 4 || width == 8 else {
            throw CompactEncodingError("intset encoding \(width) is not 2, 4 or 8", offset: 0)
        }
        let count = Int(CompactBytes.le(blob, 4, 4))
        guard headerSize + count * width == size else {
            throw CompactEncodingError("intset of \(count) \(width)-byte members needs \(headerSize + count * width) bytes but the blob has \(size)",
                                       offset: 4)
        }
        guard count > 0 else {
            throw CompactEncodingError("intset is empty", offset: 4)
        }
        var previous = Int64.min
        for i in 0..<count {
            let v = CompactBytes.signed(blob, headerSize + i * width, width)
            guard i == 0 || v > previous else {
                throw CompactEncodingError("intset member \(v) does not follow \(previous) in ascending order",
                                           offset: headerSize + i * width)
            }
            previous = v
        }
        for i in 0..<count { try body(CompactBytes.signed(blob, headerSize + i * width, width)) }
    }
}
