import CairnRESP
@testable import CairnStorage
import Testing

// Expected replies were taken from Redis 7.0.15 running the same commands (hashtable iteration
// order aside: such replies are compared as sets). Intsets list members in ascending order, as
// Redis does.

@Suite struct SetCommandTests {
    static let wrongType = HashCommandTests.wrongType
    static let notInteger = HashCommandTests.notInteger
    static let syntax = HashCommandTests.syntax
    static let notPositive = RESPValue.err("ERR value is out of range, must be positive")

    func words(_ w: [String]) -> [[UInt8]] { w.map { Array($0.utf8) } }

    @Test func specsMatchRedis() {
        let w = ["@write", "@set", "@fast"], r = ["@read", "@set", "@fast"], rs = ["@read", "@set", "@slow"]
        let ws = ["@write", "@set", "@slow"]
        checkSpecs([
            ExpectedSpec("sadd", -3, ["write", "denyoom", "fast"], (1, 1, 1), w),
            ExpectedSpec("srem", -3, ["write", "fast"], (1, 1, 1), w),
            ExpectedSpec("smembers", 2, ["readonly"], (1, 1, 1), rs),
            ExpectedSpec("sismember", 3, ["readonly", "fast"], (1, 1, 1), r),
            ExpectedSpec("smismember", -3, ["readonly", "fast"], (1, 1, 1), r),
            ExpectedSpec("scard", 2, ["readonly", "fast"], (1, 1, 1), r),
            ExpectedSpec("spop", -2, ["write", "fast"], (1, 1, 1), w),
            ExpectedSpec("srandmember", -2, ["readonly"], (1, 1, 1), rs),
            ExpectedSpec("smove", 4, ["write", "fast"], (1, 2, 1), w),
            ExpectedSpec("sinter", -2, ["readonly"], (1, -1, 1), rs),
            ExpectedSpec("sintercard", -3, ["readonly", "movablekeys"], (0, 0, 0), rs),
            ExpectedSpec("sinterstore", -3, ["write", "denyoom"], (1, -1, 1), ws),
            ExpectedSpec("sunion", -2, ["readonly"], (1, -1, 1), rs),
            ExpectedSpec("sunionstore", -3, ["write", "denyoom"], (1, -1, 1), ws),
            ExpectedSpec("sdiff", -2, ["readonly"], (1, -1, 1), rs),
            ExpectedSpec("sdiffstore", -3, ["write", "denyoom"], (1, -1, 1), ws),
            ExpectedSpec("sscan", -3, ["readonly"], (1, 1, 1), rs),
        ])
    }

    @Test func sintercardKeyPositions() {
        let engine = Engine()
        guard let spec = engine.commands.lookup("sintercard")?.spec else {
            Issue.record("sintercard is not registered")
            return
        }
        func keys(_ w: [String]) -> [Int] { Arguments.with(words(w)) { spec.keyIndices($0) } }
        #expect(keys(["SINTERCARD", "2", "a", "b", "LIMIT", "1"]) == [2, 3])
        #expect(keys(["SINTERCARD", "1", "a"]) == [2])
        #expect(keys(["SINTERCARD", "0", "a"]) == [])
        #expect(keys(["SINTERCARD", "5", "a"]) == [])
        #expect(keys(["SINTERCARD", "x", "a"]) == [])
        #expect(keys(["SINTERCARD", "-1", "a"]) == [])
    }

    @Test func saddSremAndIntsetOrder() {
        let h = EngineHarness()
        #expect(h.run("SADD", "s", "3", "1", "2") == .int(3))
        #expect(h.run("SADD", "s", "2", "4", "-5", "0") == .int(3))
        #expect(h.engine.dirty == 6)
        #expect(h.run("SMEMBERS", "s") == .strings(["-5", "0", "1", "2", "3", "4"]))
        #expect(h.encoding("s") == "intset")
        #expect(h.run("TYPE", "s") == .simple("set"))
        #expect(h.run("SADD", "s", "-0") == .int(1))
        #expect(h.encoding("s") == "hashtable")
        #expect(Set(h.run("SMEMBERS", "s").stringItems) == ["-5", "0", "1", "2", "3", "4", "-0"])
        #expect(h.run("SREM", "s", "-0") == .int(1))
        #expect(h.encoding("s") == "hashtable", "never converts back")
        #expect(h.run("SADD", "i", "5", "3", "9223372036854775807", "-9223372036854775808", "1") == .int(5))
        #expect(h.run("SMEMBERS", "i") == .strings(["-9223372036854775808", "1", "3", "5", "9223372036854775807"]))
        #expect(h.run("SREM", "i", "5", "zz", "3") == .int(2))
        #expect(h.run("SMEMBERS", "i") == .strings(["-9223372036854775808", "1", "9223372036854775807"]))
        #expect(h.run("SADD", "s") == .err("ERR wrong number of arguments for 'sadd' command"))
        #expect(h.run("SREM", "s") == .err("ERR wrong number of arguments for 'srem' command"))
    }

