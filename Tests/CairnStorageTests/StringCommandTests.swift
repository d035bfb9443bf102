import CairnRESP
@testable import CairnStorage
import Testing

/// Helpers for looking inside the keyspace from string/bit tests.
extension EngineHarness {
    var db: Database { engine.databases[0] }

    func encoding(_ key: String) -> String? {
        guard let i = db.lookup(Array(key.utf8)) else { return nil }
        return "\(db.table.value(at: i).encodingName)"
    }

    func expireAt(_ key: String) -> Int64? {
        guard let i = db.lookup(Array(key.utf8)) else { return nil }
        return db.table.expireAt(at: i)
    }

    func run(bytes words: [UInt8]...) -> RESPValue { run(words) }
}

extension RESPValue {
    static func int(_ v: Int64) -> RESPValue { .integer(v) }
    static func raw(_ b: [UInt8]) -> RESPValue { .bulkString(b) }
}

@Suite struct StringCommandTests {
    static let notInteger = RESPValue.err("ERR value is not an integer or out of range")

    @Test func getSetRoundTrip() {
        let h = EngineHarness()
        #expect(h.run("GET", "k") == .nilBulk)
        #expect(h.run("SET", "k", "v") == .ok)
        #expect(h.run("get", "k") == .bulk("v"))
    }

    @Test func setOptionsAndErrors() {
        let h = EngineHarness()
        #expect(h.run("SET", "k", "1", "NX") == .ok)
        #expect(h.run("SET", "k", "2", "NX") == .nilBulk)
        #expect(h.run("SET", "k", "3", "XX", "GET") == .bulk("1"))
        #expect(h.run("SET", "k", "4", "NX", "XX") == .err("ERR syntax error"))
        #expect(h.run("SET", "k", "4", "EX", "0") == .err("ERR invalid expire time in 'set' command"))
        #expect(h.run("SET", "k", "4", "EX", "x") == Self.notInteger)
        #expect(h.run("SET", "k", "4", "EX", "10", "KEEPTTL") == .err("ERR syntax error"))
        #expect(h.run("SET", "k", "4", "PERSIST") == .err("ERR syntax error"))
        #expect(h.run("SET", "k") == .err("ERR wrong number of arguments for 'set' command"))
        // The same expiry option may repeat (the last value wins), different ones may not mix.
        #expect(h.run("SET", "k", "v", "EX", "10", "EX", "20") == .ok)
        let expiry = h.engine.now + 20_000  // the clock of that SET (later commands move it)
        #expect(h.expireAt("k") == expiry)
        #expect(h.run("SET", "k", "v", "PX", "10", "EX", "20") == .err("ERR syntax error"))
        #expect(h.run("SET", "k", "v", "KEEPTTL", "KEEPTTL") == .ok)
        #expect(h.expireAt("k") == expiry)
        #expect(h.run("SET", "k", "v") == .ok)
        #expect(h.expireAt("k") == noExpiry)
    }

    @Test func setnx() {
        let h = EngineHarness()
        #expect(h.run("SETNX", "k", "1") == .int(1))
        #expect(h.run("SETNX", "k", "2") == .int(0))
        #expect(h.run("GET", "k") == .bulk("1"))
        #expect(h.encoding("k") == "int")
        #expect(h.engine.dirty == 1)
        #expect(h.run("SETNX", "k") == .err("ERR wrong number of arguments for 'setnx' command"))
    }

