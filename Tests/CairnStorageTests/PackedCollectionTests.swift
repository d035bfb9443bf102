import CairnRESP
@testable import CairnStorage
import Testing

/// Small hashes and sorted sets live packed in their key's record; a write works on the engine's
/// scratch copy (PackedScratch) and stores it back. These check that every way a write ends gives
/// the copy back, that a conversion hands the object to the record for good, and that no write
/// leaks into another key through the shared scratch.
@Suite struct PackedCollectionTests {
    func table(_ h: EngineHarness) -> KeyTable { h.engine.databases[0].table }
    func isPacked(_ h: EngineHarness, _ key: String) -> Bool {
        table(h).find(Array(key.utf8)).map { table(h).isPacked(at: $0) } ?? false
    }

    @Test func everyHashWriteGivesTheCopyBack() {
        let h = EngineHarness()
        #expect(h.run("HSET", "h", "f", "1", "g", "x") == .integer(2))
        #expect(isPacked(h, "h"))
        let writes: [([String], RESPValue)] = [
            (["HSET", "h", "f", "1"], .integer(0)),                       // same value
            (["HSETNX", "h", "f", "2"], .integer(0)),                     // field exists
            (["HDEL", "h", "nope"], .integer(0)),                         // nothing deleted
            (["HINCRBY", "h", "g", "1"], .err("ERR hash value is not an integer")),
            (["HINCRBYFLOAT", "h", "g", "1"], .err("ERR hash value is not a float")),
            (["HINCRBY", "h", "f", "9223372036854775807"], .err("ERR increment or decrement would overflow")),
            (["HINCRBY", "h", "f", "2"], .integer(3)),
            (["HDEL", "h", "g"], .integer(1)),
        ]
        for (words, reply) in writes {
            #expect(h.run(words.map { Array($0.utf8) }) == reply, "\(words)")
            #expect(h.engine.packedScratch.holds.hash, "\(words) kept the scratch")
        }
        #expect(h.run("HGETALL", "h") == .array([.bulk("f"), .bulk("3")]))
    }

    @Test func everySortedSetWriteGivesTheCopyBack() {
        let h = EngineHarness()
        #expect(h.run("ZADD", "z", "1", "a", "2", "b") == .integer(2))
        #expect(isPacked(h, "z"))
        let writes: [([String], RESPValue)] = [
            (["ZADD", "z", "1", "a"], .integer(0)),                       // unchanged
            (["ZADD", "z", "NX", "5", "a"], .integer(0)),                 // skipped
            (["ZREM", "z", "nope"], .integer(0)),
            (["ZREMRANGEBYSCORE", "z", "10", "20"], .integer(0)),
            (["ZINCRBY", "z", "inf", "a"], .bulk("inf")),
            (["ZINCRBY", "z", "-inf", "a"], .err("ERR resulting score is not a number (NaN)")),
            (["ZADD", "z", "3", "c"], .integer(1)),
            (["ZPOPMIN", "z"], .array([.bulk("b"), .bulk("2")])),
            (["ZREM", "z", "c"], .integer(1)),
        ]
        for (words, reply) in writes {
            #expect(h.run(words.map { Array($0.utf8) }) == reply, "\(words)")
            #expect(h.engine.packedScratch.holds.zset, "\(words) kept the scratch")
        }
        #expect(h.run("ZRANGE", "z", "0", "-1", "WITHSCORES") == .array([.bulk("a"), .bulk("inf")]))
    }

    /// A write that converts a packed hash to a hashtable gives the record that object: it must
    /// not stay the scratch, or the next write to another small hash would change it.
    @Test func aConvertedCollectionIsNotTheScratch() {
        let h = EngineHarness()
        h.run("HSET", "small", "f", "1")
        h.run("HSET", "big", "f", "1")
        h.run("HSET", "big", "long", String(repeating: "x", count: 100))
        #expect(!isPacked(h, "big") && isPacked(h, "small"))
        #expect(!h.engine.packedScratch.holds.hash)
        h.run("HSET", "small", "g", "2")
        #expect(h.run("HLEN", "big") == .integer(2) && h.run("HGET", "big", "g") == .bulkString(nil))
        #expect(h.run("HGETALL", "small") == .array([.bulk("f"), .bulk("1"), .bulk("g"), .bulk("2")]))
        h.run("ZADD", "zs", "1", "a")
        h.run("ZADD", "zb", "1", "a")
        h.run("ZADD", "zb", "2", String(repeating: "m", count: 100))
        #expect(!isPacked(h, "zb") && !h.engine.packedScratch.holds.zset)
        h.run("ZADD", "zs", "5", "b")
        #expect(h.run("ZCARD", "zb") == .integer(2) && h.run("ZSCORE", "zb", "b") == .bulkString(nil))
        #expect(h.run("ZRANGE", "zs", "0", "-1") == .array([.bulk("a"), .bulk("b")]))
        #expect(table(h).validate() == nil)
    }
}
