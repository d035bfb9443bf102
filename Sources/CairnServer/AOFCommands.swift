import CairnStorage

// BGREWRITEAOF and DEBUG LOADAOF (Redis 7.0's aof.c and debug.c: replies and checks in Redis's
// order). The work is in AOFRewrite.swift and AOFServer.swift.

enum AOFCommands {
    static func specs(_ server: Server) -> [CommandSpec] {
        [
            CommandSpec("bgrewriteaof", arity: 1, flags: [.admin, .noscript], categories: [.admin, .slow, .dangerous],
                        group: "server", summary: "Asynchronously rewrites the append-only file to disk.", handler: server.bind(bgrewriteaof)),
        ]
    }

    /// A rewrite asked for while another child runs, or inside MULTI, is left to the cron.
    static func bgrewriteaof(_ server: Server, _ c: CommandContext) {
        if server.aof.child != nil {
            return c.reply.error("ERR Background append only file rewriting already in progress")
        }
        if server.hasActiveChild || c.engine.isExecutingTransaction {
            server.aof.rewriteScheduled = true
            // Asked for by hand: the back-off after failures does not apply.
            server.aof.consecutiveFailures = 0
            return c.reply.simpleString("Background append only file rewriting scheduled")
        }
        if server.startRewrite() {
            c.reply.simpleString("Background append only file rewriting started")
        } else {
            c.reply.error("ERR Can't execute an AOF background rewriting. Please check the server logs for more information.")
        }
    }

    /// DEBUG LOADAOF: flush the AOF, empty the databases, load the AOF back.
    static func debugLoadAOF(_ server: Server, _ c: CommandContext) {
        do {
            try server.reloadAppendOnlyFile()
        } catch {
            server.logger.warning("Error loading the AOF by DEBUG LOADAOF: \(error)")
            return c.reply.error("ERR Error loading the AOF: \(error)")
        }
        c.reply.ok()
    }
}