    @Test func setexAndPsetex() {
        let h = EngineHarness()
        #expect(h.run("SETEX", "k", "10", "hello") == .ok)
        let expiry = h.engine.now + 10_000  // GET below moves the clock
        #expect(h.run("GET", "k") == .bulk("hello"))
        #expect(h.expireAt("k") == expiry)
        #expect(h.encoding("k") == "embstr")
        #expect(h.run("PSETEX", "k", "1500", "12") == .ok)
        #expect(h.expireAt("k") == h.engine.now + 1500)
        #expect(h.encoding("k") == "int")
        #expect(h.run("SETEX", "k", "0", "v") == .err("ERR invalid expire time in 'setex' command"))
        #expect(h.run("SETEX", "k", "-5", "v") == .err("ERR invalid expire time in 'setex' command"))
        #expect(h.run("SETEX", "k", "9223372036854775807", "v") == .err("ERR invalid expire time in 'setex' command"))
        #expect(h.run("PSETEX", "k", "0", "v") == .err("ERR invalid expire time in 'psetex' command"))
        #expect(h.run("PSETEX", "k", "9223372036854775807", "v") == .err("ERR invalid expire time in 'psetex' command"))
        #expect(h.run("SETEX", "k", "ten", "v") == Self.notInteger)
        #expect(h.run("SETEX", "k", "10") == .err("ERR wrong number of arguments for 'setex' command"))
        #expect(h.engine.dirty == 2)
    }

    @Test func getsetClearsTTL() {
        let h = EngineHarness()
        #expect(h.run("GETSET", "k", "a") == .nilBulk)
        #expect(h.run("SETEX", "k", "100", "b") == .ok)
        #expect(h.run("GETSET", "k", "c") == .bulk("b"))
        #expect(h.expireAt("k") == noExpiry)
        #expect(h.run("GET", "k") == .bulk("c"))
        #expect(h.engine.dirty == 3)
    }

    @Test func getdel() {
        let h = EngineHarness()
        #expect(h.run("GETDEL", "k") == .nilBulk)
        #expect(h.engine.dirty == 0)
        h.run("SET", "k", "42")
        #expect(h.run("GETDEL", "k") == .bulk("42"))
        #expect(h.run("GET", "k") == .nilBulk)
        #expect(h.engine.dirty == 2)
    }

    @Test func getexOptions() {
        let h = EngineHarness()
        h.run("SET", "k", "v")
        #expect(h.run("GETEX", "k") == .bulk("v"))
        #expect(h.engine.dirty == 1)
        #expect(h.run("GETEX", "k", "EX", "100") == .bulk("v"))
        #expect(h.expireAt("k") == h.engine.now + 100_000)
        #expect(h.run("GETEX", "k", "px", "100") == .bulk("v"))
        #expect(h.expireAt("k") == h.engine.now + 100)
        let future = h.engine.now + 50_000
        #expect(h.run("GETEX", "k", "PXAT", "\(future)") == .bulk("v"))
        #expect(h.expireAt("k") == future)
        #expect(h.run("GETEX", "k", "EXAT", "\(future / 1000 + 10)") == .bulk("v"))
        #expect(h.expireAt("k") == (future / 1000 + 10) * 1000)
        #expect(h.run("GETEX", "k", "PERSIST") == .bulk("v"))
        #expect(h.expireAt("k") == noExpiry)
        #expect(h.engine.dirty == 6)
        // PERSIST on a key without a TTL changes nothing.
        #expect(h.run("GETEX", "k", "PERSIST", "PERSIST") == .bulk("v"))
        #expect(h.engine.dirty == 6)
        #expect(h.run("GETEX", "k", "EX", "5", "EX", "6") == .bulk("v"))
        #expect(h.expireAt("k") == h.engine.now + 6000)
        // An absolute time in the past deletes the key after replying its value.
        #expect(h.run("GETEX", "k", "EXAT", "1") == .bulk("v"))
        #expect(h.run("GET", "k") == .nilBulk)
        #expect(h.engine.dirty == 8)
    }

