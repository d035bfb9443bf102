#if canImport(Glibc)
import Glibc
#endif
import CairnRESP

// The hash table behind each database. Each key is one record (KeyRecord.swift: header, expiry
// only when set, key and string value inline, one malloc'd block); the table keeps a dense array
// of 16-byte slots (record pointer, 32-bit hash, chain link) and a bucket array of Int32 chain
// heads, as ByteMap does for collections (borrowed-bytes lookups, O(1) random choice,
// resize-safe SCAN cursors), plus the list of keys that carry an expiry time, so active expiry
// samples only those. Each record with an expiry knows its slot in that list; when removal moves
// the last slot into a removed one's place, the list is re-pointed. In cluster mode it also keeps
// a SlotIndex (the keys of each hash slot); without it, `slotIndex` is nil and costs one test of
// that per insert and remove.
//
// A KeyTable is a handle: its slots, buckets and records are manually managed memory with plain
// pointers (no reference counts), so copies of the handle share one table. A table belongs to one
// Database (SWAPDB swaps two tables' contents); records are freed by `remove`, `removeAll` and the
// owning Database's deinit (`deallocate`).

public let noExpiry: Int64 = -1

/// A snapshot of what the keyspace keeps for one key (the key itself is `KeyTable.key(at:)`).
public struct KeyEntry {
    public var value: Value
    /// Absolute expiry time in unix milliseconds, or `noExpiry`.
    public var expireAt: Int64
    /// Last access, in seconds of the engine's LRU clock (OBJECT IDLETIME, eviction).
    public var accessClock: UInt32
    /// Set by COPY: Redis duplicates the integer object instead of pointing at its shared one, so
    /// OBJECT REFCOUNT of a copied 0...9999 says 1. Travels with RENAME and MOVE (the object
    /// moves); cleared by any assignment of a value.
    public var unsharedInteger = false
}

/// A string value read in place: valid until the table next changes.
public enum StringView {
    case int(Int64)
    case bytes(UnsafeRawBufferPointer)
}

public struct KeyTable {
    @usableFromInline struct Slot: BitwiseCopyable {
        @usableFromInline var record: UnsafeMutableRawPointer
        @usableFromInline var hash: UInt32
        @usableFromInline var next: Int32
    }

    /// Everything the table holds, in one manually allocated block: a KeyTable is a handle to it,
    /// so reading `db.table` copies one pointer (no reference counts, no exclusivity check) and
    /// every method is nonmutating.
    @usableFromInline struct State {
        @usableFromInline var slots = RawArray<Slot>()
        @usableFromInline var buckets: RawArray<Int32>
        @usableFromInline var mask: Int
        @usableFromInline var volatile = RawArray<Int32>()
        /// Keys per cluster hash slot; nil unless enabled (cluster mode).
        var slotIndex: SlotIndex?
    }

    @usableFromInline let state: UnsafeMutablePointer<State>

    @inlinable var slots: RawArray<Slot> {
        get { state.pointee.slots }
        nonmutating _modify { yield &state.pointee.slots }
    }
    @inlinable var buckets: RawArray<Int32> {
        get { state.pointee.buckets }
        nonmutating _modify { yield &state.pointee.buckets }
    }
    @inlinable var mask: Int {
        get { state.pointee.mask }
        nonmutating set { state.pointee.mask = newValue }
    }
    @inlinable var volatile: RawArray<Int32> {
        get { state.pointee.volatile }
        nonmutating _modify { yield &state.pointee.volatile }
    }
    var slotIndex: SlotIndex? {
        get { state.pointee.slotIndex }
        nonmutating _modify { yield &state.pointee.slotIndex }
    }

    static var initialBucketCount: Int { 16 }

    public init() {
        state = .allocate(capacity: 1)
        state.initialize(to: State(buckets: RawArray(repeating: -1, count: Self.initialBucketCount),
                                   mask: Self.initialBucketCount - 1))
    }

