import CairnRESP

// MULTI / EXEC / DISCARD / WATCH / UNWATCH (multi.c in Redis). Between MULTI and EXEC commands
// are checked (lookup, arity, auth) and queued with copies of their arguments; a refused command
// dooms the EXEC (EXECABORT). WATCH is optimistic locking: a write to a watched key, its expiry,
// or a FLUSHALL/FLUSHDB/SWAPDB that affects it makes the next EXEC reply a null array.

public struct QueuedCommand {
    let command: RegisteredCommand
    let arguments: [[UInt8]]
}

public struct Transaction {
    var queued: [QueuedCommand] = []
    /// A command was refused while queueing.
    var aborted = false
    /// The flags of every queued command (Redis's mstate.cmd_flags): EXEC is admitted as a
    /// write if it will run one.
    public private(set) var flags: CommandFlags = []

    mutating func queue(_ command: QueuedCommand) {
        queued.append(command)
        flags.formUnion(command.command.spec.flags)
    }
    /// Commands queued so far (CLIENT LIST `multi=`).
    public var queuedCount: Int { queued.count }

    /// Each queued command with its arguments, in order (the cluster's slot check of EXEC).
    public func forEachQueued(_ body: (RegisteredCommand, Arguments) -> Void) {
        for q in queued { Arguments.with(q.arguments) { body(q.command, $0) } }
    }
}

enum Transactions {
    /// Commands that act on the transaction itself run immediately even inside MULTI.
    static func runsInsideMulti(_ command: RegisteredCommand) -> Bool {
        switch command.spec.name {
        case "exec", "discard", "multi", "watch", "quit", "reset": return true
        default: return false
        }
    }

    static func multi(_ c: CommandContext) {
        guard c.client.transaction == nil else { return c.reply.error("ERR MULTI calls can not be nested") }
        c.client.transaction = Transaction()
        c.reply.ok()
    }

    static func discard(_ c: CommandContext) {
        guard c.client.transaction != nil else { return c.reply.error("ERR DISCARD without MULTI") }
        c.client.transaction = nil
        c.engine.unwatchAll(c.client)
        c.reply.ok()
    }

    static func exec(_ c: CommandContext) {
        guard let tx = c.client.transaction else { return c.reply.error("ERR EXEC without MULTI") }
        let engine = c.engine
        c.client.transaction = nil
        if tx.aborted {
            engine.unwatchAll(c.client)
            return c.reply.error("EXECABORT Transaction discarded because of previous errors.")
        }
        if c.client.watchInvalidated || engine.watchedKeyExpired(c.client) {
            engine.unwatchAll(c.client)
            return c.reply.nullArray()
        }
        // Unwatch first, as Redis does: the transaction's own writes must not matter.
        engine.unwatchAll(c.client)
        c.reply.arrayHeader(tx.queued.count)
        let outer = engine.executingTransaction
        engine.executingTransaction = true
        for q in tx.queued {
            Arguments.with(q.arguments) { engine.execute(c.client, $0) }
        }
        engine.executingTransaction = outer
        c.engine.dirty += 1  // EXEC itself counts, so a transaction of writes is propagated whole
    }

    static func watch(_ c: CommandContext) {
        guard c.client.transaction == nil else { return c.reply.error("ERR WATCH inside MULTI is not allowed") }
        for i in 1..<c.args.count { c.engine.watch(c.client, db: c.db, key: c.args.bytes(i)) }
        c.reply.ok()
    }

    static func unwatch(_ c: CommandContext) {
        c.engine.unwatchAll(c.client)
        c.reply.ok()
    }
}

extension Engine {
    func watch(_ client: ClientSession, db: Database, key: [UInt8]) {
        if client.watching.contains(where: { $0.db == db.id && $0.key == key }) { return }
        let expired = db.table.find(key).map { db.isExpired($0) } ?? false
        client.watching.append((db.id, key, expired))
        watchedKeys[db.id, default: [:]][key, default: []].append(client)
    }

    /// A client went away: its WATCHes and queued transaction go with it.
    public func clientClosed(_ client: ClientSession) {
        unregisterBlocked(client)
        forgetPostponed(client)
        unsubscribeAll(client)
        client.transaction = nil
        unwatchAll(client)
        disableTracking(client)
    }

    /// Forgets every key `client` watches (EXEC, DISCARD, UNWATCH, RESET, disconnect).
    public func unwatchAll(_ client: ClientSession) {
        for w in client.watching {
            watchedKeys[w.db]?[w.key]?.removeAll { $0 === client }
            if watchedKeys[w.db]?[w.key]?.isEmpty == true { watchedKeys[w.db]?[w.key] = nil }
            if watchedKeys[w.db]?.isEmpty == true { watchedKeys[w.db] = nil }
        }
        client.watching = []
        client.watchInvalidated = false
    }

    /// Some client WATCHes a key or tracks keys (CLIENT TRACKING): a modified key must be
    /// signalled. The check every write path makes before building the key's bytes.
    @inline(__always)
    var observesKeys: Bool { !watchedKeys.isEmpty || tracking.isActive }

    /// Redis's signalModifiedKey: every client watching `key` in `db` will fail its EXEC, and
    /// clients that track it are sent an invalidation.
    func signalModifiedKey(db: Int, _ key: [UInt8], by client: ClientSession? = nil) {
        if let clients = watchedKeys[db]?[key] {
            for client in clients { client.watchInvalidated = true }
        }
        if tracking.isActive { invalidateTrackedKey(key, by: client) }
    }

    /// FLUSHDB/FLUSHALL/SWAPDB: touches watched keys of `db` that exist there (or in `other`).
    func touchAllWatchedKeys(in db: Database, alsoExistingIn other: Database? = nil) {
        guard let keys = watchedKeys[db.id] else { return }
        for (key, clients) in keys where db.table.find(key) != nil || other?.table.find(key) != nil {
            for client in clients { client.watchInvalidated = true }
        }
    }

    /// After a write that changed data: its key arguments count as modified, except positions
    /// Redis's key specs mark read-only. Conservative: a write that changed only some of its keys
    /// (e.g. DEL of a present and a missing key) touches all of them, which can fail an EXEC that
    /// Redis would run; it never lets a modified key go unnoticed.
    func touchWrittenKeys(_ command: RegisteredCommand, _ args: Arguments, db: Int, by client: ClientSession) {
        guard watchedKeys[db] != nil || tracking.isActive else { return }
        for i in command.spec.keyIndices(args) where !command.spec.isReadOnlyKey(at: i, argc: args.count) {
            signalModifiedKey(db: db, args.bytes(i), by: client)
        }
    }

    /// Redis 7.0's isWatchedKeyExpired: a watched key, live when watched, is now past its time.
    func watchedKeyExpired(_ client: ClientSession) -> Bool {
        client.watching.contains { w in
            guard !w.expiredWhenWatched, let i = databases[w.db].table.find(w.key) else { return false }
            return databases[w.db].isExpired(i)
        }
    }
}
