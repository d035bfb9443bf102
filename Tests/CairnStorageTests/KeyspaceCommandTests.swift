import CairnRESP
@testable import CairnStorage
import Testing

// Expected replies were taken from Redis 7.0.15 running the same commands.

/// Makes `key` logically expired without waiting: its expiry moves into the past, as if its time
/// ran out between commands. It stays in the table until something reclaims it.
func forceExpired(_ h: EngineHarness, _ key: String, db: Int = 0) {
    let database = h.engine.databases[db]
    guard let i = database.table.find(Array(key.utf8)) else {
        Issue.record("no key \(key) to expire")
        return
    }
    database.table.setExpire(at: i, Clock.unixMillis() - 10_000)
}

extension RESPValue {
    /// Array elements as strings, sorted (KEYS and SCAN order is the table's).
    var sortedStrings: [String] {
        guard case .array(let items?) = self else { return [] }
        return items.compactMap(\.string).sorted()
    }
}

@Suite struct KeyspaceCommandTests {
    @Test func delAndUnlink() {
        let h = EngineHarness()
        h.run("SET", "a", "1")
        h.run("SET", "b", "2")
        h.run("SET", "c", "3")
        let dirty = h.engine.dirty
        #expect(h.run("DEL", "a", "a", "zz") == .integer(1))
        #expect(h.engine.dirty == dirty + 1)
        #expect(h.run("UNLINK", "b", "c") == .integer(2))
        #expect(h.engine.dirty == dirty + 3)
        #expect(h.run("DEL", "b") == .integer(0))
        #expect(h.run("DEL") == .err("ERR wrong number of arguments for 'del' command"))
        #expect(h.run("UNLINK") == .err("ERR wrong number of arguments for 'unlink' command"))
        #expect(h.engine.databases[0].count == 0)
    }

    @Test func delOfExpiredKeyReclaimsButCountsNothing() {
        let h = EngineHarness()
        h.run("SET", "e", "1")
        forceExpired(h, "e")
        let dirty = h.engine.dirty
        #expect(h.run("DEL", "e") == .integer(0))
        #expect(h.engine.dirty == dirty)
        #expect(h.engine.stats.expiredKeys == 1)
        #expect(h.engine.databases[0].count == 0)
    }

    @Test func existsCountsDuplicatesAndSkipsExpired() {
        let h = EngineHarness()
        h.run("SET", "a", "1")
        h.run("SET", "b", "x")
        h.run("SET", "e", "x")
        forceExpired(h, "e")
        #expect(h.run("EXISTS", "a", "a", "b", "zz") == .integer(3))
        #expect(h.run("EXISTS", "e") == .integer(0))
        #expect(h.run("EXISTS", "zz") == .integer(0))
        #expect(h.engine.stats.keyspaceHits == 3)
        #expect(h.engine.stats.keyspaceMisses == 3)
        #expect(h.run("EXISTS") == .err("ERR wrong number of arguments for 'exists' command"))
    }

    @Test func typeAndTouch() {
        let h = EngineHarness()
        h.run("SET", "a", "1")
        h.run("SET", "s", "hello")
        h.run("SET", "e", "x")
        forceExpired(h, "e")
        #expect(h.run("TYPE", "a") == .simple("string"))
        #expect(h.run("TYPE", "s") == .simple("string"))
        #expect(h.run("TYPE", "zz") == .simple("none"))
        #expect(h.run("TYPE", "e") == .simple("none"))
        #expect(h.run("TYPE", "a", "b") == .err("ERR wrong number of arguments for 'type' command"))
        #expect(h.run("TOUCH", "a", "a", "zz", "s") == .integer(3))
        #expect(h.run("TOUCH") == .err("ERR wrong number of arguments for 'touch' command"))
    }

    @Test func touchResetsIdleTimeButTypeAndExistsDoNot() {
        let h = EngineHarness()
        h.run("SET", "a", "1")
        let db = h.engine.databases[0]
        guard let i = db.table.find(Array("a".utf8)) else { Issue.record("missing key"); return }
        db.table.setAccessClock(at: i, h.engine.lruClock &- 100)
        h.run("TYPE", "a")
        h.run("EXISTS", "a")
        h.run("TTL", "a")
        h.run("OBJECT", "ENCODING", "a")
        guard case .integer(let idle) = h.run("OBJECT", "IDLETIME", "a") else { Issue.record("no idle time"); return }
        #expect(idle >= 99 && idle <= 101)
        h.run("TOUCH", "a")
        guard case .integer(let after) = h.run("OBJECT", "IDLETIME", "a") else { Issue.record("no idle time"); return }
        #expect(after <= 1)
    }

