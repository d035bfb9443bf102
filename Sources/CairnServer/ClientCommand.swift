import CairnRESP
import CairnStorage

// CLIENT ID | SETNAME | GETNAME | SETINFO | LIST | INFO | KILL | HELP (Redis 7.0 networking.c;
// SETINFO and the lib-name/lib-ver fields as Redis 7.2, which redis-py relies on).

enum ClientCommand {
    static let badName = "ERR Client names cannot contain spaces, newlines or special characters."

    static func spec(_ server: Server) -> CommandSpec {
        CommandSpec(
            "client", arity: -2, flags: [], categories: [.slow], group: "connection", since: "2.4.0",
            summary: "A container for client connection commands",
            subcommands: [
                sub("id", 2, [], "5.0.0", "Returns the client ID for the current connection", id),
                sub("setname", 3, [], "2.6.9", "Set the current connection name", setName),
                sub("getname", 2, [], "2.6.9", "Get the current connection name", getName),
                sub("setinfo", 4, [], "7.2.0", "Set client or connection specific info", setInfo),
                sub("list", -2, [.admin], "2.4.0", "Get the list of client connections", server.bind(list)),
                sub("info", 2, [], "6.2.0", "Returns information about the current client connection.", server.bind(info)),
                sub("kill", -3, [.admin], "2.4.0", "Kill the connection of a client", server.bind(kill)),
                sub("no-evict", 3, [.admin], "7.0.0", "Set client eviction mode for the current connection", noEvict),
                sub("unblock", -3, [.admin], "5.0.0", "Unblock a client blocked in a blocking command from a different connection", server.bind(unblock)),
                sub("pause", -3, [.admin], "2.9.50", "Stop processing commands from clients for some time", server.bind(pause)),
                sub("unpause", 2, [.admin], "6.2.0", "Resume processing of clients that were paused", unpause),
                sub("reply", 3, [], "3.2.0", "Instruct the server whether to reply to commands", reply),
                sub("tracking", -3, [], "6.0.0", "Enable or disable server assisted client side caching support", server.bind(tracking)),
                sub("caching", 3, [], "6.0.0", "Instruct the server about tracking or not keys in the next request", caching),
                sub("getredir", 2, [], "6.0.0", "Get tracking notifications redirection client ID if any", getRedirect),
                sub("trackinginfo", 2, [], "6.2.0", "Return information about server assisted client side caching for the current connection", trackingInfo),
                CommandSpec("help", arity: 2, flags: [.loading, .stale], categories: [.slow, .connection],
                            group: "connection", since: "5.0.0",
                            summary: "Show helpful text about the different subcommands", handler: help),
            ],
            handler: { _ in }
        )
    }

    /// A subcommand with CLIENT's usual flags (`admin` ones are also @admin @dangerous).
    private static func sub(_ name: String, _ arity: Int, _ extra: CommandFlags, _ since: String,
                            _ summary: String, _ handler: @escaping CommandHandler) -> CommandSpec {
        let admin = extra.contains(.admin)
        return CommandSpec(name, arity: arity, flags: extra.union([.noscript, .loading, .stale]),
                           categories: admin ? [.admin, .slow, .dangerous, .connection] : [.slow, .connection],
                           group: "connection", since: since, summary: summary, handler: handler)
    }

    /// Redis's validateClientName: empty, or printable ASCII without spaces ('!'...'~').
    static func isValidName(_ name: [UInt8]) -> Bool {
        name.allSatisfy { $0 >= UInt8(ascii: "!") && $0 <= UInt8(ascii: "~") }
    }

    static func id(_ c: CommandContext) { c.reply.integer(c.client.id) }

    static func setName(_ c: CommandContext) {
        let name = c.args.bytes(2)
        guard isValidName(name) else { return c.reply.error(badName) }
        c.client.name = name.isEmpty ? nil : name
        c.reply.ok()
    }

    static func getName(_ c: CommandContext) {
        if let name = c.client.name { c.reply.bulk(name) } else { c.reply.null() }
    }

    /// CLIENT SETINFO LIB-NAME|LIB-VER value (an empty value clears it).
    static func setInfo(_ c: CommandContext) {
        let attribute = c.args.string(2)
        let value = c.args.bytes(3)
        let isName = c.args.matches(2, "lib-name")
        guard isName || c.args.matches(2, "lib-ver") else {
            return c.reply.error("ERR Unrecognized option '\(attribute)'")
        }
        guard isValidName(value) else {
            return c.reply.error("ERR \(attribute) cannot contain spaces, newlines or special characters.")
        }
        let stored: [UInt8]? = value.isEmpty ? nil : value
        if isName { c.client.libraryName = stored } else { c.client.libraryVersion = stored }
        c.reply.ok()
    }

