// A hash map keyed by byte strings, for large hashes, sets and sorted-set member indexes.
// Hand-written (Swift's Dictionary cannot do these): lookups take borrowed bytes, so HGET or
// SISMEMBER does not allocate a key; a uniformly random entry is O(1) (SPOP, SRANDMEMBER,
// HRANDFIELD); and scanning by bucket with Redis's reverse-binary cursor keeps SCAN's guarantee
// across resizes (HSCAN, SSCAN, ZSCAN).
//
// Entries are dense in `entries`; buckets hold the first entry index of a chain linked by `next`.
// Removal moves the last entry into the hole.

#if canImport(Glibc)
import Glibc
#endif

public struct ByteMap<Payload> {
    public struct Entry {
        public var key: [UInt8]
        public var payload: Payload
        @usableFromInline var hash: Int
        @usableFromInline var next: Int32
    }

    @usableFromInline var entries: [Entry] = []
    @usableFromInline var buckets: [Int32]
    @usableFromInline var mask: Int

    static var initialBucketCount: Int { 4 }

    public init(minimumCapacity: Int = 0) {
        var size = Self.initialBucketCount
        while size < minimumCapacity { size *= 2 }
        buckets = [Int32](repeating: -1, count: size)
        mask = size - 1
        entries.reserveCapacity(minimumCapacity)
    }

    public var count: Int { entries.count }
    public var isEmpty: Bool { entries.isEmpty }

    @inlinable
    public static func hash(_ key: UnsafeRawBufferPointer) -> Int {
        var h = Hasher()
        h.combine(bytes: key)
        return h.finalize()
    }

    /// Index of the entry for `key`, or nil.
    @inlinable
    public func find(_ key: UnsafeRawBufferPointer) -> Int? { find(key, hash: Self.hash(key)) }

    /// As `find`, with the key's hash already computed. Reads entries in place (no copy, so no
    /// retain/release of their keys and payloads while walking a chain).
    @inlinable
    public func find(_ key: UnsafeRawBufferPointer, hash h: Int) -> Int? {
        entries.withUnsafeBufferPointer { e in
            var i = buckets[h & mask]
            let n = key.count
            while i >= 0 {
                let p = e.baseAddress! + Int(i)
                if p.pointee.hash == h && p.pointee.key.count == n {
                    let same = p.pointee.key.withUnsafeBytes { stored in
                        n == 0 || memcmp(stored.baseAddress!, key.baseAddress!, n) == 0
                    }
                    if same { return Int(i) }
                }
                i = p.pointee.next
            }
            return nil
        }
    }

    @inlinable
    public func find(_ key: [UInt8]) -> Int? { key.withUnsafeBytes { find($0) } }

    public func key(at index: Int) -> [UInt8] { entries[index].key }

    public subscript(payloadAt index: Int) -> Payload {
        get { entries[index].payload }
        _modify { yield &entries[index].payload }
    }

    public func payload(for key: UnsafeRawBufferPointer) -> Payload? {
        find(key).map { entries[$0].payload }
    }

    /// Adds an absent key; returns its index.
    @discardableResult
    public mutating func insert(_ key: [UInt8], _ payload: Payload) -> Int {
        insert(key, hash: key.withUnsafeBytes { Self.hash($0) }, payload)
    }

    /// As `insert`, with the key's hash already computed.
    @discardableResult
    public mutating func insert(_ key: [UInt8], hash h: Int, _ payload: Payload) -> Int {
        if entries.count >= buckets.count { resize(to: buckets.count * 2) }
        let b = h & mask
        entries.append(Entry(key: key, payload: payload, hash: h, next: buckets[b]))
        buckets[b] = Int32(entries.count - 1)
        return entries.count - 1
    }

    /// Sets the payload of `key`, inserting it if absent; returns true if it was inserted.
    @discardableResult
    public mutating func set(_ key: UnsafeRawBufferPointer, _ payload: Payload) -> Bool {
        if let i = find(key) {
            entries[i].payload = payload
            return false
        }
        insert(Array(key), payload)
        return true
    }

    /// Removes the entry at `index`. The last entry moves into `index`; `moved` tells the caller
    /// (e.g. to fix a position it keeps elsewhere).
    @discardableResult
    public mutating func remove(at index: Int) -> (removed: Entry, movedFrom: Int?) {
        unlink(index)
        let last = entries.count - 1
        var movedFrom: Int? = nil
        if index != last {
            let b = entries[last].hash & mask
            if buckets[b] == Int32(last) {
                buckets[b] = Int32(index)
            } else {
                var p = buckets[b]
                while entries[Int(p)].next != Int32(last) { p = entries[Int(p)].next }
                entries[Int(p)].next = Int32(index)
            }
            entries.swapAt(index, last)
            movedFrom = last
        }
        let removed = entries.removeLast()
        if entries.count * 8 < buckets.count && buckets.count > Self.initialBucketCount {
            resize(to: max(Self.initialBucketCount, buckets.count / 2))
        }
        return (removed, movedFrom)
    }

