import CairnStorage
import CairnTools
import Testing

@Suite struct RenderingTests {
    func jsonLine(_ key: [UInt8], _ value: Value, db: Int = 0, expireAt: Int64 = noExpiry) -> String {
        var out: [UInt8] = []
        EntryJSON.append(db: db, key: key, value: value, expireAt: expireAt, to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    func textLine(_ key: [UInt8], _ value: Value, expireAt: Int64 = noExpiry, now: Int64 = 0) -> String {
        var out: [UInt8] = []
        EntryText.append(db: 3, key: key, value: value, expireAt: expireAt, nowMs: now, to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    func commands(_ key: [UInt8], _ value: Value, expireAt: Int64 = noExpiry, batch: Int = 1000) throws -> [[String]] {
        var out: [UInt8] = []
        var flushed: [UInt8] = []
        try KeyCommands.append(key: key, value: value, expireAt: expireAt, itemsPerCommand: batch, to: &out) { pending in
            flushed += pending
            pending.removeAll()
        }
        flushed += out
        return try #require(parseCommands(flushed)).map(text)
    }

    @Test func jsonLinesPerType() {
        #expect(jsonLine(b("s"), Samples.string(b("v\u{1}"))) == #"{"db":0,"key":"s","type":"string","value":"v\u0001","expire_at_ms":-1}"#)
        #expect(jsonLine(b("i"), Samples.string(b("-42")), db: 5, expireAt: 1_700_000_000_123)
                == #"{"db":5,"key":"i","type":"string","value":"-42","expire_at_ms":1700000000123}"#)
        #expect(jsonLine(b("l"), Samples.list([b("a"), [0xff], b("")])) == #"{"db":0,"key":"l","type":"list","value":["a","ÿ",""],"expire_at_ms":-1}"#)
        #expect(jsonLine(b("st"), Samples.set([b("3"), b("1"), b("2")])) == #"{"db":0,"key":"st","type":"set","value":["1","2","3"],"expire_at_ms":-1}"#)
        #expect(jsonLine(b("h"), Samples.hash([(b("f1"), b("v1")), (b("f2"), b("v\"2"))]))
                == #"{"db":0,"key":"h","type":"hash","value":[["f1","v1"],["f2","v\"2"]],"expire_at_ms":-1}"#)
        #expect(jsonLine(b("z"), Samples.zset([(b("b"), 2.5), (b("a"), 1), (b("c"), -.infinity), (b("d"), 0.1)]))
                == #"{"db":0,"key":"z","type":"zset","value":[["c","-inf"],["d","0.10000000000000001"],["a","1"],["b","2.5"]],"expire_at_ms":-1}"#)
        #expect(jsonLine(b("empty"), Samples.list([])) == #"{"db":0,"key":"empty","type":"list","value":[],"expire_at_ms":-1}"#)
    }

    @Test func textLinesPerType() {
        #expect(textLine(b("k\n"), Samples.string(b("a b"))) == #"db=3 key="k\n" type=string ttl=-1 value="a b""#)
        #expect(textLine(b("l"), Samples.list([b("x"), [0]])) == #"db=3 key="l" type=list ttl=-1 value=["x", "\x00"]"#)
        #expect(textLine(b("s"), Samples.set([b("7")])) == #"db=3 key="s" type=set ttl=-1 value={"7"}"#)
        #expect(textLine(b("h"), Samples.hash([(b("f"), b("v"))])) == #"db=3 key="h" type=hash ttl=-1 value={"f": "v"}"#)
        #expect(textLine(b("z"), Samples.zset([(b("m"), 1.5)]), expireAt: 5000, now: 1000)
                == #"db=3 key="z" type=zset ttl=4000ms expire_at_ms=5000 value={"m": 1.5}"#)
        #expect(textLine(b("z"), Samples.zset([(b("m"), 1.5)]), expireAt: 5000, now: 6000)
                == #"db=3 key="z" type=zset ttl=expired expire_at_ms=5000 value={"m": 1.5}"#)
    }

    @Test func respSelectsTheDatabase() {
        var select: [UInt8] = []
        var stream = CommandStreamEncoder()
        stream.select(12, to: &select)
        #expect(select == b("*2\r\n$6\r\nSELECT\r\n$2\r\n12\r\n"))
    }

    @Test func respCommandsPerType() throws {
        #expect(try commands(b("s"), Samples.string(b("v"))) == [["SET", "s", "v"]])
        #expect(try commands(b("n"), Samples.string(b("12"))) == [["SET", "n", "12"]])
        #expect(try commands(b("l"), Samples.list([b("a"), b("b")])) == [["RPUSH", "l", "a", "b"]])
        #expect(try commands(b("st"), Samples.set([b("2"), b("1")])) == [["SADD", "st", "1", "2"]])
        #expect(try commands(b("h"), Samples.hash([(b("f"), b("v")), (b("g"), b("w"))])) == [["HSET", "h", "f", "v", "g", "w"]])
        #expect(try commands(b("z"), Samples.zset([(b("a"), 1.5), (b("b"), .infinity)])) == [["ZADD", "z", "1.5", "a", "inf", "b"]])
        #expect(try commands(b("e"), Samples.string(b("v")), expireAt: 1_700_000_000_000)
                == [["SET", "e", "v"], ["PEXPIREAT", "e", "1700000000000"]])
        #expect(try commands(b("empty"), Samples.list([])) == [])
    }

    @Test func respBatchesBigCollections() throws {
        let items = (0..<7).map { b("e\($0)") }
        let list = try commands(b("l"), Samples.list(items), batch: 3)
        #expect(list == [["RPUSH", "l", "e0", "e1", "e2"], ["RPUSH", "l", "e3", "e4", "e5"], ["RPUSH", "l", "e6"]])
        let hash = try commands(b("h"), Samples.hash([(b("a"), b("1")), (b("b"), b("2")), (b("c"), b("3"))]), batch: 2)
        #expect(hash == [["HSET", "h", "a", "1", "b", "2"], ["HSET", "h", "c", "3"]])
        let zset = try commands(b("z"), Samples.zset([(b("a"), 1), (b("b"), 2), (b("c"), 3), (b("d"), 4)]), batch: 2)
        #expect(zset == [["ZADD", "z", "1", "a", "2", "b"], ["ZADD", "z", "3", "c", "4", "d"]])
        let set = try commands(b("s"), Samples.set([b("1"), b("2"), b("3")]), batch: 3)
        #expect(set == [["SADD", "s", "1", "2", "3"]])
    }

    @Test func respKeepsBinaryBytes() throws {
        var out: [UInt8] = []
        try KeyCommands.append(key: [0, 0xff, 13, 10], value: Samples.string([10, 0]), expireAt: noExpiry, itemsPerCommand: 1000, to: &out) { _ in }
        #expect(parseCommands(out) == [[b("SET"), [0, 0xff, 13, 10], [10, 0]]])
    }

    @Test func storedTypeNames() {
        #expect(ValueFacts.storedTypeName(RDBFormat.typeListQuicklist2) == "list-quicklist2")
        #expect(ValueFacts.storedTypeName(RDBFormat.typeSetIntset) == "set-intset")
        #expect(ValueFacts.storedTypeName(RDBFormat.typeStreamListpacks) == "stream")
        #expect(ValueFacts.elementCount(Samples.string(b("hello"))) == 5)
        #expect(ValueFacts.elementCount(Samples.string(b("12345"))) == 5)
        #expect(ValueFacts.elementCount(Samples.hash([(b("f"), b("v"))])) == 1)
    }
}