    /// The client types of CLIENT LIST/KILL TYPE.
    enum ClientType { case normal, replica, pubsub, master }

    static func clientType(_ name: String) -> ClientType? {
        switch name.lowercased() {
        case "normal": return .normal
        case "slave", "replica": return .replica
        case "pubsub": return .pubsub
        case "master": return .master
        default: return nil
        }
    }

    /// Redis's getClientType: a master link, a replica link, a subscriber, or normal.
    static func type(of session: ClientSession) -> ClientType {
        if session.origin == .master { return .master }
        if session.isReplicaLink { return .replica }
        return session.subscriptions.isEmpty ? .normal : .pubsub
    }

    /// CLIENT LIST [TYPE type] | [ID id [id ...]]
    static func list(_ server: Server, _ c: CommandContext) {
        var text = ""
        if c.args.count == 4 && c.args.matches(2, "type") {
            guard let wanted = clientType(c.args.string(3)) else {
                return c.reply.error("ERR Unknown client type '", quoting: c.args[3], "'")
            }
            for s in server.clientSessions where type(of: s) == wanted { text += ClientInfo.line(s, server, c) + "\n" }
        } else if c.args.count > 3 && c.args.matches(2, "id") {
            var ids: [Int64] = []
            for i in 3..<c.args.count {
                guard let id = c.args.int64(i) else { return c.reply.error("ERR Invalid client ID") }
                ids.append(id)
            }
            for id in ids {
                if let s = server.session(id: id, current: c.client) { text += ClientInfo.line(s, server, c) + "\n" }
            }
        } else if c.args.count != 2 {
            return c.replySyntaxError()
        } else {
            for s in server.clientSessions { text += ClientInfo.line(s, server, c) + "\n" }
        }
        c.reply.verbatim(text)
    }

    static func info(_ server: Server, _ c: CommandContext) {
        c.reply.verbatim(ClientInfo.line(c.client, server, c) + "\n")
    }

    /// CLIENT KILL addr:port (old form: OK or an error) | CLIENT KILL <filter> <value> ... (a count).
    static func noEvict(_ c: CommandContext) {
        if c.args.matches(2, "on") { c.client.noEvict = true }
        else if c.args.matches(2, "off") { c.client.noEvict = false }
        else { return c.replySyntaxError() }
        c.reply.ok()
    }

    /// CLIENT UNBLOCK id [TIMEOUT|ERROR]: ends another client's blocking wait.
    static func unblock(_ server: Server, _ c: CommandContext) {
        guard let id = c.args.int64(2) else { return c.replyNotInteger() }
        var error: String? = nil
        if c.args.count == 4 {
            if c.args.matches(3, "error") { error = "UNBLOCKED client unblocked via CLIENT UNBLOCK" }
            else if !c.args.matches(3, "timeout") { return c.reply.error("ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR") }
        } else if c.args.count > 4 {
            return c.replySyntaxError()
        }
        guard let target = server.connection(id: id)?.session else { return c.reply.integer(0) }
        c.reply.integer(c.engine.unblock(target, withError: error) ? 1 : 0)
    }

    static func kill(_ server: Server, _ c: CommandContext) {
        var filter = KillFilter()
        let oldForm = c.args.count == 3
        if oldForm {
            filter.address = c.args.string(2)
            filter.skipMe = false  // with the old form a client may kill itself
        } else {
            var i = 2
            while i < c.args.count {
                guard i + 1 < c.args.count else { return c.replySyntaxError() }
                let value = c.args.string(i + 1)
                if c.args.matches(i, "id") {
                    guard let id = c.args.int64(i + 1), id >= 1 else {
                        return c.reply.error("ERR client-id should be greater than 0")
                    }
                    filter.id = id
                } else if c.args.matches(i, "type") {
                    guard let t = clientType(value) else { return c.reply.error("ERR Unknown client type '\(value)'") }
                    filter.type = t
                } else if c.args.matches(i, "addr") {
                    filter.address = value
                } else if c.args.matches(i, "laddr") {
                    filter.localAddress = value
                } else if c.args.matches(i, "user") {
                    guard server.acl.user(named: value) != nil else { return c.reply.error("ERR No such user '\(value)'") }
                    filter.user = value
                } else if c.args.matches(i, "skipme") {
                    if c.args.matches(i + 1, "yes") { filter.skipMe = true }
                    else if c.args.matches(i + 1, "no") { filter.skipMe = false }
                    else { return c.replySyntaxError() }
                } else {
                    return c.replySyntaxError()
                }
                i += 2
            }
        }
        var killed = 0
        for handler in server.clients {
            guard let s = handler.session, filter.matches(s, current: c.client) else { continue }
            if s === c.client {
                s.closeAfterReply = true  // after this reply is written
            } else {
                handler.kill()
            }
            killed += 1
        }
        // The master link: it reconnects and continues with PSYNC, as after CLIENT KILL in Redis.
        if let link = server.masterLink, let s = link.session, filter.matches(s, current: c.client) {
            link.disconnect()
            killed += 1
        }
        if oldForm {
            if killed == 0 { c.reply.error("ERR No such client") } else { c.reply.ok() }
        } else {
            c.reply.integer(killed)
        }
    }

