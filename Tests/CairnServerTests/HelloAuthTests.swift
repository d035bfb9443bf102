@testable import CairnServer
import CairnRESP
import CairnStorage
import Testing

@Suite struct HelloAuthTests {
    static func withPassword(_ password: String) -> ServerSettings {
        var s = ServerSettings()
        s.requirepass = password
        return s
    }

    @Test func helloRepliesWithRedisMapInRESP2() {
        let h = ServerHarness()
        let reply = h.run("HELLO")
        guard case .array(let items?) = reply else { Issue.record("not an array: \(reply)"); return }
        #expect(items == [.bulk("server"), .bulk("redis"), .bulk("version"), .bulk("7.0.15"), .bulk("proto"), .integer(2),
                          .bulk("id"), .integer(7), .bulk("mode"), .bulk("standalone"), .bulk("role"), .bulk("master"),
                          .bulk("modules"), .array([])])
        #expect(!h.client.resp3)
    }

    @Test func hello3SwitchesToRESP3BeforeReplying() {
        let h = ServerHarness()
        let raw = h.raw("HELLO", "3")
        #expect(raw.hasPrefix("%7\r\n$6\r\nserver\r\n$5\r\nredis\r\n"))
        #expect(raw.contains("$5\r\nproto\r\n:3\r\n"))
        #expect(h.client.resp3)
        #expect(h.raw("HELLO", "2").hasPrefix("*14\r\n"))
        #expect(!h.client.resp3)
    }

    @Test func helloErrors() {
        let h = ServerHarness()
        #expect(h.run("HELLO", "1") == .err("NOPROTO unsupported protocol version"))
        #expect(h.run("HELLO", "4") == .err("NOPROTO unsupported protocol version"))
        #expect(h.run("HELLO", "abc") == .err("ERR Protocol version is not an integer or out of range"))
        #expect(h.run("HELLO", "3", "FOO") == .err("ERR Syntax error in HELLO option 'FOO'"))
        #expect(h.run("HELLO", "3", "AUTH", "default") == .err("ERR Syntax error in HELLO option 'AUTH'"))
        #expect(h.run("HELLO", "2", "SETNAME", "a b") == .err("ERR Client names cannot contain spaces, newlines or special characters."))
        #expect(!h.client.resp3, "a failed HELLO must not switch protocol")
    }

    @Test func helloSetsNameAndAuthenticates() {
        let h = ServerHarness(settings: Self.withPassword("secret"))
        #expect(!h.client.authenticated)
        #expect(h.run("HELLO").errorText?.hasPrefix("NOAUTH HELLO must be called with the client already authenticated") == true)
        #expect(h.run("HELLO", "3", "AUTH", "default", "wrong") == .err("WRONGPASS invalid username-password pair or user is disabled."))
        #expect(!h.client.authenticated)
        let reply = h.run("HELLO", "3", "AUTH", "default", "secret", "SETNAME", "worker")
        #expect(reply.field("proto") == .integer(3))
        #expect(h.client.authenticated)
        #expect(h.client.name == Array("worker".utf8))
    }

    @Test func authWithoutConfiguredPassword() {
        let h = ServerHarness()
        #expect(h.run("AUTH", "x") == .err("ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?"))
        #expect(h.run("AUTH", "default", "anything") == .ok)
        #expect(h.run("AUTH", "alice", "x") == .err("WRONGPASS invalid username-password pair or user is disabled."))
        #expect(h.run("AUTH", "a", "b", "c") == .err("ERR syntax error"))
        #expect(h.run("AUTH") == .err("ERR wrong number of arguments for 'auth' command"))
    }

    @Test func authWithRequirepass() {
        let h = ServerHarness(settings: Self.withPassword("secret"))
        #expect(h.run("GET", "k") == .err("NOAUTH Authentication required."))
        #expect(h.run("AUTH", "wrong") == .err("WRONGPASS invalid username-password pair or user is disabled."))
        #expect(h.run("AUTH", "default", "wrong") == .err("WRONGPASS invalid username-password pair or user is disabled."))
        #expect(h.run("AUTH", "secret") == .ok)
        #expect(h.run("GET", "k") == .nilBulk)
        #expect(h.run("AUTH", "default", "secret") == .ok)
    }

    @Test func resetRestoresAFreshConnection() {
        let h = ServerHarness(settings: Self.withPassword("secret"))
        #expect(h.run("AUTH", "secret") == .ok)
        h.run("HELLO", "3", "SETNAME", "n")
        #expect(h.run("SELECT", "3") == .ok)
        #expect(h.raw("RESET") == "+RESET\r\n")
        #expect(!h.client.resp3)
        #expect(h.client.db == 0)
        #expect(h.client.name == nil)
        #expect(!h.client.authenticated)
        #expect(h.run("CLIENT", "GETNAME") == .err("NOAUTH Authentication required."))
        #expect(h.run("RESET", "extra") == .err("ERR wrong number of arguments for 'reset' command"))
    }

    @Test func resetStaysAuthenticatedWithoutPassword() {
        let h = ServerHarness()
        #expect(h.run("RESET") == .simple("RESET"))
        #expect(h.client.authenticated)
    }

    @Test func passwordComparison() {
        #expect(Server.constantTimeEquals(Array("abc".utf8), Array("abc".utf8)))
        #expect(!Server.constantTimeEquals(Array("abc".utf8), Array("abd".utf8)))
        #expect(!Server.constantTimeEquals(Array("abc".utf8), Array("ab".utf8)))
        #expect(!Server.constantTimeEquals([], Array("a".utf8)))
        #expect(Server.constantTimeEquals([], []))
    }
}
