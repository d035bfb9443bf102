import CairnRESP
@testable import CairnStorage
import Testing

// Expected replies were taken from Redis 7.0.15 running the same commands (hashtable iteration
// order aside, which differs by design: tests compare such replies as sets).

/// A command's COMMAND INFO facts as Redis 7.0.15 prints them.
struct ExpectedSpec {
    var name: String
    var arity: Int
    var flags: [String]
    var keys: (Int, Int, Int)
    var categories: [String]
    init(_ name: String, _ arity: Int, _ flags: [String], _ keys: (Int, Int, Int), _ categories: [String]) {
        self.name = name
        self.arity = arity
        self.flags = flags
        self.keys = keys
        self.categories = categories
    }
}

/// Compares the engine's command table with `table`.
func checkSpecs(_ table: [ExpectedSpec]) {
    let engine = Engine()
    for e in table {
        guard let command = engine.commands.lookup(e.name) else {
            Issue.record("\(e.name) is not registered")
            continue
        }
        let spec = command.spec
        #expect(spec.arity == e.arity, "\(e.name) arity")
        var flags = spec.flags
        flags.remove(.mayReplicate)
        #expect(flags.names == e.flags, "\(e.name) flags")
        #expect(spec.keyPositions == KeyPositions(first: e.keys.0, last: e.keys.1, step: e.keys.2), "\(e.name) keys")
        #expect(spec.categories.names == e.categories, "\(e.name) categories")
    }
}

extension RESPValue {
    /// Elements of an array or set reply, as strings (nil elements dropped).
    var stringItems: [String] {
        switch self {
        case .array(let items?), .set(let items): return items.compactMap(\.string)
        default: return []
        }
    }
}

@Suite struct HashCommandTests {
    static let wrongType = RESPValue.err("WRONGTYPE Operation against a key holding the wrong kind of value")
    static let notInteger = RESPValue.err("ERR value is not an integer or out of range")
    static let syntax = RESPValue.err("ERR syntax error")

    static func long(_ n: Int, _ c: Character = "x") -> String { String(repeating: c, count: n) }

    @Test func specsMatchRedis() {
        let w = ["@write", "@hash", "@fast"], r = ["@read", "@hash", "@fast"], rs = ["@read", "@hash", "@slow"]
        checkSpecs([
            ExpectedSpec("hset", -4, ["write", "denyoom", "fast"], (1, 1, 1), w),
            ExpectedSpec("hsetnx", 4, ["write", "denyoom", "fast"], (1, 1, 1), w),
            ExpectedSpec("hget", 3, ["readonly", "fast"], (1, 1, 1), r),
            ExpectedSpec("hmset", -4, ["write", "denyoom", "fast"], (1, 1, 1), w),
            ExpectedSpec("hmget", -3, ["readonly", "fast"], (1, 1, 1), r),
            ExpectedSpec("hgetall", 2, ["readonly"], (1, 1, 1), rs),
            ExpectedSpec("hdel", -3, ["write", "fast"], (1, 1, 1), w),
            ExpectedSpec("hexists", 3, ["readonly", "fast"], (1, 1, 1), r),
            ExpectedSpec("hlen", 2, ["readonly", "fast"], (1, 1, 1), r),
            ExpectedSpec("hkeys", 2, ["readonly"], (1, 1, 1), rs),
            ExpectedSpec("hvals", 2, ["readonly"], (1, 1, 1), rs),
            ExpectedSpec("hstrlen", 3, ["readonly", "fast"], (1, 1, 1), r),
            ExpectedSpec("hincrby", 4, ["write", "denyoom", "fast"], (1, 1, 1), w),
            ExpectedSpec("hincrbyfloat", 4, ["write", "denyoom", "fast"], (1, 1, 1), w),
            ExpectedSpec("hrandfield", -2, ["readonly"], (1, 1, 1), rs),
            ExpectedSpec("hscan", -3, ["readonly"], (1, 1, 1), rs),
        ])
    }

