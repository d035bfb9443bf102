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

    /// SHUTDOWN [NOSAVE|SAVE] [NOW] [FORCE] [ABORT]: ServerShutdown.swift.
    static func shutdown(_ s: Server, _ c: CommandContext) {
        Server.shutdownCommand(s, c)
    }
}

extension Server {
    /// A handler for a server-level command, given this server (typed, no lookup): what the
    /// command specs above are built with when the server registers them.
    func bind(_ handler: @escaping @Sendable (Server, CommandContext) -> Void) -> CommandHandler {
        { [unowned(unsafe) self] c in handler(self, c) }
    }
}