    /// Exchanges the contents of two tables (SWAPDB).
    public static func swapContents(_ a: KeyTable, _ b: KeyTable) {
        swap(&a.state.pointee, &b.state.pointee)
    }

    public var count: Int { slots.count }
    /// Indices of every entry (live or not yet reclaimed), for whole-table walks such as KEYS.
    public var indices: Range<Int> { slots.indices }
    public var volatileCount: Int { volatile.count }
    public var bucketCount: Int { buckets.count }

    @inlinable
    public static func hash(_ key: UnsafeRawBufferPointer) -> Int {
        var h = Hasher()
        h.combine(bytes: key)
        return h.finalize()
    }

    @inlinable
    public static func hash(_ key: [UInt8]) -> Int { key.withUnsafeBytes { hash($0) } }

    @inlinable
    func record(_ index: Int) -> KeyRecord { KeyRecord(slots[index].record) }

    /// Index of the entry holding `key`, or nil. Reads slots and records in place.
    @inlinable
    public func find(_ key: UnsafeRawBufferPointer, hash: Int) -> Int? {
        let h = UInt32(truncatingIfNeeded: hash)
        var i = buckets[Int(h) & mask]
        let n = key.count
        while i >= 0 {
            let slot = slots[Int(i)]
            if slot.hash == h {
                let r = KeyRecord(slot.record)
                if r.keyLength == n && (n == 0 || memcmp(r.base + r.keyOffset, key.baseAddress!, n) == 0) {
                    return Int(i)
                }
            }
            i = slot.next
        }
        return nil
    }

    @inlinable
    public func find(_ key: UnsafeRawBufferPointer) -> Int? { find(key, hash: Self.hash(key)) }

    @inlinable
    public func find(_ key: [UInt8]) -> Int? { key.withUnsafeBytes { find($0) } }

    public func key(at index: Int) -> [UInt8] { Array(record(index).key) }

    /// The key's bytes in place: valid until the table next changes.
    @inlinable
    public func keyBytes(at index: Int) -> UnsafeRawBufferPointer { record(index).key }

    // MARK: reading an entry

    /// A snapshot of the entry (a string value's bytes are copied).
    public subscript(index: Int) -> KeyEntry {
        let r = record(index)
        return KeyEntry(value: r.value, expireAt: r.expireAt, accessClock: r.accessClock, unsharedInteger: r.unsharedInteger)
    }

    @inlinable public func value(at index: Int) -> Value { record(index).value }
    @inlinable public func expireAt(at index: Int) -> Int64 { record(index).expireAt }
    @inlinable public func accessClock(at index: Int) -> UInt32 { record(index).accessClock }
    @inlinable public func unsharedInteger(at index: Int) -> Bool { record(index).unsharedInteger }

    /// Whether the value is a collection packed in its record (a copy when read with value(at:)).
    @inlinable public func isPacked(at index: Int) -> Bool { record(index).kind.isPacked }

    /// The value's type, read from the record's kind (value(at:) would copy a packed collection).
    public func type(at index: Int) -> ValueType {
        switch record(index).kind {
        case .int, .embstr, .raw: return .string
        case .list: return .list
        case .hash, .packedHash: return .hash
        case .set: return .set
        case .zset, .packedZset: return .zset
        }
    }

    /// A small hash's listpack read in place (valid until the table changes) and its entry count,
    /// or nil when the value is not a packed hash.
    @inlinable
    public func packedHash(at index: Int) -> (UnsafeRawBufferPointer, Int)? {
        let r = record(index)
        return r.kind == .packedHash ? (r.stringBytes, r.packedCount) : nil
    }

    /// As packedHash, for a small sorted set.
    @inlinable
    public func packedZset(at index: Int) -> (UnsafeRawBufferPointer, Int)? {
        let r = record(index)
        return r.kind == .packedZset ? (r.stringBytes, r.packedCount) : nil
    }

    /// Whether the value is a string (TYPE string: int, embstr or raw).
    @inlinable public func isString(at index: Int) -> Bool { record(index).kind.rawValue <= RecordKind.raw.rawValue }