    @Test func rename() {
        let h = EngineHarness()
        #expect(h.run("RENAME", "zz", "q") == .err("ERR no such key"))
        #expect(h.run("RENAME", "zz", "zz") == .err("ERR no such key"))
        h.run("SET", "a", "1")
        h.run("PEXPIRE", "a", "100000")
        let dirty = h.engine.dirty
        #expect(h.run("RENAME", "a", "a") == .ok)
        #expect(h.engine.dirty == dirty, "renaming onto itself is not a write")
        #expect(h.run("RENAME", "a", "b") == .ok)
        #expect(h.engine.dirty == dirty + 1)
        #expect(h.run("EXISTS", "a") == .integer(0))
        #expect(h.run("GET", "b") == .bulk("1"))
        guard case .integer(let ttl) = h.run("PTTL", "b") else { Issue.record("no ttl"); return }
        #expect(ttl > 90_000 && ttl <= 100_000, "the expiry moves with the key")
        h.run("SET", "c", "other")
        #expect(h.run("RENAME", "b", "c") == .ok)
        #expect(h.run("GET", "c") == .bulk("1"))
        #expect(h.run("EXISTS", "b") == .integer(0))
        #expect(h.engine.databases[0].count == 1)
        #expect(h.run("RENAME", "c") == .err("ERR wrong number of arguments for 'rename' command"))
    }

    @Test func renameOverwritingAKeyThatMovesTheSource() {
        // Deleting the destination moves the table's last entry into its slot; the source may be
        // that entry, so the rename must not act on a stale index.
        let h = EngineHarness()
        h.run("SET", "dst", "old")
        h.run("SET", "src", "new")
        #expect(h.run("RENAME", "src", "dst") == .ok)
        #expect(h.run("GET", "dst") == .bulk("new"))
        #expect(h.run("EXISTS", "src") == .integer(0))
        #expect(h.engine.databases[0].table.validate() == nil)
    }

    @Test func renamenx() {
        let h = EngineHarness()
        #expect(h.run("RENAMENX", "zz", "a") == .err("ERR no such key"))
        h.run("SET", "a", "1")
        h.run("SET", "b", "2")
        #expect(h.run("RENAMENX", "a", "a") == .integer(0))
        #expect(h.run("RENAMENX", "a", "b") == .integer(0))
        #expect(h.run("GET", "b") == .bulk("2"))
        #expect(h.run("RENAMENX", "a", "c") == .integer(1))
        #expect(h.run("GET", "c") == .bulk("1"))
        #expect(h.run("EXISTS", "a") == .integer(0))
        // An expired destination counts as absent.
        forceExpired(h, "b")
        #expect(h.run("RENAMENX", "c", "b") == .integer(1))
        #expect(h.run("GET", "b") == .bulk("1"))
    }

    @Test func renameOfExpiredSource() {
        let h = EngineHarness()
        h.run("SET", "a", "1")
        forceExpired(h, "a")
        #expect(h.run("RENAME", "a", "b") == .err("ERR no such key"))
        #expect(h.run("RENAMENX", "a", "b") == .err("ERR no such key"))
    }

