import CairnRESP
import CairnStorage

// Commands that need the server rather than the keyspace.

enum ServerCommands {
    static let specs: [CommandSpec] = [
        CommandSpec("quit", arity: -1, flags: [.allowBusy, .noAuth, .loading, .stale, .fast, .noscript],
                    categories: [.fast, .connection], group: "connection", summary: "Closes the connection.", handler: quit),
        CommandSpec("shutdown", arity: -1, flags: [.admin, .noscript, .loading, .stale, .noMulti, .allowBusy],
                    categories: [.admin, .slow, .dangerous], group: "server",
                    summary: "Synchronously saves the database(s) to disk and shuts down the Redis server.", handler: shutdown),
    ] + ConnectionAdminCommands.specs + IntrospectionCommands.specs
        + [SlowLogCommand.spec, LatencyCommand.spec, MonitorCommand.spec, DebugCommand.spec, MemoryCommand.spec]
        + PersistenceCommands.specs

    static func server(_ c: CommandContext) -> Server {
        // The engine's host is always the Server that created it (see Server.init).
        c.engine.host as! Server
    }

    static func quit(_ c: CommandContext) {
        c.reply.ok()
        c.client.closeAfterReply = true
    }

    /// SHUTDOWN [NOSAVE|SAVE] [NOW] [FORCE] [ABORT]. With save points configured (or SAVE) the
    /// data is saved first; if that fails the node keeps running (unless FORCE). NOW changes
    /// nothing yet: there are no replicas to wait for.
    static func shutdown(_ c: CommandContext) {
        var save = false, nosave = false, force = false, abort = false
        for i in 1..<c.args.count {
            if c.args.matches(i, "nosave") {
                nosave = true
            } else if c.args.matches(i, "save") {
                save = true
            } else if c.args.matches(i, "now") {
                continue
            } else if c.args.matches(i, "force") {
                force = true
            } else if c.args.matches(i, "abort") {
                abort = true
            } else {
                return c.replySyntaxError()
            }
        }
        if (abort && c.args.count != 2) || (save && nosave) { return c.replySyntaxError() }
        if abort { return c.reply.error("ERR No shutdown in progress.") }
        let s = server(c)
        s.logger.warning("User requested shutdown...")
        guard s.prepareForShutdown(save: save, nosave: nosave, force: force) else {
            return c.reply.error("ERR Errors trying to SHUTDOWN. Check logs.")
        }
        // Redis closes the connection without a reply when the shutdown succeeds.
        c.client.closeAfterReply = true
        s.loop.execute { s.shutdown() }
    }
}
