@testable import CairnStorage
import Testing

@Suite struct KeyTableTests {
    func key(_ s: String) -> [UInt8] { Array(s.utf8) }

    @Test func insertFindRemove() {
        let t = KeyTable()
        defer { t.deallocate() }
        #expect(t.find(key("a")) == nil)
        t.insert(key: key("a"), hash: KeyTable.hash(key("a")), value: .int(1))
        t.insert(key: key("b"), hash: KeyTable.hash(key("b")), value: .int(2))
        t.insert(key: [], hash: KeyTable.hash([]), value: .int(3))
        #expect(t.count == 3)
        guard let a = t.find(key("a")), let b = t.find(key("b")), let empty = t.find([]) else {
            Issue.record("inserted keys not found"); return
        }
        #expect(t.key(at: a) == key("a"))
        #expect(t.key(at: b) == key("b"))
        #expect(t.key(at: empty) == [])
        t.remove(at: a)
        #expect(t.find(key("a")) == nil)
        #expect(t.find(key("b")) != nil)
        #expect(t.find([]) != nil)
        #expect(t.validate() == nil)
    }

    @Test func collisionsChainAndResolveByBytes() {
        // Every key gets the same hash: all live in one chain, found by comparing bytes.
        let t = KeyTable()
        defer { t.deallocate() }
        let keys = (0..<100).map { key("k\($0)") }
        for (i, k) in keys.enumerated() { t.insert(key: k, hash: 42, value: .int(Int64(i))) }
        #expect(t.validate() == nil)
        for (i, k) in keys.enumerated() {
            guard let index = k.withUnsafeBytes({ t.find($0, hash: 42) }) else { Issue.record("missing \(i)"); return }
            guard case .int(let v) = t[index].value else { Issue.record("wrong value"); return }
            #expect(v == Int64(i))
        }
        #expect(key("k100").withUnsafeBytes { t.find($0, hash: 42) } == nil)
        #expect(key("k1").withUnsafeBytes { t.find($0, hash: 43) } == nil)
        // Remove from the head, middle and tail of the chain.
        for k in [keys[99], keys[0], keys[50]] {
            guard let i = k.withUnsafeBytes({ t.find($0, hash: 42) }) else { Issue.record("missing"); return }
            t.remove(at: i)
            #expect(t.validate() == nil)
            #expect(k.withUnsafeBytes { t.find($0, hash: 42) } == nil)
        }
        #expect(t.count == 97)
    }

