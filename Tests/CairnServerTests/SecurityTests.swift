@testable import CairnServer
import CairnRESP
import CairnStorage
import NIOCore
import Testing

@Suite struct SecurityTests {
    static let wrongPass = RESPValue.err("WRONGPASS invalid username-password pair or user is disabled.")

    // MARK: protected mode

    @Test func protectedModeRefusesOnlyRemoteClientsOfAPasswordlessDefaultUser() throws {
        let remote = try SocketAddress(ipAddress: "192.0.2.7", port: 40000)
        let remote6 = try SocketAddress(ipAddress: "2001:db8::1", port: 40000)
        let mapped = try SocketAddress(ipAddress: "::ffff:127.0.0.1", port: 40000)
        let loop4 = try SocketAddress(ipAddress: "127.0.0.1", port: 40000)
        let loop4b = try SocketAddress(ipAddress: "127.8.9.10", port: 40000)
        let loop6 = try SocketAddress(ipAddress: "::1", port: 40000)
        let unix = try SocketAddress(unixDomainSocketPath: "/tmp/cairn.sock")
        for address in [remote, remote6, mapped] {
            #expect(ProtectedMode.refuses(protectedMode: true, defaultUserIsNoPass: true, remote: address))
            #expect(!ProtectedMode.refuses(protectedMode: false, defaultUserIsNoPass: true, remote: address))
            #expect(!ProtectedMode.refuses(protectedMode: true, defaultUserIsNoPass: false, remote: address))
        }
        for address in [loop4, loop4b, loop6, unix] {
            #expect(!ProtectedMode.refuses(protectedMode: true, defaultUserIsNoPass: true, remote: address))
        }
        #expect(ProtectedMode.refuses(protectedMode: true, defaultUserIsNoPass: true, remote: nil))
    }

    @Test func protectedModeMessageIsRedis() {
        let m = ProtectedMode.deniedMessage
        #expect(m.hasPrefix("DENIED Redis is running in protected mode because protected mode is enabled and no password is set for the default user."))
        #expect(m.hasSuffix("NOTE: You only need to do one of the above things in order for the server to start accepting connections from the outside."))
        #expect(m.utf8.count == 1064)
        #expect(!m.contains("\r") && !m.contains("\n"))
    }

    @Test func protectedModeFollowsTheDefaultUser() throws {
        let h = ServerHarness()
        #expect(h.server.acl.defaultUser.nopass)
        #expect(h.run("ACL", "SETUSER", "default", ">pw") == .ok)
        #expect(!h.server.acl.defaultUser.nopass)
        #expect(h.server.authRequired)
    }

    // MARK: output buffer limits

    @Test func outputBufferLimitConfig() throws {
        var limits = OutputBufferLimits()
        #expect(limits.description == "normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60")
        try limits.apply(["normal 1mb 2k 10"])
        #expect(limits.normal == OutputBufferLimit(hard: 1_048_576, soft: 2000, softSeconds: 10))
        try limits.apply(["replica", "1", "2", "3", "pubsub", "4", "5", "6"])
        #expect(limits.description == "normal 1048576 2000 10 slave 1 2 3 pubsub 4 5 6")
        try limits.apply([""])
        let before = limits
        #expect(throws: ConfigError.self) { try limits.apply(["normal 1 2 3 nosuch 1 2 3"]) }
        #expect(limits == before, "all or nothing")
        for bad in ["normal 1 2", "normal x 2 3", "normal 1 2 x", "normal 1 2 -1", "master 1 2 3"] {
            #expect(throws: ConfigError.self) { try limits.apply([bad]) }
        }
    }

