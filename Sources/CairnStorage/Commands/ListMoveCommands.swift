import CairnRESP

// LMOVE, RPOPLPUSH and LMPOP, plus the non-blocking cores that BLPOP/BRPOP/BLMPOP/BLMOVE/
// BRPOPLPUSH build on (Redis's blockingPopGenericCommand / serveClientBlockedOnList /
// lmoveGenericCommand paths). The cores take the database and the reply writer explicitly, so
// they can serve a blocked client other than the one running the current command.

/// Outcome of `ListCommands.popForBlocked`.
public enum ListPopResult: Sendable, Equatable {
    /// Elements were popped and the reply written.
    case popped
    /// The key does not exist (nothing written).
    case noList
    /// The key holds another type (nothing written; the caller decides whether to reply WRONGTYPE).
    case wrongType
}

/// Outcome of `ListCommands.moveForBlocked`. Nothing is written unless `.moved`.
public enum ListMoveResult: Sendable, Equatable {
    /// The element moved; its bulk string reply was written.
    case moved
    /// The source key does not exist.
    case noSource
    /// The source key holds another type.
    case sourceWrongType
    /// The destination key holds another type (the source is left untouched).
    case destinationWrongType
}

/// Parsed `numkeys key [key ...] LEFT|RIGHT [COUNT count]` (LMPOP, BLMPOP).
public struct MultiPopRequest: Sendable, Equatable {
    /// Argument indices of the keys, in order.
    public var keys: Range<Int>
    public var side: ListSide
    /// Elements to pop at most: 1 when COUNT is not given.
    public var count: Int
}

extension ListCommands {
    // MARK: reusable cores for the blocking commands

    /// Pops from the list at `key` in `db` if there is one, writing Redis's reply for it to
    /// `reply`: `[key, element]` when `count` is nil (BLPOP/BRPOP), `[key, [element ...]]` with up
    /// to `count` (>= 1) elements when given (BLMPOP/LMPOP). The key is deleted when emptied;
    /// `engine.dirty` counts the popped elements. Looks the key up as a write (lazy expiry, no
    /// hit/miss counting).
    public static func popForBlocked(engine: Engine, db: Database, key: UnsafeRawBufferPointer,
                                     side: ListSide, count: Int?, reply: inout ReplyWriter) -> ListPopResult {
        guard let i = db.lookupWrite(key) else { return .noList }
        guard case .list(let list) = db.table.value(at: i) else { return .wrongType }
        guard list.count > 0 else { return .noList }
        reply.arrayHeader(2)
        reply.bulk(key)
        let removed: Int
        if let count {
            removed = min(max(count, 1), list.count)
            reply.arrayHeader(removed)
            replyAndRemove(list, side, removed, &reply)
        } else {
            removed = 1
            replyAndRemoveOne(list, side, &reply)
        }
        elementsRemoved(engine, db, i, list, removed, key: key, event: popEvent(side))
        return .popped
    }

    public static func popForBlocked(engine: Engine, db: Database, key: [UInt8],
                                     side: ListSide, count: Int?, reply: inout ReplyWriter) -> ListPopResult {
        key.withUnsafeBytes { popForBlocked(engine: engine, db: db, key: $0, side: side, count: count, reply: &reply) }
    }

    /// LMOVE's core: pops from `from` of `source` and pushes to `to` of `destination` (created
    /// if missing; the same key rotates), writing the element as a bulk string. Both types are
    /// checked before anything changes. Deletes the source when emptied, counts one write and
    /// signals `destination` as ready.
    public static func moveForBlocked(engine: Engine, db: Database, source: UnsafeRawBufferPointer,
                                      destination: UnsafeRawBufferPointer, from: ListSide, to: ListSide,
                                      reply: inout ReplyWriter) -> ListMoveResult {
        guard let si = db.lookupWrite(source) else { return .noSource }
        guard case .list(let sourceList) = db.table.value(at: si) else { return .sourceWrongType }
        // Looking the destination up may expire it and move other entries: `si` is not used again.
        var destinationList: QuickList?
        if let di = db.lookupWrite(destination) {
            guard case .list(let l) = db.table.value(at: di) else { return .destinationWrongType }
            destinationList = l
        }
        guard let value = sourceList.withEndElement(front: from == .left, { Array($0) }) else { return .noSource }
        if from == .left { sourceList.removeFirst(1) } else { sourceList.removeLast(1) }
        let target: QuickList
        if let destinationList {
            target = destinationList
        } else {
            target = QuickList()
            db.insert(destination, .list(target))
        }
        if to == .left { target.pushFront(value) } else { target.pushBack(value) }
        engine.signalKeyReady(db, destination)
        reply.bulk(value)
        // Redis publishes the push (lmoveHandlePush) before the pop, then "del" for an emptied source.
        engine.notify(.list, to == .left ? "lpush" : "rpush", Array(destination), db: db.id)
        engine.notify(.list, popEvent(from), Array(source), db: db.id)
        // Only a distinct source can be empty now: a rotation put the element back.
        if sourceList.count == 0 {
            db.delete(source)
            engine.notify(.generic, "del", Array(source), db: db.id)
        }
        engine.dirty += 1
        return .moved
    }