    /// Removes `key` if present; returns its payload.
    @discardableResult
    public mutating func remove(_ key: UnsafeRawBufferPointer) -> Payload? {
        guard let i = find(key) else { return nil }
        return remove(at: i).removed.payload
    }

    private mutating func unlink(_ index: Int) {
        let b = entries[index].hash & mask
        if buckets[b] == Int32(index) {
            buckets[b] = entries[index].next
            return
        }
        var p = buckets[b]
        while entries[Int(p)].next != Int32(index) { p = entries[Int(p)].next }
        entries[Int(p)].next = entries[index].next
    }

    public mutating func removeAll() {
        entries = []
        buckets = [Int32](repeating: -1, count: Self.initialBucketCount)
        mask = Self.initialBucketCount - 1
    }

    /// Reads the bucket of `hash` and the head of its chain, and returns a value derived from
    /// them. Bulk loading calls this for a batch of keys before looking each up: the loads are
    /// independent, so the processor overlaps their cache misses instead of taking them one by
    /// one during the lookups (the result only keeps the reads from being optimised away).
    @inlinable
    public func touch(hash h: Int) -> Int {
        let head = buckets[h & mask]
        return head < 0 ? 0 : entries.withUnsafeBufferPointer { $0[Int(head)].hash }
    }

    /// Makes room for `count` entries without further resizing (RDB loading knows the count).
    public mutating func reserveCapacity(_ count: Int) {
        var size = buckets.count
        while size < count { size *= 2 }
        if size > buckets.count { resize(to: size) }
        entries.reserveCapacity(count)
    }

    /// Rebuilds the bucket array at `size` (a power of two), all at once.
    mutating func resize(to size: Int) {
        buckets = [Int32](repeating: -1, count: size)
        mask = size - 1
        for i in entries.indices {
            let b = entries[i].hash & mask
            entries[i].next = buckets[b]
            buckets[b] = Int32(i)
        }
    }

    public func randomIndex<G: RandomNumberGenerator>(using g: inout G) -> Int? {
        entries.isEmpty ? nil : Int.random(in: 0..<entries.count, using: &g)
    }

    /// Visits the entries of the bucket at `cursor`; returns the next cursor (0: done). Reverse
    /// binary order, as Redis's dictScan, so a scan survives resizes between calls.
    public func scan(cursor: UInt64, _ visit: (Entry) -> Void) -> UInt64 {
        let m = UInt64(mask)
        var i = buckets[Int(cursor & m)]
        while i >= 0 {
            visit(entries[Int(i)])
            i = entries[Int(i)].next
        }
        return cursor.nextScanCursor(mask: m)
    }

    /// All entries in storage order.
    public var allEntries: [Entry] { entries }

    /// Indices of every entry, for whole-table walks.
    public var indices: Range<Int> { entries.indices }
    public var bucketCount: Int { buckets.count }

    /// Checks the bucket chains and returns the first violation, or nil. O(n), tests only.
    func validate() -> String? {
        if buckets.count != mask + 1 || buckets.count & mask != 0 { return "bucket count \(buckets.count) not a power of two matching mask \(mask)" }
        var seen = [Bool](repeating: false, count: entries.count)
        for b in buckets.indices {
            var i = buckets[b]
            var steps = 0
            while i >= 0 {
                guard Int(i) < entries.count else { return "bucket \(b) links to \(i) past the end" }
                guard !seen[Int(i)] else { return "entry \(i) linked twice" }
                seen[Int(i)] = true
                guard entries[Int(i)].hash & mask == b else { return "entry \(i) chained in bucket \(b), hashes elsewhere" }
                i = entries[Int(i)].next
                steps += 1
                if steps > entries.count { return "cycle in bucket \(b)" }
            }
        }
        if let missing = seen.firstIndex(of: false) { return "entry \(missing) unreachable from its bucket" }
        return nil
    }
}

extension UInt64 {
    /// The cursor after this one for a table of `mask + 1` buckets: Redis's dictScan order
    /// (increment the reversed bits above the mask), which visits every bucket once even when the
    /// table is resized between calls. 0 when the scan is complete.
    @inlinable
    public func nextScanCursor(mask: UInt64) -> UInt64 {
        var v = self | ~mask
        v = v.bitReversed
        v &+= 1
        return v.bitReversed
    }

    /// Bit reversal (scan cursors).
    @inlinable
    public var bitReversed: UInt64 {
        var v = self
        v = ((v >> 1) & 0x5555_5555_5555_5555) | ((v & 0x5555_5555_5555_5555) << 1)
        v = ((v >> 2) & 0x3333_3333_3333_3333) | ((v & 0x3333_3333_3333_3333) << 2)
        v = ((v >> 4) & 0x0F0F_0F0F_0F0F_0F0F) | ((v & 0x0F0F_0F0F_0F0F_0F0F) << 4)
        return v.byteSwapped
    }
}
