import CairnRESP

// Generic keyspace commands (db.c in Redis): DEL, UNLINK, EXISTS, TYPE, TOUCH, RENAME, RENAMENX,
// COPY, MOVE, RANDOMKEY, KEYS. SCAN is in ScanCommand.swift, OBJECT in ObjectCommand.swift.
// Arity, flags, ACL categories and key specs mirror Redis 7.0's COMMAND INFO.

enum KeyspaceCommands {
    static let specs: [CommandSpec] = [
        CommandSpec("del", arity: -2, flags: [.write], categories: [.keyspace, .write, .slow],
                    keys: [.from(1, lastKey: -1, [.RM, .delete])],
                    group: "generic", summary: "Delete a key", handler: del),
        CommandSpec("unlink", arity: -2, flags: [.write, .fast], categories: [.keyspace, .write, .fast],
                    keys: [.from(1, lastKey: -1, [.RM, .delete])], group: "generic", since: "4.0.0",
                    summary: "Delete a key asynchronously in another thread. Otherwise it is just as DEL, but non blocking.",
                    handler: unlink),
        CommandSpec("exists", arity: -2, flags: [.readonly, .fast], categories: [.keyspace, .read, .fast],
                    keys: [.from(1, lastKey: -1, [.RO])],
                    group: "generic", summary: "Determine if a key exists", handler: exists),
        CommandSpec("type", arity: 2, flags: [.readonly, .fast], categories: [.keyspace, .read, .fast],
                    keys: [.at(1, [.RO])],
                    group: "generic", summary: "Determine the type stored at key", handler: type),
        CommandSpec("touch", arity: -2, flags: [.readonly, .fast], categories: [.keyspace, .read, .fast],
                    keys: [.from(1, lastKey: -1, [.RO])], group: "generic", since: "3.2.1",
                    summary: "Alters the last access time of a key(s). Returns the number of existing keys specified.",
                    handler: touch),
        CommandSpec("rename", arity: 3, flags: [.write], categories: [.keyspace, .write, .slow],
                    keys: [.at(1, [.RW, .access, .delete]), .at(2, [.OW, .update])],
                    group: "generic", summary: "Rename a key", handler: rename),
        CommandSpec("renamenx", arity: 3, flags: [.write, .fast], categories: [.keyspace, .write, .fast],
                    keys: [.at(1, [.RW, .access, .delete]), .at(2, [.OW, .insert])], group: "generic",
                    summary: "Rename a key, only if the new key does not exist", handler: renamenx),
        CommandSpec("copy", arity: -3, flags: [.write, .denyOOM], categories: [.keyspace, .write, .slow],
                    keys: [.at(1, [.RO, .access]), .at(2, [.OW, .update])],
                    group: "generic", since: "6.2.0", summary: "Copy a key", handler: copy),
        CommandSpec("move", arity: 3, flags: [.write, .fast], categories: [.keyspace, .write, .fast],
                    keys: [.at(1, [.RW, .access, .update])],
                    group: "generic", summary: "Move a key to another database", handler: move),
        CommandSpec("randomkey", arity: 1, flags: [.readonly], categories: [.keyspace, .read, .slow],
                    group: "generic", summary: "Return a random key from the keyspace", handler: randomkey),
        CommandSpec("keys", arity: 2, flags: [.readonly], categories: [.keyspace, .read, .slow, .dangerous],
                    group: "generic", summary: "Find all keys matching the given pattern", handler: keys),
        scanSpec,
        objectSpec,
    ]

    // MARK: DEL / UNLINK / EXISTS / TYPE / TOUCH

    /// DEL and UNLINK: values are reference counted, so freeing is already cheap; UNLINK has
    /// nothing to hand to a background thread.
    /// DEL: values freed here, or lazily with `lazyfree-lazy-user-del yes`.
    static func del(_ c: CommandContext) { delete(c, lazily: c.engine.settings.lazyFreeUserDel) }

