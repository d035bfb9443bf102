#if canImport(Glibc)
import Glibc
#endif

// The hash table behind each database. Written by hand rather than using Swift's Dictionary
// because the keyspace needs what Dictionary does not expose:
//  - buckets addressable by a cursor, so SCAN can use Redis's reverse-binary cursor and keep its
//    guarantee (a key present for the whole scan is returned at least once, across resizes);
//  - O(1) uniform random choice of a key (RANDOMKEY, eviction and active-expiry sampling);
//  - lookups by borrowed bytes (no key copy per GET) and in-place updates of an entry's value.
//
// Layout: entries live densely in `entries`; each bucket holds the index of its first entry and
// entries chain through `next`. Removal moves the last entry into the hole. Keys that carry an
// expiry time are also listed in `volatile`, so active expiry samples only those.

public let noExpiry: Int64 = -1

public struct KeyEntry {
    public var key: [UInt8]
    public var value: Value {
        // Any new value is built the usual way, so it is shared again if it is a small integer.
        didSet { unsharedInteger = false }
    }
    /// Absolute expiry time in unix milliseconds, or `noExpiry`.
    public var expireAt: Int64
    /// Last access, in seconds of the engine's LRU clock (OBJECT IDLETIME, eviction).
    public var accessClock: UInt32
    /// Set by COPY: Redis duplicates the integer object instead of pointing at its shared one, so
    /// OBJECT REFCOUNT of a copied 0...9999 says 1. Travels with RENAME and MOVE (the object
    /// moves); cleared by any assignment to `value`.
    public var unsharedInteger = false
    @usableFromInline var hash: Int
    @usableFromInline var next: Int32
    @usableFromInline var volatileSlot: Int32
}

public struct KeyTable {
    @usableFromInline var entries: [KeyEntry] = []
    @usableFromInline var buckets: [Int32]
    @usableFromInline var mask: Int
    @usableFromInline var volatile: [Int32] = []

    static let initialBucketCount = 16

    public init() {
        buckets = [Int32](repeating: -1, count: Self.initialBucketCount)
        mask = Self.initialBucketCount - 1
    }

    public var count: Int { entries.count }
    /// Indices of every entry (live or not yet reclaimed), for whole-table walks such as KEYS.
    public var indices: Range<Int> { entries.indices }
    public var volatileCount: Int { volatile.count }
    public var bucketCount: Int { buckets.count }

    @inlinable
    public static func hash(_ key: UnsafeRawBufferPointer) -> Int {
        var h = Hasher()
        h.combine(bytes: key)
        return h.finalize()
    }

    @inlinable
    public static func hash(_ key: [UInt8]) -> Int {
        key.withUnsafeBytes { hash($0) }
    }

    /// Index of the entry holding `key`, or nil.
    @inlinable
    public func find(_ key: UnsafeRawBufferPointer, hash: Int) -> Int? {
        var i = buckets[hash & mask]
        let n = key.count
        while i >= 0 {
            let e = entries[Int(i)]
            if e.hash == hash && e.key.count == n {
                let same = e.key.withUnsafeBytes { stored -> Bool in
                    // Empty buffers may have no base address; they are equal by length alone.
                    guard let a = stored.baseAddress, let b = key.baseAddress else { return n == 0 }
                    return memcmp(a, b, n) == 0
                }
                if same { return Int(i) }
            }
            i = e.next
        }
        return nil
    }

    @inlinable
    public func find(_ key: UnsafeRawBufferPointer) -> Int? { find(key, hash: Self.hash(key)) }

    @inlinable
    public func find(_ key: [UInt8]) -> Int? { key.withUnsafeBytes { find($0) } }

    @inlinable
    public subscript(index: Int) -> KeyEntry {
        get { entries[index] }
        _modify { yield &entries[index] }
    }

    /// Adds a key that is not present; returns its index.
    @discardableResult
    public mutating func insert(key: [UInt8], hash: Int, value: Value, expireAt: Int64 = noExpiry, accessClock: UInt32 = 0) -> Int {
        if entries.count >= buckets.count { resize(to: buckets.count * 2) }
        let index = entries.count
        let b = hash & mask
        entries.append(KeyEntry(key: key, value: value, expireAt: noExpiry, accessClock: accessClock,
                                hash: hash, next: buckets[b], volatileSlot: -1))
        buckets[b] = Int32(index)
        if expireAt != noExpiry { setExpire(at: index, expireAt) }
        return index
    }

    /// Sets or clears (`noExpiry`) the expiry time of the entry at `index`.
    public mutating func setExpire(at index: Int, _ expireAt: Int64) {
        let slot = entries[index].volatileSlot
        if expireAt == noExpiry {
            if slot >= 0 { removeVolatile(slot: Int(slot)) }
        } else if slot < 0 {
            entries[index].volatileSlot = Int32(volatile.count)
            volatile.append(Int32(index))
        }
        entries[index].expireAt = expireAt
    }

