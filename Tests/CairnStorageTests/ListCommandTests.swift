import CairnRESP
@testable import CairnStorage
import NIOCore
import Testing

/// List commands against Redis 7.0's replies and error strings (checked against redis-server
/// 7.0.15 while writing these).
@Suite struct ListCommandTests {
    static let wrongType = RESPValue.err("WRONGTYPE Operation against a key holding the wrong kind of value")
    static let notInteger = RESPValue.err("ERR value is not an integer or out of range")
    static let mustBePositive = RESPValue.err("ERR value is out of range, must be positive")
    static let syntax = RESPValue.err("ERR syntax error")
    static let nullArray = RESPValue.array(nil)
    static let empty = RESPValue.array([])

    func ints(_ v: [Int64]) -> RESPValue { .array(v.map { .integer($0) }) }

    func list(_ h: EngineHarness, _ key: String) -> [String] {
        (h.run("LRANGE", key, "0", "-1").listItems ?? []).compactMap(\.listText)
    }

    func exists(_ h: EngineHarness, _ key: String) -> Bool { h.run("EXISTS", key) == .integer(1) }

    // MARK: pushes

    @Test func pushOrderAndLength() {
        let h = EngineHarness()
        #expect(h.run("RPUSH", "l", "a", "b", "c") == .integer(3))
        #expect(h.run("LPUSH", "l", "x", "y") == .integer(5))
        #expect(list(h, "l") == ["y", "x", "a", "b", "c"])
        #expect(h.run("TYPE", "l") == .simple("list"))
        #expect(h.run("OBJECT", "ENCODING", "l") == .bulk("quicklist"))
        #expect(h.run("lpush", "l") == .err("ERR wrong number of arguments for 'lpush' command"))
        #expect(h.run("RPUSH", "l") == .err("ERR wrong number of arguments for 'rpush' command"))
    }

    @Test func pushxOnlyOnExistingLists() {
        let h = EngineHarness()
        #expect(h.run("LPUSHX", "l", "a") == .integer(0))
        #expect(h.run("RPUSHX", "l", "a", "b") == .integer(0))
        #expect(!exists(h, "l"))
        h.run("RPUSH", "l", "m")
        #expect(h.run("LPUSHX", "l", "a", "b") == .integer(3))
        #expect(h.run("RPUSHX", "l", "y", "z") == .integer(5))
        #expect(list(h, "l") == ["b", "a", "m", "y", "z"])
        h.run("SET", "s", "v")
        #expect(h.run("LPUSHX", "s", "a") == Self.wrongType)
        #expect(h.run("RPUSHX", "s", "a") == Self.wrongType)
        #expect(h.run("LPUSHX", "l") == .err("ERR wrong number of arguments for 'lpushx' command"))
    }

    @Test func pushWrongTypeAndDirty() {
        let h = EngineHarness()
        h.run("SET", "s", "v")
        let before = h.engine.dirty
        #expect(h.run("LPUSH", "s", "a") == Self.wrongType)
        #expect(h.run("RPUSH", "s", "a") == Self.wrongType)
        #expect(h.engine.dirty == before)
        h.run("RPUSH", "l", "a", "b", "c")
        #expect(h.engine.dirty == before + 3)
        h.run("LPUSHX", "nosuch", "a")
        #expect(h.engine.dirty == before + 3)
    }

    @Test func pushOntoExpiredKeyStartsAFreshList() {
        let h = EngineHarness()
        h.run("RPUSH", "l", "old")
        h.run("PEXPIRE", "l", "100000")
        // Each command reads the clock afresh: put the expiry in the past.
        if let i = h.db.table.find(Array("l".utf8)) { h.db.table.setExpire(at: i, Clock.unixMillis() - 1000) }
        #expect(h.run("RPUSH", "l", "new") == .integer(1))
        #expect(list(h, "l") == ["new"])
        #expect(h.run("TTL", "l") == .integer(-1))
    }

    @Test func binarySafeElements() {
        let h = EngineHarness()
        let odd: [UInt8] = [0, 13, 10, 255, 0]
        #expect(h.run([Array("RPUSH".utf8), Array("l".utf8), odd, []]) == .integer(2))
        #expect(h.run("LRANGE", "l", "0", "-1") == .array([.bulkString(odd), .bulkString([])]))
        #expect(h.run("LINDEX", "l", "0") == .bulkString(odd))
        #expect(h.run("RPOP", "l") == .bulkString([]))
        #expect(h.run("LPOP", "l") == .bulkString(odd))
        #expect(!exists(h, "l"))
    }

