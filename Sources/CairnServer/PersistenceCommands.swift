import CairnRESP
import CairnStorage

// SAVE, BGSAVE [SCHEDULE], LASTSAVE and DEBUG RELOAD (Redis 7.0's rdb.c and debug.c: replies,
// errors and checks in Redis's order). The work is the persistence component's (CairnStorage/Persistence).

enum PersistenceCommands {
    static func specs(_ server: Server) -> [CommandSpec] {
        [
            CommandSpec("save", arity: 1, flags: [.admin, .noscript, .noMulti], categories: [.admin, .slow, .dangerous],
                        group: "server", summary: "Synchronously saves the database(s) to disk.", handler: server.bind(save)),
            CommandSpec("bgsave", arity: -1, flags: [.admin, .noscript], categories: [.admin, .slow, .dangerous],
                        group: "server", summary: "Asynchronously saves the database(s) to disk.", handler: server.bind(bgsave)),
            CommandSpec("lastsave", arity: 1, flags: [.loading, .stale, .fast], categories: [.admin, .fast, .dangerous],
                        group: "server", summary: "Returns the Unix timestamp of the last successful save to disk.", handler: server.bind(lastsave)),
        ]
    }

    static func save(_ server: Server, _ c: CommandContext) {
        let persistence = server.persistence
        if persistence.child?.kind.isRDB == true { return c.reply.error(Persistence.saveInProgress) }
        persistence.rdb.saves += 1
        if persistence.saveInForeground() { c.reply.ok() } else { c.reply.error("ERR") }
    }

    /// BGSAVE [SCHEDULE]. Inside MULTI the save is left to the cron, as Redis does (a fork in the
    /// middle of a transaction would snapshot half of it).
    static func bgsave(_ server: Server, _ c: CommandContext) {
        var schedule = false
        if c.args.count > 1 {
            guard c.args.count == 2 && c.args.matches(1, "schedule") else { return c.replySyntaxError() }
            schedule = true
        }
        switch server.persistence.requestBackgroundSave(schedule: schedule) {
        case .success(let status): c.reply.simpleString(status)
        case .failure(let refusal): c.reply.error(refusal.reply)
        }
    }

    static func lastsave(_ server: Server, _ c: CommandContext) {
        c.reply.integer(server.persistence.rdb.lastSaveSeconds)
    }

    /// DEBUG RELOAD [MERGE] [NOFLUSH] [NOSAVE]: save, empty the databases, load the file back.
    /// NOFLUSH loads over the current data: a key already there is an error, unless MERGE lets
    /// the file's value replace it.
    static func debugReload(_ server: Server, _ c: CommandContext) {
        var save = true, flush = true, merge = false
        for i in 2..<c.args.count {
            if c.args.matches(i, "merge") {
                merge = true
            } else if c.args.matches(i, "noflush") {
                flush = false
            } else if c.args.matches(i, "nosave") {
                save = false
            } else {
                return c.reply.error("ERR DEBUG RELOAD only supports the MERGE, NOFLUSH and NOSAVE options.")
            }
        }
        if let error = server.persistence.debugReload(save: save, flush: flush, merge: merge) { return c.reply.error(error) }
        c.reply.ok()
    }
}
