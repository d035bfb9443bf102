import CairnRESP
import CairnStorage
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// SAVE, BGSAVE [SCHEDULE], LASTSAVE and DEBUG RELOAD (Redis 7.0's rdb.c and debug.c: replies,
// errors and checks in Redis's order). The work is in Persistence.swift.

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

    static let saveInProgress = "ERR Background save already in progress"

    static func save(_ server: Server, _ c: CommandContext) {
        if server.persistence.child != nil { return c.reply.error(saveInProgress) }
        server.persistence.saves += 1
        if server.saveInForeground() { c.reply.ok() } else { c.reply.error("ERR") }
    }

    /// BGSAVE [SCHEDULE]. Inside MULTI the save is left to the cron, as Redis does (a fork in the
    /// middle of a transaction would snapshot half of it).
    static func bgsave(_ server: Server, _ c: CommandContext) {
        var schedule = false
        if c.args.count > 1 {
            guard c.args.count == 2 && c.args.matches(1, "schedule") else { return c.replySyntaxError() }
            schedule = true
        }
        if server.persistence.child != nil { return c.reply.error(saveInProgress) }
        let otherChildActive = server.aof.child != nil
        if otherChildActive || c.engine.isExecutingTransaction {
            guard schedule || c.engine.isExecutingTransaction else {
                return c.reply.error("ERR Another child process is active (AOF?): can't BGSAVE right now. Use BGSAVE SCHEDULE in order to schedule a BGSAVE whenever possible.")
            }
            server.persistence.bgsaveScheduled = true
            return c.reply.simpleString("Background saving scheduled")
        }
        if server.startBackgroundSave() { c.reply.simpleString("Background saving started") } else { c.reply.error("ERR") }
    }

    static func lastsave(_ server: Server, _ c: CommandContext) {
        c.reply.integer(server.persistence.lastSaveSeconds)
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
        if save && !server.saveInForeground() { return c.reply.error("ERR") }
        if flush { c.engine.flushAll() }
        do {
            if flush {
                try server.loadRDB(server.settings.dbfilename)
            } else {
                try server.loadRDBOver(server.settings.dbfilename, merge: merge)
            }
        } catch {
            server.logger.warning("Error loading the RDB file \(server.settings.dbfilename): \(error)")
            return c.reply.error("ERR Error trying to load the RDB dump")
        }
        server.logger.warning("DB reloaded by DEBUG RELOAD")
        c.reply.ok()
    }
}

extension Server {
    /// DEBUG RELOAD NOFLUSH: loads `path` record by record on top of the current data.
    func loadRDBOver(_ path: String, merge: Bool) throws {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw FileError(.open, path, code: errno) }
        defer { close(fd) }
        let reader = try RDBReader(fd: fd, settings: engine.settings, verifyChecksum: settings.rdbChecksum)
        let now = Clock.unixMillis()
        var loaded = 0, expired = 0
        while let record = try reader.next() {
            guard case .entry(let entry) = record else { continue }
            guard entry.db >= 0 && entry.db < engine.databases.count else {
                throw RDBError(.corrupt, "database \(entry.db) out of range", offset: entry.offset, key: entry.key)
            }
            if entry.expireAt != noExpiry && entry.expireAt < now {
                expired += 1
                continue
            }
            let db = engine.databases[entry.db]
            if db.lookup(entry.key) != nil {
                guard merge else { throw RDBError(.corrupt, "duplicate key", offset: entry.offset, key: entry.key) }
                _ = db.delete(entry.key)
            }
            _ = db.insert(entry.key, entry.value, expireAt: entry.expireAt)
            loaded += 1
        }
        logger.notice("Done loading RDB, keys loaded: \(loaded), keys expired: \(expired).")
        persistence.lastLoadKeysLoaded = loaded
        persistence.lastLoadKeysExpired = expired
    }
}