    @Test func removeMovesTheLastEntryIntoTheHole() {
        let t = KeyTable()
        defer { t.deallocate() }
        for i in 0..<10 { t.insert(key: key("k\(i)"), hash: i % 3, value: .int(Int64(i)), expireAt: i.isMultiple(of: 2) ? 1000 + Int64(i) : noExpiry) }
        // k9 is last; removing k2 moves it to index 2, with its chain link and volatile slot.
        guard let i2 = key("k2").withUnsafeBytes({ t.find($0, hash: 2) }) else { Issue.record("missing"); return }
        let removed = t.take(at: i2)
        if case .int(let v) = removed.value { #expect(v == 2) } else { Issue.record("wrong value") }
        #expect(removed.expireAt == 1002)
        #expect(t.key(at: i2) == key("k9"))
        #expect(t.validate() == nil)
        #expect(t.volatileCount == 4)
        // Remove the last entry itself.
        t.remove(at: t.count - 1)
        #expect(t.validate() == nil)
        #expect(t.count == 8)
    }

    @Test func volatileBookkeeping() {
        let t = KeyTable()
        defer { t.deallocate() }
        for i in 0..<6 { t.insert(key: key("k\(i)"), hash: KeyTable.hash(key("k\(i)")), value: .int(0)) }
        #expect(t.volatileCount == 0)
        for i in [1, 3, 5] {
            guard let idx = t.find(key("k\(i)")) else { Issue.record("missing"); return }
            t.setExpire(at: idx, 5000)
        }
        #expect(t.volatileCount == 3)
        guard let k3 = t.find(key("k3")) else { Issue.record("missing"); return }
        t.setExpire(at: k3, 6000)
        #expect(t.volatileCount == 3, "changing an expiry keeps one slot")
        t.setExpire(at: k3, noExpiry)
        #expect(t.volatileCount == 2)
        #expect(t[k3].expireAt == noExpiry)
        #expect(t.validate() == nil)
        var g = SeededRandom(seed: 7)
        for _ in 0..<50 {
            guard let v = t.randomVolatileIndex(using: &g) else { Issue.record("no volatile key"); return }
            #expect(t.key(at: v) == key("k1") || t.key(at: v) == key("k5"))
        }
        t.removeAll()
        #expect(t.volatileCount == 0 && t.count == 0)
        #expect(t.randomVolatileIndex(using: &g) == nil)
        #expect(t.randomIndex(using: &g) == nil)
    }

    @Test func resizesUpAndDown() {
        let t = KeyTable()
        defer { t.deallocate() }
        let initial = t.bucketCount
        for i in 0..<5000 { t.insert(key: key("k\(i)"), hash: KeyTable.hash(key("k\(i)")), value: .int(Int64(i))) }
        #expect(t.bucketCount >= 4096)
        #expect(t.bucketCount & (t.bucketCount - 1) == 0)
        #expect(t.validate() == nil)
        for i in 0..<4990 {
            guard let idx = t.find(key("k\(i)")) else { Issue.record("missing k\(i)"); return }
            t.remove(at: idx)
        }
        #expect(t.bucketCount < 256)
        #expect(t.bucketCount >= initial)
        #expect(t.validate() == nil)
        for i in 4990..<5000 { #expect(t.find(key("k\(i)")) != nil) }
    }

    /// Random operations checked against a Dictionary after every step. Runs with real hashes
    /// and with a tiny hash space (long chains), so both resizing and chain surgery are covered.
    @Test(arguments: [(1, false), (2, true), (3, false), (4, true)] as [(UInt64, Bool)])
    func fuzzAgainstDictionary(seed: UInt64, collide: Bool) {
        var rng = SeededRandom(seed: seed)
        let t = KeyTable()
        defer { t.deallocate() }
        var model: [[UInt8]: (Int64, Int64)] = [:]
        func hashOf(_ k: [UInt8]) -> Int { collide ? Int(k.last ?? 0) % 5 : KeyTable.hash(k) }
        func find(_ k: [UInt8]) -> Int? { k.withUnsafeBytes { t.find($0, hash: hashOf(k)) } }

        for step in 0..<6000 {
            // Keyspace size drifts so the table grows and shrinks over the run.
            let space = step % 3000 < 1500 ? 2000 : 60
            let k = Array("key:\(Int.random(in: 0..<space, using: &rng))".utf8)
            let value = Int64.random(in: 0..<1_000_000, using: &rng)
            switch Int.random(in: 0..<10, using: &rng) {
            case 0...3:
                if find(k) == nil {
                    let expire = Bool.random(using: &rng) ? Int64.random(in: 1...1_000_000, using: &rng) : noExpiry
                    t.insert(key: k, hash: hashOf(k), value: .int(value), expireAt: expire)
                    model[k] = (value, expire)
                }
            case 4...6:
                if let i = find(k) {
                    #expect(t.key(at: i) == k)
                    let removed = t.take(at: i)
                    #expect(removed.expireAt == model[k]?.1)
                    model[k] = nil
                } else {
                    #expect(model[k] == nil)
                }
            case 7, 8:
                if let i = find(k) {
                    let expire = Bool.random(using: &rng) ? Int64.random(in: 1...1_000_000, using: &rng) : noExpiry
                    t.setExpire(at: i, expire)
                    model[k]?.1 = expire
                }
            default:
                if let i = find(k) {
                    t.setValue(at: i, .int(value))
                    model[k]?.0 = value
                }
            }
            if step % 97 == 0 || step > 5900 {
                if let problem = t.validate() {
                    Issue.record("step \(step): \(problem)")
                    return
                }
                #expect(t.count == model.count)
                #expect(t.volatileCount == model.values.filter { $0.1 != noExpiry }.count)
                for (mk, (mv, me)) in model {
                    guard let i = find(mk) else {
                        Issue.record("step \(step): lost \(String(decoding: mk, as: UTF8.self))")
                        return
                    }
                    guard case .int(let v) = t[i].value else { Issue.record("wrong value type"); return }
                    #expect(v == mv && t[i].expireAt == me)
                }
            }
        }
    }

    @Test func scanVisitsEveryKeyOnce() {
        let t = KeyTable()
        defer { t.deallocate() }
        for i in 0..<3000 { t.insert(key: key("k\(i)"), hash: KeyTable.hash(key("k\(i)")), value: .int(0)) }
        var seen: [[UInt8]: Int] = [:]
        var cursor: UInt64 = 0
        repeat {
            cursor = t.scan(cursor: cursor) { seen[t.key(at: $0), default: 0] += 1 }
        } while cursor != 0
        #expect(seen.count == 3000)
        #expect(seen.values.allSatisfy { $0 == 1 }, "without resizes, no key comes twice")
    }

    /// Keys present for the whole scan are all visited, while other keys are added and removed
    /// between steps enough to double and halve the bucket array several times.
    @Test(arguments: [11, 12, 13] as [UInt64])
    func scanGuaranteeAcrossResizes(seed: UInt64) {
        var rng = SeededRandom(seed: seed)
        let t = KeyTable()
        defer { t.deallocate() }
        let stable = (0..<64).map { key("stable:\($0)") }
        for k in stable { t.insert(key: k, hash: KeyTable.hash(k), value: .int(0)) }
        var transient: [[UInt8]] = []
        var counter = 0
        var seen = Set<[UInt8]>()
        var sizes = Set<Int>()
        var cursor: UInt64 = 0
        var steps = 0
        repeat {
            cursor = t.scan(cursor: cursor) { seen.insert(t.key(at: $0)) }
            steps += 1
            if Int.random(in: 0..<3, using: &rng) == 0 {
                if Bool.random(using: &rng) {
                    for _ in 0..<Int.random(in: 1...2000, using: &rng) {
                        counter += 1
                        let k = key("t:\(counter)")
                        t.insert(key: k, hash: KeyTable.hash(k), value: .int(0))
                        transient.append(k)
                    }
                } else {
                    transient.shuffle(using: &rng)
                    let drop = Int.random(in: 0...transient.count, using: &rng)
                    for k in transient.suffix(drop) {
                        if let i = t.find(k) { t.remove(at: i) }
                    }
                    transient.removeLast(drop)
                }
                sizes.insert(t.bucketCount)
            }
        } while cursor != 0 && steps < 1_000_000
        #expect(cursor == 0)
        let missing = Set(stable).subtracting(seen)
        #expect(missing.isEmpty, "never visited: \(missing.map { String(decoding: $0, as: UTF8.self) }.sorted())")
        #expect(sizes.count >= 3, "resized during the scan: \(sizes.sorted())")
        #expect(t.validate() == nil)
    }

    @Test func randomIndexIsUniformEnough() {
        let t = KeyTable()
        defer { t.deallocate() }
        for i in 0..<4 { t.insert(key: key("k\(i)"), hash: KeyTable.hash(key("k\(i)")), value: .int(0)) }
        var g = SeededRandom(seed: 99)
        var counts = [Int](repeating: 0, count: 4)
        for _ in 0..<4000 {
            guard let i = t.randomIndex(using: &g) else { Issue.record("no index"); return }
            counts[i] += 1
        }
        #expect(counts.allSatisfy { $0 > 800 && $0 < 1200 })
    }

    // MARK: records (KeyRecord.swift)

    /// What a model says an entry holds, compared with the table's view of it.
    enum Held: Equatable {
        case int(Int64), bytes([UInt8], raw: Bool), list([[UInt8]]), hash([[UInt8]], packed: Bool)
        case zset([[UInt8]], scores: [Double], packed: Bool)
    }

    func held(_ t: KeyTable, _ i: Int) -> Held? {
        switch t.value(at: i) {
        case .int(let v): return .int(v)
        case .string(let s): return .bytes(s.bytes, raw: s.raw)
        case .list(let l):
            var items: [[UInt8]] = []
            if l.count > 0 { l.forEach(from: 0, through: l.count - 1) { items.append(Array($0)); return true } }
            return .list(items)
        case .hash(let h):
            var items: [[UInt8]] = []
            h.forEach { items.append(Array($0)); items.append(Array($1)) }
            #expect(h.isListpack == t.isPacked(at: i))
            return .hash(items, packed: t.isPacked(at: i))
        case .zset(let z):
            var members: [[UInt8]] = [], scores: [Double] = []
            z.forEachInOrder { members.append(Array($0)); scores.append($1) }
            #expect(z.isListpack == t.isPacked(at: i))
            return .zset(members, scores: scores, packed: t.isPacked(at: i))
        default: return nil
        }
    }

    /// A hash of `pairs` (field, value, ...): listpack encoded unless `table`.
    func hashValue(_ items: [[UInt8]], table: Bool) -> HashValue {
        let h = HashValue()
        let limits = HashLimits(maxListpackEntries: 1 << 20, maxListpackValue: 1 << 20)
        for k in stride(from: 0, to: items.count, by: 2) { h.set(items[k], items[k + 1], limits: limits) }
        if table { h.convertToTable() }
        return h
    }

    /// Values of every kind and size replace each other in place, with and without an expiry, and
    /// each record keeps its key, value, expiry, access clock and volatile slot through the moves
    /// realloc makes; checked against a model after every step.
    @Test(arguments: [11, 12, 13] as [UInt64])
    func recordsKeepEverythingThroughReplacements(seed: UInt64) {
        var rng = SeededRandom(seed: seed)
        let t = KeyTable()
        defer { t.deallocate() }
        var model: [[UInt8]: (held: Held, expireAt: Int64, clock: UInt32)] = [:]
        func bytes(_ n: Int) -> [UInt8] { (0..<n).map { _ in UInt8.random(in: 0...255, using: &rng) } }
        func randomValue() -> (Value, Held) {
            switch Int.random(in: 0..<6, using: &rng) {
            case 0:
                let v = Int64.random(in: Int64.min...Int64.max, using: &rng)
                return (.int(v), .int(v))
            case 1:
                let b = bytes(Int.random(in: 0...44, using: &rng))
                return (.string(StringBytes(b, raw: false)), .bytes(b, raw: false))
            case 2:
                let b = bytes([45, 100, 5000, 70_000].randomElement(using: &rng)!)
                return (.string(StringBytes(b, raw: true)), .bytes(b, raw: true))
            case 3:
                let items = (0..<Int.random(in: 1...5, using: &rng)).map { _ in bytes(Int.random(in: 0...20, using: &rng)) }
                return (.list(QuickList(items)), .list(items))
            case 4:
                // A sorted set: packed while listpack encoded, an object as a skiplist.
                let n = Int.random(in: 1...6, using: &rng)
                let members = (0..<n).map { [UInt8($0)] + bytes(Int.random(in: 0...12, using: &rng)) }
                let scores = (0..<n).map { _ in Double(Int.random(in: -3...3, using: &rng)) / 2 }
                let order = (0..<n).sorted { scores[$0] < scores[$1] || (scores[$0] == scores[$1] && members[$0].lexicographicallyPrecedes(members[$1])) }
                let skiplist = Int.random(in: 0..<4, using: &rng) == 0
                let limits = SortedSetValue.Limits(maxEntries: skiplist ? 0 : 128, maxValue: 64)
                let z = SortedSetValue()
                for k in 0..<n { _ = members[k].withUnsafeBytes { z.add($0, score: scores[k], flags: [], limits: limits) } }
                return (.zset(z), .zset(order.map { members[$0] }, scores: order.map { scores[$0] == 0 ? 0 : scores[$0] }, packed: !skiplist))
            default:
                // A hash: packed in the record while listpack encoded, an object as a hashtable.
                var items: [[UInt8]] = []
                for f in 0..<Int.random(in: 1...6, using: &rng) {
                    items.append([UInt8(f)] + bytes(Int.random(in: 0...8, using: &rng)))
                    items.append(bytes([0, 3, 60, 300].randomElement(using: &rng)!))
                }
                let table = Int.random(in: 0..<4, using: &rng) == 0
                return (.hash(hashValue(items, table: table)), .hash(items, packed: !table))
            }
        }
        for step in 0..<3000 {
            let k = bytes(Int.random(in: 0...40, using: &rng) % (step % 7 + 1) + 1)
            let found = t.find(k)
            switch Int.random(in: 0..<6, using: &rng) {
            case 0, 1:
                let (v, h) = randomValue()
                if let i = found {
                    t.setValue(at: i, v)
                    model[k]!.held = h
                } else {
                    let expire = Bool.random(using: &rng) ? Int64.random(in: 1...1_000_000, using: &rng) : noExpiry
                    let clock = UInt32.random(in: 0...UInt32.max, using: &rng)
                    t.insert(key: k, hash: KeyTable.hash(k), value: v, expireAt: expire, accessClock: clock)
                    model[k] = (h, expire, clock)
                }
            case 2:
                // SET's path: int when the bytes are a canonical integer.
                let b = Bool.random(using: &rng) ? Array(String(Int64.random(in: -99999...99999, using: &rng)).utf8) : bytes(Int.random(in: 0...60, using: &rng))
                let expected: Held = b.count <= 20 ? (Int64(String(decoding: b, as: UTF8.self)).flatMap { String($0) == String(decoding: b, as: UTF8.self) ? .int($0) : nil } ?? .bytes(b, raw: b.count > 44)) : .bytes(b, raw: b.count > 44)
                if let i = found {
                    b.withUnsafeBytes { t.setString(at: i, $0) }
                    model[k]!.held = expected
                } else {
                    k.withUnsafeBytes { kb in b.withUnsafeBytes { _ = t.insertString(key: kb, hash: KeyTable.hash(k), $0, accessClock: 7) } }
                    model[k] = (expected, noExpiry, 7)
                }
            case 3:
                if let i = found {
                    let expire = Bool.random(using: &rng) ? Int64.random(in: 1...1_000_000, using: &rng) : noExpiry
                    t.setExpire(at: i, expire)
                    model[k]!.expireAt = expire
                }
            case 4:
                if let i = found {
                    let clock = UInt32.random(in: 0...UInt32.max, using: &rng)
                    t.setAccessClock(at: i, clock)
                    model[k]!.clock = clock
                }
            default:
                if let i = found {
                    let taken = t.take(at: i)
                    #expect(taken.expireAt == model[k]!.expireAt)
                    model[k] = nil
                }
            }
            if step % 50 == 0 || step == 2999 {
                #expect(t.validate() == nil)
                #expect(t.count == model.count)
                #expect(t.volatileCount == model.values.filter { $0.expireAt != noExpiry }.count)
                for (mk, m) in model {
                    guard let i = t.find(mk) else { Issue.record("missing key"); return }
                    #expect(t.key(at: i) == mk)
                    #expect(held(t, i) == m.held)
                    #expect(t.expireAt(at: i) == m.expireAt)
                    #expect(t.accessClock(at: i) == m.clock)
                }
            }
        }
    }

    /// A string value is read in place (no copy) and an integer as its number.
    @Test func stringViewsReadInPlace() {
        let t = KeyTable()
        defer { t.deallocate() }
        t.insert(key: key("n"), hash: KeyTable.hash(key("n")), value: .int(-42))
        t.insert(key: key("s"), hash: KeyTable.hash(key("s")), value: .string(StringBytes(key("hello"), raw: false)))
        t.insert(key: key("l"), hash: KeyTable.hash(key("l")), value: .list(QuickList([key("x")])))
        guard case .int(-42)? = t.stringView(at: t.find(key("n"))!) else { Issue.record("int view"); return }
        guard case .bytes(let b)? = t.stringView(at: t.find(key("s"))!) else { Issue.record("bytes view"); return }
        #expect(Array(b) == key("hello"))
        #expect(t.stringView(at: t.find(key("l"))!) == nil)
        #expect(t.isString(at: t.find(key("n"))!) && t.isString(at: t.find(key("s"))!) && !t.isString(at: t.find(key("l"))!))
    }

    /// A listpack-encoded hash lives in its record: read back as a copy, its count kept in the
    /// header up to 65,534 entries and counted by walking above; a hashtable stays an object.
    @Test func smallHashesArePackedInTheirRecord() {
        let t = KeyTable()
        defer { t.deallocate() }
        let small = (0..<10).map { key("e\($0)") }
        t.insert(key: key("h"), hash: KeyTable.hash(key("h")), value: .hash(hashValue(small, table: false)), expireAt: 99)
        let i = t.find(key("h"))!
        #expect(t.isPacked(at: i))
        #expect(held(t, i) == .hash(small, packed: true))
        #expect(t.packedHash(at: i)?.1 == 10)
        // A copy: changing it does not change the record until it is stored back.
        guard case .hash(let copy) = t.value(at: i) else { Issue.record("not a hash"); return }
        copy.set(key("e0"), key("changed"), limits: HashLimits(maxListpackEntries: 128, maxListpackValue: 64))
        #expect(held(t, i) == .hash(small, packed: true))
        t.setValue(at: i, .hash(copy))
        #expect(held(t, i) == .hash([key("e0"), key("changed")] + small.dropFirst(2), packed: true))
        #expect(t.expireAt(at: i) == 99)
        // 40,000 pairs: past the 16-bit count.
        let big = (0..<80_000).map { key("x\($0)") }
        t.setValue(at: i, .hash(HashValue(packed: Listpack(big))))
        #expect(t.packedHash(at: i)?.1 == 80_000)
        #expect(t.validate() == nil)
        t.setValue(at: i, .hash(hashValue(small, table: true)))
        #expect(!t.isPacked(at: i) && t.packedHash(at: i) == nil)
        #expect(held(t, i) == .hash(small, packed: false))
        #expect(t.validate() == nil)
    }

    /// A collection in a record is retained once by it and released when the record goes.
    @Test func recordsHoldOneReferenceToACollection() {
        let t = KeyTable()
        defer { t.deallocate() }
        weak var weakList: QuickList?
        do {
            let list = QuickList([key("a")])
            weakList = list
            t.insert(key: key("l"), hash: KeyTable.hash(key("l")), value: .list(list))
            t.setValue(at: t.find(key("l"))!, .list(list))  // the same object again
        }
        #expect(weakList != nil)
        t.setValue(at: t.find(key("l"))!, .int(1))
        #expect(weakList == nil)
        t.removeAll()
    }

    /// FLUSHALL on a big table gives its slot and volatile arrays back; the table works after.
    @Test func removeAllReturnsTheTablesMemory() {
        let t = KeyTable()
        defer { t.deallocate() }
        for i in 0..<10_000 { t.insert(key: key("k\(i)"), hash: KeyTable.hash(key("k\(i)")), value: .int(Int64(i)), expireAt: 1_000 + Int64(i)) }
        #expect(t.tableBytes > 10_000 * 16)
        t.removeAll()
        #expect(t.count == 0 && t.volatileCount == 0)
        #expect(t.tableBytes == KeyTable.initialBucketCount * MemoryLayout<Int32>.stride)
        t.insert(key: key("again"), hash: KeyTable.hash(key("again")), value: .int(1), expireAt: 5)
        #expect(t.find(key("again")) != nil && t.volatileCount == 1)
        #expect(t.validate() == nil)
    }
}