    @Test func getexErrors() {
        let h = EngineHarness()
        // A missing key answers nil before the time is validated, but not before the syntax.
        #expect(h.run("GETEX", "nokey", "EX", "0") == .nilBulk)
        #expect(h.run("GETEX", "nokey", "EX", "abc") == .nilBulk)
        #expect(h.run("GETEX", "nokey", "FOO") == .err("ERR syntax error"))
        h.run("SET", "k", "v")
        #expect(h.run("GETEX", "k", "EX", "0") == .err("ERR invalid expire time in 'getex' command"))
        #expect(h.run("GETEX", "k", "PXAT", "-1") == .err("ERR invalid expire time in 'getex' command"))
        #expect(h.run("GETEX", "k", "EX", "abc") == Self.notInteger)
        for bad in [["EX"], ["EX", "5", "PX", "6"], ["PERSIST", "EX", "5"], ["EX", "5", "PERSIST"], ["KEEPTTL"],
                    ["NX"], ["XX"], ["GET"]] {
            #expect(h.run(["GETEX", "k"].map { Array($0.utf8) } + bad.map { Array($0.utf8) }) == .err("ERR syntax error"))
        }
        #expect(h.expireAt("k") == noExpiry)
        #expect(h.run("GETEX") == .err("ERR wrong number of arguments for 'getex' command"))
    }

    @Test func mgetMsetMsetnx() {
        let h = EngineHarness()
        #expect(h.run("MSET", "a", "1", "b", "two", "c", String(repeating: "x", count: 45)) == .ok)
        #expect(h.engine.dirty == 3)
        #expect(h.encoding("a") == "int")
        #expect(h.encoding("b") == "embstr")
        #expect(h.encoding("c") == "raw")
        #expect(h.run("MGET", "a", "nokey", "b") == .array([.bulk("1"), .nilBulk, .bulk("two")]))
        #expect(h.run("MSET", "a", "1", "b") == .err("ERR wrong number of arguments for 'mset' command"))
        #expect(h.run("MSET", "a") == .err("ERR wrong number of arguments for 'mset' command"))
        #expect(h.run("MSETNX", "a", "1", "b") == .err("ERR wrong number of arguments for 'msetnx' command"))
        #expect(h.run("MSETNX", "x", "1", "a", "2") == .int(0))
        #expect(h.run("GET", "x") == .nilBulk)
        #expect(h.engine.dirty == 3)
        // A key given twice is set twice; the last value wins.
        #expect(h.run("MSETNX", "x", "1", "y", "2", "x", "3") == .int(1))
        #expect(h.run("MGET", "x", "y") == .strings(["3", "2"]))
        #expect(h.engine.dirty == 6)
        h.run("SETEX", "a", "100", "v")
        h.run("MSET", "a", "w")
        #expect(h.expireAt("a") == noExpiry)
    }

    @Test func appendAndStrlen() {
        let h = EngineHarness()
        #expect(h.run("APPEND", "k", "hello") == .int(5))
        #expect(h.encoding("k") == "embstr")  // a new key is stored as SET would
        #expect(h.run("APPEND", "k", " world") == .int(11))
        #expect(h.encoding("k") == "raw")
        #expect(h.run("GET", "k") == .bulk("hello world"))
        #expect(h.run("STRLEN", "k") == .int(11))
        #expect(h.run("STRLEN", "nokey") == .int(0))
        #expect(h.run("APPEND", "n", "123") == .int(3))
        #expect(h.encoding("n") == "int")
        #expect(h.run("STRLEN", "n") == .int(3))
        #expect(h.run("APPEND", "n", "4") == .int(4))
        #expect(h.encoding("n") == "raw")
        #expect(h.run("INCR", "n") == .int(1235))
        #expect(h.run("STRLEN", "n") == .int(4))
        #expect(h.run("APPEND", "n", "") == .int(4))
        #expect(h.engine.dirty == 6)
        // APPEND keeps the TTL.
        h.run("SETEX", "t", "100", "a")
        let expiry = h.engine.now + 100_000  // set by SETEX; later commands move the clock
        h.run("APPEND", "t", "b")
        #expect(h.expireAt("t") == expiry)
        #expect(h.run(bytes: Array("APPEND".utf8), Array("bin".utf8), [0, 255, 10]) == .int(3))
        #expect(h.run("GET", "bin") == .raw([0, 255, 10]))
    }

