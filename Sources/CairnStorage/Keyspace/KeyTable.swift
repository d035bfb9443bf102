#if canImport(Glibc)
import Glibc
#endif

// The hash table behind each database: a ByteMap (see Collections/ByteMap.swift for why it is
// hand-written: borrowed-bytes lookups, O(1) random choice, resize-safe SCAN cursors) whose
// payload is the key's record, plus the list of keys that carry an expiry time, so active
// expiry samples only those. Each record knows its slot in that list; when ByteMap moves its last
// entry into a removed one's place, the list is re-pointed. In cluster mode it also keeps a
// SlotIndex (the keys of each hash slot); without it, `slotIndex` is nil and costs one test of
// that per insert and remove.

public let noExpiry: Int64 = -1

/// What the keyspace keeps per key (the key itself is `KeyTable.key(at:)`).
public struct KeyEntry {
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
    @usableFromInline var volatileSlot: Int32 = -1
}

public struct KeyTable {
    @usableFromInline var map = ByteMap<KeyEntry>(minimumCapacity: 16)
    @usableFromInline var volatile: [Int32] = []
    /// Keys per cluster hash slot; nil unless enabled (cluster mode).
    var slotIndex: SlotIndex?

    public init() {}

    public var count: Int { map.count }
    /// Indices of every entry (live or not yet reclaimed), for whole-table walks such as KEYS.
    public var indices: Range<Int> { map.indices }
    public var volatileCount: Int { volatile.count }
    public var bucketCount: Int { map.bucketCount }

    @inlinable
    public static func hash(_ key: UnsafeRawBufferPointer) -> Int { ByteMap<KeyEntry>.hash(key) }

    @inlinable
    public static func hash(_ key: [UInt8]) -> Int { key.withUnsafeBytes { hash($0) } }

    /// Index of the entry holding `key`, or nil.
    @inlinable
    public func find(_ key: UnsafeRawBufferPointer, hash: Int) -> Int? { map.find(key, hash: hash) }

    @inlinable
    public func find(_ key: UnsafeRawBufferPointer) -> Int? { map.find(key) }

    @inlinable
    public func find(_ key: [UInt8]) -> Int? { map.find(key) }

    public func key(at index: Int) -> [UInt8] { map.key(at: index) }

    @inlinable
    public subscript(index: Int) -> KeyEntry {
        get { map[payloadAt: index] }
        _modify { yield &map[payloadAt: index] }
    }

    /// Adds a key that is not present; returns its index.
    @discardableResult
    public mutating func insert(key: [UInt8], hash: Int, value: Value, expireAt: Int64 = noExpiry, accessClock: UInt32 = 0) -> Int {
        let index = map.insert(key, hash: hash, KeyEntry(value: value, expireAt: noExpiry, accessClock: accessClock))
        if expireAt != noExpiry { setExpire(at: index, expireAt) }
        slotIndex?.append(index, slot: HashSlot.of(key))
        return index
    }

    /// See `ByteMap.touch(hash:)`.
    @inlinable
    public func touch(hash: Int) -> Int { map.touch(hash: hash) }

    /// Makes room for `count` keys, `volatileCount` of them with an expiry.
    public mutating func reserveCapacity(_ count: Int, volatileCount: Int) {
        map.reserveCapacity(count)
        volatile.reserveCapacity(volatileCount)
        slotIndex?.reserveCapacity(count)
    }

    /// Sets or clears (`noExpiry`) the expiry time of the entry at `index`.
    public mutating func setExpire(at index: Int, _ expireAt: Int64) {
        let slot = map[payloadAt: index].volatileSlot
        if expireAt == noExpiry {
            if slot >= 0 { removeVolatile(slot: Int(slot)) }
        } else if slot < 0 {
            map[payloadAt: index].volatileSlot = Int32(volatile.count)
            volatile.append(Int32(index))
        }
        map[payloadAt: index].expireAt = expireAt
    }

    private mutating func removeVolatile(slot: Int) {
        let last = volatile.count - 1
        let removedEntry = volatile[slot]
        if slot != last {
            let movedEntry = volatile[last]
            volatile[slot] = movedEntry
            map[payloadAt: Int(movedEntry)].volatileSlot = Int32(slot)
        }
        volatile.removeLast()
        map[payloadAt: Int(removedEntry)].volatileSlot = -1
    }

    /// Removes the entry at `index` and returns it. The last entry moves into its place.
    @discardableResult
    public mutating func remove(at index: Int) -> KeyEntry {
        if map[payloadAt: index].volatileSlot >= 0 { removeVolatile(slot: Int(map[payloadAt: index].volatileSlot)) }
        let (removed, movedFrom) = map.remove(at: index)
        if movedFrom != nil {
            let slot = map[payloadAt: index].volatileSlot
            if slot >= 0 { volatile[Int(slot)] = Int32(index) }
        }
        slotIndex?.remove(at: index, movingLastFrom: movedFrom)
        return removed.payload
    }

    public mutating func removeAll() {
        map.removeAll()
        volatile = []
        slotIndex?.removeAll()
    }

    // MARK: sampling and scanning

    public func randomIndex<G: RandomNumberGenerator>(using g: inout G) -> Int? { map.randomIndex(using: &g) }

    public func randomVolatileIndex<G: RandomNumberGenerator>(using g: inout G) -> Int? {
        volatile.isEmpty ? nil : Int(volatile[Int.random(in: 0..<volatile.count, using: &g)])
    }

    /// Visits the entries of the bucket at `cursor`; returns the next cursor (0 when the scan is
    /// complete). See ByteMap.scan for the reverse-binary cursor and its guarantee.
    public func scan(cursor: UInt64, _ visit: (ByteMap<KeyEntry>.Entry) -> Void) -> UInt64 {
        map.scan(cursor: cursor, visit)
    }
}

extension KeyTable {
    /// Checks every structural invariant and returns a description of the first violation, or nil.
    /// O(n): for tests and fuzzing, never called on the command path.
    func validate() -> String? {
        if let problem = map.validate() { return problem }
        var volatileEntries = 0
        for i in map.indices {
            let e = map[payloadAt: i]
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
        if let slotIndex {
            return slotIndex.validate(entryCount: map.count) { HashSlot.of(map.key(at: $0)) }
        }
        return nil
    }
}