    @Test func nonCanonicalIntegersMakeAHashtable() {
        let h = EngineHarness()
        for (k, m) in ["9223372036854775808", "007", " 1", "+1", "1.0", "-0", ""].enumerated() {
            h.run("SADD", "k\(k)", "1", m)
            #expect(h.encoding("k\(k)") == "hashtable", "\(m)")
        }
        h.run("SADD", "e", "")
        #expect(h.run("SMEMBERS", "e") == .strings([""]))
        #expect(h.run("SISMEMBER", "e", "") == .int(1))
    }

    @Test func sremRemovesTheKeyWithTheLastMember() {
        let h = EngineHarness()
        h.run("SADD", "s", "a", "b")
        let before = h.engine.dirty
        #expect(h.run("SREM", "s", "a", "zz", "b", "a") == .int(2))
        #expect(h.engine.dirty == before + 2)
        #expect(h.run("EXISTS", "s") == .int(0))
        #expect(h.run("SREM", "s", "a") == .int(0))
        h.run("SADD", "i", "1")
        #expect(h.run("SREM", "i", "1") == .int(1))
        #expect(h.run("EXISTS", "i") == .int(0))
    }

    @Test func membership() {
        let h = EngineHarness()
        h.run("SADD", "s", "1", "2", "3")
        h.run("SADD", "t", "x", "1")
        #expect(h.run("SISMEMBER", "s", "1") == .int(1))
        #expect(h.run("SISMEMBER", "s", "9") == .int(0))
        #expect(h.run("SISMEMBER", "s", "x") == .int(0))
        #expect(h.run("SISMEMBER", "s", "01") == .int(0))
        #expect(h.run("SISMEMBER", "t", "1") == .int(1))
        #expect(h.run("SISMEMBER", "nokey", "1") == .int(0))
        #expect(h.run("SMISMEMBER", "s", "1", "9", "x", "2") == .array([.int(1), .int(0), .int(0), .int(1)]))
        #expect(h.run("SMISMEMBER", "nokey", "1", "2") == .array([.int(0), .int(0)]))
        #expect(h.run("SCARD", "s") == .int(3))
        #expect(h.run("SCARD", "nokey") == .int(0))
        #expect(h.run("SMEMBERS", "nokey") == .array([]))
        #expect(h.run("SMISMEMBER", "s") == .err("ERR wrong number of arguments for 'smismember' command"))
    }

    @Test func resp3Shapes() {
        let h = EngineHarness(resp3: true)
        h.run("SADD", "s", "3", "1", "2")
        #expect(h.run("SMEMBERS", "s") == .set([.bulk("1"), .bulk("2"), .bulk("3")]))
        #expect(h.run("SMEMBERS", "nokey") == .set([]))
        #expect(h.run("SINTER", "s", "nokey") == .set([]))
        #expect(h.run("SUNION", "nokey") == .set([]))
        #expect(h.run("SDIFF", "nokey", "s") == .set([]))
        #expect(h.run("SUNION", "s") == .set([.bulk("1"), .bulk("2"), .bulk("3")]))
        #expect(h.run("SISMEMBER", "s", "1") == .int(1))
        #expect(h.run("SMISMEMBER", "s", "1", "9") == .array([.int(1), .int(0)]))
        #expect(h.run("SRANDMEMBER", "s", "10") == .array([.bulk("1"), .bulk("2"), .bulk("3")]))
        #expect(h.run("SRANDMEMBER", "nokey", "3") == .array([]))
        #expect(h.run("SRANDMEMBER", "nokey") == .null)
        #expect(h.run("SPOP", "nokey") == .null)
        #expect(h.run("SPOP", "nokey", "3") == .set([]))
        #expect(h.run("SPOP", "s", "0") == .set([]))
        #expect(h.run("SSCAN", "s", "0") == .array([.bulk("0"), .array([.bulk("1"), .bulk("2"), .bulk("3")])]))
        #expect(h.run("SPOP", "s", "5") == .set([.bulk("1"), .bulk("2"), .bulk("3")]))
        #expect(h.run("EXISTS", "s") == .int(0))
    }