    @Test func copyErrors() {
        let h = EngineHarness()
        h.run("SET", "a", "1")
        #expect(h.run("COPY", "a", "a") == .err("ERR source and destination objects are the same"))
        #expect(h.run("COPY", "zz", "zz") == .err("ERR source and destination objects are the same"))
        #expect(h.run("COPY", "a", "a", "DB", "0") == .err("ERR source and destination objects are the same"))
        #expect(h.run("COPY", "a", "a", "REPLACE") == .err("ERR source and destination objects are the same"))
        #expect(h.run("COPY", "a", "d", "DB", "16") == .err("ERR DB index is out of range"))
        #expect(h.run("COPY", "a", "d", "DB", "-1") == .err("ERR DB index is out of range"))
        #expect(h.run("COPY", "a", "d", "DB", "x") == .err("ERR value is not an integer or out of range"))
        #expect(h.run("COPY", "a", "d", "DB", "4294967296")
                == .err("ERR value is out of range, value must between -2147483648 and 2147483647"))
        #expect(h.run("COPY", "a", "d", "foo") == .err("ERR syntax error"))
        #expect(h.run("COPY", "a", "d", "DB") == .err("ERR syntax error"))
        #expect(h.run("COPY", "a") == .err("ERR wrong number of arguments for 'copy' command"))
        #expect(h.engine.databases[0].count == 1)
    }

    @Test func copy() {
        let h = EngineHarness()
        h.run("SET", "a", "1")
        h.run("SET", "b", "hello")
        h.run("PEXPIRE", "b", "100000")
        #expect(h.run("COPY", "zz", "q") == .integer(0))
        #expect(h.run("COPY", "a", "b") == .integer(0))
        #expect(h.run("GET", "b") == .bulk("hello"))
        let dirty = h.engine.dirty
        #expect(h.run("COPY", "b", "c") == .integer(1))
        #expect(h.engine.dirty == dirty + 1)
        #expect(h.run("GET", "c") == .bulk("hello"))
        guard case .integer(let ttl) = h.run("PTTL", "c") else { Issue.record("no ttl"); return }
        #expect(ttl > 90_000, "the expiry is copied")
        #expect(h.run("COPY", "a", "b", "REPLACE") == .integer(1))
        #expect(h.run("GET", "b") == .bulk("1"))
        #expect(h.run("PTTL", "b") == .integer(-1), "REPLACE drops the old key's expiry")
        #expect(h.run("COPY", "a", "a", "db", "1") == .integer(1))
        #expect(h.run("COPY", "a", "a", "DB", "1") == .integer(0))
        #expect(h.run("COPY", "b", "a", "REPLACE", "DB", "1") == .integer(1))
        #expect(h.run("COPY", "c", "e", "replace", "replace") == .integer(1))
        h.run("SELECT", "1")
        #expect(h.run("GET", "a") == .bulk("1"))
        #expect(h.run("EXISTS", "b", "c") == .integer(0))
        #expect(h.engine.databases[0].table.validate() == nil)
        #expect(h.engine.databases[1].table.validate() == nil)
    }

    @Test func copyOverExpiredDestinationAndFromExpiredSource() {
        let h = EngineHarness()
        h.run("SET", "a", "1")
        h.run("SET", "b", "2")
        forceExpired(h, "b")
        #expect(h.run("COPY", "a", "b") == .integer(1))
        #expect(h.run("GET", "b") == .bulk("1"))
        h.run("SET", "e", "x")
        forceExpired(h, "e")
        #expect(h.run("COPY", "e", "f") == .integer(0))
    }

    @Test func move() {
        let h = EngineHarness()
        h.run("SET", "a", "1")
        #expect(h.run("MOVE", "a", "0") == .err("ERR source and destination objects are the same"))
        #expect(h.run("MOVE", "zz", "0") == .err("ERR source and destination objects are the same"))
        #expect(h.run("MOVE", "a", "16") == .err("ERR DB index is out of range"))
        #expect(h.run("MOVE", "a", "-1") == .err("ERR DB index is out of range"))
        #expect(h.run("MOVE", "a", "x") == .err("ERR value is not an integer or out of range"))
        #expect(h.run("MOVE", "a", "99999999999")
                == .err("ERR value is out of range, value must between -2147483648 and 2147483647"))
        #expect(h.run("MOVE", "a", "1", "x") == .err("ERR wrong number of arguments for 'move' command"))
        #expect(h.run("MOVE", "zz", "1") == .integer(0))
        h.run("PEXPIRE", "a", "100000")
        let dirty = h.engine.dirty
        #expect(h.run("MOVE", "a", "1") == .integer(1))
        #expect(h.engine.dirty == dirty + 1)
        #expect(h.run("EXISTS", "a") == .integer(0))
        h.run("SET", "a", "5")
        #expect(h.run("MOVE", "a", "1") == .integer(0), "the key exists in the target")
        #expect(h.run("GET", "a") == .bulk("5"))
        h.run("SELECT", "1")
        #expect(h.run("GET", "a") == .bulk("1"))
        guard case .integer(let ttl) = h.run("PTTL", "a") else { Issue.record("no ttl"); return }
        #expect(ttl > 90_000, "the expiry moves with the key")
        #expect(h.run("MOVE", "a", "1") == .err("ERR source and destination objects are the same"))
    }

    @Test func randomkey() {
        let h = EngineHarness()
        #expect(h.run("RANDOMKEY") == .nilBulk)
        #expect(h.run("RANDOMKEY", "x") == .err("ERR wrong number of arguments for 'randomkey' command"))
        h.run("SET", "only", "1")
        #expect(h.run("RANDOMKEY") == .bulk("only"))
        for i in 0..<50 {
            h.run("SET", "e\(i)", "x")
            forceExpired(h, "e\(i)")
        }
        // Expired keys are never returned, and each one drawn is reclaimed.
        for _ in 0..<20 { #expect(h.run("RANDOMKEY") == .bulk("only")) }
        h.run("DEL", "only")
        #expect(h.run("RANDOMKEY") == .nilBulk)
        #expect(h.engine.databases[0].count == 0)
        #expect(h.engine.stats.expiredKeys == 50)

        var seen = Set<String>()
        for i in 0..<8 { h.run("SET", "k\(i)", "1") }
        for _ in 0..<400 { if let s = h.run("RANDOMKEY").string { seen.insert(s) } }
        #expect(seen.count == 8)
    }

    @Test func randomkeyResp3Null() {
        let h = EngineHarness(resp3: true)
        #expect(h.run("RANDOMKEY") == .null)
    }

    @Test func keys() {
        let h = EngineHarness()
        #expect(h.run("KEYS", "*") == .array([]))
        for k in ["hello", "hallo", "hxllo", "hllo", "heeeello", "Hello", "other"] { h.run("SET", k, "1") }
        h.run("SET", "hexpired", "1")
        forceExpired(h, "hexpired")
        #expect(h.run("KEYS", "*").sortedStrings == ["Hello", "hallo", "heeeello", "hello", "hllo", "hxllo", "other"])
        #expect(h.run("KEYS", "h*llo").sortedStrings == ["hallo", "heeeello", "hello", "hllo", "hxllo"])
        #expect(h.run("KEYS", "h?llo").sortedStrings == ["hallo", "hello", "hxllo"])
        #expect(h.run("KEYS", "HELLO").sortedStrings == [], "KEYS is case-sensitive")
        #expect(h.run("KEYS", "h*").sortedStrings == ["hallo", "heeeello", "hello", "hllo", "hxllo"])
        // KEYS skips the expired key without reclaiming it (DBSIZE still counts it).
        #expect(h.engine.databases[0].count == 8)
        #expect(h.run("KEYS") == .err("ERR wrong number of arguments for 'keys' command"))
        #expect(h.run("KEYS", "a", "b") == .err("ERR wrong number of arguments for 'keys' command"))
    }

    @Test func keysAreBinarySafe() {
        let h = EngineHarness()
        let binary: [UInt8] = [0x61, 0x00, 0x63]
        h.run([Array("SET".utf8), binary, Array("1".utf8)])
        h.run([Array("SET".utf8), [0xFF], Array("1".utf8)])
        #expect(h.run([Array("KEYS".utf8), [0x61, 0x3F, 0x63]]) == .array([.bulkString(binary)]))
        #expect(h.run([Array("KEYS".utf8), Array("[a-".utf8) + [0xFF, 0x5D]]) == .array([.bulkString([0xFF])]))
        #expect(h.run([Array("EXISTS".utf8), binary]) == .integer(1))
        #expect(h.run([Array("EXISTS".utf8), [0x61, 0x00]]) == .integer(0))
    }
}

