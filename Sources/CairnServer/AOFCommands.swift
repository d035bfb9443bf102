import CairnStorage

// BGREWRITEAOF and DEBUG LOADAOF (Redis 7.0's aof.c and debug.c: replies and checks in Redis's
// order). The work is the persistence component's (CairnStorage/Persistence).

enum AOFCommands {
    static func specs(_ server: Server) -> [CommandSpec] {
        [
            CommandSpec("bgrewriteaof", arity: 1, flags: [.admin, .noscript], categories: [.admin, .slow, .dangerous],
                        group: "server", summary: "Asynchronously rewrites the append-only file to disk.", handler: server.bind(bgrewriteaof)),
        ]
    }

    /// A rewrite asked for while another child runs, or inside MULTI, is left to the cron.
    static func bgrewriteaof(_ server: Server, _ c: CommandContext) {
        switch server.persistence.requestRewrite() {
        case .success(let status): c.reply.simpleString(status)
        case .failure(let refusal): c.reply.error(refusal.reply)
        }
    }

    /// DEBUG LOADAOF: flush the AOF, empty the databases, load the AOF back.
    static func debugLoadAOF(_ server: Server, _ c: CommandContext) {
        do {
            try server.persistence.reloadAppendOnlyFile()
        } catch {
            server.logger.warning("Error loading the AOF by DEBUG LOADAOF: \(error)")
            return c.reply.error("ERR Error loading the AOF: \(error)")
        }
        c.reply.ok()
    }
}