    @Test func wrongType() {
        let h = EngineHarness()
        h.run("SET", "str", "v")
        h.run("SADD", "s", "1")
        for w in [["SADD", "str", "1"], ["SREM", "str", "1"], ["SMEMBERS", "str"], ["SISMEMBER", "str", "1"],
                  ["SMISMEMBER", "str", "1"], ["SCARD", "str"], ["SPOP", "str"], ["SPOP", "str", "1"],
                  ["SPOP", "str", "0"], ["SRANDMEMBER", "str"], ["SRANDMEMBER", "str", "0"],
                  ["SMOVE", "str", "s", "1"], ["SMOVE", "s", "str", "1"], ["SMOVE", "s", "str", "9"],
                  ["SSCAN", "str", "0"], ["SINTER", "str"], ["SINTER", "nokey", "str"], ["SINTER", "s", "str"],
                  ["SUNION", "nokey", "str"], ["SDIFF", "nokey", "str"], ["SDIFF", "str", "nokey"],
                  ["SINTERSTORE", "d", "nokey", "str"], ["SUNIONSTORE", "d", "s", "str"],
                  ["SDIFFSTORE", "d", "s", "str"], ["SINTERCARD", "2", "nokey", "str"], ["SINTERCARD", "1", "str"]] {
            #expect(h.run(words(w)) == Self.wrongType, "\(w)")
        }
        #expect(h.run("EXISTS", "d") == .int(0))
        #expect(h.run("SMEMBERS", "s") == .strings(["1"]))
    }

    // MARK: SPOP

    @Test func spopErrors() {
        let h = EngineHarness()
        #expect(h.run("SPOP", "nokey") == .nilBulk)
        #expect(h.run("SPOP", "nokey", "3") == .array([]))
        #expect(h.run("SPOP", "nokey", "-1") == Self.notPositive)
        #expect(h.run("SPOP", "nokey", "x") == Self.notPositive)
        #expect(h.run("SPOP", "nokey", "1", "2") == Self.syntax)
        #expect(h.run("SPOP") == .err("ERR wrong number of arguments for 'spop' command"))
        h.run("SADD", "s", "1")
        #expect(h.run("SPOP", "s", "0") == .array([]))
        #expect(h.engine.dirty == 1)
    }

    @Test func spopSingle() {
        let h = EngineHarness()
        h.run("SADD", "s", "1", "2", "3")
        var popped: Set<String> = []
        for _ in 0..<3 {
            guard let m = h.run("SPOP", "s").string else {
                Issue.record("no member")
                continue
            }
            popped.insert(m)
        }
        #expect(popped == ["1", "2", "3"])
        #expect(h.run("EXISTS", "s") == .int(0))
        #expect(h.engine.dirty == 6)
        #expect(h.run("SPOP", "s") == .nilBulk)
    }