    /// A string value read in place (no copy), or nil for another type.
    @inlinable
    public func stringView(at index: Int) -> StringView? {
        let r = record(index)
        switch r.kind {
        case .int: return .int(r.scalar)
        case .embstr, .raw: return .bytes(r.stringBytes)
        default: return nil
        }
    }

    // MARK: changing an entry

    @inlinable
    public func setAccessClock(at index: Int, _ clock: UInt32) { record(index).accessClock = clock }

    public func setUnsharedInteger(at index: Int, _ unshared: Bool) { record(index).unsharedInteger = unshared }

    /// Replaces the value (the expiry stays; the unshared-integer mark is cleared).
    public func setValue(at index: Int, _ value: Value) {
        let r = record(index)
        // Retain the new object before releasing the old one: they may be the same.
        let parts = RecordValue(retaining: value)
        r.releaseObject()
        withRecordBytes(of: value) { bytes in
            slots[index].record = r.replacingValue(kind: parts.kind, scalar: parts.scalar, stringBytes: bytes).base
        }
    }

    /// Stores `pack` as the value of a record holding a packed collection of `kind` (a write to a
    /// small hash or sorted set, PackedScratch): its bytes are copied in, the record resized.
    @usableFromInline
    func setPacked(at index: Int, kind: RecordKind, _ pack: Listpack) {
        let r = record(index)
        pack.bytes.withUnsafeBytes { bytes in
            slots[index].record = r.replacingValue(kind: kind, scalar: Int64(pack.count), stringBytes: bytes).base
        }
    }

    /// Replaces the value with an integer (INCR and friends): in place when it is one already.
    @inlinable
    public func setInteger(at index: Int, _ v: Int64) {
        let r = record(index)
        guard r.kind == .int else { return setValue(at: index, .int(v)) }
        r.base.storeBytes(of: v, toByteOffset: r.scalarOffset, as: Int64.self)
        r.unsharedInteger = false
    }

    /// Replaces the value with a string built from `bytes` as SET does (int, embstr or raw).
    public func setString(at index: Int, _ bytes: UnsafeRawBufferPointer) {
        let r = record(index)
        r.releaseObject()
        let parts = RecordValue(stringFrom: bytes)
        slots[index].record = r.replacingValue(kind: parts.kind, scalar: parts.scalar, stringBytes: bytes).base
    }

    /// Byte length of a string value (an integer's digit count), or nil for another type.
    public func stringLength(at index: Int) -> Int? {
        let r = record(index)
        switch r.kind {
        case .int: return CairnRESP.Decimal.digitCount(r.scalar)
        case .embstr, .raw: return r.valueLength
        default: return nil
        }
    }

    /// Edits a string value in place (APPEND, SETRANGE, SETBIT): it becomes a raw string of at
    /// least `length` bytes, its current bytes first and zeros after, and `body` writes into it.
    /// Growth is amortised (KeyRecord.growingRawString), so repeated edits rarely move it.
    public func editString<R>(at index: Int, length: Int, _ body: (UnsafeMutableRawBufferPointer) -> R) -> R {
        let r = record(index).growingRawString(to: length)
        slots[index].record = r.base
        return body(r.mutableStringBytes)
    }

    /// Adds a key that is not present; returns its index.
    @discardableResult
    public func insert(key: UnsafeRawBufferPointer, hash: Int, value: Value, expireAt: Int64 = noExpiry, accessClock: UInt32 = 0) -> Int {
        let parts = RecordValue(retaining: value)
        let r = withRecordBytes(of: value) {
            KeyRecord.make(key: key, value: parts, stringBytes: $0, expireAt: expireAt, accessClock: accessClock)
        }
        return link(r, hash: hash, key: key)
    }

    @discardableResult
    public func insert(key: [UInt8], hash: Int, value: Value, expireAt: Int64 = noExpiry, accessClock: UInt32 = 0) -> Int {
        key.withUnsafeBytes { insert(key: $0, hash: hash, value: value, expireAt: expireAt, accessClock: accessClock) }
    }