    /// UNLINK: large values freed on the lazy-free thread.
    static func unlink(_ c: CommandContext) { delete(c, lazily: true) }

    static func delete(_ c: CommandContext, lazily: Bool) {
        let db = c.db
        var deleted = 0
        for j in 1..<c.args.count where db.delete(c.args[j], lazily: lazily) {
            c.notify(.generic, "del", keyAt: j)
            deleted += 1
        }
        c.engine.dirty += Int64(deleted)
        c.reply.integer(deleted)
    }

    /// Counts every argument that names a live key, duplicates included.
    static func exists(_ c: CommandContext) {
        let db = c.db
        var found = 0
        for j in 1..<c.args.count where db.lookupRead(c.args[j], touch: false) != nil {
            found += 1
        }
        c.reply.integer(found)
    }

    static func type(_ c: CommandContext) {
        let db = c.db
        if let i = db.lookupRead(c.args[1], touch: false) {
            c.reply.simpleString(db.table.type(at: i).name)
        } else {
            c.reply.simpleString("none")
        }
    }

    static func touch(_ c: CommandContext) {
        let db = c.db
        var touched = 0
        for j in 1..<c.args.count where db.lookupRead(c.args[j]) != nil {
            touched += 1
        }
        c.reply.integer(touched)
    }

    // MARK: RENAME / RENAMENX

    static func rename(_ c: CommandContext) { renameGeneric(c, nx: false) }
    static func renamenx(_ c: CommandContext) { renameGeneric(c, nx: true) }

    static func renameGeneric(_ c: CommandContext, nx: Bool) {
        let db = c.db
        let source = c.args[1], destination = c.args[2]
        guard db.lookupWrite(source) != nil else { return c.reply.error("ERR no such key") }
        // Renaming a live key onto itself changes nothing, so nothing is counted as a write.
        if source.elementsEqual(destination) {
            if nx { c.reply.integer(0) } else { c.reply.ok() }
            return
        }
        if db.lookupWrite(destination) != nil {
            if nx { return c.reply.integer(0) }
            db.delete(destination)
        }
        // Looked up again: the deletion above may have moved the source entry to another index.
        guard let i = db.lookup(source) else { return c.reply.error("ERR no such key") }
        let moved = db.table.take(at: i)
        let j = db.insert(destination, moved.value, expireAt: moved.expireAt)
        db.table.setUnsharedInteger(at: j, moved.unsharedInteger)
        c.notify(.generic, "rename_from", keyAt: 1)
        c.notify(.generic, "rename_to", keyAt: 2)
        c.engine.dirty += 1
        if nx { c.reply.integer(1) } else { c.reply.ok() }
    }

    // MARK: COPY / MOVE

    /// A database index as Redis's getIntFromObjectOrReply reads it: a 64-bit integer, then one
    /// that fits in a C `int`, each with its own error. The database range check comes later.
    static func parseDBIndex(_ c: CommandContext, _ i: Int) -> Int? {
        guard let v = c.args.int64(i) else {
            c.replyNotInteger()
            return nil
        }
        guard v >= Int64(Int32.min) && v <= Int64(Int32.max) else {
            c.reply.error("ERR value is out of range, value must between -2147483648 and 2147483647")
            return nil
        }
        return Int(v)
    }

    static func database(_ c: CommandContext, _ index: Int) -> Database? {
        guard index >= 0 && index < c.engine.databases.count else {
            c.reply.error("ERR DB index is out of range")
            return nil
        }
        return c.engine.databases[index]
    }