@Suite struct ObjectCommandTests {
    @Test func encoding() {
        let h = EngineHarness()
        h.run("SET", "i", "12345")
        h.run("SET", "s", "hello")
        h.run("SET", "r", String(repeating: "x", count: 45))
        #expect(h.run("OBJECT", "ENCODING", "i") == .bulk("int"))
        #expect(h.run("OBJECT", "ENCODING", "s") == .bulk("embstr"))
        #expect(h.run("OBJECT", "ENCODING", "r") == .bulk("raw"))
        #expect(h.run("OBJECT", "ENCODING", "zz") == .nilBulk)
        #expect(h.run("object", "encoding", "i") == .bulk("int"))
    }

    @Test func refcount() {
        let h = EngineHarness()
        for (k, v) in [("zero", "0"), ("n", "5"), ("max", "9999"), ("big", "10000"), ("neg", "-1"), ("s", "v")] {
            h.run("SET", k, v)
        }
        #expect(h.run("OBJECT", "REFCOUNT", "zero") == .integer(2_147_483_647))
        #expect(h.run("OBJECT", "REFCOUNT", "n") == .integer(2_147_483_647))
        #expect(h.run("OBJECT", "REFCOUNT", "max") == .integer(2_147_483_647))
        #expect(h.run("OBJECT", "REFCOUNT", "big") == .integer(1))
        #expect(h.run("OBJECT", "REFCOUNT", "neg") == .integer(1))
        #expect(h.run("OBJECT", "REFCOUNT", "s") == .integer(1))
        #expect(h.run("OBJECT", "REFCOUNT", "zz") == .nilBulk)
    }

