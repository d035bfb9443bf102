import CairnRESP
import CairnStorage
import Foundation

// ACL CAT | DELUSER | DRYRUN | GENPASS | GETUSER | LIST | LOAD | LOG | SAVE | SETUSER | USERS |
// WHOAMI | HELP (Redis 7.0 aclCommand): replies, checks and error texts as Redis's.

enum ACLCommand {
    static func spec(_ server: Server) -> CommandSpec {
        CommandSpec(
            "acl", arity: -2, flags: [], categories: [.slow], group: "server", since: "6.0.0",
            summary: "A container for Access List Control commands ",
            subcommands: [
                sub("cat", -2, admin: false, "List the ACL categories or the commands inside a category", cat),
                sub("deluser", -3, admin: true, "Remove the specified ACL users and the associated rules", server.bind(delUser)),
                sub("dryrun", -4, admin: true, "Returns whether the user can execute the given command without executing the command.", server.bind(dryRun), since: "7.0.0"),
                sub("genpass", -2, admin: false, "Generate a pseudorandom secure password to use for ACL users", genPass),
                sub("getuser", 3, admin: true, "Get the rules for a specific ACL user", server.bind(getUser)),
                sub("list", 2, admin: true, "List the current ACL rules in ACL config file format", server.bind(list)),
                sub("load", 2, admin: true, "Reload the ACLs from the configured ACL file", server.bind(load)),
                sub("log", -2, admin: true, "List latest events denied because of ACLs in place", server.bind(log)),
                sub("save", 2, admin: true, "Save the current ACL rules in the configured ACL file", server.bind(save)),
                sub("setuser", -3, admin: true, "Modify or create the rules for a specific ACL user", server.bind(setUser)),
                sub("users", 2, admin: true, "List the username of all the configured ACL rules", server.bind(users)),
                sub("whoami", 2, admin: false, "Return the name of the user associated to the current connection", whoAmI),
                CommandSpec("help", arity: 2, flags: [.loading, .stale], categories: [.slow], group: "server",
                            since: "6.0.0", summary: "Show helpful text about the different subcommands", handler: help),
            ],
            handler: { _ in }
        )
    }

    private static func sub(_ name: String, _ arity: Int, admin: Bool, _ summary: String,
                            _ handler: @escaping CommandHandler, since: String = "6.0.0") -> CommandSpec {
        CommandSpec(name, arity: arity, flags: admin ? [.admin, .noscript, .loading, .stale] : [.noscript, .loading, .stale],
                    categories: admin ? [.admin, .slow, .dangerous] : [.slow], group: "server", since: since,
                    summary: summary, handler: handler)
    }

    /// addReplySubcommandSyntaxError.
    static func syntaxError(_ c: CommandContext) {
        c.reply.error("ERR unknown subcommand or wrong number of arguments for '", quoting: c.args[1], limit: 128, "'. Try ACL HELP.")
    }

    static func whoAmI(_ c: CommandContext) { c.reply.bulk(c.client.user) }

    static func users(_ server: Server, _ c: CommandContext) {
        let names = server.acl.sortedNames
        c.reply.arrayHeader(names.count)
        for n in names { c.reply.bulk(n) }
    }

    static func list(_ server: Server, _ c: CommandContext) {
        let lines = ACLFile.lines(server.acl, c.engine.commands)
        c.reply.arrayHeader(lines.count)
        for line in lines { c.reply.bulk(line) }
    }

    static func setUser(_ server: Server, _ c: CommandContext) {
        let name = c.args.bytes(2)
        guard !ACLSelector.hasSpaces(name) else {
            return c.reply.error("ERR Usernames can't contain spaces or null characters")
        }
        let rules = (3..<c.args.count).map { c.args.bytes($0) }
        if let error = server.acl.setUser(String(decoding: name, as: UTF8.self), rules, table: c.engine.commands) {
            return c.reply.error(error)
        }
        c.reply.ok()
    }