    /// Every way of adding elements wakes a client blocked on the key; a push that adds nothing
    /// (LPUSHX on a missing key) does not.
    @Test func pushesWakeBlockedClients() {
        let h = EngineHarness()
        let waiter = EngineHarness(engine: h.engine)
        func blockAndCheck(_ key: String, _ push: () -> Void, served expected: RESPValue?) {
            Arguments.with([Array("BLPOP".utf8), Array(key.utf8), Array("0".utf8)]) { h.engine.execute(waiter.client, $0) }
            #expect(waiter.client.blocked != nil)
            push()
            if let expected {
                #expect(waiter.client.blocked == nil)
                #expect(waiter.takeReply() == expected)
            } else {
                #expect(waiter.client.blocked != nil)
                h.engine.unblock(waiter.client, withError: nil)
                _ = waiter.takeReply()
            }
        }
        blockAndCheck("l", { h.run("RPUSH", "l", "a") }, served: .array([.bulk("l"), .bulk("a")]))
        blockAndCheck("l", { h.run("LPUSH", "l", "b") }, served: .array([.bulk("l"), .bulk("b")]))
        h.run("RPUSH", "src", "m")
        blockAndCheck("d", { h.run("LMOVE", "src", "d", "LEFT", "RIGHT") }, served: .array([.bulk("d"), .bulk("m")]))
        blockAndCheck("x", { h.run("LPUSHX", "x", "a") }, served: nil)
    }

    // MARK: pops

    @Test func popSingle() {
        let h = EngineHarness()
        #expect(h.run("LPOP", "l") == .nilBulk)
        #expect(h.run("RPOP", "l") == .nilBulk)
        h.run("RPUSH", "l", "a", "b", "c")
        #expect(h.run("LPOP", "l") == .bulk("a"))
        #expect(h.run("RPOP", "l") == .bulk("c"))
        #expect(h.run("RPOP", "l") == .bulk("b"))
        #expect(!exists(h, "l"), "the key goes with its last element")
        h.run("SET", "s", "v")
        #expect(h.run("LPOP", "s") == Self.wrongType)
    }

    @Test func popWithCount() {
        let h = EngineHarness()
        #expect(h.run("LPOP", "l", "2") == Self.nullArray)
        #expect(h.run("RPOP", "l", "0") == Self.nullArray)
        h.run("RPUSH", "l", "a", "b", "c", "d", "e")
        #expect(h.run("LPOP", "l", "0") == Self.empty)
        #expect(h.run("LPOP", "l", "2") == .strings(["a", "b"]))
        #expect(h.run("RPOP", "l", "2") == .strings(["e", "d"]), "RPOP replies from the tail inwards")
        #expect(h.run("RPOP", "l", "10") == .strings(["c"]))
        #expect(!exists(h, "l"))
        #expect(h.run("LPOP", "l", "-1") == Self.mustBePositive)
        #expect(h.run("LPOP", "l", "abc") == Self.mustBePositive)
        #expect(h.run("LPOP", "l", "1", "2") == .err("ERR wrong number of arguments for 'lpop' command"))
        #expect(h.run("RPOP", "l", "1", "2") == .err("ERR wrong number of arguments for 'rpop' command"))
        h.run("SET", "s", "v")
        // The count is parsed before the key is looked up; the type is checked before count 0.
        #expect(h.run("LPOP", "s", "-1") == Self.mustBePositive)
        #expect(h.run("LPOP", "s", "0") == Self.wrongType)
        #expect(h.run("RPOP", "s", "3") == Self.wrongType)
    }

    @Test func popDirtyCountsElements() {
        let h = EngineHarness()
        h.run("RPUSH", "l", "a", "b", "c", "d")
        let before = h.engine.dirty
        h.run("LPOP", "l", "3")
        #expect(h.engine.dirty == before + 3)
        h.run("LPOP", "l", "0")
        #expect(h.engine.dirty == before + 3)
        h.run("RPOP", "l")
        #expect(h.engine.dirty == before + 4)
    }

    @Test func resp3NullShapes() {
        let h = EngineHarness(resp3: true)
        #expect(h.run("LPOP", "l") == .null)
        #expect(h.run("LPOP", "l", "1") == .null)
        #expect(h.run("RPOP", "l", "0") == .null)
        #expect(h.run("LINDEX", "l", "0") == .null)
        #expect(h.run("LPOS", "l", "a") == .null)
        #expect(h.run("LPOS", "l", "a", "COUNT", "0") == Self.empty)
        #expect(h.run("LMPOP", "1", "l", "LEFT") == .null)
        #expect(h.run("LMOVE", "l", "d", "LEFT", "LEFT") == .null)
        #expect(h.run("RPOPLPUSH", "l", "d") == .null)
        #expect(h.run("LRANGE", "l", "0", "-1") == Self.empty)
        h.run("RPUSH", "l", "a")
        #expect(h.run("LPOP", "l", "0") == Self.empty)
        #expect(h.run("LINDEX", "l", "5") == .null)
        #expect(h.run("LPOS", "l", "zz") == .null)
    }

    @Test func resp2NullShapes() {
        let h = EngineHarness()
        #expect(h.run("LINDEX", "l", "0") == .nilBulk)
        #expect(h.run("LPOS", "l", "a") == .nilBulk)
        #expect(h.run("LMPOP", "1", "l", "LEFT") == Self.nullArray)
        #expect(h.run("LMOVE", "l", "d", "LEFT", "LEFT") == .nilBulk)
        #expect(h.run("RPOPLPUSH", "l", "d") == .nilBulk)
    }

    // MARK: LLEN / LRANGE / LINDEX