    @Test func hsetAndHget() {
        let h = EngineHarness()
        #expect(h.run("HSET", "h", "a", "1", "b", "2", "c", "3") == .int(3))
        #expect(h.run("HSET", "h", "a", "10", "d", "4") == .int(1))
        #expect(h.engine.dirty == 5, "HSET counts every pair written")
        #expect(h.run("HGET", "h", "a") == .bulk("10"))
        #expect(h.run("HGET", "h", "zz") == .nilBulk)
        #expect(h.run("HGET", "nokey", "a") == .nilBulk)
        #expect(h.run("HSET", "h", "a") == .err("ERR wrong number of arguments for 'hset' command"))
        #expect(h.run("HSET", "h", "a", "1", "b") == .err("ERR wrong number of arguments for 'hset' command"))
        #expect(h.run("HGETALL", "h") == .strings(["a", "10", "b", "2", "c", "3", "d", "4"]), "listpack order")
        #expect(h.encoding("h") == "listpack")
        #expect(h.run("TYPE", "h") == .simple("hash"))
        // Binary-safe, empty field and value.
        #expect(h.run("HSET", "e", "", "") == .int(1))
        #expect(h.run("HGET", "e", "") == .bulk(""))
        #expect(h.run("HSTRLEN", "e", "") == .int(0))
        #expect(h.run(bytes: Array("HSET".utf8), Array("bin".utf8), [0, 13, 10], [255, 0]) == .int(1))
        #expect(h.run(bytes: Array("HGET".utf8), Array("bin".utf8), [0, 13, 10]) == .raw([255, 0]))
    }

    @Test func hmset() {
        let h = EngineHarness()
        #expect(h.run("HMSET", "h", "x", "1", "y", "2") == .ok)
        #expect(h.run("HMSET", "h", "x", "3") == .ok)
        #expect(h.run("HMGET", "h", "x", "y", "z") == .array([.bulk("3"), .bulk("2"), .nilBulk]))
        #expect(h.run("HMSET", "h", "x") == .err("ERR wrong number of arguments for 'hmset' command"))
        #expect(h.engine.dirty == 3)
    }

    @Test func hsetnx() {
        let h = EngineHarness()
        #expect(h.run("HSETNX", "h", "a", "1") == .int(1))
        #expect(h.run("HSETNX", "h", "a", "2") == .int(0))
        #expect(h.run("HGET", "h", "a") == .bulk("1"))
        #expect(h.engine.dirty == 1)
        // An existing field with a long value writes nothing, so the encoding stays.
        #expect(h.run("HSETNX", "h", "a", Self.long(70)) == .int(0))
        #expect(h.encoding("h") == "listpack")
        #expect(h.run("HSETNX", "h", "b", Self.long(70)) == .int(1))
        #expect(h.encoding("h") == "hashtable")
        #expect(h.run("HSETNX", "h", "a") == .err("ERR wrong number of arguments for 'hsetnx' command"))
    }

    @Test func readsOnMissingKeys() {
        let h = EngineHarness()
        #expect(h.run("HMGET", "nokey", "a", "b") == .array([.nilBulk, .nilBulk]))
        #expect(h.run("HGETALL", "nokey") == .array([]))
        #expect(h.run("HKEYS", "nokey") == .array([]))
        #expect(h.run("HVALS", "nokey") == .array([]))
        #expect(h.run("HLEN", "nokey") == .int(0))
        #expect(h.run("HEXISTS", "nokey", "a") == .int(0))
        #expect(h.run("HSTRLEN", "nokey", "a") == .int(0))
        #expect(h.run("HDEL", "nokey", "a") == .int(0))
        #expect(h.engine.databases[0].count == 0)
        #expect(h.engine.stats.keyspaceMisses == 7)
    }

    @Test func reads() {
        let h = EngineHarness()
        h.run("HSET", "h", "a", "1", "bb", "hello")
        #expect(h.run("HLEN", "h") == .int(2))
        #expect(h.run("HEXISTS", "h", "a") == .int(1))
        #expect(h.run("HEXISTS", "h", "zz") == .int(0))
        #expect(h.run("HSTRLEN", "h", "bb") == .int(5))
        #expect(h.run("HSTRLEN", "h", "zz") == .int(0))
        #expect(h.run("HKEYS", "h") == .strings(["a", "bb"]))
        #expect(h.run("HVALS", "h") == .strings(["1", "hello"]))
        #expect(h.run("HGETALL", "h") == .strings(["a", "1", "bb", "hello"]))
    }