    @Test func refcountOfCopiedRenamedAndMovedIntegers() {
        // Redis's COPY duplicates an integer object rather than sharing it; RENAME and MOVE move
        // the object itself; a later SET shares again.
        let h = EngineHarness()
        h.run("SET", "n", "5")
        h.run("COPY", "n", "copied")
        #expect(h.run("OBJECT", "REFCOUNT", "copied") == .integer(1))
        h.run("RENAME", "copied", "renamed")
        #expect(h.run("OBJECT", "REFCOUNT", "renamed") == .integer(1))
        h.run("MOVE", "renamed", "3")
        h.run("SELECT", "3")
        #expect(h.run("OBJECT", "REFCOUNT", "renamed") == .integer(1))
        h.run("SET", "renamed", "5")
        #expect(h.run("OBJECT", "REFCOUNT", "renamed") == .integer(2_147_483_647))
        h.run("SELECT", "0")
        h.run("RENAME", "n", "m")
        #expect(h.run("OBJECT", "REFCOUNT", "m") == .integer(2_147_483_647))
    }

    @Test func idletime() {
        let h = EngineHarness()
        h.run("SET", "a", "1")
        #expect(h.run("OBJECT", "IDLETIME", "zz") == .nilBulk)
        guard case .integer(let fresh) = h.run("OBJECT", "IDLETIME", "a") else { Issue.record("no idle time"); return }
        #expect(fresh <= 1)
        let db = h.engine.databases[0]
        guard let i = db.table.find(Array("a".utf8)) else { Issue.record("missing key"); return }
        db.table.setAccessClock(at: i, h.engine.lruClock &- 1000)
        guard case .integer(let idle) = h.run("OBJECT", "IDLETIME", "a") else { Issue.record("no idle time"); return }
        #expect(idle >= 999 && idle <= 1001)
        // An access clock ahead of the current one means the 24-bit clock wrapped since.
        let clock = h.engine.lruClock
        db.table.setAccessClock(at: i, (clock + 10) & 0xFF_FFFF)
        guard case .integer(let wrapped) = h.run("OBJECT", "IDLETIME", "a") else { Issue.record("no idle time"); return }
        #expect(wrapped >= 0xFF_FFFF - 11 && wrapped <= 0xFF_FFFF - 9)
        h.run("GET", "a")
        guard case .integer(let afterGet) = h.run("OBJECT", "IDLETIME", "a") else { Issue.record("no idle time"); return }
        #expect(afterGet <= 1)
    }

    @Test func freqWithoutLFUPolicy() {
        let h = EngineHarness()
        h.run("SET", "a", "1")
        #expect(h.run("OBJECT", "FREQ", "a") == .err("ERR An LFU maxmemory policy is not selected, access frequency not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust."))
        #expect(h.run("OBJECT", "FREQ", "zz") == .nilBulk)
    }

    @Test func expiredKeyIsMissing() {
        let h = EngineHarness(resp3: true)
        h.run("SET", "a", "1")
        forceExpired(h, "a")
        #expect(h.run("OBJECT", "ENCODING", "a") == .null)
        #expect(h.run("OBJECT", "FREQ", "a") == .null)
    }

    @Test func help() {
        let h = EngineHarness()
        let lines = [
            "OBJECT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
            "ENCODING <key>",
            "    Return the kind of internal representation used in order to store the value",
            "    associated with a <key>.",
            "FREQ <key>",
            "    Return the access frequency index of the <key>. The returned integer is",
            "    proportional to the logarithm of the recent access frequency of the key.",
            "IDLETIME <key>",
            "    Return the idle time of the <key>, that is the approximated number of",
            "    seconds elapsed since the last access to the key.",
            "REFCOUNT <key>",
            "    Return the number of references of the value associated with the specified",
            "    <key>.",
            "HELP",
            "    Prints this help.",
        ]
        let expected = RESPValue.array(lines.map { .simple($0) })
        #expect(h.run("OBJECT", "HELP") == expected)
        #expect(h.run("oBjEcT", "help") == expected)
    }

    @Test func errors() {
        let h = EngineHarness()
        #expect(h.run("OBJECT") == .err("ERR wrong number of arguments for 'object' command"))
        #expect(h.run("OBJECT", "foo") == .err("ERR unknown subcommand 'foo'. Try OBJECT HELP."))
        #expect(h.run("OBJECT", "foo", "k") == .err("ERR unknown subcommand 'foo'. Try OBJECT HELP."))
        #expect(h.run("OBJECT", "ENCODING") == .err("ERR wrong number of arguments for 'object|encoding' command"))
        #expect(h.run("OBJECT", "encoding", "k", "x") == .err("ERR wrong number of arguments for 'object|encoding' command"))
        #expect(h.run("OBJECT", "HELP", "x") == .err("ERR wrong number of arguments for 'object|help' command"))
        #expect(h.run("OBJECT", "FREQ") == .err("ERR wrong number of arguments for 'object|freq' command"))
        #expect(h.run("OBJECT", "IDLETIME") == .err("ERR wrong number of arguments for 'object|idletime' command"))
        #expect(h.run("OBJECT", "REFCOUNT") == .err("ERR wrong number of arguments for 'object|refcount' command"))
    }
}