    static func getUser(_ server: Server, _ c: CommandContext) {
        guard let u = server.acl.user(named: c.args.string(2)) else { return c.reply.null() }
        let table = c.engine.commands
        c.reply.mapHeader(6)
        c.reply.bulk("flags")
        let flags = u.flagNames
        c.reply.setHeader(flags.count)
        for f in flags { c.reply.bulk(f) }
        c.reply.bulk("passwords")
        c.reply.arrayHeader(u.passwords.count)
        for p in u.passwords { c.reply.bulk(p) }
        describe(c, u.root, table)
        c.reply.bulk("selectors")
        c.reply.arrayHeader(u.selectors.count)
        for s in u.selectors {
            c.reply.mapHeader(3)
            describe(c, s, table)
        }
    }

    private static func describe(_ c: CommandContext, _ s: ACLSelector, _ table: CommandTable) {
        c.reply.bulk("commands")
        c.reply.bulk(s.describeCommands(table))
        c.reply.bulk("keys")
        c.reply.bulk(s.keysDescription)
        c.reply.bulk("channels")
        c.reply.bulk(s.channelsDescription)
    }

    /// DELUSER: `default` anywhere refuses the whole call; clients authenticated as a removed user
    /// are disconnected (the caller after this reply).
    static func delUser(_ server: Server, _ c: CommandContext) {
        let names = (2..<c.args.count).map { c.args.string($0) }
        if names.contains("default") { return c.reply.error("ERR The 'default' user cannot be removed") }
        var removed = 0
        for name in names where server.acl.remove(name) {
            removed += 1
            server.disconnectClients(ofUser: name, current: c.client)
        }
        c.reply.integer(removed)
    }

    /// ACL CAT: all 21 Redis 7.0 categories; ACL CAT <category> lists the commands of Cairn's
    /// table only. The Redis 7.0 commands Cairn lacks (ACLRedisCommands) belong to their
    /// categories for ACL rules, but are not listed as commands this server has.
    static func cat(_ c: CommandContext) {
        if c.args.count == 2 {
            c.reply.arrayHeader(ACLCategories.names.count)
            for (_, name) in ACLCategories.names { c.reply.bulk(name) }
            return
        }
        guard c.args.count == 3 else { return syntaxError(c) }
        guard let category = ACLSelector.category(named: c.args.string(2)) else {
            return c.reply.error("ERR Unknown category '", quoting: c.args[2], limit: 128, "'")
        }
        let names = c.engine.commands.allIncludingSubcommands.filter { $0.spec.categories.contains(category) }.map(\.fullName)
        c.reply.arrayHeader(names.count)
        for n in names { c.reply.bulk(n) }
    }

    static func log(_ server: Server, _ c: CommandContext) {
        let acl = server.acl
        guard c.args.count <= 3 else { return syntaxError(c) }
        var count: Int64 = 10
        if c.args.count == 3 {
            if c.args.matches(2, "reset") {
                acl.resetLog()
                return c.reply.ok()
            }
            guard let n = c.args.int64(2) else { return c.replyNotInteger() }
            count = max(0, n)
        }
        let entries = acl.log.prefix(Int(min(count, Int64(Int.max))))
        let now = Clock.unixMillis()
        c.reply.arrayHeader(entries.count)
        for e in entries {
            c.reply.mapHeader(7)
            c.reply.bulk("count"); c.reply.integer(Int64(e.count))
            c.reply.bulk("reason"); c.reply.bulk(e.reason)
            c.reply.bulk("context"); c.reply.bulk(e.context)
            c.reply.bulk("object"); c.reply.bulk(e.object)
            c.reply.bulk("username"); c.reply.bulk(e.username)
            c.reply.bulk("age-seconds")
            c.reply.double(formatted: Array(String(format: "%.17g", Double(now - e.createdMillis) / 1000).utf8))
            c.reply.bulk("client-info"); c.reply.bulk(e.clientInfo)
        }
    }

    static func genPass(_ c: CommandContext) {
        var bits: Int64 = 256
        if c.args.count == 3 {
            guard let n = c.args.int64(2) else { return c.replyNotInteger() }
            bits = n
        } else if c.args.count > 3 {
            return syntaxError(c)
        }
        guard bits > 0 && bits <= 4096 else {
            return c.reply.error("ERR ACL GENPASS argument must be the number of bits for the output password, a positive number up to 4096")
        }
        let chars = Int((bits + 3) / 4)
        let digits = Array("0123456789abcdef".utf8)
        var rng = SystemRandomNumberGenerator()
        var out: [UInt8] = []
        out.reserveCapacity(chars)
        for _ in 0..<chars { out.append(digits[Int(rng.next() & 0x0f)]) }
        c.reply.bulk(out)
    }