    /// Adds a record built elsewhere (the RDB loader) for a key that is not present; the table
    /// owns it from now on.
    @discardableResult
    func insert(record: KeyRecord, hash: Int) -> Int {
        link(record, hash: hash, key: record.key)
    }

    /// Adds a key that is not present holding a string built from `bytes` as SET does.
    @discardableResult
    public func insertString(key: UnsafeRawBufferPointer, hash: Int, _ bytes: UnsafeRawBufferPointer,
                             expireAt: Int64 = noExpiry, accessClock: UInt32 = 0) -> Int {
        let parts = RecordValue(stringFrom: bytes)
        let r = KeyRecord.make(key: key, value: parts, stringBytes: bytes, expireAt: expireAt, accessClock: accessClock)
        return link(r, hash: hash, key: key)
    }

    private func link(_ r: KeyRecord, hash: Int, key: UnsafeRawBufferPointer) -> Int {
        if slots.count >= buckets.count { resize(to: buckets.count * 2) }
        let h = UInt32(truncatingIfNeeded: hash)
        let b = Int(h) & mask
        slots.append(Slot(record: r.base, hash: h, next: buckets[b]))
        let index = slots.count - 1
        buckets[b] = Int32(index)
        if r.hasExpiry { addVolatile(index, r) }
        slotIndex?.append(index, slot: HashSlot.of(key))
        return index
    }

    /// Reads the bucket of `hash` and the head of its chain, and returns a value derived from
    /// them. Bulk loading calls this for a batch of keys before looking each up: the loads are
    /// independent, so the processor overlaps their cache misses instead of taking them one by
    /// one during the lookups (the result only keeps the reads from being optimised away).
    @inlinable
    public func touch(hash: Int) -> Int {
        let head = buckets[Int(UInt32(truncatingIfNeeded: hash)) & mask]
        return head < 0 ? 0 : Int(slots[Int(head)].hash)
    }

    /// Makes room for `count` keys, `volatileCount` of them with an expiry.
    public func reserveCapacity(_ count: Int, volatileCount: Int) {
        var size = buckets.count
        while size < count { size *= 2 }
        if size > buckets.count { resize(to: size) }
        slots.reserveCapacity(count)
        volatile.reserveCapacity(volatileCount)
        slotIndex?.reserveCapacity(count)
    }

    /// Sets or clears (`noExpiry`) the expiry time of the entry at `index`.
    public func setExpire(at index: Int, _ expireAt: Int64) {
        let r = record(index)
        if expireAt == noExpiry {
            guard r.hasExpiry else { return }
            removeVolatile(slot: Int(r.volatileSlot))
            slots[index].record = r.settingExpiryBlock(false).base
            return
        }
        if r.hasExpiry {
            r.setExpireAt(expireAt)
            return
        }
        let moved = r.settingExpiryBlock(true)
        slots[index].record = moved.base
        moved.setExpireAt(expireAt)
        addVolatile(index, moved)
    }

    private func addVolatile(_ index: Int, _ r: KeyRecord) {
        r.volatileSlot = Int32(volatile.count)
        volatile.append(Int32(index))
    }

    private func removeVolatile(slot: Int) {
        let last = volatile.count - 1
        if slot != last {
            let movedEntry = volatile[last]
            volatile[slot] = movedEntry
            record(Int(movedEntry)).volatileSlot = Int32(slot)
        }
        volatile.removeLast()
    }

    /// Removes the entry at `index` and frees its record. The last entry moves into its place.
    public func remove(at index: Int) {
        unlinkSlot(at: index).free()
    }

    /// Removes the entry at `index`; with a `freer`, its value is freed there when it is large
    /// (lazy freeing, LazyFree.swift).
    public func remove(at index: Int, freer: LazyFreer?) {
        guard let freer else { return remove(at: index) }
        freer.free(take(at: index).value)
    }