/// A small deterministic generator (SplitMix64) so randomized tests replay exactly.
struct SeededRandom: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

@Suite struct ScanCommandTests {
    /// Runs one SCAN call; returns the next cursor and the keys.
    func scan(_ h: EngineHarness, _ words: [String]) -> (String, [String])? {
        guard case .array(let parts?) = h.run(["SCAN"] .map { Array($0.utf8) } + words.map { Array($0.utf8) }),
              parts.count == 2, let cursor = parts[0].string, case .array(let keys?) = parts[1] else { return nil }
        return (cursor, keys.compactMap(\.string))
    }

    /// Iterates a whole scan, calling `between` after every call.
    func scanAll(_ h: EngineHarness, _ options: [String] = [], between: () -> Void = {}) -> [String] {
        var cursor = "0"
        var all: [String] = []
        var calls = 0
        repeat {
            guard let (next, keys) = scan(h, [cursor] + options) else {
                Issue.record("bad SCAN reply")
                return all
            }
            all += keys
            cursor = next
            calls += 1
            between()
        } while cursor != "0" && calls < 100_000
        return all
    }

    @Test func emptyDatabase() {
        let h = EngineHarness()
        #expect(h.run("SCAN", "0") == .array([.bulk("0"), .array([])]))
    }

    @Test func fullIterationReturnsEveryKey() {
        let h = EngineHarness()
        for i in 0..<1000 { h.run("SET", "key:\(i)", "\(i)") }
        let seen = scanAll(h, ["COUNT", "7"])
        #expect(Set(seen) == Set((0..<1000).map { "key:\($0)" }))
        #expect(Set(scanAll(h)).count == 1000)
        #expect(Set(scanAll(h, ["COUNT", "100000"])).count == 1000)
    }

    @Test func matchAndType() {
        let h = EngineHarness()
        for i in 0..<100 { h.run("SET", "a:\(i)", "1") }
        for i in 0..<100 { h.run("SET", "b:\(i)", "1") }
        #expect(Set(scanAll(h, ["MATCH", "a:*"])) == Set((0..<100).map { "a:\($0)" }))
        #expect(Set(scanAll(h, ["MATCH", "b:1?", "COUNT", "3"])) == Set((10..<20).map { "b:\($0)" }))
        #expect(Set(scanAll(h, ["TYPE", "STRING", "MATCH", "*"])).count == 200)
        #expect(scanAll(h, ["TYPE", "hash"]).isEmpty)
        #expect(scanAll(h, ["TYPE", "str"]).isEmpty)
        #expect(Set(scanAll(h, ["TYPE", "hash", "TYPE", "string"])).count == 200, "the last TYPE wins")
        // The type is compared as a C string: bytes after a NUL are ignored.
        let words: [[UInt8]] = [Array("SCAN".utf8), Array("0".utf8), Array("COUNT".utf8), Array("1000".utf8),
                                Array("TYPE".utf8), Array("string".utf8) + [0] + Array("xyz".utf8)]
        guard case .array(let parts?) = h.run(words), case .array(let keys?) = parts[1] else { Issue.record("bad reply"); return }
        #expect(keys.count == 200)
    }

    @Test func expiredKeysAreFilteredAndReclaimed() {
        let h = EngineHarness()
        for i in 0..<20 { h.run("SET", "live:\(i)", "1") }
        for i in 0..<20 {
            h.run("SET", "dead:\(i)", "1")
            forceExpired(h, "dead:\(i)")
        }
        #expect(Set(scanAll(h)) == Set((0..<20).map { "live:\($0)" }))
        #expect(h.engine.databases[0].count == 20)
        #expect(h.engine.stats.expiredKeys == 20)
    }

    @Test func typeNoneReturnsKeysItJustReclaimed() {
        // Redis's TYPE filter looks the key up first (reclaiming it if expired, so it reads as
        // "none"), and the later expiry check no longer finds it: SCAN ... TYPE none returns it.
        let h = EngineHarness()
        h.run("SET", "live", "1")
        h.run("SET", "dead", "1")
        forceExpired(h, "dead")
        let misses = h.engine.stats.keyspaceMisses
        #expect(scanAll(h, ["TYPE", "none"]) == ["dead"])
        #expect(h.engine.stats.keyspaceMisses == misses + 1)
        #expect(h.engine.databases[0].count == 1)
    }

