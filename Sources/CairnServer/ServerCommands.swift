import CairnRESP
import CairnStorage

// Commands that need the server rather than the keyspace. Their handlers get the server they run
// on, typed: `Server.bind` closes over it when the server registers them.

enum ServerCommands {
    static func specs(_ server: Server) -> [CommandSpec] {
        [
                CommandSpec("quit", arity: -1, flags: [.allowBusy, .noAuth, .loading, .stale, .fast, .noscript],
                            categories: [.fast, .connection], group: "connection", summary: "Closes the connection.", handler: quit),
                CommandSpec("shutdown", arity: -1, flags: [.admin, .noscript, .loading, .stale, .noMulti, .allowBusy],
                            categories: [.admin, .slow, .dangerous], group: "server",
                            summary: "Synchronously saves the database(s) to disk and shuts down the Redis server.",
                            handler: server.bind(shutdown)),
            ] + ConnectionAdminCommands.specs(server) + IntrospectionCommands.specs(server)
                + [SlowLogCommand.spec(server), LatencyCommand.spec(server), MonitorCommand.spec(server), DebugCommand.spec(server),
                   MemoryCommand.spec(server)]
                + PersistenceCommands.specs(server) + ReplicationCommands.specs(server) + ClusterCommand.specs(server)
                + MigrateCommand.specs(server)
    }

    static func quit(_ c: CommandContext) {
        c.reply.ok()
        c.client.closeAfterReply = true
    }

    /// SHUTDOWN [NOSAVE|SAVE] [NOW] [FORCE] [ABORT]. With save points configured (or SAVE) the
    /// data is saved first; if that fails the node keeps running (unless FORCE). NOW changes
    /// nothing yet: there are no replicas to wait for.
    static func shutdown(_ s: Server, _ c: CommandContext) {
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
        s.logger.warning("User requested shutdown...")
        guard s.persistence.prepareForShutdown(save: save, nosave: nosave, force: force) else {
            return c.reply.error("ERR Errors trying to SHUTDOWN. Check logs.")
        }
        // Redis closes the connection without a reply when the shutdown succeeds.
        c.client.closeAfterReply = true
        s.loop.execute { s.shutdown() }
    }
}

extension Server {
    /// A handler for a server-level command, given this server (typed, no lookup): what the
    /// command specs above are built with when the server registers them.
    func bind(_ handler: @escaping @Sendable (Server, CommandContext) -> Void) -> CommandHandler {
        { [unowned(unsafe) self] c in handler(self, c) }
    }
}