    static func copy(_ c: CommandContext) {
        let source = c.db
        var destination = source
        var replace = false
        var j = 3
        while j < c.args.count {
            if c.args.matches(j, "replace") {
                replace = true
            } else if c.args.matches(j, "db") && j + 1 < c.args.count {
                guard let index = parseDBIndex(c, j + 1), let db = database(c, index) else { return }
                destination = db
                j += 1
            } else {
                return c.replySyntaxError()
            }
            j += 1
        }
        if c.engine.settings.clusterEnabled && (source !== c.engine.databases[0] || destination !== c.engine.databases[0]) {
            return c.reply.error("ERR Copying to another database is not allowed in cluster mode")
        }
        let key = c.args[1], newKey = c.args[2]
        if source === destination && key.elementsEqual(newKey) {
            return c.reply.error("ERR source and destination objects are the same")
        }
        guard let i = source.lookupRead(key) else { return c.reply.integer(0) }
        // Copied out before the destination lookup, which may reclaim an expired key and move
        // entries around when both keys live in the same database.
        let value = source.table.value(at: i).copied()
        let expireAt = source.table.expireAt(at: i)
        if destination.lookupWrite(newKey) != nil {
            guard replace else { return c.reply.integer(0) }
            destination.delete(newKey)
        }
        let copied = destination.insert(newKey, value, expireAt: expireAt)
        destination.table.setUnsharedInteger(at: copied, true)
        c.engine.notify(.generic, "copy_to", c.args.bytes(2), db: destination.id)
        c.engine.dirty += 1
        c.reply.integer(1)
    }

    static func move(_ c: CommandContext) {
        if c.engine.settings.clusterEnabled { return c.reply.error("ERR MOVE is not allowed in cluster mode") }
        let source = c.db
        guard let index = parseDBIndex(c, 2), let destination = database(c, index) else { return }
        if source === destination { return c.reply.error("ERR source and destination objects are the same") }
        let key = c.args[1]
        guard let i = source.lookupWrite(key) else { return c.reply.integer(0) }
        if destination.lookupWrite(key) != nil { return c.reply.integer(0) }
        let moved = source.table.take(at: i)
        let j = destination.insert(key, moved.value, expireAt: moved.expireAt)
        destination.table.setUnsharedInteger(at: j, moved.unsharedInteger)
        c.engine.notify(.generic, "move_from", c.args.bytes(1), db: source.id)
        c.engine.notify(.generic, "move_to", c.args.bytes(1), db: destination.id)
        c.engine.dirty += 1
        c.reply.integer(1)
    }

    // MARK: RANDOMKEY / KEYS

    /// A uniformly chosen live key. Expired keys drawn on the way are reclaimed, as Redis's
    /// dbRandomKey does; each draw either returns or removes a key, so the loop ends. A replica
    /// cannot remove them: when every key has a TTL it gives up after `randomKeyTriesMax`
    /// draws and returns the (expired) key drawn last, as Redis does.
    static func randomkey(_ c: CommandContext) {
        let db = c.db
        var tries = 0
        while let i = db.table.randomIndex(using: &c.engine.random) {
            if c.engine.role == .replica && db.table.volatileCount == db.count {
                tries += 1
                if tries >= randomKeyTriesMax { return c.reply.bulk(db.table.key(at: i)) }
            }
            if db.expireIfNeeded(at: i) { continue }
            return c.reply.bulk(db.table.key(at: i))
        }
        c.reply.null()
    }

    /// Redis's dbRandomKey gives up on a replica whose keys all have a TTL after this many draws.
    static let randomKeyTriesMax = 100

    /// Every live key matching the glob. Expired keys are skipped but not reclaimed (Redis's KEYS
    /// only checks keyIsExpired); a lone `*` skips matching altogether.
    static func keys(_ c: CommandContext) {
        let db = c.db
        let pattern = c.args[1]
        let all = pattern.count == 1 && pattern[0] == UInt8(ascii: "*")
        var matched: [Int] = []
        for i in db.table.indices where !db.isLogicallyExpired(i) {
            if all || db.table.key(at: i).withUnsafeBytes({ GlobPattern.matches(pattern, $0) }) {
                matched.append(i)
            }
        }
        c.reply.arrayHeader(matched.count)
        for i in matched { c.reply.bulk(db.table.key(at: i)) }
    }
}