    @Test func errors() {
        let h = EngineHarness()
        h.run("SET", "k", "v")
        #expect(h.run("SCAN") == .err("ERR wrong number of arguments for 'scan' command"))
        for bad in ["x", " 1", "1 ", "0x1", "-", "+", "18446744073709551616", "-18446744073709551616", "1.5"] {
            #expect(h.run("SCAN", bad) == .err("ERR invalid cursor"), "cursor \(bad)")
        }
        #expect(h.run("SCAN", "x", "COUNT", "0") == .err("ERR invalid cursor"), "the cursor is parsed first")
        #expect(h.run("SCAN", "0", "COUNT", "0") == .err("ERR syntax error"))
        #expect(h.run("SCAN", "0", "COUNT", "-1") == .err("ERR syntax error"))
        #expect(h.run("SCAN", "0", "COUNT", "x") == .err("ERR value is not an integer or out of range"))
        #expect(h.run("SCAN", "0", "MATCH") == .err("ERR syntax error"))
        #expect(h.run("SCAN", "0", "TYPE") == .err("ERR syntax error"))
        #expect(h.run("SCAN", "0", "foo") == .err("ERR syntax error"))
        #expect(h.run("SCAN", "0", "COUNT", "1", "foo") == .err("ERR syntax error"))
    }

    @Test func cursorsStrtoulAccepts() {
        let h = EngineHarness()
        h.run("SET", "k", "v")
        let full = RESPValue.array([.bulk("0"), .array([.bulk("k")])])
        for ok in ["0", "", "+0", "-0", "00"] {
            #expect(h.run("SCAN", ok) == full, "cursor '\(ok)'")
        }
        // Large and negative cursors parse (strtoul wraps negatives); they resume somewhere valid.
        for ok in ["18446744073709551615", "-1", "-18446744073709551615", "12345"] {
            guard case .array(let parts?) = h.run("SCAN", ok) else { Issue.record("cursor \(ok)"); continue }
            #expect(parts.count == 2)
        }
        // Parsing stops at a NUL byte, as with a C string.
        let words: [[UInt8]] = [Array("SCAN".utf8), [0x30, 0x00, 0x61]]
        #expect(h.run(words) == full)
        #expect(KeyspaceCommands.parseScanCursor(UnsafeRawBufferPointer(start: nil, count: 0)) == 0)
        #expect(Array("-1".utf8).withUnsafeBytes { KeyspaceCommands.parseScanCursor($0) } == UInt64.max)
        #expect(Array("-18446744073709551615".utf8).withUnsafeBytes { KeyspaceCommands.parseScanCursor($0) } == 1)
    }

    /// Redis's guarantee: a key present from the start to the end of a full iteration is
    /// returned at least once, even if the table grows and shrinks between calls.
    @Test(arguments: [1, 2, 3, 4, 5] as [UInt64])
    func guaranteeAcrossResizes(seed: UInt64) {
        let h = EngineHarness()
        var rng = SeededRandom(seed: seed)
        let stable = (0..<40).map { "stable:\($0)" }
        for k in stable { h.run("SET", k, "1") }
        var transient: [String] = []
        var counter = 0
        var calls = 0
        var bucketCounts = Set<Int>()
        let seen = scanAll(h, ["COUNT", "3"]) {
            calls += 1
            // Grow for a while, then shrink, then alternate at random.
            let grow = calls < 15 || (calls >= 30 && Bool.random(using: &rng))
            if grow {
                for _ in 0..<Int.random(in: 50...400, using: &rng) {
                    counter += 1
                    transient.append("t:\(counter)")
                    h.run("SET", "t:\(counter)", "1")
                }
            } else {
                transient.shuffle(using: &rng)
                let drop = min(transient.count, Int.random(in: 100...3000, using: &rng))
                for k in transient.suffix(drop) { h.run("DEL", k) }
                transient.removeLast(drop)
            }
            bucketCounts.insert(h.engine.databases[0].table.bucketCount)
        }
        let missing = Set(stable).subtracting(seen)
        #expect(missing.isEmpty, "never returned: \(missing.sorted())")
        #expect(bucketCounts.count >= 3, "the table was resized during the scan: \(bucketCounts.sorted())")
        #expect(h.engine.databases[0].table.validate() == nil)
    }
}

