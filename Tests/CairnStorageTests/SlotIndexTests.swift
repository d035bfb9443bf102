@testable import CairnStorage
import Testing

/// The per-slot key count and lists of the key table (cluster mode).
@Suite struct SlotIndexTests {
    func bytes(_ s: String) -> [UInt8] { Array(s.utf8) }
    func strings(_ keys: [[UInt8]]) -> [String] { keys.map { String(decoding: $0, as: UTF8.self) } }
    func keys(_ t: KeyTable, slot: Int, limit: Int = .max) -> [String] {
        t.indices(inSlot: slot, limit: limit).map { String(decoding: t.key(at: $0), as: UTF8.self) }
    }

    @discardableResult
    func insert(_ t: KeyTable, _ key: String) -> Int {
        t.insert(key: bytes(key), hash: KeyTable.hash(bytes(key)), value: .int(1))
    }

    func remove(_ t: KeyTable, _ key: String) {
        guard let i = t.find(bytes(key)) else { Issue.record("no \(key)"); return }
        t.remove(at: i)
    }

    static let slotT = HashSlot.of(Array("t".utf8))

    @Test func countsAndListsNewestFirst() {
        let t = KeyTable()
        defer { t.deallocate() }
        t.enableSlotIndex()
        for k in ["{t}a", "{t}b", "{t}c", "{t}d", "other"] { insert(t, k) }
        #expect(t.count(inSlot: Self.slotT) == 4)
        #expect(keys(t, slot: Self.slotT) == ["{t}d", "{t}c", "{t}b", "{t}a"], "as Redis: the newest first")
        #expect(keys(t, slot: Self.slotT, limit: 2) == ["{t}d", "{t}c"])
        #expect(keys(t, slot: HashSlot.of(bytes("other"))) == ["other"])
        #expect(t.validate() == nil)
        // The middle, the head, the tail; "other" is the last entry and moves into each hole.
        remove(t, "{t}b")
        #expect(keys(t, slot: Self.slotT) == ["{t}d", "{t}c", "{t}a"])
        #expect(t.validate() == nil)
        remove(t, "{t}d")
        remove(t, "{t}a")
        #expect(keys(t, slot: Self.slotT) == ["{t}c"])
        #expect(t.count(inSlot: Self.slotT) == 1)
        #expect(t.validate() == nil)
        // The head of its slot moving into a hole (the last entry is the newest of its slot).
        insert(t, "{t}e")
        remove(t, "{t}c")
        #expect(keys(t, slot: Self.slotT) == ["{t}e"])
        #expect(t.validate() == nil)
    }

    @Test func slotOutOfRangeAndZeroLimit() {
        let t = KeyTable()
        defer { t.deallocate() }
        t.enableSlotIndex()
        insert(t, "k")
        #expect(t.count(inSlot: -1) == 0 && t.count(inSlot: HashSlot.count) == 0)
        #expect(t.indices(inSlot: HashSlot.count, limit: 10).isEmpty)
        #expect(t.indices(inSlot: HashSlot.of(bytes("k")), limit: 0).isEmpty)
    }

    /// Without the index the same answers come from a scan, and the index can be built later
    /// from the keys already there.
    @Test func enableOnANonEmptyTableAndDisable() {
        let t = KeyTable()
        defer { t.deallocate() }
        for n in 0..<500 { insert(t, "{s\(n % 7)}k\(n)") }
        #expect(!t.isSlotIndexEnabled)
        let scanned = (0..<7).map { t.count(inSlot: HashSlot.of(bytes("s\($0)"))) }
        #expect(scanned.reduce(0, +) == 500)
        t.enableSlotIndex()
        #expect(t.isSlotIndexEnabled)
        #expect(t.validate() == nil)
        for n in 0..<7 {
            let slot = HashSlot.of(bytes("s\(n)"))
            #expect(t.count(inSlot: slot) == scanned[n])
            #expect(Set(keys(t, slot: slot)) == Set((0..<500).filter { $0 % 7 == n }.map { "{s\(n)}k\($0)" }))
        }
        t.disableSlotIndex()
        #expect(t.count(inSlot: HashSlot.of(bytes("s3"))) == scanned[3])
        #expect(t.validate() == nil)
    }

    /// Growing and shrinking the bucket array does not move entries, so the lists survive it.
    @Test func survivesResizes() {
        let t = KeyTable()
        defer { t.deallocate() }
        t.enableSlotIndex()
        let start = t.bucketCount
        for n in 0..<20_000 { insert(t, "{g\(n % 3)}\(n)") }
        #expect(t.bucketCount > start)
        #expect(t.validate() == nil)
        let grown = t.bucketCount
        for n in 0..<19_900 { remove(t, "{g\(n % 3)}\(n)") }
        #expect(t.bucketCount < grown)
        #expect(t.validate() == nil)
        #expect((0..<3).map { t.count(inSlot: HashSlot.of(bytes("g\($0)"))) }.reduce(0, +) == 100)
        t.removeAll()
        #expect(t.isSlotIndexEnabled, "a flush keeps the index on")
        #expect(t.count(inSlot: HashSlot.of(bytes("g0"))) == 0)
        #expect(t.validate() == nil)
    }