    struct KillFilter {
        var id: Int64? = nil
        var type: ClientType? = nil
        var address: String? = nil
        var localAddress: String? = nil
        var user: String? = nil
        var skipMe = true

        func matches(_ s: ClientSession, current: ClientSession) -> Bool {
            if let address, s.address != address { return false }
            if let localAddress, s.localAddress != localAddress { return false }
            if let type, ClientCommand.type(of: s) != type { return false }
            if let id, s.id != id { return false }
            if let user, s.user != user { return false }
            if skipMe && s === current { return false }
            return true
        }
    }

    /// CLIENT REPLY ON|OFF|SKIP: OFF and SKIP have no reply (Engine.finishTopLevel drops the
    /// replies that follow).
    static func reply(_ c: CommandContext) {
        if c.args.matches(2, "on") {
            c.client.replyMode = .on
            c.reply.ok()
        } else if c.args.matches(2, "off") {
            c.client.replyMode = .off
        } else if c.args.matches(2, "skip") {
            if c.client.replyMode != .off { c.client.replyMode = .skipNext }
        } else {
            c.replySyntaxError()
        }
    }

    /// CLIENT TRACKING ON|OFF [REDIRECT id] [BCAST] [PREFIX p ...] [OPTIN] [OPTOUT] [NOLOOP]
    /// (Redis 7.0's clientCommand; the checks and their texts are in Engine.enableTracking).
    static func tracking(_ server: Server, _ c: CommandContext) {
        var options = Engine.TrackingOptions()
        var i = 3
        while i < c.args.count {
            let more = i + 1 < c.args.count
            if c.args.matches(i, "redirect") && more {
                i += 1
                guard options.redirect == 0 else { return c.reply.error("ERR A client can only redirect to a single other client") }
                guard let id = c.args.int64(i) else { return c.replyNotInteger() }
                guard server.session(id: id, current: c.client) != nil else {
                    return c.reply.error("ERR The client ID you want redirect to does not exist")
                }
                options.redirect = id
            } else if c.args.matches(i, "bcast") {
                options.bcast = true
            } else if c.args.matches(i, "optin") {
                options.optIn = true
            } else if c.args.matches(i, "optout") {
                options.optOut = true
            } else if c.args.matches(i, "noloop") {
                options.noLoop = true
            } else if c.args.matches(i, "prefix") && more {
                i += 1
                options.prefixes.append(c.args.bytes(i))
            } else {
                return c.replySyntaxError()
            }
            i += 1
        }
        if c.args.matches(2, "on") {
            if let error = c.engine.enableTracking(c.client, options) { return c.reply.error(error) }
        } else if c.args.matches(2, "off") {
            c.engine.disableTracking(c.client)
        } else {
            return c.replySyntaxError()
        }
        c.reply.ok()
    }

    static func caching(_ c: CommandContext) {
        let yes = c.args.matches(2, "yes")
        guard c.client.tracking == nil || yes || c.args.matches(2, "no") else { return c.replySyntaxError() }
        if let error = c.engine.setTrackingCaching(c.client, yes: yes) { return c.reply.error(error) }
        c.reply.ok()
    }

    static func getRedirect(_ c: CommandContext) {
        c.reply.integer(c.client.tracking?.redirect ?? -1)
    }

    /// CLIENT TRACKINGINFO: a map of flags, redirect and prefixes.
    static func trackingInfo(_ c: CommandContext) {
        let t = c.client.tracking
        var flags = [t == nil ? "off" : "on"]
        if let t {
            if t.bcast { flags.append("bcast") }
            if t.optIn { flags.append("optin"); if t.caching { flags.append("caching-yes") } }
            if t.optOut { flags.append("optout"); if t.caching { flags.append("caching-no") } }
            if t.noLoop { flags.append("noloop") }
            if t.brokenRedirect { flags.append("broken_redirect") }
        }
        c.reply.mapHeader(3)
        c.reply.bulk("flags")
        c.reply.setHeader(flags.count)
        for f in flags { c.reply.bulk(f) }
        c.reply.bulk("redirect")
        c.reply.integer(t?.redirect ?? -1)
        c.reply.bulk("prefixes")
        c.reply.arrayHeader(t?.prefixes.count ?? 0)
        for p in t?.prefixes ?? [] { c.reply.bulk(p) }
    }

