import CairnRESP

// BLPOP, BRPOP, BLMOVE, BRPOPLPUSH, BLMPOP: the list pops and moves of ListMoveCommands.swift,
// plus waiting (Blocking.swift) when there is nothing to take. Inside MULTI they answer at once
// with their timeout reply, as Redis does.

enum BlockingListCommands {
    static let specs: [CommandSpec] = [
        CommandSpec("blpop", arity: -3, flags: [.write, .noscript, .blocking], categories: [.write, .list, .slow, .blocking],
                    keys: [.from(1, lastKey: -2, [.RW, .access, .delete])], group: "list", since: "2.0.0",
                    summary: "Removes and returns the first element in a list. Blocks until an element is available otherwise. Deletes the list if the last element was popped.",
                    handler: { pop($0, .left) }),
        CommandSpec("brpop", arity: -3, flags: [.write, .noscript, .blocking], categories: [.write, .list, .slow, .blocking],
                    keys: [.from(1, lastKey: -2, [.RW, .access, .delete])], group: "list", since: "2.0.0",
                    summary: "Removes and returns the last element in a list. Blocks until an element is available otherwise. Deletes the list if the last element was popped.",
                    handler: { pop($0, .right) }),
        CommandSpec("blmove", arity: 6, flags: [.write, .denyOOM, .noscript, .blocking], categories: [.write, .list, .slow, .blocking],
                    keys: [.at(1, [.RW, .access, .delete]), .at(2, [.RW, .insert])], group: "list", since: "6.2.0",
                    summary: "Pops an element from a list, pushes it to another list and returns it. Blocks until an element is available otherwise. Deletes the list if the last element was moved.",
                    handler: blmove),
        CommandSpec("brpoplpush", arity: 4, flags: [.write, .denyOOM, .noscript, .blocking], categories: [.write, .list, .slow, .blocking],
                    keys: [.at(1, [.RW, .access, .delete]), .at(2, [.RW, .insert])], group: "list", since: "2.2.0",
                    summary: "Pops an element from a list, pushes it to another list and returns it. Block until an element is available otherwise. Deletes the list if the last element was popped.",
                    handler: brpoplpush),
        CommandSpec("blmpop", arity: -5, flags: [.write, .blocking], categories: [.write, .list, .slow, .blocking],
                    keys: [.numkeys(at: 2, [.RW, .access, .delete])], group: "list", since: "7.0.0",
                    summary: "Pops the first element from one of multiple lists. Blocks until an element is available otherwise. Deletes the list if the last element was popped.",
                    findKeys: ListCommands.multiPopKeys(numkeysIndex: 2), handler: blmpop),
    ]

    /// BLPOP/BRPOP key [key ...] timeout.
    static func pop(_ c: CommandContext, _ side: ListSide) {
        guard let deadline = c.engine.blockingDeadline(c, argument: c.args.count - 1) else { return }
        let keys = 1..<(c.args.count - 1)
        if popFirstReady(c, keys: keys, side: side, count: nil) { return }
        wait(c, keys: keys.map { c.args.bytes($0) }, deadline: deadline, timeoutReply: .nullArray)
    }

    /// BLMPOP timeout numkeys key [key ...] LEFT|RIGHT [COUNT count].
    static func blmpop(_ c: CommandContext) {
        guard let request = ListCommands.parseMultiPop(c, numkeysIndex: 2),
              let deadline = c.engine.blockingDeadline(c, argument: 1) else { return }
        if popFirstReady(c, keys: request.keys, side: request.side, count: request.count) { return }
        wait(c, keys: request.keys.map { c.args.bytes($0) }, deadline: deadline, timeoutReply: .nullArray)
    }

    /// Pops from the first key (in argument order) holding a list; true when a reply was written
    /// (the pop, or WRONGTYPE for a key of another type met first).
    static func popFirstReady(_ c: CommandContext, keys: Range<Int>, side: ListSide, count: Int?) -> Bool {
        for i in keys {
            switch ListCommands.popForBlocked(engine: c.engine, db: c.db, key: c.args[i], side: side, count: count, reply: &c.reply) {
            case .popped:
                // A blocking pop replays as the pop it did, from the key it found.
                let word: PropagationWord = .word(side == .left ? "LPOP" : "RPOP")
                if let count { c.propagate(word, .raw(c.args[i]), .int(Int64(count))) } else { c.propagate(word, .raw(c.args[i])) }
                return true
            case .wrongType:
                c.replyWrongType()
                return true
            case .noList: continue
            }
        }
        return false
    }

    /// BLMOVE source destination LEFT|RIGHT LEFT|RIGHT timeout.
    static func blmove(_ c: CommandContext) {
        guard let from = ListCommands.parseSide(c, 3), let to = ListCommands.parseSide(c, 4),
              let deadline = c.engine.blockingDeadline(c, argument: 5) else { return }
        move(c, from: from, to: to, deadline: deadline)
    }

    /// BRPOPLPUSH source destination timeout (= BLMOVE source destination RIGHT LEFT).
    static func brpoplpush(_ c: CommandContext) {
        guard let deadline = c.engine.blockingDeadline(c, argument: 3) else { return }
        move(c, from: .right, to: .left, deadline: deadline)
    }

    static func move(_ c: CommandContext, from: ListSide, to: ListSide, deadline: Int64?) {
        switch ListCommands.moveForBlocked(engine: c.engine, db: c.db, source: c.args[1], destination: c.args[2],
                                           from: from, to: to, reply: &c.reply) {
        case .moved:
            c.propagate(.word("LMOVE"), .raw(c.args[1]), .raw(c.args[2]),
                        .word(from == .left ? "LEFT" : "RIGHT"), .word(to == .left ? "LEFT" : "RIGHT"))
        case .sourceWrongType, .destinationWrongType: return c.replyWrongType()
        case .noSource: wait(c, keys: [c.args.bytes(1)], deadline: deadline, timeoutReply: .nullBulk)
        }
    }

    /// Nothing to take: block, or inside MULTI answer with the timeout reply at once.
    static func wait(_ c: CommandContext, keys: [[UInt8]], deadline: Int64?, timeoutReply: BlockedState.TimeoutReply) {
        guard c.engine.mayBlock(c.client) else {
            switch timeoutReply {
            case .nullArray: c.reply.nullArray()
            case .nullBulk: c.reply.null()
            case .custom(let write): write(&c.reply)
            }
            return
        }
        c.engine.block(c, keys: keys, awaits: .list, deadline: deadline, timeoutReply: timeoutReply)
    }
}
