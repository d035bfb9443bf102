import CairnRESP

// PING, ECHO, SELECT, SWAPDB, DBSIZE, FLUSHDB, FLUSHALL, TIME.

enum ConnectionCommands {
    static let specs: [CommandSpec] = [
        CommandSpec("ping", arity: -1, flags: [.fast], categories: [.fast, .connection],
                    group: "connection", summary: "Returns the server's liveliness response.", handler: ping),
        CommandSpec("echo", arity: 2, flags: [.fast, .stale, .loading], categories: [.fast, .connection],
                    group: "connection", summary: "Returns the given string.", handler: echo),
        CommandSpec("select", arity: 2, flags: [.fast, .stale, .loading], categories: [.fast, .connection],
                    group: "connection", since: "1.0.0", summary: "Changes the selected database.", handler: select),
        CommandSpec("swapdb", arity: 3, flags: [.write, .fast], categories: [.keyspace, .write, .fast, .dangerous],
                    group: "server", since: "4.0.0", summary: "Swaps two Redis databases.", handler: swapdb),
        CommandSpec("dbsize", arity: 1, flags: [.readonly, .fast], categories: [.keyspace, .read, .fast],
                    group: "server", summary: "Returns the number of keys in the database.", handler: dbsize),
        CommandSpec("flushdb", arity: -1, flags: [.write], categories: [.keyspace, .write, .slow, .dangerous],
                    group: "server", summary: "Removes all keys from the current database.", handler: flushdb),
        CommandSpec("flushall", arity: -1, flags: [.write], categories: [.keyspace, .write, .slow, .dangerous],
                    group: "server", summary: "Removes all keys from all databases.", handler: flushall),
        CommandSpec("multi", arity: 1, flags: [.noscript, .loading, .stale, .fast, .allowBusy],
                    categories: [.fast, .transaction], group: "transactions", since: "1.2.0",
                    summary: "Starts a transaction.", handler: Transactions.multi),
        CommandSpec("exec", arity: 1, flags: [.noscript, .loading, .stale, .skipSlowlog],
                    categories: [.slow, .transaction], group: "transactions", since: "1.2.0",
                    summary: "Executes all commands in a transaction.", handler: Transactions.exec),
        CommandSpec("discard", arity: 1, flags: [.noscript, .loading, .stale, .fast, .allowBusy],
                    categories: [.fast, .transaction], group: "transactions", since: "2.0.0",
                    summary: "Discards a transaction.", handler: Transactions.discard),
        CommandSpec("watch", arity: -2, flags: [.noscript, .loading, .stale, .fast, .allowBusy],
                    categories: [.fast, .transaction],
                    keys: [.from(1, lastKey: -1, [.RO])], group: "transactions", since: "2.2.0",
                    summary: "Monitors changes to keys to determine the execution of a transaction.", handler: Transactions.watch),
        CommandSpec("unwatch", arity: 1, flags: [.noscript, .loading, .stale, .fast, .allowBusy],
                    categories: [.fast, .transaction], group: "transactions", since: "2.2.0",
                    summary: "Forgets about watched keys of a transaction.", handler: Transactions.unwatch),
        CommandSpec("time", arity: 1, flags: [.loading, .stale, .fast], categories: [.fast],
                    group: "server", since: "2.6.0", summary: "Returns the server time.", handler: time),
    ]

    static func ping(_ c: CommandContext) {
        if !c.client.resp3 && !c.client.subscriptions.isEmpty {
            // In RESP2 subscribed mode PING answers in the pub/sub reply shape.
            guard c.args.count <= 2 else { return c.replyArityError() }
            c.reply.arrayHeader(2)
            c.reply.bulk(Array("pong".utf8))
            if c.args.count == 2 { c.reply.bulk(c.args[1]) } else { c.reply.bulk([UInt8]()) }
            return
        }
        switch c.args.count {
        case 1: c.reply.simpleString("PONG")
        case 2: c.reply.bulk(c.args[1])
        default: c.replyArityError()
        }
    }

    static func echo(_ c: CommandContext) { c.reply.bulk(c.args[1]) }

    /// Parses a database index argument, or nil if it is not an integer.
    static func dbIndex(_ c: CommandContext, _ i: Int) -> Int? {
        guard let v = c.args.int64(i), v >= Int64(Int32.min), v <= Int64(Int32.max) else { return nil }
        return Int(v)
    }

    static func select(_ c: CommandContext) {
        guard let index = KeyspaceCommands.parseDBIndex(c, 1) else { return }
        if c.engine.settings.clusterEnabled && index != 0 { return c.reply.error("ERR SELECT is not allowed in cluster mode") }
        guard index >= 0 && index < c.engine.databases.count else { return c.reply.error("ERR DB index is out of range") }
        c.client.db = index
        c.reply.ok()
    }

    static func swapdb(_ c: CommandContext) {
        // Cluster mode has database 0 only.
        if c.engine.settings.clusterEnabled { return c.reply.error("ERR SWAPDB is not allowed in cluster mode") }
        guard let a = dbIndex(c, 1) else { return c.reply.error("ERR invalid first DB index") }
        guard let b = dbIndex(c, 2) else { return c.reply.error("ERR invalid second DB index") }
        let n = c.engine.databases.count
        guard a >= 0 && a < n && b >= 0 && b < n else { return c.reply.error("ERR DB index is out of range") }
        if a != b {
            let dbs = c.engine.databases
            c.engine.touchAllWatchedKeys(in: dbs[a], alsoExistingIn: dbs[b])
            c.engine.touchAllWatchedKeys(in: dbs[b], alsoExistingIn: dbs[a])
            KeyTable.swapContents(dbs[a].table, dbs[b].table)
            c.engine.dirty += 1
        }
        c.reply.ok()
    }

    static func dbsize(_ c: CommandContext) { c.reply.integer(c.db.count) }

    /// FLUSHDB/FLUSHALL [ASYNC|SYNC] (Redis's getFlushCommandFlags): whether the keys are freed
    /// on the lazy-free thread — ASYNC, or no flag with `lazyfree-lazy-user-flush yes`; nil after
    /// a syntax error.
    static func flushMode(_ c: CommandContext) -> Bool? {
        if c.args.count == 1 { return c.engine.settings.lazyFreeUserFlush }
        if c.args.count == 2 && c.args.matches(1, "async") { return true }
        if c.args.count == 2 && c.args.matches(1, "sync") { return false }
        c.replySyntaxError()
        return nil
    }

    static func flushdb(_ c: CommandContext) {
        guard let async = flushMode(c) else { return }
        c.engine.dirty += Int64(c.db.count)
        c.engine.touchAllWatchedKeys(in: c.db)
        c.engine.invalidateAllTrackedKeys()
        c.engine.flush(c.db, async: async)
        c.reply.ok()
    }

    static func flushall(_ c: CommandContext) {
        guard let async = flushMode(c) else { return }
        c.engine.dirty += Int64(c.engine.totalKeys) + 1
        for db in c.engine.databases { c.engine.touchAllWatchedKeys(in: db) }
        c.engine.invalidateAllTrackedKeys()
        c.engine.flushAll(async: async)
        for hook in c.engine.flushAllHooks { hook() }
        c.reply.ok()
    }

    static func time(_ c: CommandContext) {
        let us = Clock.unixMicros()
        c.reply.arrayHeader(2)
        c.reply.bulk(integer: us / 1_000_000)
        c.reply.bulk(integer: us % 1_000_000)
    }
}