    @Test func appendAndSetrangeSizeLimit() {
        var settings = EngineSettings()
        settings.protoMaxBulkLength = 10
        let h = EngineHarness(engine: Engine(settings: settings))
        let tooBig = RESPValue.err("ERR string exceeds maximum allowed size (proto-max-bulk-len)")
        h.run("SET", "k", "12345")
        #expect(h.run("APPEND", "k", "67890") == .int(10))
        #expect(h.run("APPEND", "k", "x") == tooBig)
        #expect(h.run("SETRANGE", "k", "9", "x") == .int(10))
        #expect(h.run("SETRANGE", "k", "9", "xy") == tooBig)
        #expect(h.run("SETRANGE", "new", "10", "x") == tooBig)
        #expect(h.run("SETRANGE", "new", "9223372036854775807", "x") == tooBig)
        // Setting nothing never hits the limit.
        #expect(h.run("SETRANGE", "new", "99999999999", "") == .int(0))
        #expect(h.run("SETRANGE", "k", "99999999999", "") == .int(10))
        #expect(h.run("GET", "new") == .nilBulk)
    }

    @Test func getrangeAndSubstr() {
        let h = EngineHarness()
        h.run("SET", "s", "Hello World")
        let cases: [(String, String, String)] = [
            ("0", "3", "Hell"), ("-3", "-1", "rld"), ("0", "-1", "Hello World"), ("10", "100", "d"),
            ("-1", "-5", ""), ("-5", "-1", "World"), ("5", "3", ""), ("-100", "-99", "H"), ("-100", "2", "Hel"),
            ("11", "20", ""), ("0", "0", "H"), ("-9223372036854775808", "9223372036854775807", "Hello World"),
        ]
        for (start, end, expected) in cases {
            #expect(h.run("GETRANGE", "s", start, end) == .bulk(expected), "GETRANGE \(start) \(end)")
            #expect(h.run("SUBSTR", "s", start, end) == .bulk(expected), "SUBSTR \(start) \(end)")
        }
        #expect(h.run("GETRANGE", "nokey", "0", "1") == .bulk(""))
        #expect(h.run("GETRANGE", "nokey", "x", "1") == Self.notInteger)
        #expect(h.run("GETRANGE", "s", "0", "1.5") == Self.notInteger)
        h.run("SET", "i", "12345")
        #expect(h.run("GETRANGE", "i", "1", "-2") == .bulk("234"))
        h.run("SET", "e", "")
        #expect(h.run("GETRANGE", "e", "0", "-1") == .bulk(""))
        #expect(h.run("GETRANGE", "s", "0") == .err("ERR wrong number of arguments for 'getrange' command"))
    }

    @Test func setrange() {
        let h = EngineHarness()
        #expect(h.run("SETRANGE", "k", "0", "") == .int(0))
        #expect(h.run("GET", "k") == .nilBulk)
        #expect(h.engine.dirty == 0)
        #expect(h.run("SETRANGE", "k", "3", "ab") == .int(5))
        #expect(h.run("GET", "k") == .raw([0, 0, 0, 97, 98]))
        #expect(h.encoding("k") == "raw")
        h.run("SET", "s", "Hello World")
        #expect(h.run("SETRANGE", "s", "6", "Redis") == .int(11))
        #expect(h.run("GET", "s") == .bulk("Hello Redis"))
        #expect(h.run("SETRANGE", "s", "9", "xyz") == .int(12))
        #expect(h.run("GET", "s") == .bulk("Hello Redxyz"))
        h.run("SET", "i", "12")
        #expect(h.run("SETRANGE", "i", "0", "") == .int(2))
        #expect(h.encoding("i") == "int")
        #expect(h.run("SETRANGE", "i", "0", "3") == .int(2))
        #expect(h.encoding("i") == "raw")
        #expect(h.run("GET", "i") == .bulk("32"))
        #expect(h.engine.dirty == 6)
        #expect(h.run("SETRANGE", "k", "-1", "a") == .err("ERR offset is out of range"))
        #expect(h.run("SETRANGE", "nokey", "-1", "") == .err("ERR offset is out of range"))
        #expect(h.run("SETRANGE", "k", "x", "a") == Self.notInteger)
        #expect(h.run("SETRANGE", "k", "99999999999999999999", "") == Self.notInteger)
    }