    /// Removes the entry at `index` and returns what it held (RENAME, MOVE).
    public func take(at index: Int) -> KeyEntry {
        let r = unlinkSlot(at: index)
        let entry = KeyEntry(value: r.value, expireAt: r.expireAt, accessClock: r.accessClock, unsharedInteger: r.unsharedInteger)
        r.free()
        return entry
    }

    /// Takes the entry at `index` out of the table (chain, volatile list, slot index) and moves the
    /// last slot into its place; returns the record, still allocated.
    private func unlinkSlot(at index: Int) -> KeyRecord {
        let r = record(index)
        if r.hasExpiry { removeVolatile(slot: Int(r.volatileSlot)) }
        unchain(index)
        let last = slots.count - 1
        var movedFrom: Int? = nil
        if index != last {
            let b = Int(slots[last].hash) & mask
            if buckets[b] == Int32(last) {
                buckets[b] = Int32(index)
            } else {
                var p = buckets[b]
                while slots[Int(p)].next != Int32(last) { p = slots[Int(p)].next }
                slots[Int(p)].next = Int32(index)
            }
            slots[index] = slots[last]
            movedFrom = last
            let moved = record(index)
            if moved.hasExpiry { volatile[Int(moved.volatileSlot)] = Int32(index) }
        }
        slots.removeLast()
        if slots.count * 8 < buckets.count && buckets.count > Self.initialBucketCount {
            resize(to: max(Self.initialBucketCount, buckets.count / 2))
        }
        slotIndex?.remove(at: index, movingLastFrom: movedFrom)
        return r
    }

    private func unchain(_ index: Int) {
        let b = Int(slots[index].hash) & mask
        if buckets[b] == Int32(index) {
            buckets[b] = slots[index].next
            return
        }
        var p = buckets[b]
        while slots[Int(p)].next != Int32(index) { p = slots[Int(p)].next }
        slots[Int(p)].next = slots[index].next
    }

    /// Removes and frees every entry, and gives the slot and bucket arrays back (FLUSHALL on a
    /// large table must return its memory, as Redis's dictEmpty does).
    public func removeAll() {
        for i in slots.indices { KeyRecord(slots[i].record).free() }
        slots.deallocate()
        volatile.deallocate()
        buckets.deallocate()
        buckets = RawArray(repeating: -1, count: Self.initialBucketCount)
        mask = Self.initialBucketCount - 1
        slotIndex?.removeAll()
    }

    /// Takes every entry out at once, leaving the table empty (FLUSHALL / FLUSHDB ASYNC, Redis's
    /// emptyDbAsync): O(1) here; the entries are freed by `DetachedEntries.free`, on any thread.
    public func detachAll() -> DetachedEntries {
        let detached = DetachedEntries(slots: slots, volatile: volatile, buckets: buckets)
        state.pointee.slots = RawArray()
        state.pointee.volatile = RawArray()
        buckets = RawArray(repeating: -1, count: Self.initialBucketCount)
        mask = Self.initialBucketCount - 1
        slotIndex?.removeAll()
        #if DEBUG
        RecordCensus.live -= detached.count
        #endif
        return detached
    }

    /// Frees every entry and the table's own storage (the owning Database's deinit).
    func deallocate() {
        removeAll()
        buckets.deallocate()
        state.deinitialize(count: 1)
        state.deallocate()
    }

    /// Bytes held by the slot and bucket arrays (MEMORY STATS).
    var tableBytes: Int { slots.allocatedBytes + buckets.allocatedBytes }

    /// Rebuilds the bucket array at `size` (a power of two), all at once.
    func resize(to size: Int) {
        buckets.deallocate()
        buckets = RawArray(repeating: -1, count: size)
        mask = size - 1
        for i in slots.indices {
            let bucket = Int(slots[i].hash) & mask
            slots[i].next = buckets[bucket]
            buckets[bucket] = Int32(i)
        }
    }

    // MARK: sampling and scanning

