// One numbered database (SELECT n). Wraps a KeyTable with Redis's access rules: expired keys are
// removed when touched (lazy expiry), reads update the access clock and the hit/miss counters.
//
// Expiry follows the node's role, as Redis 7.0's expireIfNeeded: a master deletes a key whose
// time ran out and propagates a DEL; a replica never deletes on its own. It hides such a key
// from its clients and waits for its master's DEL, while the master link itself still sees the
// key (the master's next commands were decided with it present).

public final class Database {
    public let id: Int
    public let table = KeyTable()
    unowned(unsafe) let engine: Engine

    /// The same engine, for the per-read counters: a mutation through `engine` (unowned(unsafe))
    /// retains and releases it each time; borrowing it through this does not.
    private let unretainedEngine: Unmanaged<Engine>

    @inline(__always)
    private func countLookup(hit: Bool) {
        unretainedEngine._withUnsafeGuaranteedRef { engine in
            if hit { engine.stats.keyspaceHits += 1 } else { engine.stats.keyspaceMisses += 1 }
        }
    }

    /// A keyspace event for `key` of this database (KeyspaceEvents.swift): costs the flag test
    /// only, unless the event's class is on.
    @inline(__always)
    private func notify(_ type: KeyspaceEventClasses, _ event: StaticString, _ key: UnsafeRawBufferPointer) {
        unretainedEngine._withUnsafeGuaranteedRef { $0.notify(type, event, Array(key), db: id) }
    }

    /// Runs `store`, which replaces the value at `index`: an overwrite is a server delete of the
    /// old value (Redis's dbSetValue), freed on the lazy-free thread with
    /// `lazyfree-lazy-server-del yes`.
    @inline(__always)
    private func overwrite(at index: Int, _ store: () -> Void) {
        guard lazyServerDeletes else { return store() }
        let old = table.value(at: index)
        store()
        engine.lazyFreer.free(old)
    }

    /// `lazyfree-lazy-server-del`, read without retaining the engine (on every overwrite).
    @inline(__always)
    private var lazyServerDeletes: Bool { unretainedEngine._withUnsafeGuaranteedRef { $0.settings.lazyFreeServerDel } }

    init(id: Int, engine: Engine) {
        self.id = id
        self.engine = engine
        unretainedEngine = .passUnretained(engine)
        if engine.settings.clusterEnabled { table.enableSlotIndex() }
    }

    deinit { table.deallocate() }

    public var count: Int { table.count }

    @inline(__always)
    func isExpired(_ index: Int) -> Bool {
        let at = table.expireAt(at: index)
        return at != noExpiry && at <= engine.now && !engine.loading
    }

    /// Index of the live entry for `key`, removing it first if its time ran out. Does not count
    /// hits or misses and does not touch the access clock (EXISTS-like and write paths).

    public func lookup(_ key: UnsafeRawBufferPointer) -> Int? {
        let h = KeyTable.hash(key)
        guard let i = table.find(key, hash: h) else { return nil }
        if isExpired(i) && expireIfAllowed(at: i) { return nil }
        return i
    }

    /// An entry whose time ran out: true if it is gone for the running command (deleted on a
    /// master; hidden on a replica, except from the master link, which gets false).
    @inline(never)
    func expireIfAllowed(at index: Int) -> Bool {
        switch engine.role {
        case .master:
            // While clients are paused the dataset stays as it is: hidden, not deleted.
            if engine.datasetFrozen { return true }
            expire(at: index)
            return true
        case .replica:
            return engine.currentOrigin != .master
        }
    }

    /// As `lookup`, for a command reading the key: counts keyspace hits/misses and updates the
    /// access clock.

    public func lookupRead(_ key: UnsafeRawBufferPointer) -> Int? {
        guard let i = lookup(key) else {
            countLookup(hit: false)
            notify(.keyMiss, "keymiss", key)
            return nil
        }
        countLookup(hit: true)
        table.setAccessClock(at: i, engine.lruClock)
        return i
    }