    public static func moveForBlocked(engine: Engine, db: Database, source: [UInt8], destination: [UInt8],
                                      from: ListSide, to: ListSide, reply: inout ReplyWriter) -> ListMoveResult {
        source.withUnsafeBytes { s in
            destination.withUnsafeBytes { d in
                moveForBlocked(engine: engine, db: db, source: s, destination: d, from: from, to: to, reply: &reply)
            }
        }
    }

    /// LEFT or RIGHT at argument `i` (case-insensitive); replies `ERR syntax error` otherwise.
    public static func parseSide(_ c: CommandContext, _ i: Int) -> ListSide? {
        if c.args.matches(i, "left") { return .left }
        if c.args.matches(i, "right") { return .right }
        c.replySyntaxError()
        return nil
    }

    /// Parses `numkeys key [key ...] LEFT|RIGHT [COUNT count]` from argument `numkeysIndex` (1 for
    /// LMPOP, 2 for BLMPOP), with Redis's errors and their order; replies and returns nil when
    /// invalid. BLMPOP parses its timeout after this, as Redis does.
    public static func parseMultiPop(_ c: CommandContext, numkeysIndex k: Int) -> MultiPopRequest? {
        let a = c.args
        guard let numkeys = a.int64(k), numkeys >= 1 else {
            c.reply.error("ERR numkeys should be greater than 0")
            return nil
        }
        // The LEFT|RIGHT word must follow the keys.
        guard numkeys <= Int64(a.count - k - 2) else {
            c.replySyntaxError()
            return nil
        }
        let sideIndex = k + Int(numkeys) + 1
        guard let side = parseSide(c, sideIndex) else { return nil }
        var count = -1
        var j = sideIndex + 1
        while j < a.count {
            if count == -1 && a.count - 1 - j > 0 && a.matches(j, "count") {
                j += 1
                guard let v = a.int64(j), v >= 1 else {
                    c.reply.error("ERR count should be greater than 0")
                    return nil
                }
                count = Int(v)
            } else {
                c.replySyntaxError()
                return nil
            }
            j += 1
        }
        return MultiPopRequest(keys: (k + 1)..<sideIndex, side: side, count: count == -1 ? 1 : count)
    }

    /// Key positions of `numkeys key ...` commands for COMMAND GETKEYS and key-based routing, as
    /// Redis's genericGetKeys: numkeys read with C's atoi, no keys when it is below 1 or more
    /// than the arguments that follow.
    public static func multiPopKeys(numkeysIndex k: Int) -> @Sendable (Arguments) -> [Int] {
        { a in
            guard a.count > k else { return [] }
            let num = CNumber.atoi(a[k])
            let first = k + 1
            guard num >= 1, num <= a.count - first else { return [] }
            return Array(first..<(first + num))
        }
    }

    // MARK: LMOVE / RPOPLPUSH / LMPOP

    static func lmove(_ c: CommandContext) {
        guard let from = parseSide(c, 3), let to = parseSide(c, 4) else { return }
        move(c, from: from, to: to)
    }

    static func rpoplpush(_ c: CommandContext) { move(c, from: .right, to: .left) }

    static func move(_ c: CommandContext, from: ListSide, to: ListSide) {
        switch moveForBlocked(engine: c.engine, db: c.db, source: c.args[1], destination: c.args[2],
                              from: from, to: to, reply: &c.reply) {
        case .moved: return
        case .noSource: c.reply.null()
        case .sourceWrongType, .destinationWrongType: c.replyWrongType()
        }
    }

    /// `LMPOP numkeys key [key ...] LEFT|RIGHT [COUNT count]`: pops from the first key holding a
    /// list; a key of another type met before that is an error.
    static func lmpop(_ c: CommandContext) {
        guard let request = parseMultiPop(c, numkeysIndex: 1) else { return }
        let db = c.db
        for j in request.keys {
            switch popForBlocked(engine: c.engine, db: db, key: c.args[j], side: request.side,
                                 count: request.count, reply: &c.reply) {
            case .popped: return
            case .wrongType: return c.replyWrongType()
            case .noList: continue
            }
        }
        c.reply.nullArray()
    }
}