    @Test func llen() {
        let h = EngineHarness()
        #expect(h.run("LLEN", "l") == .integer(0))
        h.run("RPUSH", "l", "a", "b")
        #expect(h.run("LLEN", "l") == .integer(2))
        h.run("SET", "s", "v")
        #expect(h.run("LLEN", "s") == Self.wrongType)
        #expect(h.run("LLEN", "l", "x") == .err("ERR wrong number of arguments for 'llen' command"))
    }

    @Test func lrangeIndices() {
        let h = EngineHarness()
        h.run("RPUSH", "l", "0", "1", "2", "3", "4", "5")
        #expect(h.run("LRANGE", "l", "0", "-1") == .strings(["0", "1", "2", "3", "4", "5"]))
        #expect(h.run("LRANGE", "l", "1", "2") == .strings(["1", "2"]))
        #expect(h.run("LRANGE", "l", "-2", "-1") == .strings(["4", "5"]))
        #expect(h.run("LRANGE", "l", "-100", "1") == .strings(["0", "1"]))
        #expect(h.run("LRANGE", "l", "4", "100") == .strings(["4", "5"]))
        #expect(h.run("LRANGE", "l", "3", "2") == Self.empty)
        #expect(h.run("LRANGE", "l", "6", "10") == Self.empty)
        #expect(h.run("LRANGE", "l", "0", "-7") == Self.empty)
        #expect(h.run("LRANGE", "l", "-9223372036854775808", "9223372036854775807")
                == .strings(["0", "1", "2", "3", "4", "5"]))
        #expect(h.run("LRANGE", "l", "9223372036854775807", "-9223372036854775808") == Self.empty)
        #expect(h.run("LRANGE", "nosuch", "0", "-1") == Self.empty)
    }

    @Test func lrangeErrorsParseBeforeLookup() {
        let h = EngineHarness()
        h.run("SET", "s", "v")
        #expect(h.run("LRANGE", "nosuch", "a", "1") == Self.notInteger)
        #expect(h.run("LRANGE", "s", "0", "1.5") == Self.notInteger)
        #expect(h.run("LRANGE", "s", "0", "1") == Self.wrongType)
        #expect(h.run("LRANGE", "l", "0", "9223372036854775808") == Self.notInteger)
        #expect(h.run("LRANGE", "l", "+1", "2") == Self.notInteger)
    }

    @Test func lindex() {
        let h = EngineHarness()
        h.run("RPUSH", "l", "a", "b", "c")
        #expect(h.run("LINDEX", "l", "0") == .bulk("a"))
        #expect(h.run("LINDEX", "l", "-1") == .bulk("c"))
        #expect(h.run("LINDEX", "l", "-3") == .bulk("a"))
        #expect(h.run("LINDEX", "l", "3") == .nilBulk)
        #expect(h.run("LINDEX", "l", "-4") == .nilBulk)
        #expect(h.run("LINDEX", "l", "-9223372036854775808") == .nilBulk)
        #expect(h.run("LINDEX", "l", "x") == Self.notInteger)
        // Lookup and type check come before the index is parsed.
        #expect(h.run("LINDEX", "nosuch", "x") == .nilBulk)
        h.run("SET", "s", "v")
        #expect(h.run("LINDEX", "s", "x") == Self.wrongType)
    }

    // MARK: LSET / LINSERT

    @Test func lset() {
        let h = EngineHarness()
        #expect(h.run("LSET", "l", "0", "x") == .err("ERR no such key"))
        #expect(h.run("LSET", "l", "abc", "x") == .err("ERR no such key"))
        h.run("RPUSH", "l", "a", "b", "c")
        let before = h.engine.dirty
        #expect(h.run("LSET", "l", "1", "B") == .ok)
        #expect(h.run("LSET", "l", "-1", "C") == .ok)
        #expect(list(h, "l") == ["a", "B", "C"])
        #expect(h.engine.dirty == before + 2)
        #expect(h.run("LSET", "l", "3", "x") == .err("ERR index out of range"))
        #expect(h.run("LSET", "l", "-4", "x") == .err("ERR index out of range"))
        #expect(h.run("LSET", "l", "a", "x") == Self.notInteger)
        h.run("SET", "s", "v")
        #expect(h.run("LSET", "s", "a", "x") == Self.wrongType)
    }

    @Test func linsert() {
        let h = EngineHarness()
        #expect(h.run("LINSERT", "l", "BEFORE", "a", "x") == .integer(0))
        #expect(h.run("LINSERT", "l", "middle", "a", "x") == Self.syntax)
        h.run("RPUSH", "l", "a", "b", "a")
        #expect(h.run("LINSERT", "l", "before", "a", "x") == .integer(4))
        #expect(h.run("LINSERT", "l", "AFTER", "a", "y") == .integer(5))
        #expect(h.run("LINSERT", "l", "AFTER", "b", "z") == .integer(6))
        #expect(list(h, "l") == ["x", "a", "y", "b", "z", "a"])
        #expect(h.run("LINSERT", "l", "AFTER", "nosuch", "q") == .integer(-1))
        h.run("SET", "s", "v")
        #expect(h.run("LINSERT", "s", "foo", "a", "b") == Self.syntax, "the position word is checked first")
        #expect(h.run("LINSERT", "s", "before", "a", "b") == Self.wrongType)
    }

    // MARK: LREM / LTRIM

    @Test func lrem() {
        let h = EngineHarness()
        #expect(h.run("LREM", "l", "0", "a") == .integer(0))
        #expect(h.run("LREM", "l", "x", "a") == Self.notInteger)
        h.run("RPUSH", "l", "a", "b", "a", "c", "a", "b", "a")
        #expect(h.run("LREM", "l", "2", "a") == .integer(2))
        #expect(list(h, "l") == ["b", "c", "a", "b", "a"])
        #expect(h.run("LREM", "l", "-1", "b") == .integer(1))
        #expect(list(h, "l") == ["b", "c", "a", "a"])
        #expect(h.run("LREM", "l", "0", "a") == .integer(2))
        #expect(h.run("LREM", "l", "0", "zz") == .integer(0))
        #expect(list(h, "l") == ["b", "c"])
        #expect(h.run("LREM", "l", "-9223372036854775808", "b") == .integer(1))
        #expect(h.run("LREM", "l", "1", "c") == .integer(1))
        #expect(!exists(h, "l"))
        h.run("SET", "s", "v")
        #expect(h.run("LREM", "s", "x", "a") == Self.notInteger)
        #expect(h.run("LREM", "s", "1", "a") == Self.wrongType)
    }

    @Test func ltrim() {
        let h = EngineHarness()
        #expect(h.run("LTRIM", "l", "0", "1") == .ok)
        #expect(h.run("LTRIM", "l", "a", "1") == Self.notInteger)
        h.run("RPUSH", "l", "0", "1", "2", "3", "4", "5")
        let before = h.engine.dirty
        #expect(h.run("LTRIM", "l", "1", "-2") == .ok)
        #expect(list(h, "l") == ["1", "2", "3", "4"])
        #expect(h.engine.dirty == before + 2)
        #expect(h.run("LTRIM", "l", "-100", "100") == .ok)
        #expect(list(h, "l") == ["1", "2", "3", "4"])
        #expect(h.engine.dirty == before + 2)
        #expect(h.run("LTRIM", "l", "2", "1") == .ok)
        #expect(!exists(h, "l"), "an empty range deletes the key")
        #expect(h.engine.dirty == before + 6)
        h.run("SET", "s", "v")
        #expect(h.run("LTRIM", "s", "0", "1") == Self.wrongType)
    }

    // MARK: LPOS

    @Test func lposBasics() {
        let h = EngineHarness()
        h.run("RPUSH", "l", "a", "b", "a", "c", "a")
        #expect(h.run("LPOS", "l", "a") == .integer(0))
        #expect(h.run("LPOS", "l", "c") == .integer(3))
        #expect(h.run("LPOS", "l", "z") == .nilBulk)
        #expect(h.run("LPOS", "l", "a", "RANK", "2") == .integer(2))
        #expect(h.run("LPOS", "l", "a", "RANK", "-1") == .integer(4))
        #expect(h.run("LPOS", "l", "a", "RANK", "-2") == .integer(2))
        #expect(h.run("LPOS", "l", "a", "RANK", "4") == .nilBulk)
        #expect(h.run("LPOS", "l", "a", "COUNT", "0") == ints([0, 2, 4]))
        #expect(h.run("LPOS", "l", "a", "COUNT", "2") == ints([0, 2]))
        #expect(h.run("LPOS", "l", "a", "COUNT", "2", "RANK", "-1") == ints([4, 2]))
        #expect(h.run("LPOS", "l", "a", "RANK", "2", "COUNT", "0", "MAXLEN", "3") == ints([2]))
        #expect(h.run("LPOS", "l", "a", "RANK", "-1", "COUNT", "0", "MAXLEN", "2") == ints([4]))
        #expect(h.run("LPOS", "l", "c", "MAXLEN", "3") == .nilBulk)
        #expect(h.run("LPOS", "l", "z", "COUNT", "1") == Self.empty)
        #expect(h.run("LPOS", "l", "a", "rank", "1", "RANK", "3") == .integer(4), "the last option wins")
        #expect(h.run("LPOS", "nosuch", "a") == .nilBulk)
        #expect(h.run("LPOS", "nosuch", "a", "COUNT", "1") == Self.empty)
    }

    @Test func lposRankOfLongMinWrapsAsInRedis() {
        let h = EngineHarness()
        h.run("RPUSH", "l", "a", "b", "a", "c", "a")
        #expect(h.run("LPOS", "l", "a", "RANK", "-9223372036854775808") == .integer(4))
        #expect(h.run("LPOS", "l", "a", "RANK", "-9223372036854775807") == .nilBulk)
        #expect(h.run("LPOS", "l", "a", "RANK", "9223372036854775807") == .nilBulk)
        #expect(h.run("LPOS", "l", "a", "RANK", "-9223372036854775808", "COUNT", "1") == ints([4, 2, 0]))
    }

    @Test func lposErrors() {
        let h = EngineHarness()
        h.run("SET", "s", "v")
        let rankZero = RESPValue.err("ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... or use negative to start from the end of the list")
        #expect(h.run("LPOS", "l", "a", "RANK", "0") == rankZero)
        #expect(h.run("LPOS", "s", "a", "RANK", "0") == rankZero, "options are parsed before the lookup")
        #expect(h.run("LPOS", "l", "a", "RANK", "x") == Self.notInteger)
        #expect(h.run("LPOS", "l", "a", "COUNT", "-1") == .err("ERR COUNT can't be negative"))
        #expect(h.run("LPOS", "l", "a", "COUNT", "x") == .err("ERR COUNT can't be negative"))
        #expect(h.run("LPOS", "l", "a", "MAXLEN", "-1") == .err("ERR MAXLEN can't be negative"))
        #expect(h.run("LPOS", "l", "a", "MAXLEN", "x") == .err("ERR MAXLEN can't be negative"))
        #expect(h.run("LPOS", "l", "a", "RANK") == Self.syntax)
        #expect(h.run("LPOS", "l", "a", "FOO", "1") == Self.syntax)
        #expect(h.run("LPOS", "s", "a") == Self.wrongType)
        #expect(h.run("LPOS", "l") == .err("ERR wrong number of arguments for 'lpos' command"))
    }

    // MARK: LMOVE / RPOPLPUSH

    @Test func lmoveAllDirections() {
        let h = EngineHarness()
        h.run("RPUSH", "s", "1", "2", "3", "4")
        #expect(h.run("LMOVE", "s", "d", "LEFT", "LEFT") == .bulk("1"))
        #expect(h.run("LMOVE", "s", "d", "RIGHT", "LEFT") == .bulk("4"))
        #expect(h.run("LMOVE", "s", "d", "left", "right") == .bulk("2"))
        #expect(h.run("lmove", "s", "d", "Right", "Right") == .bulk("3"))
        #expect(!exists(h, "s"))
        #expect(list(h, "d") == ["4", "1", "2", "3"])
        #expect(h.run("LMOVE", "s", "d", "LEFT", "LEFT") == .nilBulk)
    }

    @Test func lmoveRotatesSameKey() {
        let h = EngineHarness()
        h.run("RPUSH", "l", "a", "b", "c")
        #expect(h.run("LMOVE", "l", "l", "LEFT", "RIGHT") == .bulk("a"))
        #expect(list(h, "l") == ["b", "c", "a"])
        #expect(h.run("LMOVE", "l", "l", "RIGHT", "LEFT") == .bulk("a"))
        #expect(list(h, "l") == ["a", "b", "c"])
        #expect(h.run("LMOVE", "l", "l", "LEFT", "LEFT") == .bulk("a"))
        #expect(list(h, "l") == ["a", "b", "c"])
        #expect(h.run("RPOPLPUSH", "l", "l") == .bulk("c"))
        #expect(list(h, "l") == ["c", "a", "b"])
        h.run("RPUSH", "one", "x")
        #expect(h.run("LMOVE", "one", "one", "LEFT", "RIGHT") == .bulk("x"))
        #expect(h.run("RPOPLPUSH", "one", "one") == .bulk("x"))
        #expect(list(h, "one") == ["x"], "a single element rotates in place, the key survives")
    }

    @Test func lmoveErrors() {
        let h = EngineHarness()
        h.run("SET", "str", "v")
        h.run("RPUSH", "l", "a")
        #expect(h.run("LMOVE", "l", "d", "UP", "LEFT") == Self.syntax)
        #expect(h.run("LMOVE", "l", "d", "LEFT", "DOWN") == Self.syntax)
        #expect(h.run("LMOVE", "str", "l", "LEFT", "LEFT") == Self.wrongType)
        #expect(h.run("LMOVE", "l", "str", "LEFT", "LEFT") == Self.wrongType)
        #expect(list(h, "l") == ["a"], "nothing moves when the destination has the wrong type")
        #expect(h.run("LMOVE", "nosuch", "str", "LEFT", "LEFT") == .nilBulk, "a missing source wins")
        #expect(h.run("RPOPLPUSH", "l", "str") == Self.wrongType)
        #expect(h.run("RPOPLPUSH", "str", "l") == Self.wrongType)
        #expect(h.run("LMOVE", "l", "d", "LEFT") == .err("ERR wrong number of arguments for 'lmove' command"))
        #expect(h.run("RPOPLPUSH", "l") == .err("ERR wrong number of arguments for 'rpoplpush' command"))
    }

    @Test func rpoplpushAndDirty() {
        let h = EngineHarness()
        h.run("RPUSH", "s", "a", "b")
        let before = h.engine.dirty
        #expect(h.run("RPOPLPUSH", "s", "d") == .bulk("b"))
        #expect(h.run("RPOPLPUSH", "s", "d") == .bulk("a"))
        #expect(h.engine.dirty == before + 2)
        #expect(list(h, "d") == ["a", "b"])
        #expect(!exists(h, "s"))
    }

    // MARK: LMPOP

    @Test func lmpop() {
        let h = EngineHarness()
        h.run("RPUSH", "b", "1", "2", "3")
        #expect(h.run("LMPOP", "2", "a", "b", "LEFT") == .array([.bulk("b"), .strings(["1"])]))
        #expect(h.run("LMPOP", "2", "a", "b", "RIGHT", "COUNT", "5") == .array([.bulk("b"), .strings(["3", "2"])]))
        #expect(!exists(h, "b"))
        #expect(h.run("LMPOP", "2", "a", "b", "LEFT") == Self.nullArray)
        h.run("RPUSH", "a", "x", "y")
        #expect(h.run("lmpop", "1", "a", "left", "count", "1") == .array([.bulk("a"), .strings(["x"])]))
    }

    @Test func lmpopResp3() {
        let h = EngineHarness(resp3: true)
        h.run("RPUSH", "k", "1", "2")
        #expect(h.run("LMPOP", "1", "k", "RIGHT", "COUNT", "2") == .array([.bulk("k"), .strings(["2", "1"])]))
        #expect(h.run("LMPOP", "1", "k", "RIGHT") == .null)
    }

    @Test func lmpopErrors() {
        let h = EngineHarness()
        h.run("SET", "s", "v")
        h.run("RPUSH", "l", "a")
        let numkeys = RESPValue.err("ERR numkeys should be greater than 0")
        let count = RESPValue.err("ERR count should be greater than 0")
        #expect(h.run("LMPOP", "0", "a", "LEFT") == numkeys)
        #expect(h.run("LMPOP", "-1", "a", "LEFT") == numkeys)
        #expect(h.run("LMPOP", "abc", "a", "LEFT") == numkeys)
        #expect(h.run("LMPOP", "2", "a", "LEFT") == Self.syntax)
        #expect(h.run("LMPOP", "9223372036854775807", "a", "LEFT") == Self.syntax)
        #expect(h.run("LMPOP", "1", "a", "MIDDLE") == Self.syntax)
        #expect(h.run("LMPOP", "1", "a", "LEFT", "COUNT", "0") == count)
        #expect(h.run("LMPOP", "1", "a", "LEFT", "COUNT", "-1") == count)
        #expect(h.run("LMPOP", "1", "a", "LEFT", "COUNT", "x") == count)
        #expect(h.run("LMPOP", "1", "a", "LEFT", "COUNT", "1", "COUNT", "1") == Self.syntax)
        #expect(h.run("LMPOP", "1", "a", "LEFT", "COUNT") == Self.syntax)
        #expect(h.run("LMPOP", "1", "a", "LEFT", "FOO") == Self.syntax)
        #expect(h.run("LMPOP", "1", "s", "LEFT") == Self.wrongType)
        #expect(h.run("LMPOP", "2", "nosuch", "s", "LEFT") == Self.wrongType)
        #expect(h.run("LMPOP", "2", "s", "l", "LEFT") == Self.wrongType, "a wrong type met first is an error")
        #expect(h.run("LMPOP", "2", "l", "s", "LEFT") == .array([.bulk("l"), .strings(["a"])]))
        #expect(h.run("LMPOP", "1", "l") == .err("ERR wrong number of arguments for 'lmpop' command"))
    }

    @Test func lmpopKeyPositions() {
        let spec = ListCommands.specs.first { $0.name == "lmpop" }
        #expect(spec?.flags.contains(.movableKeys) == true)
        #expect(spec?.keyPositions == KeyPositions.none)
        func keys(_ words: String...) -> [Int] {
            Arguments.with(words.map { Array($0.utf8) }) { spec?.keyIndices($0) ?? [-1] }
        }
        #expect(keys("LMPOP", "2", "a", "b", "LEFT") == [2, 3])
        #expect(keys("LMPOP", "2abc", "a", "b", "LEFT") == [2, 3], "numkeys is read with atoi")
        #expect(keys("LMPOP", " 2", "a", "b", "LEFT") == [2, 3])
        #expect(keys("LMPOP", "3", "a", "b", "LEFT") == [2, 3, 4])
        #expect(keys("LMPOP", "4", "a", "b", "LEFT") == [])
        #expect(keys("LMPOP", "0", "a", "LEFT") == [])
        #expect(keys("LMPOP", "-1", "a", "LEFT") == [])
        #expect(keys("LMPOP", "x", "a", "LEFT") == [])
    }

    @Test func atoiMatchesGlibc() {
        func atoi(_ s: String) -> Int { Array(s.utf8).withUnsafeBytes { CNumber.atoi($0) } }
        #expect(atoi("42") == 42)
        #expect(atoi("  -7x") == -7)
        #expect(atoi("+3") == 3)
        #expect(atoi("") == 0)
        #expect(atoi("abc") == 0)
        #expect(atoi("4294967297") == 1, "truncated to 32 bits")
        #expect(atoi("99999999999999999999") == -1, "saturates at LONG_MAX, then truncates")
    }

    // MARK: specs

    @Test func specsMatchRedisCommandInfo() {
        struct Expected { let arity: Int; let flags: [String]; let acl: [String]; let keys: (Int, Int, Int) }
        let expected: [String: Expected] = [
            "lpush": .init(arity: -3, flags: ["write", "denyoom", "fast"], acl: ["@write", "@list", "@fast"], keys: (1, 1, 1)),
            "rpush": .init(arity: -3, flags: ["write", "denyoom", "fast"], acl: ["@write", "@list", "@fast"], keys: (1, 1, 1)),
            "lpushx": .init(arity: -3, flags: ["write", "denyoom", "fast"], acl: ["@write", "@list", "@fast"], keys: (1, 1, 1)),
            "rpushx": .init(arity: -3, flags: ["write", "denyoom", "fast"], acl: ["@write", "@list", "@fast"], keys: (1, 1, 1)),
            "lpop": .init(arity: -2, flags: ["write", "fast"], acl: ["@write", "@list", "@fast"], keys: (1, 1, 1)),
            "rpop": .init(arity: -2, flags: ["write", "fast"], acl: ["@write", "@list", "@fast"], keys: (1, 1, 1)),
            "llen": .init(arity: 2, flags: ["readonly", "fast"], acl: ["@read", "@list", "@fast"], keys: (1, 1, 1)),
            "lrange": .init(arity: 4, flags: ["readonly"], acl: ["@read", "@list", "@slow"], keys: (1, 1, 1)),
            "lindex": .init(arity: 3, flags: ["readonly"], acl: ["@read", "@list", "@slow"], keys: (1, 1, 1)),
            "lset": .init(arity: 4, flags: ["write", "denyoom"], acl: ["@write", "@list", "@slow"], keys: (1, 1, 1)),
            "linsert": .init(arity: 5, flags: ["write", "denyoom"], acl: ["@write", "@list", "@slow"], keys: (1, 1, 1)),
            "lrem": .init(arity: 4, flags: ["write"], acl: ["@write", "@list", "@slow"], keys: (1, 1, 1)),
            "ltrim": .init(arity: 4, flags: ["write"], acl: ["@write", "@list", "@slow"], keys: (1, 1, 1)),
            "lpos": .init(arity: -3, flags: ["readonly"], acl: ["@read", "@list", "@slow"], keys: (1, 1, 1)),
            "lmove": .init(arity: 5, flags: ["write", "denyoom"], acl: ["@write", "@list", "@slow"], keys: (1, 2, 1)),
            "rpoplpush": .init(arity: 3, flags: ["write", "denyoom"], acl: ["@write", "@list", "@slow"], keys: (1, 2, 1)),
            "lmpop": .init(arity: -4, flags: ["write", "movablekeys"], acl: ["@write", "@list", "@slow"], keys: (0, 0, 0)),
        ]
        #expect(Set(ListCommands.specs.map(\.name)) == Set(expected.keys))
        for spec in ListCommands.specs {
            guard let e = expected[spec.name] else { continue }
            #expect(spec.arity == e.arity, "\(spec.name)")
            #expect(spec.flags.names == e.flags, "\(spec.name)")
            #expect(spec.categories.names == e.acl, "\(spec.name)")
            #expect(spec.keyPositions == KeyPositions(first: e.keys.0, last: e.keys.1, step: e.keys.2), "\(spec.name)")
            #expect(spec.group == "list")
        }
        // Registered with the engine; the blocking variants are not ours to register.
        let engine = Engine()
        for name in ["lpush", "lmpop", "rpoplpush"] { #expect(engine.commands.lookup(Array(name.utf8)) != nil) }
    }

    // MARK: large lists (several nodes)

    @Test func largeListsAcrossNodes() {
        let h = EngineHarness()
        var model: [String] = []
        var words: [[UInt8]] = [Array("RPUSH".utf8), Array("big".utf8)]
        for i in 0..<3000 {
            let v = "element-\(i)-" + String(repeating: "x", count: i % 37)
            model.append(v)
            words.append(Array(v.utf8))
        }
        #expect(h.run(words) == .integer(3000))
        #expect(list(h, "big") == model)
        #expect(h.run("LRANGE", "big", "1000", "1099") == .strings(Array(model[1000...1099])))
        #expect(h.run("LINDEX", "big", "2001") == .bulk(model[2001]))
        #expect(h.run("LPOS", "big", model[2500]) == .integer(2500))
        #expect(h.run("LPOS", "big", model[2500], "RANK", "-1") == .integer(2500))
        #expect(h.run("LPOS", "big", model[2500], "MAXLEN", "2500") == .nilBulk)
        #expect(h.run("LPOS", "big", model[10], "RANK", "-1", "MAXLEN", "2990") == .integer(10))
        #expect(h.run("LPOS", "big", model[10], "RANK", "-1", "MAXLEN", "2989") == .nilBulk)
        #expect(h.run("RPOP", "big", "700") == .strings(model.suffix(700).reversed()))
        model.removeLast(700)
        #expect(h.run("LPOP", "big", "900") == .strings(Array(model.prefix(900))))
        model.removeFirst(900)
        #expect(h.run("LTRIM", "big", "100", "-101") == .ok)
        model = Array(model[100..<(model.count - 100)])
        #expect(list(h, "big") == model)
        #expect(h.run("LLEN", "big") == .integer(Int64(model.count)))
        #expect(h.run("LMPOP", "1", "big", "RIGHT", "COUNT", "3") == .array([.bulk("big"), .strings(model.suffix(3).reversed())]))
        model.removeLast(3)
        #expect(list(h, "big") == model)
    }

    @Test func largeElements() {
        let h = EngineHarness()
        let big = String(repeating: "z", count: 20_000)
        h.run("RPUSH", "l", "a", big, "c")
        #expect(h.run("LRANGE", "l", "0", "-1") == .strings(["a", big, "c"]))
        #expect(h.run("RPOP", "l", "3") == .strings(["c", big, "a"]))
        h.run("RPUSH", "l", big)
        #expect(h.run("LSET", "l", "0", "small") == .ok)
        #expect(h.run("LPOP", "l") == .bulk("small"))
    }

    // MARK: reusable cores for the blocking commands

    @Test func popForBlocked() {
        let h = EngineHarness()
        h.run("RPUSH", "l", "a", "b", "c")
        h.run("SET", "s", "v")
        var writer = ReplyWriter(buffer: ByteBufferAllocator().buffer(capacity: 64))
        let db = h.db
        #expect(ListCommands.popForBlocked(engine: h.engine, db: db, key: Array("nosuch".utf8), side: .left, count: nil, reply: &writer) == .noList)
        #expect(ListCommands.popForBlocked(engine: h.engine, db: db, key: Array("s".utf8), side: .left, count: nil, reply: &writer) == .wrongType)
        #expect(writer.buffer.readableBytes == 0, "nothing written unless popped")
        #expect(ListCommands.popForBlocked(engine: h.engine, db: db, key: Array("l".utf8), side: .right, count: nil, reply: &writer) == .popped)
        #expect(writer.buffer.readString(length: writer.buffer.readableBytes) == "*2\r\n$1\r\nl\r\n$1\r\nc\r\n")
        #expect(ListCommands.popForBlocked(engine: h.engine, db: db, key: Array("l".utf8), side: .left, count: 5, reply: &writer) == .popped)
        #expect(writer.buffer.readString(length: writer.buffer.readableBytes) == "*2\r\n$1\r\nl\r\n*2\r\n$1\r\na\r\n$1\r\nb\r\n")
        #expect(!exists(h, "l"))
    }

    @Test func moveForBlocked() {
        let h = EngineHarness()
        h.run("RPUSH", "l", "a", "b")
        h.run("SET", "s", "v")
        var writer = ReplyWriter(buffer: ByteBufferAllocator().buffer(capacity: 64))
        let db = h.db
        func move(_ s: String, _ d: String, _ from: ListSide, _ to: ListSide) -> ListMoveResult {
            ListCommands.moveForBlocked(engine: h.engine, db: db, source: Array(s.utf8), destination: Array(d.utf8),
                                        from: from, to: to, reply: &writer)
        }
        #expect(move("nosuch", "d", .left, .left) == .noSource)
        #expect(move("s", "d", .left, .left) == .sourceWrongType)
        #expect(move("l", "s", .left, .left) == .destinationWrongType)
        #expect(writer.buffer.readableBytes == 0)
        #expect(move("l", "d", .right, .left) == .moved)
        #expect(writer.buffer.readString(length: writer.buffer.readableBytes) == "$1\r\nb\r\n")
        #expect(move("l", "d", .left, .left) == .moved)
        #expect(!exists(h, "l"))
        #expect(list(h, "d") == ["a", "b"])
    }

    @Test func parseMultiPopForBlmpop() {
        // A stand-in for BLMPOP timeout numkeys key ... : parses from argument 2 and echoes.
        let h = EngineHarness()
        h.engine.commands.register(CommandSpec("blmpoptest", arity: -5, flags: [.write], categories: [.write],
                                               group: "list", handler: { c in
            guard let r = ListCommands.parseMultiPop(c, numkeysIndex: 2) else { return }
            c.reply.arrayHeader(4)
            c.reply.integer(r.keys.lowerBound)
            c.reply.integer(r.keys.upperBound)
            c.reply.integer(r.side == .left ? 0 : 1)
            c.reply.integer(r.count)
        }))
        #expect(h.run("BLMPOPTEST", "0", "2", "a", "b", "RIGHT", "COUNT", "3") == ints([3, 5, 1, 3]))
        #expect(h.run("BLMPOPTEST", "0", "1", "a", "LEFT") == ints([3, 4, 0, 1]))
        #expect(h.run("BLMPOPTEST", "0", "0", "a", "RIGHT") == .err("ERR numkeys should be greater than 0"))
        #expect(h.run("BLMPOPTEST", "0", "2", "a", "RIGHT") == Self.syntax)
        #expect(h.run("BLMPOPTEST", "0", "1", "a", "RIGHT", "COUNT", "0") == .err("ERR count should be greater than 0"))
        let keys = ListCommands.multiPopKeys(numkeysIndex: 2)
        Arguments.with(["BLMPOP", "0", "2", "a", "b", "RIGHT", "COUNT", "3"].map { Array($0.utf8) }) { a in
            #expect(keys(a) == [3, 4])
        }
        Arguments.with(["BLMPOP", "0", "3", "a", "b"].map { Array($0.utf8) }) { a in
            #expect(keys(a) == [])
        }
    }
}

extension RESPValue {
    var listItems: [RESPValue]? {
        if case .array(let a) = self { return a }
        return nil
    }

    var listText: String? {
        if case .bulkString(let b?) = self { return String(decoding: b, as: UTF8.self) }
        return nil
    }
}