    @Test func hardLimitIsImmediateSoftLimitNeedsTime() {
        let hard = OutputBufferLimit(hard: 100, soft: 0, softSeconds: 0)
        var reached: Int64 = 0
        #expect(!OutputBufferLimits.exceeded(hard, used: 99, nowSeconds: 10, softReachedAt: &reached))
        #expect(OutputBufferLimits.exceeded(hard, used: 100, nowSeconds: 10, softReachedAt: &reached))

        let soft = OutputBufferLimit(hard: 0, soft: 50, softSeconds: 2)
        reached = 0
        #expect(!OutputBufferLimits.exceeded(soft, used: 60, nowSeconds: 100, softReachedAt: &reached))
        #expect(reached == 100)
        #expect(!OutputBufferLimits.exceeded(soft, used: 60, nowSeconds: 102, softReachedAt: &reached))
        #expect(OutputBufferLimits.exceeded(soft, used: 60, nowSeconds: 103, softReachedAt: &reached))
        // Dropping under the soft limit starts the clock again.
        reached = 100
        #expect(!OutputBufferLimits.exceeded(soft, used: 10, nowSeconds: 103, softReachedAt: &reached))
        #expect(reached == 0)
        let off = OutputBufferLimit(hard: 0, soft: 0, softSeconds: 0)
        #expect(!off.isActive)
        #expect(!OutputBufferLimits.exceeded(off, used: Int.max, nowSeconds: 1, softReachedAt: &reached))
    }

    @Test func outputBufferLimitDirective() throws {
        var s = ServerSettings()
        try ConfigFile.apply("client-output-buffer-limit normal 10mb 5mb 30\nclient-output-buffer-limit pubsub 0 0 0\nacllog-max-len 5", to: &s)
        #expect(s.outputBufferLimits.normal == OutputBufferLimit(hard: 10 * 1_048_576, soft: 5 * 1_048_576, softSeconds: 30))
        #expect(s.outputBufferLimits.pubsub == OutputBufferLimit(hard: 0, soft: 0, softSeconds: 0))
        #expect(s.acllogMaxLength == 5)
        let h = ServerHarness(settings: s)
        #expect(h.run("CONFIG", "GET", "acllog-max-len") == .array([.bulk("acllog-max-len"), .bulk("5")]))
        #expect(h.run("CONFIG", "SET", "acllog-max-len", "-1") == .err("ERR CONFIG SET failed (possibly related to argument 'acllog-max-len') - argument must be between 0 and 9223372036854775807 inclusive"))
    }

    // MARK: ACL through the dispatch path

    @Test func permissionsAreEnforcedBeforeACommandRuns() {
        let h = ServerHarness()
        #expect(h.run("ACL", "SETUSER", "u1", "on", ">p1", "~k*", "+@read", "+set") == .ok)
        let c = h.makeClient(id: 9)
        func run(_ words: String...) -> RESPValue { h.run(words.map { Array($0.utf8) }, as: c) }
        #expect(run("AUTH", "u1", "bad") == Self.wrongPass)
        #expect(run("AUTH", "u1", "p1") == .ok)
        #expect(c.user == "u1")
        #expect(run("SET", "k1", "v") == .ok)
        #expect(run("GET", "k1") == .bulk("v"))
        #expect(run("SET", "x", "v") == .err("NOPERM this user has no permissions to access one of the keys used as arguments"))
        #expect(run("DEL", "k1") == .err("NOPERM this user has no permissions to run the 'del' command"))
        #expect(run("CONFIG", "GET", "x") == .err("NOPERM this user has no permissions to run the 'config|get' command"))
        #expect(h.run("GET", "x") == .nilBulk, "the default user is unaffected")
        #expect(h.server.engine.databases[0].count == 1, "refused commands do not run")
        let log = h.run("ACL", "LOG")
        #expect(log.arrayValue?.count == 4)
        #expect(log.arrayValue?.first?.field("reason") == .bulk("command"))
        #expect(log.arrayValue?.first?.field("object") == .bulk("config|get"))
        #expect(log.arrayValue?.last?.field("reason") == .bulk("auth"))
        #expect(log.arrayValue?.last?.field("username") == .bulk("u1"))
    }

    @Test func refusedQueuedCommandAbortsTheTransaction() {
        let h = ServerHarness()
        h.run("ACL", "SETUSER", "u1", "on", "nopass", "~k*", "+@all")
        #expect(h.run("AUTH", "u1", "x") == .ok)
        #expect(h.run("MULTI") == .ok)
        #expect(h.run("GET", "other") == .err("NOPERM this user has no permissions to access one of the keys used as arguments"))
        #expect(h.run("EXEC") == .err("EXECABORT Transaction discarded because of previous errors."))
        let entry = h.run("ACL", "LOG", "1").arrayValue?.first
        #expect(entry?.field("context") == .bulk("multi"))
    }

