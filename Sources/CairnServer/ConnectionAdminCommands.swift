import CairnRESP
import Crypto
import CairnStorage

// HELLO, AUTH, RESET and the CLIENT container: the commands that change or describe the
// connection itself. Texts and checks follow Redis 7.0's networking.c and acl.c.

enum ConnectionAdminCommands {
    static func specs(_ server: Server) -> [CommandSpec] {
        [
            CommandSpec("hello", arity: -1, flags: [.noscript, .loading, .stale, .fast, .noAuth, .allowBusy],
                        categories: [.fast, .connection], group: "connection", since: "6.0.0",
                        summary: "Handshake with Redis", handler: server.bind(hello)),
            CommandSpec("auth", arity: -2, flags: [.noscript, .loading, .stale, .fast, .noAuth, .allowBusy],
                        categories: [.fast, .connection], group: "connection", since: "1.0.0",
                        summary: "Authenticate to the server", handler: server.bind(auth)),
            CommandSpec("reset", arity: 1, flags: [.noscript, .loading, .stale, .fast, .noAuth, .allowBusy],
                        categories: [.fast, .connection], group: "connection", since: "6.2.0",
                        summary: "Reset the connection", handler: server.bind(reset)),
            ClientCommand.spec(server),
        ]
    }

    static let wrongPass = "WRONGPASS invalid username-password pair or user is disabled."

    /// HELLO [protover [AUTH username password] [SETNAME clientname]]
    static func hello(_ server: Server, _ c: CommandContext) {
        var version: Int64? = nil
        var next = 1
        if c.args.count >= 2 {
            guard let v = c.args.int64(1) else {
                return c.reply.error("ERR Protocol version is not an integer or out of range")
            }
            guard v == 2 || v == 3 else { return c.reply.error("NOPROTO unsupported protocol version") }
            version = v
            next = 2
        }
        var credentials: (user: [UInt8], password: [UInt8])? = nil
        var name: [UInt8]? = nil
        var j = next
        while j < c.args.count {
            let more = c.args.count - 1 - j
            if c.args.matches(j, "auth") && more >= 2 {
                credentials = (c.args.bytes(j + 1), c.args.bytes(j + 2))
                j += 2
            } else if c.args.matches(j, "setname") && more >= 1 {
                let candidate = c.args.bytes(j + 1)
                guard ClientCommand.isValidName(candidate) else { return c.reply.error(ClientCommand.badName) }
                name = candidate
                j += 1
            } else {
                return c.reply.error("ERR Syntax error in HELLO option '", quoting: c.args[j], "'")
            }
            j += 1
        }
        if let credentials {
            guard server.authenticate(c, user: credentials.user, password: credentials.password) else {
                return c.reply.error(wrongPass)
            }
        }
        guard c.client.authenticated else {
            return c.reply.error("NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time")
        }
        if let name { c.client.name = name.isEmpty ? nil : name }
        if let version { c.client.resp3 = version == 3 }
        c.reply.mapHeader(7)
        c.reply.bulk("server"); c.reply.bulk("redis")
        c.reply.bulk("version"); c.reply.bulk(Server.redisVersion)
        c.reply.bulk("proto"); c.reply.integer(c.client.resp3 ? 3 : 2)
        c.reply.bulk("id"); c.reply.integer(c.client.id)
        c.reply.bulk("mode"); c.reply.bulk("standalone")
        c.reply.bulk("role"); c.reply.bulk(server.masterLink == nil ? "master" : "replica")
        c.reply.bulk("modules"); c.reply.arrayHeader(0)
    }

    /// AUTH [username] password
    static func auth(_ server: Server, _ c: CommandContext) {
        guard c.args.count <= 3 else { return c.replySyntaxError() }
        let user: [UInt8]
        let password: [UInt8]
        if c.args.count == 2 {
            guard !server.acl.defaultUser.nopass else {
                return c.reply.error("ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?")
            }
            user = Array("default".utf8)
            password = c.args.bytes(1)
        } else {
            user = c.args.bytes(1)
            password = c.args.bytes(2)
        }
        guard server.authenticate(c, user: user, password: password) else { return c.reply.error(wrongPass) }
        c.reply.ok()
    }

    /// RESET: back to a fresh connection's state (RESP2, db 0, no name, default user).
    static func reset(_ server: Server, _ c: CommandContext) {
        c.client.transaction = nil
        c.engine.unwatchAll(c.client)
        c.engine.unsubscribeAll(c.client)
        c.engine.disableTracking(c.client)
        c.client.replyMode = .on
        c.client.clusterAsking = false
        c.client.clusterReadOnly = false
        c.client.db = 0
        c.client.resp3 = false
        c.client.name = nil
        c.client.user = "default"
        c.client.authenticated = !server.authRequired
        c.reply.simpleString("RESET")
    }
}

extension Server {
    /// The Redis version Cairn answers as (HELLO, INFO `redis_version`).
    static let redisVersion = "7.0.15"
    static let cairnVersion = CairnVersion.current
    /// INFO redis_build_id: 16 hex digits naming this build (Redis hashes its version and build
    /// details the same way), from Cairn's version.
    static let buildID: String = {
        let digest = SHA256.hash(data: Array("cairn-\(cairnVersion)".utf8))
        let hex = Array("0123456789abcdef".utf8)
        return String(decoding: digest.prefix(8).flatMap { [hex[Int($0 >> 4)], hex[Int($0 & 15)]] }, as: UTF8.self)
    }()

    /// AUTH / HELLO AUTH through the ACL users (Redis's ACLAuthenticateUser): on success the
    /// client runs as `user`; on failure the attempt goes to the ACL LOG (reason `auth`, object the
    /// command name as sent). Passwords are compared as SHA-256 hashes and never logged.
    func authenticate(_ c: CommandContext, user: [UInt8], password: [UInt8]) -> Bool {
        if let u = acl.authenticate(name: user, password: password) {
            c.client.authenticated = true
            c.client.user = u.name
            return true
        }
        acl.addLogEntry(reason: "auth", context: c.client.transaction != nil ? "multi" : "toplevel",
                        object: c.args.bytes(0), username: user, client: c.client, args: c.args)
        return false
    }

    /// Compares without an early exit, so the time taken does not tell how much of a guess matched.
    static func constantTimeEquals(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        var difference = UInt8(truncatingIfNeeded: a.count ^ b.count)
        for i in 0..<max(a.count, b.count) {
            let x = i < a.count ? a[i] : 0
            let y = i < b.count ? b[i] : 0
            difference |= x ^ y
        }
        return difference == 0 && a.count == b.count
    }
}