    private mutating func removeVolatile(slot: Int) {
        let last = volatile.count - 1
        let removedEntry = volatile[slot]
        if slot != last {
            let movedEntry = volatile[last]
            volatile[slot] = movedEntry
            entries[Int(movedEntry)].volatileSlot = Int32(slot)
        }
        volatile.removeLast()
        entries[Int(removedEntry)].volatileSlot = -1
    }

    /// Removes the entry at `index` and returns it. The last entry moves into its place.
    @discardableResult
    public mutating func remove(at index: Int) -> KeyEntry {
        if entries[index].volatileSlot >= 0 { removeVolatile(slot: Int(entries[index].volatileSlot)) }
        unlink(index)
        let last = entries.count - 1
        if index != last {
            // Re-point whatever referred to `last` (its bucket head or a chain predecessor).
            let moved = entries[last]
            let b = moved.hash & mask
            if buckets[b] == Int32(last) {
                buckets[b] = Int32(index)
            } else {
                var p = buckets[b]
                while entries[Int(p)].next != Int32(last) { p = entries[Int(p)].next }
                entries[Int(p)].next = Int32(index)
            }
            if moved.volatileSlot >= 0 { volatile[Int(moved.volatileSlot)] = Int32(index) }
            entries.swapAt(index, last)
        }
        let removed = entries.removeLast()
        if entries.count * 8 < buckets.count && buckets.count > Self.initialBucketCount {
            resize(to: max(Self.initialBucketCount, buckets.count / 2))
        }
        return removed
    }

    /// Detaches the entry at `index` from its bucket chain.
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
        volatile = []
        buckets = [Int32](repeating: -1, count: Self.initialBucketCount)
        mask = Self.initialBucketCount - 1
    }

    /// Rebuilds the bucket array at `size` (a power of two). Done all at once: resizing is O(n) in
    /// one step, unlike Redis's incremental rehash (a known latency cost for very large tables).
    mutating func resize(to size: Int) {
        buckets = [Int32](repeating: -1, count: size)
        mask = size - 1
        for i in entries.indices {
            let b = entries[i].hash & mask
            entries[i].next = buckets[b]
            buckets[b] = Int32(i)
        }
    }

    // MARK: sampling and scanning

    public func randomIndex<G: RandomNumberGenerator>(using g: inout G) -> Int? {
        entries.isEmpty ? nil : Int.random(in: 0..<entries.count, using: &g)
    }

    public func randomVolatileIndex<G: RandomNumberGenerator>(using g: inout G) -> Int? {
        volatile.isEmpty ? nil : Int(volatile[Int.random(in: 0..<volatile.count, using: &g)])
    }

    /// Visits the entries of the bucket at `cursor` and returns the next cursor (0 when the scan
    /// is complete). The cursor advances in reverse-binary order, as Redis's dictScan does, so
    /// buckets visited before a resize map onto buckets visited after it.
    public func scan(cursor: UInt64, _ visit: (KeyEntry) -> Void) -> UInt64 {
        let m = UInt64(mask)
        var i = buckets[Int(cursor & m)]
        while i >= 0 {
            visit(entries[Int(i)])
            i = entries[Int(i)].next
        }
        var v = cursor | ~m
        v = v.bitSwapped
        v &+= 1
        v = v.bitSwapped
        return v
    }
}

extension UInt64 {
    /// Bit reversal (used by the scan cursor).
    var bitSwapped: UInt64 {
        var v = self
        v = ((v >> 1) & 0x5555_5555_5555_5555) | ((v & 0x5555_5555_5555_5555) << 1)
        v = ((v >> 2) & 0x3333_3333_3333_3333) | ((v & 0x3333_3333_3333_3333) << 2)
        v = ((v >> 4) & 0x0F0F_0F0F_0F0F_0F0F) | ((v & 0x0F0F_0F0F_0F0F_0F0F) << 4)
        return v.byteSwapped
    }
}

extension KeyTable {
    /// Checks every structural invariant and returns a description of the first violation, or nil.
    /// O(n): for tests and fuzzing, never called on the command path.
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
        var volatileEntries = 0
        for (i, e) in entries.enumerated() {
            if e.volatileSlot >= 0 {
                guard Int(e.volatileSlot) < volatile.count, volatile[Int(e.volatileSlot)] == Int32(i) else {
                    return "entry \(i) volatile slot \(e.volatileSlot) does not point back"
                }
                guard e.expireAt != noExpiry else { return "entry \(i) in volatile list without an expiry" }
                volatileEntries += 1
            } else if e.expireAt != noExpiry {
                return "entry \(i) has an expiry but no volatile slot"
            }
        }
        if volatileEntries != volatile.count { return "volatile list has \(volatile.count) slots for \(volatileEntries) entries" }
        return nil
    }
}
