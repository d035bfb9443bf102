// Which keys of a database are in each cluster hash slot, for cluster mode: COUNTKEYSINSLOT in
// O(1), GETKEYSINSLOT and slot migration in O(keys in the slot). As Redis 7.0's slot_to_keys:
// a count per slot and a doubly linked list per slot through the keys, newest first. The links
// live in an array parallel to the key table's dense entries (same index), not in the entries
// themselves, so that a table without the index (every table outside cluster mode) keeps
// entries of the same size and pays nothing per key.
//
// KeyTable keeps the two arrays in step: it appends a link when it appends an entry, and mirrors
// its remove (the last entry moves into the hole) with `remove(at:movingLastFrom:)`.

struct SlotIndex {
    struct Link {
        var previous: Int32
        var next: Int32
        /// Stored so that removal needs no CRC of the key (Redis recomputes it; 2 bytes are cheaper).
        var slot: UInt16
    }

    struct Slot {
        var first: Int32 = -1
        var count: Int32 = 0
    }

    private(set) var slots = [Slot](repeating: Slot(), count: HashSlot.count)
    private(set) var links: [Link] = []

    func count(inSlot slot: Int) -> Int { Int(slots[slot].count) }

    /// Entry indices of up to `limit` keys of `slot`, newest first.
    func entries(inSlot slot: Int, limit: Int) -> [Int] {
        var out: [Int] = []
        out.reserveCapacity(min(limit, Int(slots[slot].count)))
        var i = slots[slot].first
        while i >= 0 && out.count < limit {
            out.append(Int(i))
            i = links[Int(i)].next
        }
        return out
    }

    /// Records the entry just appended at `index` (== links.count), whose key hashes to `slot`.
    mutating func append(_ index: Int, slot: Int) {
        let head = slots[slot].first
        links.append(Link(previous: -1, next: head, slot: UInt16(truncatingIfNeeded: slot)))
        if head >= 0 { links[Int(head)].previous = Int32(index) }
        slots[slot].first = Int32(index)
        slots[slot].count += 1
    }

    /// Unlinks entry `index`; if the table moved its last entry (`lastIndex`) into the hole, the
    /// moved entry's link follows it there.
    mutating func remove(at index: Int, movingLastFrom lastIndex: Int?) {
        unlink(index)
        if let lastIndex {
            let moved = links[lastIndex]
            links[index] = moved
            if moved.previous >= 0 { links[Int(moved.previous)].next = Int32(index) } else { slots[Int(moved.slot)].first = Int32(index) }
            if moved.next >= 0 { links[Int(moved.next)].previous = Int32(index) }
        }
        links.removeLast()
    }

    private mutating func unlink(_ index: Int) {
        let link = links[index]
        if link.previous >= 0 { links[Int(link.previous)].next = link.next } else { slots[Int(link.slot)].first = link.next }
        if link.next >= 0 { links[Int(link.next)].previous = link.previous }
        slots[Int(link.slot)].count -= 1
    }

    mutating func reserveCapacity(_ count: Int) { links.reserveCapacity(count) }

    mutating func removeAll() {
        slots = [Slot](repeating: Slot(), count: HashSlot.count)
        links = []
    }

    /// Checks the lists against `slotOf(entry)` for `entryCount` entries and returns the first
    /// violation, or nil. O(n + slots): tests only.
    func validate(entryCount: Int, slotOf: (Int) -> Int) -> String? {
        guard links.count == entryCount else { return "\(links.count) links for \(entryCount) entries" }
        var seen = [Bool](repeating: false, count: entryCount)
        for slot in slots.indices {
            var i = slots[slot].first
            var previous: Int32 = -1
            var length: Int32 = 0
            while i >= 0 {
                guard Int(i) < entryCount else { return "slot \(slot) links to \(i) past the end" }
                guard !seen[Int(i)] else { return "entry \(i) listed twice" }
                seen[Int(i)] = true
                let link = links[Int(i)]
                guard link.previous == previous else { return "entry \(i) points back to \(link.previous), not \(previous)" }
                guard Int(link.slot) == slot, slotOf(Int(i)) == slot else { return "entry \(i) listed in slot \(slot)" }
                previous = i
                i = link.next
                length += 1
            }
            guard length == slots[slot].count else { return "slot \(slot) counts \(slots[slot].count), lists \(length)" }
        }
        if let missing = seen.firstIndex(of: false) { return "entry \(missing) in no slot list" }
        return nil
    }
}

/// The slot index as the key table offers it.
extension KeyTable {
    public var isSlotIndexEnabled: Bool { slotIndex != nil }

    /// Bytes the slot index holds (MEMORY STATS overhead.hashtable.slot-to-keys); 0 when off.
    public var slotIndexBytes: Int {
        guard let index = slotIndex else { return 0 }
        return index.slots.capacity * MemoryLayout<SlotIndex.Slot>.stride + index.links.capacity * MemoryLayout<SlotIndex.Link>.stride
    }

    /// Starts keeping the keys of each hash slot, indexing the keys already present (O(n)).
    public func enableSlotIndex() {
        guard slotIndex == nil else { return }
        var index = SlotIndex()
        index.reserveCapacity(slots.count)
        for i in slots.indices { index.append(i, slot: HashSlot.of(keyBytes(at: i))) }
        slotIndex = index
    }

    public func disableSlotIndex() { slotIndex = nil }

    /// Number of keys in hash `slot` (0..<16384), including keys past their expiry time that are not
    /// yet reclaimed (as Redis's COUNTKEYSINSLOT). O(1) with the index; a full scan without it.
    public func count(inSlot slot: Int) -> Int {
        guard slot >= 0 && slot < HashSlot.count else { return 0 }
        if let slotIndex { return slotIndex.count(inSlot: slot) }
        return slots.indices.reduce(0) { $0 + (HashSlot.of(keyBytes(at: $1)) == slot ? 1 : 0) }
    }

    /// Entry indices of up to `limit` keys in hash `slot`, newest first with the index (as Redis's
    /// GETKEYSINSLOT), in table order without it. O(limit) with the index; a full scan without it.
    public func indices(inSlot slot: Int, limit: Int) -> [Int] {
        guard slot >= 0 && slot < HashSlot.count && limit > 0 else { return [] }
        if let slotIndex { return slotIndex.entries(inSlot: slot, limit: limit) }
        var out: [Int] = []
        for i in slots.indices where HashSlot.of(keyBytes(at: i)) == slot {
            out.append(i)
            if out.count == limit { break }
        }
        return out
    }
}

extension Engine {
    /// Deletes every key of `slot` in database 0 and propagates a DEL for each (Redis's
    /// delKeysInSlot): what a cluster node does with a slot another master took from it.
    @discardableResult
    public func deleteKeys(inSlot slot: Int) -> Int {
        let db = databases[0]
        let keys = db.keys(inSlot: slot, limit: Int.max)
        for key in keys {
            if observesKeys { signalModifiedKey(db: 0, key) }
            if propagating { propagateDeletion(db: 0, key: key) }
            db.delete(key)
        }
        dirty += Int64(keys.count)
        return keys.count
    }
}