    public func randomIndex<G: RandomNumberGenerator>(using g: inout G) -> Int? {
        slots.isEmpty ? nil : Int.random(in: 0..<slots.count, using: &g)
    }

    public func randomVolatileIndex<G: RandomNumberGenerator>(using g: inout G) -> Int? {
        volatile.isEmpty ? nil : Int(volatile[Int.random(in: 0..<volatile.count, using: &g)])
    }

    /// Visits the entry indices of the bucket at `cursor`; returns the next cursor (0 when the
    /// scan is complete). Reverse binary order, as Redis's dictScan, so a scan survives resizes
    /// between calls.
    public func scan(cursor: UInt64, _ visit: (Int) -> Void) -> UInt64 {
        let m = UInt64(mask)
        var i = buckets[Int(cursor & m)]
        while i >= 0 {
            visit(Int(i))
            i = slots[Int(i)].next
        }
        return cursor.nextScanCursor(mask: m)
    }
}

extension KeyTable {
    /// Checks every structural invariant and returns a description of the first violation, or nil.
    /// O(n): for tests and fuzzing, never called on the command path.
    func validate() -> String? {
        if buckets.count != mask + 1 || buckets.count & mask != 0 { return "bucket count \(buckets.count) not a power of two matching mask \(mask)" }
        var seen = [Bool](repeating: false, count: slots.count)
        for b in buckets.indices {
            var i = buckets[b]
            var steps = 0
            while i >= 0 {
                guard Int(i) < slots.count else { return "bucket \(b) links to \(i) past the end" }
                guard !seen[Int(i)] else { return "entry \(i) linked twice" }
                seen[Int(i)] = true
                guard Int(slots[Int(i)].hash) & mask == b else { return "entry \(i) chained in bucket \(b), hashes elsewhere" }
                i = slots[Int(i)].next
                steps += 1
                if steps > slots.count { return "cycle in bucket \(b)" }
            }
        }
        if let missing = seen.firstIndex(of: false) { return "entry \(missing) unreachable from its bucket" }
        var volatileEntries = 0
        for i in slots.indices {
            let r = record(i)
            if r.hasExpiry {
                let slot = Int(r.volatileSlot)
                guard slot >= 0, slot < volatile.count, volatile[slot] == Int32(i) else {
                    return "entry \(i) volatile slot \(slot) does not point back"
                }
                guard r.expireAt != noExpiry else { return "entry \(i) in volatile list without an expiry" }
                volatileEntries += 1
            }
            if r.kind.hasValueBytes == false && r.valueLength != 0 { return "entry \(i) of kind \(r.kind) has value bytes" }
            if r.kind.isPacked {
                let stored = Int(r.base.load(fromByteOffset: 2, as: UInt16.self))
                let walked = Listpack.entryCount(in: r.stringBytes)
                if walked == 0 { return "entry \(i) is an empty packed collection" }
                if stored != min(walked, KeyRecord.packedCountUnknown) {
                    return "entry \(i) packed count \(stored) for \(walked) entries"
                }
            }
        }
        if volatileEntries != volatile.count { return "volatile list has \(volatile.count) slots for \(volatileEntries) entries" }
        if let slotIndex {
            return slotIndex.validate(entryCount: slots.count) { HashSlot.of(keyBytes(at: $0)) }
        }
        return nil
    }
}

/// The entries of a table emptied by `detachAll`: nothing else refers to them, so they may be
/// freed on another thread.
public struct DetachedEntries: @unchecked Sendable {
    fileprivate var slots: RawArray<KeyTable.Slot>
    fileprivate var volatile: RawArray<Int32>
    fileprivate var buckets: RawArray<Int32>

    public var count: Int { slots.count }

    /// Frees every record (and its value) and the arrays.
    public func free() {
        for i in slots.indices { KeyRecord(slots[i].record).freeUncounted() }
        var (s, v, b) = (slots, volatile, buckets)
        s.deallocate()
        v.deallocate()
        b.deallocate()
    }
}