    @Test func resp3Shapes() {
        let h = EngineHarness(resp3: true)
        h.run("HSET", "h", "a", "1", "b", "2")
        #expect(h.run("HGETALL", "h") == .map([(.bulk("a"), .bulk("1")), (.bulk("b"), .bulk("2"))]))
        #expect(h.run("HGETALL", "nokey") == .map([]))
        #expect(h.run("HKEYS", "nokey") == .array([]))
        #expect(h.run("HGET", "h", "zz") == .null)
        #expect(h.run("HMGET", "nokey", "a") == .array([.null]))
        #expect(h.run("HRANDFIELD", "nokey") == .null)
        #expect(h.run("HRANDFIELD", "nokey", "2") == .array([]))
        #expect(h.run("HRANDFIELD", "h", "10", "WITHVALUES") == .array([
            .array([.bulk("a"), .bulk("1")]), .array([.bulk("b"), .bulk("2")]),
        ]))
        #expect(h.run("HSCAN", "h", "0") == .array([.bulk("0"), .strings(["a", "1", "b", "2"])]))
    }

    @Test func wrongType() {
        let h = EngineHarness()
        h.run("SET", "str", "v")
        for words in [["HGET", "str", "a"], ["HSET", "str", "a", "b"], ["HSETNX", "str", "a", "b"],
                      ["HMSET", "str", "a", "b"], ["HMGET", "str", "a"], ["HGETALL", "str"], ["HKEYS", "str"],
                      ["HVALS", "str"], ["HLEN", "str"], ["HEXISTS", "str", "a"], ["HSTRLEN", "str", "a"],
                      ["HDEL", "str", "a"], ["HINCRBY", "str", "a", "1"], ["HINCRBYFLOAT", "str", "a", "1"],
                      ["HRANDFIELD", "str"], ["HRANDFIELD", "str", "0"], ["HRANDFIELD", "str", "1", "WITHVALUES"],
                      ["HSCAN", "str", "0"], ["HSCAN", "str", "0", "COUNT", "x"]] {
            #expect(h.run(words.map { Array($0.utf8) }) == Self.wrongType, "\(words)")
        }
        #expect(h.run("GET", "str") == .bulk("v"))
        #expect(h.engine.dirty == 1)
    }

    @Test func hdelRemovesTheKeyWithTheLastField() {
        let h = EngineHarness()
        h.run("HSET", "l", "a", "1", "b", "2", "c", "3", "d", "4")
        #expect(h.run("HSET", "l", "b", "20") == .int(0))
        #expect(h.run("HGETALL", "l") == .strings(["a", "1", "b", "20", "c", "3", "d", "4"]), "update keeps the place")
        let before = h.engine.dirty
        #expect(h.run("HDEL", "l", "b", "zz", "c") == .int(2))
        #expect(h.engine.dirty == before + 2)
        #expect(h.run("HGETALL", "l") == .strings(["a", "1", "d", "4"]))
        #expect(h.run("HDEL", "l", "a", "d", "a") == .int(2))
        #expect(h.run("EXISTS", "l") == .int(0))
        #expect(h.run("HDEL", "l", "a") == .int(0))
        #expect(h.run("HDEL", "l") == .err("ERR wrong number of arguments for 'hdel' command"))
    }

    @Test func encodings() {
        let h = EngineHarness()
        h.run("HSET", "big", "f1", Self.long(64))
        #expect(h.encoding("big") == "listpack")
        h.run("HSET", "big", "f2", Self.long(65))
        #expect(h.encoding("big") == "hashtable")
        h.run("HSET", "big2", Self.long(65, "k"), "v")
        #expect(h.encoding("big2") == "hashtable")
        for i in 0..<512 { h.run("HSET", "many", "f\(i)", "v") }
        #expect(h.encoding("many") == "listpack")
        h.run("HSET", "many", "f512", "v")
        #expect(h.encoding("many") == "hashtable")
        #expect(h.run("HLEN", "many") == .int(513))
        for i in 0..<510 { h.run("HDEL", "many", "f\(i)") }
        #expect(h.encoding("many") == "hashtable", "never converts back")
        // HINCRBY / HINCRBYFLOAT on a long field convert too (hashTypeSet checks).
        h.run("HSET", "h3", "a", "1")
        #expect(h.run("HINCRBY", "h3", Self.long(65, "f"), "1") == .int(1))
        #expect(h.encoding("h3") == "hashtable")
        h.run("HSET", "h4", "a", "1")
        #expect(h.run("HINCRBYFLOAT", "h4", Self.long(70, "f"), "1.5") == .bulk("1.5"))
        #expect(h.encoding("h4") == "hashtable")
        // A result too long for the listpack converts as well.
        h.run("HSET", "h5", "a", "1")
        #expect(h.run("HINCRBYFLOAT", "h5", "a", "1e70") == .bulk("10000000000000000000222479489586148259025995410601157579323600873193472"))
        #expect(h.encoding("h5") == "hashtable")
    }

    @Test func encodingThresholdsFollowSettings() {
        var settings = EngineSettings()
        settings.hashMaxListpackEntries = 0
        let h = EngineHarness(engine: Engine(settings: settings))
        h.run("HSET", "zh", "a", "1")
        #expect(h.encoding("zh") == "hashtable")
        var settings2 = EngineSettings()
        settings2.hashMaxListpackValue = 0
        let h2 = EngineHarness(engine: Engine(settings: settings2))
        h2.run("HSET", "zv", "", "")
        #expect(h2.encoding("zv") == "listpack")
        h2.run("HSET", "zv2", "a", "")
        #expect(h2.encoding("zv2") == "hashtable")
        var settings3 = EngineSettings()
        settings3.hashMaxListpackEntries = 3
        let h3 = EngineHarness(engine: Engine(settings: settings3))
        h3.run("HSET", "x", "a", "1", "b", "2", "c", "3")
        #expect(h3.encoding("x") == "listpack")
        h3.run("HSET", "x", "d", "4")
        #expect(h3.encoding("x") == "hashtable")
    }

    @Test func hincrby() {
        let h = EngineHarness()
        h.run("HSET", "n", "i", "9223372036854775807", "s", "abc", "f", "1.5", "sp", " 1",
              "neg", "-9223372036854775808", "z", "0", "lz", "01")
        let before = h.engine.dirty
        #expect(h.run("HINCRBY", "n", "i", "1") == .err("ERR increment or decrement would overflow"))
        #expect(h.run("HINCRBY", "n", "neg", "-1") == .err("ERR increment or decrement would overflow"))
        for field in ["s", "f", "sp", "lz"] {
            #expect(h.run("HINCRBY", "n", field, "1") == .err("ERR hash value is not an integer"))
        }
        #expect(h.run("HINCRBY", "n", "i", "x") == Self.notInteger)
        #expect(h.run("HINCRBY", "n", "i", "9223372036854775808") == Self.notInteger)
        #expect(h.engine.dirty == before)
        #expect(h.run("HINCRBY", "n", "i", "-9223372036854775807") == .int(0))
        #expect(h.run("HINCRBY", "n", "z", "-5") == .int(-5))
        #expect(h.run("HINCRBY", "n", "new", "7") == .int(7))
        #expect(h.run("HGET", "n", "new") == .bulk("7"))
        #expect(h.engine.dirty == before + 3)
        #expect(h.run("HINCRBY", "created", "f", "3") == .int(3))
        #expect(h.run("HGETALL", "created") == .strings(["f", "3"]))
        #expect(h.run("HINCRBY", "n", "i") == .err("ERR wrong number of arguments for 'hincrby' command"))
        // A failed increment on a missing key leaves no empty hash behind.
        #expect(h.run("HINCRBY", "ghost", "f", "x") == Self.notInteger)
        #expect(h.run("EXISTS", "ghost") == .int(0))
    }

    @Test func hincrbyfloat() {
        let h = EngineHarness()
        h.run("HSET", "n", "i", "9223372036854775807", "s", "abc", "f", "1.5", "sp", " 1", "z", "0", "lz", "01")
        #expect(h.run("HINCRBYFLOAT", "n", "f", "1") == .bulk("2.5"))
        #expect(h.run("HINCRBYFLOAT", "n", "f", "-1.5") == .bulk("1"))
        #expect(h.run("HINCRBYFLOAT", "n", "s", "1") == .err("ERR hash value is not a float"))
        #expect(h.run("HINCRBYFLOAT", "n", "sp", "1") == .err("ERR hash value is not a float"))
        #expect(h.run("HINCRBYFLOAT", "n", "i", "1") == .bulk("9223372036854775808"))
        #expect(h.run("HINCRBYFLOAT", "n", "z", "0.1") == .bulk("0.1"))
        #expect(h.run("HINCRBYFLOAT", "n", "z", "inf") == .err("ERR value is NaN or Infinity"))
        #expect(h.run("HINCRBYFLOAT", "n", "z", "-inf") == .err("ERR value is NaN or Infinity"))
        #expect(h.run("HINCRBYFLOAT", "n", "z", "nan") == .err("ERR value is not a valid float"))
        #expect(h.run("HINCRBYFLOAT", "n", "z", "abc") == .err("ERR value is not a valid float"))
        #expect(h.run("HINCRBYFLOAT", "n", "z", "1e5000") == .err("ERR value is not a valid float"))
        #expect(h.run("HINCRBYFLOAT", "n", "z", " 1") == .err("ERR value is not a valid float"))
        #expect(h.run("HINCRBYFLOAT", "n", "z", "0x10") == .bulk("16.1"))
        #expect(h.run("HINCRBYFLOAT", "n", "z", "1.") == .bulk("17.1"))
        #expect(h.run("HINCRBYFLOAT", "n", "z", ".5") == .bulk("17.6"))
        #expect(h.run("HINCRBYFLOAT", "n", "z", "5e-3") == .bulk("17.605"))
        #expect(h.run("HGET", "n", "z") == .bulk("17.605"))
        #expect(h.run("HINCRBYFLOAT", "n", "lz", "1") == .bulk("2"))
        #expect(h.run("HINCRBYFLOAT", "n", "new", "3.0") == .bulk("3"))
        #expect(h.run("HINCRBYFLOAT", "n", "long", "1.1234567890123456789") == .bulk("1.12345678901234568"))
        // Overflow to infinity.
        h.run("HSET", "n", "huge", "1e4932")
        #expect(h.run("HINCRBYFLOAT", "n", "huge", "1e4932") == .err("ERR increment would produce NaN or Infinity"))
        #expect(h.run("HINCRBYFLOAT", "created", "f", "2.5") == .bulk("2.5"))
        #expect(h.encoding("created") == "listpack")
        // The increment is checked before the key's type.
        h.run("SET", "str", "v")
        #expect(h.run("HINCRBYFLOAT", "str", "f", "x") == .err("ERR value is not a valid float"))
        #expect(h.run("HINCRBYFLOAT", "ghost", "f", "x") == .err("ERR value is not a valid float"))
        #expect(h.run("EXISTS", "ghost") == .int(0))
    }

    @Test func hrandfieldErrors() {
        let h = EngineHarness()
        h.run("HSET", "h", "a", "1")
        #expect(h.run("HRANDFIELD", "h", "-9223372036854775808") ==
            .err("ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807"))
        #expect(h.run("HRANDFIELD", "h", "9223372036854775807", "WITHVALUES") == .err("ERR value is out of range"))
        #expect(h.run("HRANDFIELD", "h", "4611686018427387904", "withvalues") == .err("ERR value is out of range"))
        #expect(h.run("HRANDFIELD", "h", "-4611686018427387904", "withvalues") == .err("ERR value is out of range"))
        #expect(h.run("HRANDFIELD", "h", "4611686018427387903", "withvalues") == .strings(["a", "1"]))
        #expect(h.run("HRANDFIELD", "h", "1", "withvalue") == Self.syntax)
        #expect(h.run("HRANDFIELD", "h", "1", "withvalues", "x") == Self.syntax)
        #expect(h.run("HRANDFIELD", "h", "x") == Self.notInteger)
        #expect(h.run("HRANDFIELD", "nokey", "x") == Self.notInteger)
        #expect(h.run("HRANDFIELD", "nokey", "5") == .array([]))
        #expect(h.run("HRANDFIELD", "nokey", "5", "withvalues") == .array([]))
        #expect(h.run("HRANDFIELD", "nokey") == .nilBulk)
        #expect(h.run("HRANDFIELD", "h", "0") == .array([]))
        #expect(h.run("HRANDFIELD", "h", "0", "withvalues") == .array([]))
        #expect(h.run("HRANDFIELD") == .err("ERR wrong number of arguments for 'hrandfield' command"))
    }

    /// Checks a HRANDFIELD reply: `count` items, fields of `model` with their values, distinct
    /// when asked.
    func checkRandom(_ reply: RESPValue, _ model: [String: String], count: Int, withValues: Bool, distinct: Bool,
                     resp3: Bool = false) {
        guard case .array(let items?) = reply else {
            Issue.record("not an array: \(reply)")
            return
        }
        var fields: [String] = []
        if withValues && resp3 {
            #expect(items.count == count)
            for item in items {
                guard case .array(let pair?) = item, pair.count == 2, let f = pair[0].string, let v = pair[1].string else {
                    Issue.record("bad pair \(item)")
                    continue
                }
                #expect(model[f] == v)
                fields.append(f)
            }
        } else if withValues {
            #expect(items.count == count * 2)
            for k in stride(from: 0, to: items.count - 1, by: 2) {
                guard let f = items[k].string, let v = items[k + 1].string else { continue }
                #expect(model[f] == v)
                fields.append(f)
            }
        } else {
            #expect(items.count == count)
            fields = items.compactMap(\.string)
            for f in fields { #expect(model[f] != nil) }
        }
        if distinct { #expect(Set(fields).count == fields.count) }
    }

    @Test(arguments: [5, 20, 200, 1000])
    func hrandfieldCounts(size: Int) {
        for resp3 in [false, true] {
            let h = EngineHarness(resp3: resp3)
            var model: [String: String] = [:]
            for i in 0..<size {
                model["f\(i)"] = "v\(i)"
                h.run("HSET", "h", "f\(i)", "v\(i)")
            }
            #expect(h.encoding("h") == (size > 512 ? "hashtable" : "listpack"))
            if case .bulkString(let f?) = h.run("HRANDFIELD", "h") {
                #expect(model[String(decoding: f, as: UTF8.self)] != nil)
            } else {
                Issue.record("HRANDFIELD gave no field")
            }
            for count in [1, 2, size / 3, size / 2, size - 1, size, size + 5] where count > 0 {
                for withValues in [false, true] {
                    var words = ["HRANDFIELD", "h", "\(count)"]
                    if withValues { words.append("WITHVALUES") }
                    let reply = h.run(words.map { Array($0.utf8) })
                    checkRandom(reply, model, count: min(count, size), withValues: withValues, distinct: true, resp3: resp3)
                    words[2] = "-\(count)"
                    let repeated = h.run(words.map { Array($0.utf8) })
                    checkRandom(repeated, model, count: count, withValues: withValues, distinct: false, resp3: resp3)
                }
            }
            // Asking for everything gives everything.
            let all = h.run("HRANDFIELD", "h", "\(size + 1)")
            #expect(Set(all.stringItems) == Set(model.keys))
        }
    }

    @Test func hrandfieldNegativeCountRepeatsOnASmallHash() {
        let h = EngineHarness()
        h.run("HSET", "h", "a", "1")
        #expect(h.run("HRANDFIELD", "h", "-5") == .strings(["a", "a", "a", "a", "a"]))
        #expect(h.run("HRANDFIELD", "h", "-2", "WITHVALUES") == .strings(["a", "1", "a", "1"]))
    }

    @Test func hscanSmallHashIsReturnedWhole() {
        let h = EngineHarness()
        h.run("HSET", "h", "a", "1", "b", "2", "c", "3")
        let whole = RESPValue.array([.bulk("0"), .strings(["a", "1", "b", "2", "c", "3"])])
        #expect(h.run("HSCAN", "h", "0") == whole)
        #expect(h.run("HSCAN", "h", "5") == whole, "a listpack ignores the cursor")
        #expect(h.run("HSCAN", "h", "0", "COUNT", "1") == whole)
        #expect(h.run("HSCAN", "h", "0", "MATCH", "*", "COUNT", "100") == whole)
        #expect(h.run("HSCAN", "h", "0", "MATCH", "a*") == .array([.bulk("0"), .strings(["a", "1"])]))
        #expect(h.run("HSCAN", "h", "0", "MATCH", "[ab]", "COUNT", "1") == .array([.bulk("0"), .strings(["a", "1", "b", "2"])]))
        #expect(h.run("HSCAN", "h", "0", "MATCH", "1") == .array([.bulk("0"), .strings([])]), "values are not matched")
        #expect(h.run("HSCAN", "h", "-1") == whole)
        #expect(h.run("HSCAN", "h", "18446744073709551615") == whole)
    }

    @Test func hscanErrors() {
        let h = EngineHarness()
        h.run("HSET", "h", "a", "1")
        #expect(h.run("HSCAN", "h", "0", "COUNT", "0") == Self.syntax)
        #expect(h.run("HSCAN", "h", "0", "COUNT", "x") == Self.notInteger)
        #expect(h.run("HSCAN", "h", "0", "TYPE", "string") == Self.syntax)
        #expect(h.run("HSCAN", "h", "0", "MATCH") == Self.syntax)
        #expect(h.run("HSCAN", "h", "0", "NOVALUES") == Self.syntax)
        #expect(h.run("HSCAN", "h", "x") == .err("ERR invalid cursor"))
        #expect(h.run("HSCAN", "h", "18446744073709551616") == .err("ERR invalid cursor"))
        #expect(h.run("HSCAN", "nokey", "x") == .err("ERR invalid cursor"))
        // A missing key answers before the options are read.
        #expect(h.run("HSCAN", "nokey", "0", "COUNT", "x") == .array([.bulk("0"), .array([])]))
        #expect(h.run("HSCAN", "h") == .err("ERR wrong number of arguments for 'hscan' command"))
    }

    /// Runs HSCAN to the end; returns field -> value (checking values come with their fields).
    func hscanAll(_ h: EngineHarness, _ key: String, _ options: [String] = [], between: () -> Void = {}) -> [String: String] {
        var cursor = "0"
        var seen: [String: String] = [:]
        var calls = 0
        repeat {
            guard case .array(let parts?) = h.run((["HSCAN", key, cursor] + options).map { Array($0.utf8) }),
                  parts.count == 2, let next = parts[0].string, case .array(let items?) = parts[1] else {
                Issue.record("bad HSCAN reply")
                return seen
            }
            #expect(items.count % 2 == 0)
            for k in stride(from: 0, to: items.count - 1, by: 2) {
                if let f = items[k].string, let v = items[k + 1].string { seen[f] = v }
            }
            cursor = next
            calls += 1
            between()
        } while cursor != "0" && calls < 100_000
        return seen
    }

    @Test func hscanLargeHash() {
        let h = EngineHarness()
        var model: [String: String] = [:]
        for i in 0..<1000 {
            model["f\(i)"] = "v\(i)"
            h.run("HSET", "h", "f\(i)", "v\(i)")
        }
        #expect(h.encoding("h") == "hashtable")
        #expect(hscanAll(h, "h") == model)
        #expect(hscanAll(h, "h", ["COUNT", "3"]) == model)
        #expect(hscanAll(h, "h", ["COUNT", "100000"]) == model)
        let matched = hscanAll(h, "h", ["MATCH", "f1?"])
        #expect(matched == model.filter { $0.key.count == 3 && $0.key.hasPrefix("f1") })
        // One call collects about COUNT items, values included (Redis counts them too).
        guard case .array(let parts?) = h.run("HSCAN", "h", "0", "COUNT", "20"),
              case .array(let items?) = parts[1] else {
            Issue.record("bad reply")
            return
        }
        #expect(items.count >= 20 && items.count < 60)
        // Fields present for the whole scan come back even as the hash grows.
        var added = 0
        let seen = hscanAll(h, "h", ["COUNT", "5"]) {
            if added < 2000 {
                for _ in 0..<20 {
                    h.run("HSET", "h", "g\(added)", "w")
                    added += 1
                }
            }
        }
        for (f, v) in model { #expect(seen[f] == v) }
    }

    @Test func copyDeepCopiesAHash() {
        let h = EngineHarness()
        h.run("HSET", "src", "a", "1")
        #expect(h.run("COPY", "src", "dst") == .int(1))
        h.run("HSET", "dst", "b", "2")
        #expect(h.run("HLEN", "src") == .int(1))
        #expect(h.run("HLEN", "dst") == .int(2))
        #expect(h.encoding("dst") == "listpack")
    }
}