    /// As `lookupRead`, but `touch: false` leaves the access clock alone (Redis's LOOKUP_NOTOUCH:
    /// EXISTS, TYPE, TTL, OBJECT must not make a key look recently used). Hits and misses count.
    /// A miss publishes "keymiss" unless `notifyMiss` is false (LOOKUP_NONOTIFY: OBJECT).
    public func lookupRead(_ key: UnsafeRawBufferPointer, touch: Bool, notifyMiss: Bool = true) -> Int? {
        if touch && notifyMiss { return lookupRead(key) }
        guard let i = lookup(key) else {
            countLookup(hit: false)
            if notifyMiss { notify(.keyMiss, "keymiss", key) }
            return nil
        }
        countLookup(hit: true)
        if touch { table.setAccessClock(at: i, engine.lruClock) }
        return i
    }

    /// As `lookup`, for a command about to modify the key: updates the access clock.

    public func lookupWrite(_ key: UnsafeRawBufferPointer) -> Int? {
        guard let i = lookup(key) else { return nil }
        table.setAccessClock(at: i, engine.lruClock)
        return i
    }

    public func lookup(_ key: [UInt8]) -> Int? { key.withUnsafeBytes { lookup($0) } }
    public func lookupWrite(_ key: [UInt8]) -> Int? { key.withUnsafeBytes { lookupWrite($0) } }

    /// Whether `key` is present but expired for the running command, removing it where the
    /// role allows (Redis's expireIfNeeded). A missing key or one without an expiry is left alone.
    @discardableResult
    public func expireIfNeeded(_ key: [UInt8]) -> Bool {
        guard let i = table.find(key), isExpired(i) else { return false }
        return expireIfAllowed(at: i)
    }

    /// As `expireIfNeeded`, for an entry already found.
    @discardableResult
    public func expireIfNeeded(at index: Int) -> Bool {
        isExpired(index) && expireIfAllowed(at: index)
    }

    /// Whether the entry at `index` is past its expiry time but not yet reclaimed.
    public func isLogicallyExpired(_ index: Int) -> Bool { isExpired(index) }

    /// Adds a key known to be absent.
    @discardableResult
    public func insert(_ key: UnsafeRawBufferPointer, _ value: Value, expireAt: Int64 = noExpiry) -> Int {
        signalIfAwaited(key, value)
        let i = table.insert(key: key, hash: KeyTable.hash(key), value: value, expireAt: expireAt, accessClock: engine.lruClock)
        notify(.newKey, "new", key)
        return i
    }

    @discardableResult
    public func insert(_ key: [UInt8], _ value: Value, expireAt: Int64 = noExpiry) -> Int {
        key.withUnsafeBytes { signalIfAwaited($0, value) }
        let i = table.insert(key: key, hash: KeyTable.hash(key), value: value, expireAt: expireAt, accessClock: engine.lruClock)
        unretainedEngine._withUnsafeGuaranteedRef { $0.notify(.newKey, "new", key, db: id) }
        return i
    }

    /// As Redis's dbAdd: a new list or sorted set may be what a blocked client waits for (this
    /// covers RENAME, MOVE, COPY and RESTORE as well as pushes that create the key). Every key a
    /// command creates comes through `insert` or `setString`, which publish "new" as dbAdd does
    /// (an RDB load inserts into the table directly: no event).
    @inline(__always)
    private func signalIfAwaited(_ key: UnsafeRawBufferPointer, _ value: Value) {
        guard engine.blockedClientCount > 0 else { return }
        switch value {
        case .list, .zset: engine.signalKeyReady(self, key)
        default: break
        }
    }

    /// SET semantics: replaces any value; the expiry is cleared unless `keepTTL`, then set to
    /// `expireAt` if given. Returns the entry index.
    @discardableResult
    public func set(_ key: UnsafeRawBufferPointer, _ value: Value, keepTTL: Bool = false, expireAt: Int64 = noExpiry) -> Int {
        if let i = lookup(key) {
            overwrite(at: i) { table.setValue(at: i, value) }
            table.setAccessClock(at: i, engine.lruClock)
            if !keepTTL || expireAt != noExpiry { table.setExpire(at: i, expireAt) }
            return i
        }
        return insert(key, value, expireAt: expireAt)
    }

