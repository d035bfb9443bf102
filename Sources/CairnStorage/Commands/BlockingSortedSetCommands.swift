import CairnRESP

// BZPOPMIN, BZPOPMAX, BZMPOP: ZPOPMIN/ZPOPMAX/ZMPOP's pops (ZPopCommands.swift) plus waiting
// (Blocking.swift) when every key is empty. Inside MULTI they answer at once with a null array.

enum BlockingSortedSetCommands {
    static let specs: [CommandSpec] = [
        CommandSpec("bzpopmin", arity: -3, flags: [.write, .noscript, .blocking, .fast],
                    categories: [.write, .sortedset, .fast, .blocking],
                    keys: [.from(1, lastKey: -2, [.RW, .access, .delete])], group: "sorted-set", since: "5.0.0",
                    summary: "Removes and returns the member with the lowest score from one or more sorted sets. Blocks until a member is available otherwise. Deletes the sorted set if the last element was popped.",
                    handler: { pop($0, min: true) }),
        CommandSpec("bzpopmax", arity: -3, flags: [.write, .noscript, .blocking, .fast],
                    categories: [.write, .sortedset, .fast, .blocking],
                    keys: [.from(1, lastKey: -2, [.RW, .access, .delete])], group: "sorted-set", since: "5.0.0",
                    summary: "Removes and returns the member with the highest score from one or more sorted sets. Blocks until a member available otherwise.  Deletes the sorted set if the last element was popped.",
                    handler: { pop($0, min: false) }),
        CommandSpec("bzmpop", arity: -5, flags: [.write, .blocking],
                    categories: [.write, .sortedset, .slow, .blocking],
                    keys: [.numkeys(at: 2, [.RW, .access, .delete])], group: "sorted-set", since: "7.0.0",
                    summary: "Removes and returns a member by score from one or more sorted sets. Blocks until a member is available otherwise. Deletes the sorted set if the last element was popped.",
                    findKeys: { SortedSetCommands.numkeysKeys($0, numkeysAt: 2, destination: nil) }, handler: bzmpop),
    ]

    /// BZPOPMIN/BZPOPMAX key [key ...] timeout.
    static func pop(_ c: CommandContext, min: Bool) {
        guard let deadline = c.engine.blockingDeadline(c, argument: c.args.count - 1) else { return }
        let keys = 1..<(c.args.count - 1)
        if popFirstReady(c, keys: keys, min: min, count: 1, shape: .keyedFlat) { return }
        wait(c, keys: keys, deadline: deadline)
    }

    /// BZMPOP timeout numkeys key [key ...] MIN|MAX [COUNT count].
    static func bzmpop(_ c: CommandContext) {
        guard let (keys, max, count) = SortedSetCommands.parseMultiPop(c, numkeysAt: 2),
              let deadline = c.engine.blockingDeadline(c, argument: 1) else { return }
        if popFirstReady(c, keys: keys, min: !max, count: count, shape: .keyedNested) { return }
        wait(c, keys: keys, deadline: deadline)
    }

    /// Pops from the first key (in argument order) holding a sorted set; true when a reply was
    /// written (the pop, or WRONGTYPE for a key of another type met first).
    static func popFirstReady(_ c: CommandContext, keys: Range<Int>, min: Bool, count: Int,
                              shape: SortedSetCommands.PopReplyShape) -> Bool {
        for i in keys {
            // The type from the record: a small sorted set is not copied just to be checked.
            guard let at = c.db.lookupWrite(c.args[i]) else { continue }
            guard c.db.table.type(at: at) == .zset else {
                c.replyWrongType()
                return true
            }
            guard let items = SortedSetCommands.popForBlocked(db: c.db, key: c.args[i], min: min, count: count),
                  !items.isEmpty else { continue }
            SortedSetCommands.writePopped(&c.reply, key: c.args[i], items, shape: shape)
            c.propagate(.word(min ? "ZPOPMIN" : "ZPOPMAX"), .raw(c.args[i]), .int(Int64(count)))
            return true
        }
        return false
    }

    static func wait(_ c: CommandContext, keys: Range<Int>, deadline: Int64?) {
        guard c.engine.mayBlock(c.client) else { return c.reply.nullArray() }
        c.engine.block(c, keys: keys.map { c.args.bytes($0) }, awaits: .zset, deadline: deadline, timeoutReply: .nullArray)
    }
}