@Suite struct KeyspaceSpecTests {
    /// From `COMMAND INFO` on Redis 7.0.15: arity, flags, ACL categories, first/last/step.
    static let expected: [(String, Int, [String], [String], Int, Int, Int)] = [
        ("del", -2, ["write"], ["@keyspace", "@write", "@slow"], 1, -1, 1),
        ("unlink", -2, ["write", "fast"], ["@keyspace", "@write", "@fast"], 1, -1, 1),
        ("exists", -2, ["readonly", "fast"], ["@keyspace", "@read", "@fast"], 1, -1, 1),
        ("type", 2, ["readonly", "fast"], ["@keyspace", "@read", "@fast"], 1, 1, 1),
        ("touch", -2, ["readonly", "fast"], ["@keyspace", "@read", "@fast"], 1, -1, 1),
        ("rename", 3, ["write"], ["@keyspace", "@write", "@slow"], 1, 2, 1),
        ("renamenx", 3, ["write", "fast"], ["@keyspace", "@write", "@fast"], 1, 2, 1),
        ("copy", -3, ["write", "denyoom"], ["@keyspace", "@write", "@slow"], 1, 2, 1),
        ("move", 3, ["write", "fast"], ["@keyspace", "@write", "@fast"], 1, 1, 1),
        ("keys", 2, ["readonly"], ["@keyspace", "@read", "@slow", "@dangerous"], 0, 0, 0),
        ("scan", -2, ["readonly"], ["@keyspace", "@read", "@slow"], 0, 0, 0),
        ("randomkey", 1, ["readonly"], ["@keyspace", "@read", "@slow"], 0, 0, 0),
        ("object", -2, [], ["@slow"], 0, 0, 0),
        ("object|help", 2, ["loading", "stale"], ["@keyspace", "@slow"], 0, 0, 0),
        ("object|idletime", 3, ["readonly"], ["@keyspace", "@read", "@slow"], 2, 2, 1),
        ("object|freq", 3, ["readonly"], ["@keyspace", "@read", "@slow"], 2, 2, 1),
        ("object|encoding", 3, ["readonly"], ["@keyspace", "@read", "@slow"], 2, 2, 1),
        ("object|refcount", 3, ["readonly"], ["@keyspace", "@read", "@slow"], 2, 2, 1),
        ("expire", -3, ["write", "fast"], ["@keyspace", "@write", "@fast"], 1, 1, 1),
        ("pexpire", -3, ["write", "fast"], ["@keyspace", "@write", "@fast"], 1, 1, 1),
        ("expireat", -3, ["write", "fast"], ["@keyspace", "@write", "@fast"], 1, 1, 1),
        ("pexpireat", -3, ["write", "fast"], ["@keyspace", "@write", "@fast"], 1, 1, 1),
        ("ttl", 2, ["readonly", "fast"], ["@keyspace", "@read", "@fast"], 1, 1, 1),
        ("pttl", 2, ["readonly", "fast"], ["@keyspace", "@read", "@fast"], 1, 1, 1),
        ("expiretime", 2, ["readonly", "fast"], ["@keyspace", "@read", "@fast"], 1, 1, 1),
        ("pexpiretime", 2, ["readonly", "fast"], ["@keyspace", "@read", "@fast"], 1, 1, 1),
        ("persist", 2, ["write", "fast"], ["@keyspace", "@write", "@fast"], 1, 1, 1),
    ]

    @Test func specsMirrorRedis() {
        let table = CommandTable(StorageCommands.all)
        let registered = Dictionary(table.allIncludingSubcommands.map { ($0.fullName, $0) }, uniquingKeysWith: { a, _ in a })
        for (name, arity, flags, categories, first, last, step) in Self.expected {
            guard let command = registered[name] else {
                Issue.record("\(name) is not registered")
                continue
            }
            let spec = command.spec
            #expect(spec.arity == arity, "\(name) arity")
            #expect(spec.flags.names == flags, "\(name) flags")
            #expect(spec.categories.names == categories, "\(name) categories")
            #expect(spec.keyPositions == KeyPositions(first: first, last: last, step: step), "\(name) keys")
            #expect(spec.group == "generic", "\(name) group")
        }
    }

    @Test func containerHandlerRepliesSyntaxError() {
        let h = EngineHarness()
        let spec = KeyspaceCommands.objectSpec
        Arguments.with([Array("object".utf8)]) { (args: Arguments) -> Void in
            guard let command = h.engine.commands.lookup("object") else { Issue.record("no object"); return }
            spec.handler(CommandContext(engine: h.engine, client: h.client, args: args, command: command, db: h.engine.databases[h.client.db]))
        }
        #expect(h.client.reply.buffer.readableBytes > 0)
        let text = h.client.reply.buffer.getString(at: h.client.reply.buffer.readerIndex, length: h.client.reply.buffer.readableBytes)
        #expect(text == "-ERR syntax error\r\n")
        h.client.reply.buffer.clear()
    }
}