    /// CLIENT PAUSE <timeout ms> [WRITE|ALL] (ALL by default).
    static func pause(_ server: Server, _ c: CommandContext) {
        guard c.args.count <= 4 else {
            return c.reply.error("ERR unknown subcommand or wrong number of arguments for '\(c.args.string(1))'. Try CLIENT HELP.")
        }
        var type = PauseType.all
        if c.args.count == 4 {
            if c.args.matches(3, "write") {
                type = .write
            } else if !c.args.matches(3, "all") {
                return c.reply.error("ERR CLIENT PAUSE mode must be WRITE or ALL")
            }
        }
        guard let timeout = c.args.int64(2) else { return c.reply.error("ERR timeout is not an integer or out of range") }
        guard timeout >= 0 else { return c.reply.error("ERR timeout is negative") }
        // As Redis's getTimeoutFromObjectOrReply: 0 stays 0, an end already past.
        let end = timeout > 0 ? Clock.unixMillis() &+ timeout : 0
        c.engine.pauseClients(.clientCommand, untilMillis: end, type: type)
        server.schedulePauseCheck()
        c.reply.ok()
    }

    static func unpause(_ c: CommandContext) {
        c.engine.unpauseClients(.clientCommand)
        c.reply.ok()
    }

    static func help(_ c: CommandContext) {
        Help.reply(c, command: "CLIENT", lines: [
            "CACHING (YES|NO)",
            "    Enable/disable tracking of the keys for next command in OPTIN/OPTOUT modes.",
            "GETREDIR",
            "    Return the client ID we are redirecting to when tracking is enabled.",
            "GETNAME",
            "    Return the name of the current connection.",
            "ID",
            "    Return the ID of the current connection.",
            "INFO",
            "    Return information about the current client connection.",
            "KILL <ip:port>",
            "    Kill connection made from <ip:port>.",
            "KILL <option> <value> [<option> <value> [...]]",
            "    Kill connections. Options are:",
            "    * ADDR (<ip:port>|<unixsocket>:0)",
            "      Kill connections made from the specified address",
            "    * LADDR (<ip:port>|<unixsocket>:0)",
            "      Kill connections made to specified local address",
            "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
            "      Kill connections by type.",
            "    * USER <username>",
            "      Kill connections authenticated by <username>.",
            "    * SKIPME (YES|NO)",
            "      Skip killing current connection (default: yes).",
            "LIST [options ...]",
            "    Return information about client connections. Options:",
            "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
            "      Return clients of specified type.",
            "UNPAUSE",
            "    Stop the current client pause, resuming traffic.",
            "PAUSE <timeout> [WRITE|ALL]",
            "    Suspend all, or just write, clients for <timeout> milliseconds.",
            "REPLY (ON|OFF|SKIP)",
            "    Control the replies sent to the current connection.",
            "SETNAME <name>",
            "    Assign the name <name> to the current connection.",
            "UNBLOCK <clientid> [TIMEOUT|ERROR]",
            "    Unblock the specified blocked client.",
            "TRACKING (ON|OFF) [REDIRECT <id>] [BCAST] [PREFIX <prefix> [...]]",
            "         [OPTIN] [OPTOUT] [NOLOOP]",
            "    Control server assisted client side caching.",
            "TRACKINGINFO",
            "    Report tracking status for the current connection.",
            "NO-EVICT (ON|OFF)",
            "    Protect current client connection from eviction.",
            // Redis 7.2's, which Cairn also has.
            "SETINFO <option> <value>",
            "    Set client meta attr. Options are:",
            "    * LIB-NAME: the client lib name.",
            "    * LIB-VER: the client lib version.",
        ])
    }
}

/// Redis's addReplyHelp: a title line, the command's lines, then HELP, as status replies.
enum Help {
    static func reply(_ c: CommandContext, command: String, lines: [String]) {
        c.reply.arrayHeader(lines.count + 3)
        c.reply.simpleString("\(command) <subcommand> [<arg> [value] [opt] ...]. Subcommands are:")
        for line in lines { c.reply.simpleString(line) }
        c.reply.simpleString("HELP")
        c.reply.simpleString("    Prints this help.")
    }
}

extension Server {
    /// Every connected client's session, oldest first.
    /// Every client: the connections, and this replica's link to its master (Redis lists it).
    var clientSessions: [ClientSession] { clients.compactMap(\.session) + (masterLink?.session.map { [$0] } ?? []) }

    /// The session with `id`: a connected client, or the calling one (which in tests may not be
    /// registered as a connection).
    func session(id: Int64, current: ClientSession) -> ClientSession? {
        if current.id == id { return current }
        return connection(id: id)?.session
    }
}
