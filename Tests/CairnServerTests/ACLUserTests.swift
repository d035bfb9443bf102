@testable import CairnServer
import CairnRESP
import CairnStorage
import Testing

@Suite struct ACLUserTests {
    @Test func sha256MatchesTheFIPSVectors() {
        #expect(ACLHash.hex([]) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(ACLHash.hex(Array("abc".utf8)) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(ACLHash.hex(Array("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8))
                == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
        #expect(ACLHash.hex([UInt8](repeating: UInt8(ascii: "a"), count: 1_000_000))
                == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
        // Redis's hash of "pw", as ACL GETUSER shows it.
        #expect(ACLHash.hex(Array("pw".utf8)) == "30c952fab122c3f9759f02a6d95c3758b246b4fee239957b2d4fee46e26170c4")
    }

    static func table() -> CommandTable { ServerHarness().server.engine.commands }

    static func user(_ rules: String..., table: CommandTable) throws -> ACLUser {
        let u = ACLUser(name: "u")
        for r in rules { try u.apply(Array(r.utf8), table) }
        return u
    }

    @Test func passwordsAreStoredHashedOnly() throws {
        let t = Self.table()
        let u = try Self.user("on", ">secret", table: t)
        #expect(u.passwords == [ACLHash.hex(Array("secret".utf8))])
        #expect(u.accepts(password: Array("secret".utf8)))
        #expect(!u.accepts(password: Array("Secret".utf8)))
        #expect(!u.describe(t).contains("secret"))
        try u.apply(Array("<secret".utf8), t)
        #expect(u.passwords.isEmpty && !u.accepts(password: Array("secret".utf8)))
        #expect(throws: ACLRuleError.noSuchPassword) { try u.apply(Array("<secret".utf8), t) }
        #expect(throws: ACLRuleError.badHash) { try u.apply(Array("#ABC".utf8), t) }
        try u.apply(Array("nopass".utf8), t)
        #expect(u.accepts(password: Array("anything".utf8)))
    }

    @Test func ruleErrors() {
        let t = Self.table()
        let u = ACLUser(name: "u")
        let cases: [(String, ACLRuleError)] = [
            ("foo", .syntax), ("+nosuch", .unknownName), ("+@nosuch", .unknownName), ("-select|0", .unknownName),
            ("+config|nosuch", .unknownName), ("+get|x|y", .unknownName), ("+config|get|z", .firstArgOfSubcommand),
            ("%X~a", .syntax), ("%~a", .syntax), ("+select|", .syntax),
        ]
        for (rule, error) in cases {
            #expect(throws: error, "\(rule)") { try u.apply(Array(rule.utf8), t) }
        }
        #expect(throws: ACLRuleError.patternAfterAllKeys) {
            try u.apply(Array("allkeys".utf8), t)
            try u.apply(Array("~a".utf8), t)
        }
        #expect(ACLRuleError.patternAfterAllKeys.message.hasPrefix("Adding a pattern after the * pattern (or the 'allkeys' flag)"))
    }

    @Test func keyPatternsMergeAndDescribeAsRedis() throws {
        let t = Self.table()
        let u = try Self.user("%RW~b", "%R~b", "~c", "%R", "%W~w*", "%R~r*", table: t)
        #expect(u.root.keysDescription == "~b ~c %R~ %W~w* %R~r*")
        #expect(u.describe(t) == "off ~b ~c %R~ %W~w* %R~r* resetchannels -@all")
    }

    @Test func commandRulesDescribeAsRedis() throws {
        let t = Self.table()
        func rules(_ r: String...) throws -> String {
            let u = ACLUser(name: "u")
            for x in r { try u.apply(Array(x.utf8), t) }
            return u.root.describeCommands(t)
        }
        #expect(try rules() == "-@all")
        #expect(try rules("+@all") == "+@all")
        #expect(try rules("+@all", "-@dangerous") == "+@all -@dangerous")
        #expect(try rules("+@read", "+@write") == "-@all +@write +@read")
        // Cases whose description does not depend on commands Cairn lacks: Redis's @blocking also
        // holds read commands (XREAD) Cairn does not have yet, so "-@write" alone would describe
        // as "-@blocking -@write" here.
        #expect(try rules("+@all", "-@string", "+set") == "+@all -@string +set")
        #expect(try rules("+@all", "-@hash", "+hget") == "+@all -@hash +hget")
        #expect(try rules("+@read", "-get") == "-@all +@read -get")
        #expect(try rules("-get", "+@read") == "-@all +@read")
        #expect(try rules("nocommands", "+config", "-config|set") == "-@all +config -config|set")
        #expect(try rules("+@all", "-config|get") == "+@all -config|get")
        #expect(try rules("+select|0", "+select|1", "+select") == "-@all +select")
        #expect(try rules("+select|0", "+select|1", "-select") == "-@all")
        #expect(try rules("+SELECT|Ab", "+Config|Get") == "-@all +select|Ab +config|get")
        #expect(try rules("+@all", "-@all", "+get") == "-@all +get")
    }

    @Test func resetAndFlags() throws {
        let t = Self.table()
        let u = try Self.user("on", ">a", "allkeys", "allchannels", "+@all", "skip-sanitize-payload", "(+get ~x)", table: t)
        #expect(u.flagNames == ["on", "skip-sanitize-payload"])
        #expect(u.selectors.count == 1)
        try u.apply(Array("reset".utf8), t)
        #expect(u.flagNames == ["off", "sanitize-payload"])
        #expect(u.describe(t) == "off sanitize-payload resetchannels -@all")
    }

    @Test func selectorArgumentsMerge() {
        func merge(_ words: String...) -> [String]? {
            switch ACLState.mergeSelectorArguments(words.map { Array($0.utf8) }) {
            case .success(let m): return m.map { String(decoding: $0, as: UTF8.self) }
            case .failure: return nil
            }
        }
        #expect(merge("on", "(+get", "~a)", "(", "+set", ")") == ["on", "(+get ~a)", "( +set )"])
        #expect(merge("(+get ~a)") == ["(+get ~a)"])
        #expect(merge("(+get", "~a") == nil)
    }

    @Test func keyAccessFollowsKeySpecs() {
        let t = Self.table()
        func access(_ words: String...) -> [ACLKeyAccess] {
            let args = words.map { Array($0.utf8) }
            guard let c = ACLSelector.lookup(words[0], t) else { return [] }
            return Arguments.with(args) { ACLKeyAccess.keys(of: c, $0) }
        }
        #expect(access("get", "k") == [ACLKeyAccess(index: 1, read: true, write: false)])
        #expect(access("set", "k", "v") == [ACLKeyAccess(index: 1, read: false, write: true)])
        #expect(access("set", "k", "v", "GET") == [ACLKeyAccess(index: 1, read: true, write: true)])
        #expect(access("del", "a", "b") == [ACLKeyAccess(index: 1, read: false, write: true),
                                            ACLKeyAccess(index: 2, read: false, write: true)])
        #expect(access("exists", "a") == [ACLKeyAccess(index: 1, read: false, write: false)])
        #expect(access("ping").isEmpty)
    }
}