    @Test func incrDecr() {
        let h = EngineHarness()
        #expect(h.run("INCR", "n") == .int(1))
        #expect(h.run("INCRBY", "n", "10") == .int(11))
        #expect(h.run("DECR", "n") == .int(10))
        #expect(h.run("DECRBY", "n", "-5") == .int(15))
        #expect(h.run("DECRBY", "m", "3") == .int(-3))
        #expect(h.encoding("n") == "int")
        #expect(h.engine.dirty == 5)
        h.run("SETEX", "t", "100", "7")
        let expiry = h.engine.now + 100_000  // set by SETEX; later commands move the clock
        #expect(h.run("INCR", "t") == .int(8))
        #expect(h.expireAt("t") == expiry)  // INCR keeps the TTL

        h.run("SET", "max", "9223372036854775807")
        #expect(h.run("INCR", "max") == .err("ERR increment or decrement would overflow"))
        #expect(h.run("INCRBY", "max", "0") == .int(Int64.max))
        h.run("SET", "min", "-9223372036854775808")
        #expect(h.run("DECR", "min") == .err("ERR increment or decrement would overflow"))
        #expect(h.run("INCRBY", "min", "-1") == .err("ERR increment or decrement would overflow"))
        #expect(h.run("DECRBY", "n", "-9223372036854775808") == .err("ERR decrement would overflow"))
        #expect(h.run("DECRBY", "nokey", "-9223372036854775808") == .err("ERR decrement would overflow"))
        #expect(h.run("INCRBY", "nokey", "-9223372036854775808") == .int(Int64.min))

        for bad in ["abc", "", " 1", "1 ", "1.5", "-0", "007", "+1", "9223372036854775808"] {
            h.run("SET", "s", bad)
            #expect(h.run("INCR", "s") == Self.notInteger, "INCR of \(bad)")
            #expect(h.run("INCRBY", "n", bad) == Self.notInteger, "INCRBY by \(bad)")
        }
        // A raw string holding digits (APPEND leaves raw) still counts up, and becomes int.
        h.run("SET", "r", "4")
        h.run("APPEND", "r", "2")
        #expect(h.run("INCR", "r") == .int(43))
        #expect(h.encoding("r") == "int")
        #expect(h.run("INCR") == .err("ERR wrong number of arguments for 'incr' command"))
        #expect(h.run("INCRBY", "n") == .err("ERR wrong number of arguments for 'incrby' command"))
    }