    /// SPOP with a count over every strategy: all (count >= size), pop one by one, move the
    /// survivors (remaining×5 <= count).
    @Test(arguments: [(10, 2), (10, 9), (10, 10), (10, 1000), (600, 100), (600, 590), (30, 25)])
    func spopWithCount(size: Int, count: Int) {
        for words in [false, true] {
            let h = EngineHarness()
            let members = (0..<size).map { words ? "m\($0)" : "\($0)" }
            for chunk in stride(from: 0, to: size, by: 100) {
                h.run((["SADD", "s"] + members[chunk..<min(size, chunk + 100)]).map { Array($0.utf8) })
            }
            let before = h.engine.dirty
            let reply = h.run("SPOP", "s", "\(count)")
            let popped = reply.stringItems
            #expect(popped.count == min(count, size))
            #expect(Set(popped).count == popped.count)
            #expect(Set(popped).isSubset(of: Set(members)))
            #expect(h.engine.dirty == before + Int64(min(count, size)))
            let left = Set(h.run("SMEMBERS", "s").stringItems)
            #expect(left.count == max(0, size - count))
            #expect(left.isDisjoint(with: Set(popped)))
            #expect(left.union(popped) == Set(members))
            if count >= size { #expect(h.run("EXISTS", "s") == .int(0)) }
        }
    }

    @Test func spopKeyspaceStats() {
        // SPOP looks the key up for writing (no hit counted), except that popping everything
        // replies through a one-key SUNION in Redis, which counts a hit.
        let h = EngineHarness()
        h.run("SADD", "s", "1", "2", "3")
        h.run("SPOP", "s")
        h.run("SPOP", "s", "1")
        #expect(h.engine.stats.keyspaceHits == 0)
        h.run("SPOP", "s", "5")
        #expect(h.engine.stats.keyspaceHits == 1)
        h.run("SPOP", "s", "5")
        #expect(h.engine.stats.keyspaceMisses == 0)
    }

    @Test func spopMovingSurvivorsRebuildsTheEncoding() {
        // 600 integers are a hashtable; the 10 survivors of SPOP 590 make a new set, an intset.
        let h = EngineHarness()
        for i in 0..<600 { h.run("SADD", "p", "\(i)") }
        #expect(h.encoding("p") == "hashtable")
        h.run("EXPIRE", "p", "100")
        h.run("SPOP", "p", "590")
        #expect(h.encoding("p") == "intset")
        #expect(h.run("SCARD", "p") == .int(10))
        #expect(h.run("TTL", "p") == .int(100), "the key keeps its expiry")
        // Popping one by one keeps the hashtable.
        for i in 0..<600 { h.run("SADD", "p2", "\(i)") }
        h.run("SPOP", "p2", "100")
        #expect(h.encoding("p2") == "hashtable")
        #expect(h.run("SCARD", "p2") == .int(500))
    }

    // MARK: SRANDMEMBER

    @Test func srandmemberErrors() {
        let h = EngineHarness()
        h.run("SET", "str", "v")
        #expect(h.run("SRANDMEMBER", "nokey") == .nilBulk)
        #expect(h.run("SRANDMEMBER", "nokey", "3") == .array([]))
        #expect(h.run("SRANDMEMBER", "nokey", "x") == Self.notInteger)
        #expect(h.run("SRANDMEMBER", "nokey", "1", "2") == Self.syntax)
        #expect(h.run("SRANDMEMBER", "nokey", "-9223372036854775808") ==
            .err("ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807"))
        #expect(h.run("SRANDMEMBER", "nokey", "-9223372036854775807") == .array([]))
        h.run("SADD", "t", "1", "2", "3")
        #expect(h.run("SRANDMEMBER", "t", "0") == .array([]))
        #expect(h.run("SRANDMEMBER", "t", "10") == .strings(["1", "2", "3"]))
        #expect(h.run("SRANDMEMBER", "t", "3") == .strings(["1", "2", "3"]))
        #expect(h.engine.dirty == 4)
    }