    @Test func helloAuthGoesThroughUsers() {
        let h = ServerHarness(settings: HelloAuthTests.withPassword("secret"))
        h.client.authenticated = true
        #expect(h.run("ACL", "SETUSER", "bob", "on", ">pw", "+@all", "allkeys") == .ok)
        let c = h.makeClient(id: 11)
        #expect(!c.authenticated)
        #expect(h.run(["HELLO", "3", "AUTH", "bob", "nope"].map { Array($0.utf8) }, as: c) == Self.wrongPass)
        let reply = h.run(["HELLO", "3", "AUTH", "bob", "pw"].map { Array($0.utf8) }, as: c)
        #expect(reply.field("proto") == .integer(3))
        #expect(c.user == "bob" && c.authenticated)
        #expect(h.run(["ACL", "WHOAMI"].map { Array($0.utf8) }, as: c) == .bulk("bob"))
        // A disabled user cannot log in, even with the right password.
        h.run("ACL", "SETUSER", "bob", "off")
        #expect(h.run(["AUTH", "bob", "pw"].map { Array($0.utf8) }, as: c) == Self.wrongPass)
    }

    @Test func requirepassChangesTheDefaultUserOnlyWhenItChanges() {
        let h = ServerHarness(settings: HelloAuthTests.withPassword("secret"))
        #expect(h.run("AUTH", "secret") == .ok)
        #expect(h.run("ACL", "SETUSER", "default", ">second") == .ok)
        #expect(h.run("CONFIG", "SET", "hz", "20") == .ok)
        #expect(h.server.acl.defaultUser.passwords.count == 2)
        #expect(h.run("CONFIG", "SET", "requirepass", "third") == .ok)
        #expect(h.server.acl.defaultUser.passwords == [ACLHash.hex(Array("third".utf8))])
        #expect(h.run("CONFIG", "SET", "requirepass", "") == .ok)
        #expect(h.server.acl.defaultUser.nopass)
        #expect(h.run("AUTH", "x") == .err("ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?"))
    }

    @Test func deletingAUserClosesItsConnectionsAfterTheReply() {
        let h = ServerHarness()
        h.run("ACL", "SETUSER", "temp", "on", "nopass", "+@all")
        #expect(h.run("AUTH", "temp", "x") == .ok)
        #expect(h.run("ACL", "DELUSER", "temp") == .integer(1))
        #expect(h.client.closeAfterReply)
        #expect(h.client.user == "default")
    }

    @Test func configFileUsers() throws {
        var s = ServerSettings()
        try ConfigFile.apply("user alice on >pw ~k* +@read\nuser default on nopass ~* &* +@all\nuser sel on (~a* +get)", to: &s)
        #expect(s.aclUsers.count == 3)
        let h = ServerHarness(settings: s)
        #expect(h.run("ACL", "LIST") == .array([
            .bulk("user alice on #30c952fab122c3f9759f02a6d95c3758b246b4fee239957b2d4fee46e26170c4 ~k* resetchannels -@all +@read"),
            .bulk("user default on nopass sanitize-payload ~* &* +@all"),
            .bulk("user sel on resetchannels -@all (~a* resetchannels -@all +get)"),
        ]))
        func fatal(_ text: String) -> String? {
            var settings = ServerSettings()
            do { try ConfigFile.apply(text, to: &settings) } catch { return "\(error)" }
            return nil
        }
        #expect(fatal("user bob on foo")?.contains("Error in user declaration 'bob': Syntax error") == true)
        #expect(fatal("user a on\nuser a off")?.contains("Duplicate user found. A user can only be defined once in config files") == true)
        #expect(fatal("user")?.contains("Bad directive or wrong number of arguments") == true)
        #expect(fatal("user carol +nosuch") == nil, "unknown commands are only found when the server starts")
    }
}