    /// Random inserts, removals (so every kind of move into a hole), expiry changes and flushes
    /// against a model of each slot's keys; the structure is validated along the way.
    @Test func randomizedAgainstAModel() {
        var rng = FastRandom(seed: 0x5107)
        let t = KeyTable()
        defer { t.deallocate() }
        t.enableSlotIndex()
        var model: [Int: [String]] = [:]  // slot -> keys, newest last
        let tags = (0..<6).map { "tag\($0)" }
        for step in 0..<30_000 {
            let roll = rng.next() % 100
            let present = t.count
            if roll < 55 || present == 0 {
                // Tagged keys crowd a few slots, so lists get long; untagged ones spread out.
                let n = rng.next() % 4000
                let key = rng.next() % 3 == 0 ? "k\(n)" : "{\(tags[Int(n % 6)])}\(n)"
                guard t.find(bytes(key)) == nil else { continue }
                let i = insert(t, key)
                if rng.next() % 4 == 0 { t.setExpire(at: i, 1_000 + Int64(n)) }
                model[HashSlot.of(bytes(key)), default: []].append(key)
            } else if roll < 97 {
                let i = Int(rng.next() % UInt64(present))
                let key = String(decoding: t.key(at: i), as: UTF8.self)
                t.remove(at: i)
                model[HashSlot.of(bytes(key))]?.removeAll { $0 == key }
            } else if roll < 98 {
                t.removeAll()
                model = [:]
            } else {
                let i = Int(rng.next() % UInt64(present))
                t.setExpire(at: i, noExpiry)
            }
            if step % 1000 == 0 {
                if let problem = t.validate() { Issue.record("step \(step): \(problem)"); return }
            }
        }
        #expect(t.validate() == nil)
        for (slot, expected) in model {
            #expect(t.count(inSlot: slot) == expected.count)
            #expect(keys(t, slot: slot) == Array(expected.reversed()), "slot \(slot)")
        }
        #expect(model.values.reduce(0) { $0 + $1.count } == t.count)
    }

    // MARK: through the engine's commands

    func clusterEngine() -> EngineHarness {
        var settings = EngineSettings()
        settings.clusterEnabled = true
        return EngineHarness(engine: Engine(settings: settings))
    }

    func slotKeys(_ h: EngineHarness, db: Int = 0, _ tag: String) -> [String] {
        strings(h.engine.databases[db].keys(inSlot: HashSlot.of(bytes(tag)), limit: 100))
    }

    @Test func onlyOnWhenClusterEnabled() {
        #expect(!Engine().databases[0].table.isSlotIndexEnabled)
        let h = clusterEngine()
        #expect(h.engine.databases.allSatisfy { $0.table.isSlotIndexEnabled })
    }

    @Test func followsWritesRenamesAndDeletes() {
        let h = clusterEngine()
        let db = h.engine.databases[0]
        let slot = HashSlot.of(bytes("u"))
        h.run("MSET", "{u}a", "1", "{u}b", "2", "{u}c", "3", "x", "0")
        #expect(db.countKeys(inSlot: slot) == 3)
        #expect(slotKeys(h, "u") == ["{u}c", "{u}b", "{u}a"])
        h.run("SET", "{u}a", "overwritten")
        #expect(slotKeys(h, "u") == ["{u}c", "{u}b", "{u}a"], "an overwrite keeps the key where it is")
        h.run("RENAME", "{u}a", "{u}z")
        #expect(slotKeys(h, "u") == ["{u}z", "{u}c", "{u}b"], "a rename is a removal and an insert")
        h.run("RENAME", "{u}b", "{v}b")
        #expect(slotKeys(h, "u") == ["{u}z", "{u}c"])
        #expect(slotKeys(h, "v") == ["{v}b"])
        h.run("DEL", "{u}c", "x")
        h.run("GETDEL", "{u}z")
        #expect(db.countKeys(inSlot: slot) == 0)
        h.run("RPUSH", "{u}list", "a")
        h.run("LPOP", "{u}list")
        #expect(db.countKeys(inSlot: slot) == 0, "a collection emptied by a pop is deleted")
        #expect(db.table.validate() == nil)
    }

    @Test func expiryFlushSwapAndMove() {
        let h = clusterEngine()
        let db0 = h.engine.databases[0]
        let db1 = h.engine.databases[1]
        let slot = HashSlot.of(bytes("e"))
        h.run("SET", "{e}1", "v")
        h.run("SET", "{e}2", "v")
        forceExpired(h, "{e}1")
        #expect(db0.countKeys(inSlot: slot) == 2, "an expired key counts until it is reclaimed, as in Redis")
        #expect(h.run("GET", "{e}1") == .nilBulk)
        #expect(db0.countKeys(inSlot: slot) == 1, "lazy expiry removes it")
        // Cluster mode has database 0 only: what would move keys between databases is refused,
        // and the index is left as it was.
        #expect(h.run("MOVE", "{e}2", "1") == .err("ERR MOVE is not allowed in cluster mode"))
        #expect(h.run("SELECT", "1") == .err("ERR SELECT is not allowed in cluster mode"))
        #expect(h.run("COPY", "{e}2", "{e}3", "DB", "1") == .err("ERR Copying to another database is not allowed in cluster mode"))
        #expect(h.run("SWAPDB", "0", "1") == .err("ERR SWAPDB is not allowed in cluster mode"))
        #expect(db0.countKeys(inSlot: slot) == 1 && db1.countKeys(inSlot: slot) == 0)
        h.run("COPY", "{e}2", "{e}3")
        #expect(slotKeys(h, db: 0, "e") == ["{e}3", "{e}2"])
        h.run("FLUSHDB")
        #expect(h.engine.databases[0].countKeys(inSlot: slot) == 0)
        h.run("SET", "{e}4", "v")
        h.run("FLUSHALL")
        #expect(h.engine.databases.allSatisfy { $0.countKeys(inSlot: slot) == 0 && $0.table.isSlotIndexEnabled })
    }
}