    @Test(arguments: [3, 20, 100, 1000])
    func srandmemberCounts(size: Int) {
        for words in [false, true] {
            let h = EngineHarness()
            let members = (0..<size).map { words ? "m\($0)" : "\($0)" }
            for m in members { h.run("SADD", "s", m) }
            let all = Set(members)
            if let one = h.run("SRANDMEMBER", "s").string { #expect(all.contains(one)) } else { Issue.record("no member") }
            for count in [1, 2, size / 3, size / 2, size - 1, size, size + 3] where count > 0 {
                let distinct = h.run("SRANDMEMBER", "s", "\(count)").stringItems
                #expect(distinct.count == min(count, size))
                #expect(Set(distinct).count == distinct.count)
                #expect(Set(distinct).isSubset(of: all))
                let repeated = h.run("SRANDMEMBER", "s", "-\(count)").stringItems
                #expect(repeated.count == count)
                #expect(Set(repeated).isSubset(of: all))
            }
            #expect(h.run("SCARD", "s") == .int(Int64(size)))
        }
    }

    @Test func srandmemberNegativeCountRepeats() {
        let h = EngineHarness()
        h.run("SADD", "s", "x")
        #expect(h.run("SRANDMEMBER", "s", "-4") == .strings(["x", "x", "x", "x"]))
        #expect(h.run("SRANDMEMBER", "s", "1") == .strings(["x"]))
    }

    // MARK: SMOVE

    @Test func smove() {
        let h = EngineHarness()
        h.run("SET", "str", "v")
        h.run("SADD", "a", "x")
        #expect(h.run("SMOVE", "nokey", "str", "y") == .int(0), "a missing source is checked first")
        #expect(h.run("SMOVE", "a", "a", "x") == .int(1))
        #expect(h.run("SMOVE", "a", "a", "zz") == .int(0))
        let before = h.engine.dirty
        #expect(h.run("SMOVE", "a", "b", "x") == .int(1))
        #expect(h.engine.dirty == before + 2)
        #expect(h.run("EXISTS", "a") == .int(0))
        #expect(h.run("SMEMBERS", "b") == .strings(["x"]))
        #expect(h.encoding("b") == "hashtable")
        h.run("SADD", "c", "1", "2")
        #expect(h.run("SMOVE", "c", "n", "1") == .int(1))
        #expect(h.encoding("n") == "intset")
        #expect(h.run("SMOVE", "c", "n", "2") == .int(1))
        #expect(h.run("EXISTS", "c") == .int(0))
        #expect(h.run("SMOVE", "b", "n", "x") == .int(1))
        #expect(h.encoding("n") == "hashtable")
        #expect(Set(h.run("SMEMBERS", "n").stringItems) == ["1", "2", "x"])
        // Already in the destination: removed from the source, one write.
        h.run("SADD", "p", "1", "9")
        let mark = h.engine.dirty
        #expect(h.run("SMOVE", "p", "n", "1") == .int(1))
        #expect(h.engine.dirty == mark + 1)
        #expect(h.run("SMEMBERS", "p") == .strings(["9"]))
        #expect(h.run("SMOVE", "p", "n", "zz") == .int(0))
        #expect(h.run("SMOVE", "p", "n") == .err("ERR wrong number of arguments for 'smove' command"))
    }

    @Test func smoveWithAnExpiredDestination() {
        let h = EngineHarness()
        h.run("SADD", "src", "m", "k")
        h.run("SADD", "dst", "old")
        forceExpired(h, "dst")
        #expect(h.run("SMOVE", "src", "dst", "m") == .int(1))
        #expect(h.run("SMEMBERS", "dst") == .strings(["m"]))
        #expect(h.run("SMEMBERS", "src") == .strings(["k"]))
    }

    // MARK: SINTER family

    func setup(_ h: EngineHarness) {
        h.run("SADD", "a", "1", "2", "3", "4", "5")
        h.run("SADD", "b", "3", "4", "5", "6", "7")
        h.run("SADD", "c", "5", "7", "9")
    }

    @Test func sinter() {
        let h = EngineHarness()
        setup(h)
        #expect(h.run("SINTER", "a", "b") == .strings(["3", "4", "5"]))
        #expect(h.run("SINTER", "a", "b", "c") == .strings(["5"]))
        #expect(h.run("SINTER", "b", "a") == .strings(["3", "4", "5"]))
        #expect(h.run("SINTER", "a", "nokey") == .array([]))
        #expect(h.run("SINTER", "a", "a") == .strings(["1", "2", "3", "4", "5"]))
        h.run("SADD", "w", "x", "3", "y", "5")
        #expect(Set(h.run("SINTER", "w", "a").stringItems) == ["3", "5"])
        #expect(h.run("SINTER", "c", "w") == .strings(["5"]), "iterates the smaller (intset) set")
        #expect(h.run("SINTER") == .err("ERR wrong number of arguments for 'sinter' command"))
    }

    @Test func sintercard() {
        let h = EngineHarness()
        setup(h)
        #expect(h.run("SINTERCARD", "2", "a", "b") == .int(3))
        #expect(h.run("SINTERCARD", "3", "a", "b", "c") == .int(1))
        #expect(h.run("SINTERCARD", "2", "a", "b", "LIMIT", "1") == .int(1))
        #expect(h.run("SINTERCARD", "2", "a", "b", "limit", "0") == .int(3))
        #expect(h.run("SINTERCARD", "2", "a", "b", "LIMIT", "100") == .int(3))
        #expect(h.run("SINTERCARD", "1", "nokey", "LIMIT", "0") == .int(0))
        #expect(h.run("SINTERCARD", "1", "a", "LIMIT", "1", "LIMIT", "2") == .int(2), "the last LIMIT wins")
        #expect(h.run("SINTERCARD", "0", "a") == .err("ERR numkeys should be greater than 0"))
        #expect(h.run("SINTERCARD", "x", "a") == .err("ERR numkeys should be greater than 0"))
        #expect(h.run("SINTERCARD", "-1", "a") == .err("ERR numkeys should be greater than 0"))
        #expect(h.run("SINTERCARD", "9223372036854775808", "a") == .err("ERR numkeys should be greater than 0"))
        #expect(h.run("SINTERCARD", "2", "a") == .err("ERR Number of keys can't be greater than number of args"))
        #expect(h.run("SINTERCARD", "1", "a", "limit") == Self.syntax)
        #expect(h.run("SINTERCARD", "1", "a", "limit", "-1") == .err("ERR LIMIT can't be negative"))
        #expect(h.run("SINTERCARD", "1", "a", "limit", "x") == .err("ERR LIMIT can't be negative"))
        #expect(h.run("SINTERCARD", "1", "a", "foo", "1") == Self.syntax)
        #expect(h.run("SINTERCARD", "1") == .err("ERR wrong number of arguments for 'sintercard' command"))
    }

    @Test func sinterstore() {
        let h = EngineHarness()
        setup(h)
        var before = h.engine.dirty
        #expect(h.run("SINTERSTORE", "d", "a", "b") == .int(3))
        #expect(h.engine.dirty == before + 1)
        #expect(h.encoding("d") == "intset")
        #expect(h.run("SMEMBERS", "d") == .strings(["3", "4", "5"]))
        before = h.engine.dirty
        #expect(h.run("SINTERSTORE", "d", "a", "nokey") == .int(0))
        #expect(h.engine.dirty == before + 1)
        #expect(h.run("EXISTS", "d") == .int(0))
        #expect(h.run("SINTERSTORE", "d", "a", "nokey") == .int(0))
        #expect(h.engine.dirty == before + 1)
        #expect(h.run("SINTERSTORE", "d", "a", "c") == .int(1))
        #expect(h.run("SINTERSTORE", "d", "a", "z9") == .int(0))
        // Overwrites any type and drops the expiry.
        h.run("SET", "strdst", "v")
        h.run("EXPIRE", "strdst", "100")
        #expect(h.run("SINTERSTORE", "strdst", "a", "b") == .int(3))
        #expect(h.run("TYPE", "strdst") == .simple("set"))
        #expect(h.run("TTL", "strdst") == .int(-1))
        // The destination may be a source.
        #expect(h.run("SINTERSTORE", "a", "a", "c") == .int(1))
        #expect(h.run("SMEMBERS", "a") == .strings(["5"]))
        #expect(h.run("SINTERSTORE", "d") == .err("ERR wrong number of arguments for 'sinterstore' command"))
    }

    @Test func sunion() {
        let h = EngineHarness()
        setup(h)
        #expect(h.run("SUNION", "a", "b", "c") == .strings(["1", "2", "3", "4", "5", "6", "7", "9"]))
        #expect(h.run("SUNION", "a", "nokey") == .strings(["1", "2", "3", "4", "5"]))
        #expect(h.run("SUNION", "nokey", "nokey2") == .array([]))
        let before = h.engine.dirty
        #expect(h.run("SUNIONSTORE", "d", "a", "b", "c") == .int(8))
        #expect(h.engine.dirty == before + 1)
        #expect(h.run("SMEMBERS", "d") == .strings(["1", "2", "3", "4", "5", "6", "7", "9"]))
        #expect(h.run("SUNIONSTORE", "d", "nokey") == .int(0))
        #expect(h.run("EXISTS", "d") == .int(0))
        h.run("SADD", "w", "x")
        #expect(h.run("SUNIONSTORE", "d", "c", "w") == .int(4))
        #expect(h.encoding("d") == "hashtable")
        // Past the intset limit the stored union is a hashtable.
        for i in 0..<520 { h.run("SADD", "u\(i % 3)", "\(i)") }
        #expect(h.run("SUNIONSTORE", "uu", "u0", "u1", "u2") == .int(520))
        #expect(h.encoding("uu") == "hashtable")
        #expect(h.run("SUNIONSTORE", "d") == .err("ERR wrong number of arguments for 'sunionstore' command"))
    }

    @Test func sdiff() {
        let h = EngineHarness()
        setup(h)
        #expect(h.run("SDIFF", "a", "b") == .strings(["1", "2"]))
        #expect(h.run("SDIFF", "a", "b", "c") == .strings(["1", "2"]))
        #expect(h.run("SDIFF", "b", "a", "c") == .strings(["6"]))
        #expect(h.run("SDIFF", "a", "nokey") == .strings(["1", "2", "3", "4", "5"]))
        #expect(h.run("SDIFF", "nokey", "a") == .array([]))
        #expect(h.run("SDIFF", "a", "a") == .array([]))
        #expect(h.run("SDIFF", "a", "b", "a") == .array([]))
        var before = h.engine.dirty
        #expect(h.run("SDIFFSTORE", "d", "a", "b") == .int(2))
        #expect(h.run("SMEMBERS", "d") == .strings(["1", "2"]))
        #expect(h.engine.dirty == before + 1)
        before = h.engine.dirty
        #expect(h.run("SDIFFSTORE", "d", "a", "a") == .int(0))
        #expect(h.run("EXISTS", "d") == .int(0))
        #expect(h.run("SDIFFSTORE", "d", "a", "a") == .int(0))
        #expect(h.engine.dirty == before + 1)
        #expect(h.run("SDIFFSTORE", "d") == .err("ERR wrong number of arguments for 'sdiffstore' command"))
    }

    @Test func sdiffstoreEncodingFollowsRedisAlgorithmChoice() {
        let h = EngineHarness()
        // Algorithm 1 (check each member of the first set): only surviving members are added.
        h.run("SADD", "m1", "1", "x", "2", "y")
        h.run("SADD", "m2", "x", "3")
        #expect(h.run("SDIFFSTORE", "md", "m1", "m2") == .int(3))
        #expect(h.encoding("md") == "hashtable")
        h.run("SADD", "r1", "1", "2", "3", "a", "b")
        h.run("SADD", "r2", "1", "2", "3", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k", "l", "m")
        #expect(h.run("SDIFFSTORE", "rd", "r1", "r2") == .int(1))
        #expect(h.run("SMEMBERS", "rd") == .strings(["a"]))
        #expect(h.run("SINTERSTORE", "ri", "r1", "r2") == .int(4))
        #expect(h.encoding("ri") == "hashtable")
        // Algorithm 1 when the first set is not much bigger than the rest: 20 integers survive
        // into an intset.
        h.run("SADD", "q1", "a", "1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11", "12", "13", "14",
              "15", "16", "17", "18", "19", "20")
        h.run("SADD", "q2", "a")
        #expect(h.run("SDIFFSTORE", "qd", "q1", "q2", "nokey") == .int(20))
        #expect(h.encoding("qd") == "intset")
        #expect(h.run("SDIFFSTORE", "qd2", "q2", "q1") == .int(0))
        #expect(h.run("EXISTS", "qd2") == .int(0))
        // Algorithm 2 (copy the first set, remove the others' members) when the first set
        // outweighs the others: the copy went hashtable with "a" in it, so the all-integer
        // survivors stay in a hashtable, as in Redis.
        h.run("SADD", "p1", "a", "1", "2", "3", "4", "5", "6", "7", "8", "9")
        h.run("SADD", "p2", "a")
        h.run("SADD", "p3", "zz")
        h.run("SADD", "p4", "yy")
        #expect(h.run("SDIFFSTORE", "pd", "p1", "p2", "p3", "p4") == .int(9))
        #expect(h.encoding("pd") == "hashtable")
        #expect(Set(h.run("SDIFF", "p1", "p2", "p3", "p4").stringItems) == Set((1...9).map { "\($0)" }))
        #expect(h.run("SDIFFSTORE", "pe", "p1", "p2") == .int(9))
        #expect(h.encoding("pe") == "intset")
        #expect(h.run("SMEMBERS", "pe") == .strings((1...9).map { "\($0)" }))
    }

    // MARK: SSCAN

    @Test func sscanSmallSet() {
        let h = EngineHarness()
        h.run("SADD", "a", "1", "2", "3", "10")
        let whole = RESPValue.array([.bulk("0"), .strings(["1", "2", "3", "10"])])
        #expect(h.run("SSCAN", "a", "0") == whole)
        #expect(h.run("SSCAN", "a", "18446744073709551615") == whole)
        #expect(h.run("SSCAN", "a", "-1") == whole)
        #expect(h.run("SSCAN", "a", "0", "COUNT", "9223372036854775807") == whole)
        #expect(h.run("SSCAN", "a", "0", "MATCH", "1*") == .array([.bulk("0"), .strings(["1", "10"])]))
        #expect(h.run("SSCAN", "a", "18446744073709551616") == .err("ERR invalid cursor"))
        #expect(h.run("SSCAN", "a", "0", "COUNT", "0") == Self.syntax)
        #expect(h.run("SSCAN", "a", "0", "TYPE", "set") == Self.syntax)
        #expect(h.run("SSCAN", "nokey", "x") == .err("ERR invalid cursor"))
        #expect(h.run("SSCAN", "nokey", "0", "COUNT", "x") == .array([.bulk("0"), .array([])]))
    }

    @Test func sscanLargeSet() {
        let h = EngineHarness()
        for i in 0..<1000 { h.run("SADD", "s", "m\(i)") }
        func scanAll(_ options: [String], between: () -> Void = {}) -> Set<String> {
            var cursor = "0"
            var seen = Set<String>()
            var calls = 0
            repeat {
                guard case .array(let parts?) = h.run(words(["SSCAN", "s", cursor] + options)), parts.count == 2,
                      let next = parts[0].string else {
                    Issue.record("bad SSCAN reply")
                    return seen
                }
                seen.formUnion(parts[1].stringItems)
                cursor = next
                calls += 1
                between()
            } while cursor != "0" && calls < 100_000
            return seen
        }
        let all = Set((0..<1000).map { "m\($0)" })
        #expect(scanAll([]) == all)
        #expect(scanAll(["COUNT", "7"]) == all)
        #expect(scanAll(["MATCH", "m1??"]) == Set((100..<200).map { "m\($0)" }))
        // Members present for the whole scan come back even as the set shrinks.
        var removed = 0
        let seen = scanAll(["COUNT", "5"]) {
            if removed < 500 {
                for _ in 0..<25 {
                    h.run("SREM", "s", "m\(removed)")
                    removed += 1
                }
            }
        }
        #expect(Set((500..<1000).map { "m\($0)" }).isSubset(of: seen))
    }

    @Test func encodingThresholdsFollowSettings() {
        var settings = EngineSettings()
        settings.setMaxIntsetEntries = 0
        let h = EngineHarness(engine: Engine(settings: settings))
        h.run("SADD", "z0", "1")
        #expect(h.encoding("z0") == "hashtable")
        let d = EngineHarness()
        for i in 0..<512 { d.run("SADD", "big", "\(i)") }
        #expect(d.encoding("big") == "intset")
        d.run("SADD", "big", "512")
        #expect(d.encoding("big") == "hashtable")
        d.run("SREM", "big", "512", "511", "510")
        #expect(d.encoding("big") == "hashtable")
    }

    @Test func copyDeepCopiesASet() {
        let h = EngineHarness()
        h.run("SADD", "src", "1")
        #expect(h.run("COPY", "src", "dst") == .int(1))
        h.run("SADD", "dst", "x")
        #expect(h.run("SMEMBERS", "src") == .strings(["1"]))
        #expect(h.encoding("src") == "intset")
        #expect(h.encoding("dst") == "hashtable")
    }
}
