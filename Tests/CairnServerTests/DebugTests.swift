@testable import CairnServer
import CairnRESP
import CairnStorage
import Testing

@Suite struct DebugTests {
    static func harness() -> ServerHarness {
        var settings = ServerSettings()
        settings.enableDebugCommand = "yes"
        return ServerHarness(settings: settings)
    }

    @Test func refusedUnlessEnabled() {
        let h = ServerHarness()
        #expect(h.run("DEBUG", "DIGEST") == .err(DebugCommand.notAllowed))
        var local = ServerSettings()
        local.enableDebugCommand = "local"
        let l = ServerHarness(settings: local)
        #expect(l.run("DEBUG", "DIGEST") == .simple(String(repeating: "0", count: 40)))
        l.client.address = "10.1.2.3:5000"
        #expect(l.run("DEBUG", "DIGEST") == .err(DebugCommand.notAllowed))
        #expect(h.run("CONFIG", "SET", "enable-debug-command", "yes")
            == .err("ERR CONFIG SET failed (possibly related to argument 'enable-debug-command') - can't set immutable config"))
    }

    @Test func unknownSubcommandsAndArity() {
        let h = Self.harness()
        #expect(h.run("DEBUG", "nosuch") == .err("ERR unknown subcommand or wrong number of arguments for 'nosuch'. Try DEBUG HELP."))
        #expect(h.run("debug", "object") == .err("ERR unknown subcommand or wrong number of arguments for 'object'. Try DEBUG HELP."))
        #expect(h.run("DEBUG") == .err("ERR wrong number of arguments for 'debug' command"))
        let help = h.run("DEBUG", "HELP").arrayValue?.compactMap(\.string) ?? []
        #expect(help.first == "DEBUG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:")
        #expect(help.contains("SLEEP <seconds>"))
    }

    @Test func populate() {
        let h = Self.harness()
        h.run("SET", "key:1", "mine")
        #expect(h.run("DEBUG", "POPULATE", "3") == .ok)
        #expect(h.run("DBSIZE") == .integer(3))
        #expect(h.run("GET", "key:0") == .bulk("value:0"))
        #expect(h.run("GET", "key:1") == .bulk("mine"))
        #expect(h.run("DEBUG", "POPULATE", "2", "p", "10") == .ok)
        #expect(h.run("GET", "p:1") == .bulkString(Array("value:1".utf8) + [0, 0, 0]))
        #expect(h.run("DEBUG", "POPULATE", "2", "q", "3") == .ok)
        #expect(h.run("GET", "q:1") == .bulk("val"))
        let positive = RESPValue.err("ERR value is out of range, must be positive")
        #expect(h.run("DEBUG", "POPULATE", "-1") == positive)
        #expect(h.run("DEBUG", "POPULATE", "abc") == positive)
        #expect(h.run("DEBUG", "POPULATE", "1", "x", "-1") == positive)
        #expect(h.run("DEBUG", "POPULATE", "1", "2", "3", "4") == .err("ERR unknown subcommand or wrong number of arguments for 'POPULATE'. Try DEBUG HELP."))
    }

    @Test func object() {
        let h = Self.harness()
        h.run("SET", "foo", "bar")
        h.run("SET", "n", "12345")
        h.run("SET", "small", "5")
        #expect(h.run("DEBUG", "OBJECT", "nokey") == .err("ERR no such key"))
        let line = h.run("DEBUG", "OBJECT", "foo").string ?? ""
        #expect(line.hasPrefix("Value at:0x"))
        #expect(line.contains(" refcount:1 encoding:embstr serializedlength:4 lru:"))
        #expect(line.hasSuffix(" lru_seconds_idle:0"))
        #expect((h.run("DEBUG", "OBJECT", "n").string ?? "").contains(" refcount:1 encoding:int serializedlength:3 "))
        #expect((h.run("DEBUG", "OBJECT", "small").string ?? "").contains(" refcount:2147483647 encoding:int serializedlength:2 "))
    }

    @Test func rdbLengths() {
        #expect(RDBLength.of(.int(100)) == 2)
        #expect(RDBLength.of(.int(12345)) == 3)
        #expect(RDBLength.of(.int(1 << 20)) == 5)
        #expect(RDBLength.of(.int(1 << 40)) == 1 + 13)
        #expect(RDBLength.of(Value.string(fromStored: Array("bar".utf8))) == 4)
        #expect(RDBLength.of(Value.string(fromStored: [UInt8](repeating: 65, count: 100))) == 102)
        // Redis: RPUSH l a b c 1 2 300 -> serializedlength:26, ql_uncompressed_size:23
        let l = QuickList(["a", "b", "c", "1", "2", "300"].map { Array($0.utf8) })
        #expect(RDBLength.of(.list(l)) == 26)
        #expect(RDBLength.listpackBytes(l.nodes[0]) == 23)
    }

    @Test func digestIsOrderIndependentAndSensitive() {
        let a = Self.harness()
        let b = Self.harness()
        let zero = RESPValue.simple(String(repeating: "0", count: 40))
        #expect(a.run("DEBUG", "DIGEST") == zero)
        for i in 0..<50 { a.run("SET", "k\(i)", "v\(i)") }
        for i in (0..<50).reversed() { b.run("SET", "k\(i)", "v\(i)") }
        let da = a.run("DEBUG", "DIGEST")
        #expect(da == b.run("DEBUG", "DIGEST"))
        #expect(da != zero)
        b.run("SET", "k3", "changed")
        #expect(da != b.run("DEBUG", "DIGEST"))
        b.run("SET", "k3", "v3")
        #expect(da == b.run("DEBUG", "DIGEST"))
        b.run("EXPIRE", "k3", "100")
        #expect(da != b.run("DEBUG", "DIGEST"))
        // The database number takes part.
        let c = Self.harness()
        c.run("SELECT", "1")
        for i in 0..<50 { c.run("SET", "k\(i)", "v\(i)") }
        #expect(da != c.run("DEBUG", "DIGEST"))
    }

    @Test func digestValueMatchesRedis() {
        let h = Self.harness()
        h.run("SET", "foo", "bar")
        h.run("SET", "n", "12345")
        h.run("EXPIRE", "n", "100")
        h.run("SET", "e", "")
        // Values from Redis 7.0.15.
        #expect(h.run("DEBUG", "DIGEST-VALUE", "n", "e", "foo", "nokey") == .array([
            .simple("074a6e8892a0b0b4fcf085794cb69322c36c9d00"), .simple("8b3447c33a834b810e3e181b6fd6a2ee1020921c"),
            .simple("68467c70ae30376e7ce005bcc8827f5ba7fd67dc"), .simple(String(repeating: "0", count: 40)),
        ]))
        #expect(h.run("DEBUG", "DIGEST-VALUE") == .array([]))
    }

    @Test func sha1KnownAnswers() {
        #expect(DatasetDigest.hex(SHA1.hash([UInt8]())) == "da39a3ee5e6b4b0d3255bfef95601890afd80709")
        #expect(DatasetDigest.hex(SHA1.hash(Array("abc".utf8))) == "a9993e364706816aba3e25717850c26c9cd0d89d")
        let long = Array("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8)
        #expect(DatasetDigest.hex(SHA1.hash(long)) == "84983e441c3bd26ebaae4aa1f95129e5e54670f1")
        #expect(DatasetDigest.hex(SHA1.hash([UInt8](repeating: 0x61, count: 1000))) == "291e9a6c66994949b57ba5e650361e98fc36b1ba")
    }

    @Test func setActiveExpireAndSleep() {
        let h = Self.harness()
        #expect(h.run("DEBUG", "SET-ACTIVE-EXPIRE", "0") == .ok)
        #expect(h.server.engine.settings.activeExpireEnabled == false)
        #expect(h.run("DEBUG", "SET-ACTIVE-EXPIRE", "2") == .ok)
        #expect(h.server.engine.settings.activeExpireEnabled == true)
        #expect(h.run("DEBUG", "SET-ACTIVE-EXPIRE", "abc") == .ok)
        #expect(h.server.engine.settings.activeExpireEnabled == false)
        let start = Clock.monotonicMicros()
        #expect(h.run("DEBUG", "SLEEP", "0.05") == .ok)
        #expect(Clock.monotonicMicros() - start >= 50_000)
        #expect(h.run("DEBUG", "SLEEP", "abc") == .ok)
        #expect(h.run("DEBUG", "SLEEP", "-1") == .ok)
    }
}