    /// DRYRUN username command [arg ...]: the check the filter would make, with no side effects.
    static func dryRun(_ server: Server, _ c: CommandContext) {
        let acl = server.acl
        let name = c.args.string(2)
        guard let user = acl.user(named: name) else { return c.reply.error("ERR User '\(name)' not found") }
        let words = (3..<c.args.count).map { c.args.bytes($0) }
        guard var command = c.engine.commands.lookup(words[0]) else {
            return c.reply.error("ERR Command '", quoting: c.args[3], "' not found")
        }
        if let subs = command.subcommands, words.count >= 2 {
            guard let sub = subs.lookup(words[1]) else { return c.reply.error("ERR Command '", quoting: c.args[3], "' not found") }
            command = sub
        }
        guard command.spec.acceptsArgumentCount(words.count) else {
            return c.reply.error("ERR wrong number of arguments for '\(command.fullName)' command")
        }
        let denial = Arguments.with(words) { acl.check(user, command, $0) }
        switch denial {
        case nil: c.reply.ok()
        case .command: c.reply.bulk("This user has no permissions to run the '\(command.fullName)' command")
        case .key(let i): c.reply.bulk("This user has no permissions to access the '\(String(decoding: words[i], as: UTF8.self))' key")
        case .channel(let i): c.reply.bulk("This user has no permissions to access the '\(String(decoding: words[i], as: UTF8.self))' channel")
        }
    }

    static func noACLFile(_ c: CommandContext) {
        c.reply.error("ERR This Redis instance is not configured to use an ACL file. You may want to specify users via the ACL SETUSER command and then issue a CONFIG REWRITE (assuming you have a Redis configuration file set) in order to store users in the Redis configuration.")
    }

    static func load(_ server: Server, _ c: CommandContext) {
        guard !server.settings.aclfile.isEmpty else { return noACLFile(c) }
        if let errors = server.loadACLFile(current: c.client) { return c.reply.error("ERR " + errors) }
        c.reply.ok()
    }

    static func save(_ server: Server, _ c: CommandContext) {
        guard !server.settings.aclfile.isEmpty else { return noACLFile(c) }
        guard server.saveACLFile() else {
            return c.reply.error("ERR There was an error trying to save the ACLs. Please check the server logs for more information")
        }
        c.reply.ok()
    }

    static func help(_ c: CommandContext) {
        Help.reply(c, command: "ACL", lines: [
            "CAT [<category>]",
            "    List all commands that belong to <category>, or all command categories",
            "    when no category is specified.",
            "DELUSER <username> [<username> ...]",
            "    Delete a list of users.",
            "DRYRUN <username> <command> [<arg> ...]",
            "    Returns whether the user can execute the given command without executing the command.",
            "GETUSER <username>",
            "    Get the user's details.",
            "GENPASS [<bits>]",
            "    Generate a secure 256-bit user password. The optional `bits` argument can",
            "    be used to specify a different size.",
            "LIST",
            "    Show users details in config file format.",
            "LOAD",
            "    Reload users from the ACL file.",
            "LOG [<count> | RESET]",
            "    Show the ACL log entries.",
            "SAVE",
            "    Save the current config to the ACL file.",
            "SETUSER <username> <attribute> [<attribute> ...]",
            "    Create or modify a user with the specified attributes.",
            "USERS",
            "    List all the registered usernames.",
            "WHOAMI",
            "    Return the current connection username.",
        ])
    }
}

extension Server {
    /// Closes every connection authenticated as `user` (ACL DELUSER): the calling client once its
    /// reply is written, the others now. Each is first put back to the unauthenticated default
    /// user, as Redis does, so nothing more runs under the removed user.
    func disconnectClients(ofUser user: String, current: ClientSession?) {
        var sessions = clientSessions
        if let current, !sessions.contains(where: { $0 === current }) { sessions.append(current) }
        for s in sessions where s.user == user {
            s.user = "default"
            s.authenticated = false
            if s === current {
                s.closeAfterReply = true
            } else {
                connection(id: s.id)?.kill()
            }
        }
    }
}