    /// SET's store: a string made from `bytes` as SET makes it (int, embstr or raw), at the entry
    /// `existing` the caller found or as a new key; the expiry as `set`. No intermediate value.
    @discardableResult
    public func setString(_ key: UnsafeRawBufferPointer, _ bytes: UnsafeRawBufferPointer, at existing: Int?,
                          keepTTL: Bool = false, expireAt: Int64 = noExpiry) -> Int {
        if let i = existing {
            overwrite(at: i) { table.setString(at: i, bytes) }
            if !keepTTL || expireAt != noExpiry { table.setExpire(at: i, expireAt) }
            return i
        }
        let i = table.insertString(key: key, hash: KeyTable.hash(key), bytes, expireAt: expireAt, accessClock: engine.lruClock)
        notify(.newKey, "new", key)
        return i
    }

    /// Removes the key if present (and live); returns whether it was. A server delete (an
    /// implicit one: RENAME over a key, RESTORE REPLACE, an empty *STORE result ...): its value
    /// is freed lazily with `lazyfree-lazy-server-del yes` (Redis's dbDelete).
    @discardableResult
    public func delete(_ key: UnsafeRawBufferPointer) -> Bool {
        delete(key, lazily: lazyServerDeletes)
    }

    /// Removes the key if present (and live), its value freed on the lazy-free thread when
    /// `lazily` and large (DEL, UNLINK: Redis's delGenericCommand).
    @discardableResult
    public func delete(_ key: UnsafeRawBufferPointer, lazily: Bool) -> Bool {
        guard let i = lookup(key) else { return false }
        table.remove(at: i, freer: lazily ? engine.lazyFreer : nil)
        return true
    }

    @discardableResult
    public func delete(_ key: [UInt8]) -> Bool { key.withUnsafeBytes { delete($0) } }

    /// Removes an entry whose time ran out, counting it, and publishes "expired" (Redis's
    /// deleteExpiredKeyAndPropagate; published before the removal, while the key is at hand).
    func expire(at index: Int) {
        unretainedEngine._withUnsafeGuaranteedRef { $0.notify(.expired, "expired", table.key(at: index), db: id) }
        if engine.observesKeys { engine.signalModifiedKey(db: id, table.key(at: index)) }
        if engine.propagating { engine.propagateDeletion(db: id, key: table.key(at: index)) }
        table.remove(at: index, freer: engine.settings.lazyFreeExpire ? engine.lazyFreer : nil)
        engine.stats.expiredKeys += 1
    }

    public func removeAll() { table.removeAll() }

    // MARK: keys per cluster hash slot (see SlotIndex.swift)

    /// Keys in hash `slot`, counting those past their time but not yet reclaimed (COUNTKEYSINSLOT).
    /// O(1) when the slot index is on (cluster mode), O(keys) otherwise.
    public func countKeys(inSlot slot: Int) -> Int { table.count(inSlot: slot) }

    /// Up to `limit` keys of hash `slot`, newest first (GETKEYSINSLOT). O(returned keys) when the
    /// slot index is on (cluster mode), O(keys) otherwise.
    public func keys(inSlot slot: Int, limit: Int) -> [[UInt8]] {
        table.indices(inSlot: slot, limit: limit).map { table.key(at: $0) }
    }

    /// Turns the slot index on for a database that may already hold keys (indexes them, O(keys)).
    public func enableSlotIndex() { table.enableSlotIndex() }

    /// Remaining time to live in ms of the entry at `index`, or nil if it has none.
    public func ttlMillis(at index: Int) -> Int64? {
        let at = table.expireAt(at: index)
        return at == noExpiry ? nil : max(0, at - engine.now)
    }
}
