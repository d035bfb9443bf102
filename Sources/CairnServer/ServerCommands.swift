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

    static func server(_ c: CommandContext) -> Server {
        // The engine's host is always the Server that created it (see Server.init).
        c.engine.host as! Server
    }

    static func quit(_ c: CommandContext) {
        c.reply.ok()
        c.client.closeAfterReply = true
    }

    /// SHUTDOWN [NOSAVE|SAVE] [NOW] [FORCE] [ABORT]. Nothing is persisted yet (RDB comes with its
    /// own issue), so SAVE/NOSAVE only change the log line.
    static func shutdown(_ c: CommandContext) {
        var abort = false
        for i in 1..<c.args.count {
            if c.args.matches(i, "nosave") || c.args.matches(i, "save") || c.args.matches(i, "now") || c.args.matches(i, "force") {
                continue
            } else if c.args.matches(i, "abort") {
                abort = true
            } else {
                return c.replySyntaxError()
            }
        }
        if abort { return c.reply.error("ERR No shutdown in progress.") }
        let s = server(c)
        // Redis closes the connection without a reply when the shutdown succeeds.
        c.client.closeAfterReply = true
        s.loop.execute { s.shutdown(reason: "User requested shutdown...") }
    }
}