    @Test func incrbyfloat() {
        let h = EngineHarness()
        let steps: [(String, String)] = [
            ("10.5", "10.5"), ("3.0e3", "3010.5"), ("-5.0E+3", "-1989.5"), ("0.1", "-1989.40000000000000002"),
            ("0.1", "-1989.30000000000000004"), ("+1989.3", "0"),
        ]
        for (by, result) in steps { #expect(h.run("INCRBYFLOAT", "f", by) == .bulk(result), "INCRBYFLOAT \(by)") }
        #expect(h.encoding("f") == "embstr")
        var expected = ["0.2", "0.3", "0.4", "0.5", "0.6", "0.7", "0.8", "0.9", "1", "1.1"]
        h.run("SET", "g", "0.1")
        for e in expected { #expect(h.run("INCRBYFLOAT", "g", "0.1") == .bulk(e)) }
        // Whole results are still strings, not int-encoded.
        #expect(h.encoding("g") == "embstr")
        h.run("SET", "g", "1")
        #expect(h.run("INCRBYFLOAT", "g", "1") == .bulk("2"))
        #expect(h.encoding("g") == "embstr")

        expected = ["5.0e-3=0.005", "0x10=16", "1e-320=0", "-1e-30=0", "0.000003814697265625=0.00000381469726562",
                    "0.000011444091796875=0.00001144409179688", "-0.000003814697265625=-0.00000381469726562",
                    "1e30=1000000000000000000024696061952"]
        for pair in expected {
            let parts = pair.split(separator: "=").map(String.init)
            h.run("SET", "x", "0")
            #expect(h.run("INCRBYFLOAT", "x", parts[0]) == .bulk(parts[1]), "INCRBYFLOAT \(parts[0])")
        }
        let huge = "170000000000000000003136778025197596795270213889694133733043585763202456051205820994061869588900300336978523841885631712661403498918000793480728637410016696547450658600006812401305436257622907062380271462782244438270443691335452761319068709501902589182028026014367280506332405764915517562011679309777401282560"
        #expect(h.run("INCRBYFLOAT", "big", "1.7e308") == .bulk(huge))
        #expect(h.encoding("big") == "raw")
        #expect(h.run("INCRBYFLOAT", "big", "5.0e-3") == .bulk(huge))
        #expect(h.engine.dirty > 0)
        // The old value keeps its TTL.
        h.run("SETEX", "t", "100", "1.5")
        let expiry = h.engine.now + 100_000  // set by SETEX; later commands move the clock
        h.run("INCRBYFLOAT", "t", "1")
        #expect(h.expireAt("t") == expiry)
    }

    @Test func incrbyfloatErrors() {
        let h = EngineHarness()
        let notFloat = RESPValue.err("ERR value is not a valid float")
        let nanInf = RESPValue.err("ERR increment would produce NaN or Infinity")
        for bad in ["nan", "-nan", " 1", "1 ", "", "abc", "1e-5000", "1e5000", "1.5.5", "1,5"] {
            #expect(h.run("INCRBYFLOAT", "f", bad) == notFloat, "INCRBYFLOAT \(bad)")
        }
        #expect(h.run(bytes: Array("INCRBYFLOAT".utf8), [102], [49, 0]) == notFloat)
        for inf in ["inf", "-inf", "infinity", "+Infinity"] {
            #expect(h.run("INCRBYFLOAT", "f", inf) == nanInf, "INCRBYFLOAT \(inf)")
        }
        h.run("SET", "big", "1.1e4932")
        #expect(h.run("INCRBYFLOAT", "big", "1.1e4932") == nanInf)
        #expect(h.run("GET", "f") == .nilBulk)
        h.run("SET", "s", "abc")
        #expect(h.run("INCRBYFLOAT", "s", "1") == notFloat)
        #expect(h.run("INCRBYFLOAT", "s", "zz") == notFloat)
        #expect(h.engine.dirty == 2)
        #expect(h.run("INCRBYFLOAT", "s") == .err("ERR wrong number of arguments for 'incrbyfloat' command"))
    }

    @Test func lcs() {
        let h = EngineHarness()
        h.run("MSET", "key1", "ohmytext", "key2", "mynewtext")
        #expect(h.run("LCS", "key1", "key2") == .bulk("mytext"))
        #expect(h.run("LCS", "key1", "key2", "LEN") == .int(6))
        let range = { (a: Int64, b: Int64, c: Int64, d: Int64) -> [RESPValue] in
            [.array([.int(a), .int(b)]), .array([.int(c), .int(d)])]
        }
        #expect(h.run("LCS", "key1", "key2", "IDX") == .array([
            .bulk("matches"), .array([.array(range(4, 7, 5, 8)), .array(range(2, 3, 0, 1))]), .bulk("len"), .int(6),
        ]))
        #expect(h.run("LCS", "key1", "key2", "idx", "minmatchlen", "4", "withmatchlen") == .array([
            .bulk("matches"), .array([.array(range(4, 7, 5, 8) + [.int(4)])]), .bulk("len"), .int(6),
        ]))
        #expect(h.run("LCS", "key1", "key2", "IDX", "MINMATCHLEN", "-5", "WITHMATCHLEN") == .array([
            .bulk("matches"), .array([.array(range(4, 7, 5, 8) + [.int(4)]), .array(range(2, 3, 0, 1) + [.int(2)])]),
            .bulk("len"), .int(6),
        ]))
        #expect(h.run("LCS", "nk1", "nk2") == .bulk(""))
        #expect(h.run("LCS", "nk1", "nk2", "IDX") == .array([.bulk("matches"), .array([]), .bulk("len"), .int(0)]))
        h.run("MSET", "n1", "12345", "n2", "2345")
        #expect(h.run("LCS", "n1", "n2", "IDX", "WITHMATCHLEN") == .array([
            .bulk("matches"), .array([.array(range(1, 4, 0, 3) + [.int(4)])]), .bulk("len"), .int(4),
        ]))
        let both = RESPValue.err("ERR If you want both the length and indexes, please just use IDX.")
        #expect(h.run("LCS", "key1", "key2", "IDX", "LEN") == both)
        #expect(h.run("LCS", "key1", "key2", "LEN", "IDX") == both)
        #expect(h.run("LCS", "key1", "key2", "MINMATCHLEN") == .err("ERR syntax error"))
        #expect(h.run("LCS", "key1", "key2", "FOO") == .err("ERR syntax error"))
        #expect(h.run("LCS", "key1", "key2", "MINMATCHLEN", "x") == Self.notInteger)
        #expect(h.run("LCS", "key1") == .err("ERR wrong number of arguments for 'lcs' command"))
    }

    @Test func lcsResp3AndMemoryLimit() {
        let h = EngineHarness(resp3: true)
        h.run("MSET", "a", "abc", "b", "xbc")
        #expect(h.run("LCS", "a", "b", "IDX") == .map([
            (.bulk("matches"), .array([.array([.array([.int(1), .int(2)]), .array([.int(1), .int(2)])])])),
            (.bulk("len"), .int(2)),
        ]))
        var settings = EngineSettings()
        settings.protoMaxBulkLength = 1024
        let small = EngineHarness(engine: Engine(settings: settings))
        small.run("MSET", "a", String(repeating: "a", count: 20), "b", String(repeating: "b", count: 20))
        #expect(small.run("LCS", "a", "b", "LEN") == .err("ERR Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len"))
        small.run("MSET", "a", String(repeating: "a", count: 14), "b", String(repeating: "a", count: 16))
        #expect(small.run("LCS", "a", "b", "LEN") == .int(14))
    }

    @Test func keyspaceHitsAndMisses() {
        let h = EngineHarness()
        h.run("SET", "k", "v")
        h.run("MGET", "k", "x", "k")
        h.run("STRLEN", "x")
        h.run("INCR", "counter")  // writes do not count
        #expect(h.engine.stats.keyspaceHits == 2)
        #expect(h.engine.stats.keyspaceMisses == 2)
    }

    /// Arity, flags, ACL categories and key positions as Redis 7.0's COMMAND INFO shows them.
    @Test func commandSpecsMatchRedis() {
        let expected: [(String, Int, [String], Int, Int, Int, [String])] = [
            ("get", 2, ["readonly", "fast"], 1, 1, 1, ["@read", "@string", "@fast"]),
            ("set", -3, ["write", "denyoom"], 1, 1, 1, ["@write", "@string", "@slow"]),
            ("setnx", 3, ["write", "denyoom", "fast"], 1, 1, 1, ["@write", "@string", "@fast"]),
            ("setex", 4, ["write", "denyoom"], 1, 1, 1, ["@write", "@string", "@slow"]),
            ("psetex", 4, ["write", "denyoom"], 1, 1, 1, ["@write", "@string", "@slow"]),
            ("getset", 3, ["write", "denyoom", "fast"], 1, 1, 1, ["@write", "@string", "@fast"]),
            ("getdel", 2, ["write", "fast"], 1, 1, 1, ["@write", "@string", "@fast"]),
            ("getex", -2, ["write", "fast"], 1, 1, 1, ["@write", "@string", "@fast"]),
            ("mget", -2, ["readonly", "fast"], 1, -1, 1, ["@read", "@string", "@fast"]),
            ("mset", -3, ["write", "denyoom"], 1, -1, 2, ["@write", "@string", "@slow"]),
            ("msetnx", -3, ["write", "denyoom"], 1, -1, 2, ["@write", "@string", "@slow"]),
            ("append", 3, ["write", "denyoom", "fast"], 1, 1, 1, ["@write", "@string", "@fast"]),
            ("strlen", 2, ["readonly", "fast"], 1, 1, 1, ["@read", "@string", "@fast"]),
            ("getrange", 4, ["readonly"], 1, 1, 1, ["@read", "@string", "@slow"]),
            ("setrange", 4, ["write", "denyoom"], 1, 1, 1, ["@write", "@string", "@slow"]),
            ("substr", 4, ["readonly"], 1, 1, 1, ["@read", "@string", "@slow"]),
            ("incr", 2, ["write", "denyoom", "fast"], 1, 1, 1, ["@write", "@string", "@fast"]),
            ("decr", 2, ["write", "denyoom", "fast"], 1, 1, 1, ["@write", "@string", "@fast"]),
            ("incrby", 3, ["write", "denyoom", "fast"], 1, 1, 1, ["@write", "@string", "@fast"]),
            ("decrby", 3, ["write", "denyoom", "fast"], 1, 1, 1, ["@write", "@string", "@fast"]),
            ("incrbyfloat", 3, ["write", "denyoom", "fast"], 1, 1, 1, ["@write", "@string", "@fast"]),
            ("lcs", -3, ["readonly"], 1, 2, 1, ["@read", "@string", "@slow"]),
            ("setbit", 4, ["write", "denyoom"], 1, 1, 1, ["@write", "@bitmap", "@slow"]),
            ("getbit", 3, ["readonly", "fast"], 1, 1, 1, ["@read", "@bitmap", "@fast"]),
            ("bitcount", -2, ["readonly"], 1, 1, 1, ["@read", "@bitmap", "@slow"]),
            ("bitpos", -3, ["readonly"], 1, 1, 1, ["@read", "@bitmap", "@slow"]),
            ("bitop", -4, ["write", "denyoom"], 2, -1, 1, ["@write", "@bitmap", "@slow"]),
        ]
        let engine = Engine()
        for (name, arity, flags, first, last, step, categories) in expected {
            guard let cmd = engine.commands.lookup(Array(name.utf8)) else {
                Issue.record("\(name) is not registered")
                continue
            }
            let spec = cmd.spec
            #expect(spec.arity == arity, "\(name) arity")
            #expect(spec.flags.names == flags, "\(name) flags")
            #expect(spec.categories.names == categories, "\(name) categories")
            #expect(spec.keyPositions == KeyPositions(first: first, last: last, step: step), "\(name) keys")
        }
    }
}

@Suite struct InPlaceEditTests {
    /// Address of the stored bytes of `key`.
    func storage(_ h: EngineHarness, _ key: String) -> UnsafeRawPointer? {
        guard let i = h.db.lookup(Array(key.utf8)), case .bytes(let b)? = h.db.table.stringView(at: i) else { return nil }
        return b.baseAddress
    }

    /// APPEND, SETRANGE and SETBIT must edit the stored bytes, not copy them: with amortised growth
    /// the buffer moves only a few times over many edits, while a copy per edit would move it always.
    @Test func editsDoNotCopyTheValue() {
        let h = EngineHarness()
        h.run("SET", "k", String(repeating: "x", count: 100))
        var moves = 0
        var last = storage(h, "k")
        for n in 0..<500 {
            switch n % 3 {
            case 0: h.run("APPEND", "k", "abc")
            case 1: h.run("SETRANGE", "k", "\(n)", "zz")
            default: h.run("SETBIT", "k", "\(n * 8 + 3)", "1")
            }
            let now = storage(h, "k")
            if now != last { moves += 1 }
            last = now
        }
        #expect(moves < 30, "the value moved \(moves) times in 500 edits")
    }
}
