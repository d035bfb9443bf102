// The replication backlog (Redis's repl_backlog): the last `capacity` bytes of the replication
// stream, kept so that a replica that lost its link can ask for what it missed (PSYNC) instead of
// a full copy. Offsets count bytes of the stream since the replication id began: the byte at
// offset `firstByteOffset` is the oldest one held, `offset` the last one written (Redis's
// master_repl_offset), so the backlog can serve any PSYNC offset in
// firstByteOffset ... offset + 1 (offset + 1 = "nothing missed").
//
// A ring over one preallocated array: appending never allocates, and a write larger than the
// ring keeps only its tail.

public struct ReplicationBacklog: Sendable {
    public private(set) var capacity: Int
    private var ring: [UInt8]
    /// Where the next byte goes in `ring`.
    private var head = 0
    /// Bytes held (≤ capacity): Redis's repl_backlog_histlen.
    public private(set) var histlen = 0
    /// Offset of the last byte written (master_repl_offset).
    public private(set) var offset: Int64

    /// A backlog whose stream continues after `offset` (the master_repl_offset it starts at).
    public init(capacity: Int, offset: Int64 = 0) {
        self.capacity = max(1, capacity)
        ring = [UInt8](repeating: 0, count: self.capacity)
        self.offset = offset
    }

    /// Offset of the oldest byte held (Redis's repl_backlog->offset); offset + 1 when empty.
    public var firstByteOffset: Int64 { offset - Int64(histlen) + 1 }

    /// Appends stream bytes.
    public mutating func append(_ bytes: UnsafeRawBufferPointer) {
        if bytes.count <= capacity - head, let source = bytes.baseAddress {
            // The common case, a command that fits before the ring's end: one copy.
            let at = head
            ring.withUnsafeMutableBytes { ($0.baseAddress! + at).copyMemory(from: source, byteCount: bytes.count) }
            head = at + bytes.count == capacity ? 0 : at + bytes.count
            offset += Int64(bytes.count)
            histlen = min(capacity, histlen + bytes.count)
            return
        }
        offset += Int64(bytes.count)
        var source = bytes
        if source.count > capacity {
            source = UnsafeRawBufferPointer(rebasing: source[(source.count - capacity)...])
        }
        ring.withUnsafeMutableBytes { r in
            var rest = source
            while !rest.isEmpty {
                let n = min(rest.count, capacity - head)
                UnsafeMutableRawBufferPointer(rebasing: r[head..<(head + n)]).copyMemory(from: UnsafeRawBufferPointer(rebasing: rest[..<n]))
                head = (head + n) % capacity
                rest = UnsafeRawBufferPointer(rebasing: rest[n...])
            }
        }
        histlen = min(capacity, histlen + source.count)
    }

    public mutating func append(_ bytes: [UInt8]) { bytes.withUnsafeBytes { append($0) } }

    /// Whether a replica that has every byte before `from` can continue from here.
    public func canServe(from: Int64) -> Bool {
        from >= firstByteOffset && from <= offset + 1
    }

    /// The bytes from offset `from` to the end (nil when they are not all held).
    public func bytes(from: Int64) -> [UInt8]? {
        guard canServe(from: from) else { return nil }
        let count = Int(offset + 1 - from)
        var out = [UInt8]()
        out.reserveCapacity(count)
        // The oldest byte sits at head - histlen (mod capacity); `from` is `skip` bytes after it.
        let skip = Int(from - firstByteOffset)
        var start = (head - histlen + skip) % capacity
        if start < 0 { start += capacity }
        let firstPart = min(count, capacity - start)
        out.append(contentsOf: ring[start..<(start + firstPart)])
        if firstPart < count { out.append(contentsOf: ring[0..<(count - firstPart)]) }
        return out
    }

    /// Changes the capacity (CONFIG SET repl-backlog-size), keeping the newest bytes that fit.
    public mutating func resize(_ newCapacity: Int) {
        let newCapacity = max(1, newCapacity)
        guard newCapacity != capacity else { return }
        let kept = bytes(from: offset + 1 - Int64(min(histlen, newCapacity))) ?? []
        capacity = newCapacity
        ring = [UInt8](repeating: 0, count: capacity)
        head = 0
        histlen = 0
        let end = offset
        offset -= Int64(kept.count)
        append(kept)
        precondition(offset == end)
    }
}
