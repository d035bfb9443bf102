import CairnRESP

// List commands (t_list.c in Redis 7.0). LMOVE, RPOPLPUSH, LMPOP and the cores the blocking
// variants reuse are in ListMoveCommands.swift. Arity, flags, ACL categories and key specs
// mirror Redis 7.0's COMMAND INFO; replies and error texts are Redis's, byte for byte.
//
// An empty list is never stored: a command that removes the last element deletes the key.
// Every command that adds elements with a push calls `signalKeyReady`, for blocked clients.

/// A list end: LEFT is the head, RIGHT the tail.
public enum ListSide: Sendable, Equatable {
    case left, right
}

public enum ListCommands {
    static let specs: [CommandSpec] = [
        CommandSpec("lpush", arity: -3, flags: [.write, .denyOOM, .fast], categories: [.write, .list, .fast],
                    keys: [.at(1, [.RW, .insert])],
                    group: "list", summary: "Prepend one or multiple elements to a list",
                    handler: { push($0, .left, existingOnly: false) }),
        CommandSpec("rpush", arity: -3, flags: [.write, .denyOOM, .fast], categories: [.write, .list, .fast],
                    keys: [.at(1, [.RW, .insert])], group: "list", summary: "Append one or multiple elements to a list",
                    handler: { push($0, .right, existingOnly: false) }),
        CommandSpec("lpushx", arity: -3, flags: [.write, .denyOOM, .fast], categories: [.write, .list, .fast],
                    keys: [.at(1, [.RW, .insert])], group: "list", since: "2.2.0",
                    summary: "Prepend an element to a list, only if the list exists",
                    handler: { push($0, .left, existingOnly: true) }),
        CommandSpec("rpushx", arity: -3, flags: [.write, .denyOOM, .fast], categories: [.write, .list, .fast],
                    keys: [.at(1, [.RW, .insert])], group: "list", since: "2.2.0",
                    summary: "Append an element to a list, only if the list exists",
                    handler: { push($0, .right, existingOnly: true) }),
        CommandSpec("lpop", arity: -2, flags: [.write, .fast], categories: [.write, .list, .fast],
                    keys: [.at(1, [.RW, .access, .delete])],
                    group: "list", summary: "Remove and get the first elements in a list",
                    handler: { pop($0, .left) }),
        CommandSpec("rpop", arity: -2, flags: [.write, .fast], categories: [.write, .list, .fast],
                    keys: [.at(1, [.RW, .access, .delete])],
                    group: "list", summary: "Remove and get the last elements in a list",
                    handler: { pop($0, .right) }),
        CommandSpec("llen", arity: 2, flags: [.readonly, .fast], categories: [.read, .list, .fast],
                    keys: [.at(1, [.RO])], group: "list", summary: "Get the length of a list", handler: llen),
        CommandSpec("lrange", arity: 4, flags: [.readonly], categories: [.read, .list, .slow],
                    keys: [.at(1, [.RO, .access])],
                    group: "list", summary: "Get a range of elements from a list", handler: lrange),
        CommandSpec("lindex", arity: 3, flags: [.readonly], categories: [.read, .list, .slow],
                    keys: [.at(1, [.RO, .access])],
                    group: "list", summary: "Get an element from a list by its index", handler: lindex),
        CommandSpec("lset", arity: 4, flags: [.write, .denyOOM], categories: [.write, .list, .slow],
                    keys: [.at(1, [.RW, .update])],
                    group: "list", summary: "Set the value of an element in a list by its index",
                    handler: lset),
        CommandSpec("linsert", arity: 5, flags: [.write, .denyOOM], categories: [.write, .list, .slow],
                    keys: [.at(1, [.RW, .insert])], group: "list", since: "2.2.0",
                    summary: "Insert an element before or after another element in a list", handler: linsert),
        CommandSpec("lrem", arity: 4, flags: [.write], categories: [.write, .list, .slow],
                    keys: [.at(1, [.RW, .delete])],
                    group: "list", summary: "Remove elements from a list", handler: lrem),
        CommandSpec("ltrim", arity: 4, flags: [.write], categories: [.write, .list, .slow],
                    keys: [.at(1, [.RW, .delete])],
                    group: "list", summary: "Trim a list to the specified range", handler: ltrim),
        CommandSpec("lpos", arity: -3, flags: [.readonly], categories: [.read, .list, .slow],
                    keys: [.at(1, [.RO, .access])], group: "list", since: "6.0.6",
                    summary: "Return the index of matching elements on a list", handler: lpos),
        CommandSpec("lmove", arity: 5, flags: [.write, .denyOOM], categories: [.write, .list, .slow],
                    keys: [.at(1, [.RW, .access, .delete]), .at(2, [.RW, .insert])], group: "list", since: "6.2.0",
                    summary: "Pop an element from a list, push it to another list and return it", handler: lmove),
        CommandSpec("rpoplpush", arity: 3, flags: [.write, .denyOOM], categories: [.write, .list, .slow],
                    keys: [.at(1, [.RW, .access, .delete]), .at(2, [.RW, .insert])], group: "list", since: "1.2.0",
                    summary: "Remove the last element in a list, prepend it to another list and return it",
                    handler: rpoplpush),
        CommandSpec("lmpop", arity: -4, flags: [.write], categories: [.write, .list, .slow],
                    keys: [.numkeys(at: 1, [.RW, .access, .delete])],
                    group: "list", since: "7.0.0", summary: "Pop elements from a list",
                    findKeys: multiPopKeys(numkeysIndex: 1), handler: lmpop),
    ]

    // MARK: lookups

    enum ListLookup {
        case missing, wrongType
        case found(Int, QuickList)
    }

    /// Looks up `key` for reading (counted, touches the access clock) or writing; replies
    /// WRONGTYPE and returns `.wrongType` if it holds something other than a list.
    @inline(__always)
    static func lookupList(_ c: CommandContext, _ key: UnsafeRawBufferPointer, write: Bool) -> ListLookup {
        let db = c.db
        guard let i = write ? db.lookupWrite(key) : db.lookupRead(key) else { return .missing }
        guard case .list(let list) = db.table.value(at: i) else {
            c.replyWrongType()
            return .wrongType
        }
        return .found(i, list)
    }

    /// After elements were removed from the list at entry `index` of `key`: publishes `event`,
    /// deletes the key if the list is now empty (publishing "del") and counts `removed` writes
    /// (Redis's listElementsRemoved, whose event is "lpop"/"rpop"; LTRIM and LREM pass theirs).
    @inline(__always)
    static func elementsRemoved(_ engine: Engine, _ db: Database, _ index: Int, _ list: QuickList, _ removed: Int,
                                key: UnsafeRawBufferPointer, event: StaticString) {
        engine.notify(.list, event, Array(key), db: db.id)
        if list.count == 0 {
            db.table.remove(at: index)
            engine.notify(.generic, "del", Array(key), db: db.id)
        }
        engine.dirty += Int64(removed)
    }

    /// The keyspace event of a pop from `side`.
    @inline(__always)
    static func popEvent(_ side: ListSide) -> StaticString { side == .left ? "lpop" : "rpop" }

    /// Writes the first (`.left`) or last `n` elements (`1...list.count`), the last ones from the
    /// tail inwards as Redis does, then removes them.
    @inline(__always)
    static func replyAndRemove(_ list: QuickList, _ side: ListSide, _ n: Int, _ reply: inout ReplyWriter) {
        if side == .left {
            list.writeBulks(from: 0, through: n - 1, reversed: false, into: &reply)
            list.removeFirst(n)
        } else {
            list.writeBulks(from: list.count - n, through: list.count - 1, reversed: true, into: &reply)
            list.removeLast(n)
        }
    }

    /// Pops one element from `side`, writing it as a bulk string.
    @inline(__always)
    static func replyAndRemoveOne(_ list: QuickList, _ side: ListSide, _ reply: inout ReplyWriter) {
        if side == .left {
            list.withEndElement(front: true) { reply.bulk($0) }
            list.removeFirst(1)
        } else {
            list.withEndElement(front: false) { reply.bulk($0) }
            list.removeLast(1)
        }
    }

    /// Clamps a range the way Redis's LRANGE/LTRIM do: negative indices count from the end;
    /// nil when the range is empty.
    @inline(__always)
    static func clampRange(_ start: Int64, _ end: Int64, length: Int) -> (start: Int, end: Int)? {
        let len = Int64(length)
        var s = start < 0 ? len + start : start
        var e = end < 0 ? len + end : end
        if s < 0 { s = 0 }
        if s > e || s >= len { return nil }
        if e >= len { e = len - 1 }
        return (Int(s), Int(e))
    }

    // MARK: LPUSH / RPUSH / LPUSHX / RPUSHX

    static func push(_ c: CommandContext, _ side: ListSide, existingOnly: Bool) {
        let db = c.db
        let key = c.args[1]
        let list: QuickList
        if let i = db.lookupWrite(key) {
            guard case .list(let l) = db.table.value(at: i) else { return c.replyWrongType() }
            list = l
        } else {
            if existingOnly { return c.reply.integer(0) }
            list = QuickList()
            db.insert(key, .list(list))
        }
        let argc = c.args.count
        if argc > 3 {
            var bytes = 0
            for j in 2..<argc { bytes += Listpack.entrySize(c.args[j].count) }
            list.reservePush(bytes: bytes, atBack: side != .left)
        }
        if side == .left {
            for j in 2..<argc { list.pushFront(c.args[j]) }
        } else {
            for j in 2..<argc { list.pushBack(c.args[j]) }
        }
        c.engine.dirty += Int64(argc - 2)
        c.engine.signalKeyReady(db, key)
        c.reply.integer(list.count)
        c.notify(.list, side == .left ? "lpush" : "rpush", keyAt: 1)
    }

    // MARK: LPOP / RPOP

    /// `[LR]POP key [count]`: without a count, one bulk string (null if no key); with one, an
    /// array (null array if no key, empty array for count 0). The count is parsed first.
    static func pop(_ c: CommandContext, _ side: ListSide) {
        let a = c.args
        if a.count > 3 { return c.replyArityError() }
        var count: Int?
        if a.count == 3 {
            guard let v = a.int64(2), v >= 0 else {
                return c.reply.error("ERR value is out of range, must be positive")
            }
            count = Int(v)
        }
        let list: QuickList, index: Int
        switch lookupList(c, a[1], write: true) {
        case .missing: return count == nil ? c.reply.null() : c.reply.nullArray()
        case .wrongType: return
        case .found(let i, let l): (index, list) = (i, l)
        }
        let removed: Int
        if let count {
            if count == 0 { return c.reply.arrayHeader(0) }
            removed = min(count, list.count)
            c.reply.arrayHeader(removed)
            replyAndRemove(list, side, removed, &c.reply)
        } else {
            removed = 1
            replyAndRemoveOne(list, side, &c.reply)
        }
        elementsRemoved(c.engine, c.db, index, list, removed, key: a[1], event: popEvent(side))
    }

    // MARK: LLEN / LRANGE / LINDEX

    static func llen(_ c: CommandContext) {
        switch lookupList(c, c.args[1], write: false) {
        case .missing: c.reply.integer(0)
        case .wrongType: return
        case .found(_, let list): c.reply.integer(list.count)
        }
    }

    static func lrange(_ c: CommandContext) {
        guard let start = c.args.int64(2), let end = c.args.int64(3) else { return c.replyNotInteger() }
        switch lookupList(c, c.args[1], write: false) {
        case .missing: c.reply.arrayHeader(0)
        case .wrongType: return
        case .found(_, let list):
            guard let r = clampRange(start, end, length: list.count) else { return c.reply.arrayHeader(0) }
            c.reply.arrayHeader(r.end - r.start + 1)
            list.writeBulks(from: r.start, through: r.end, reversed: false, into: &c.reply)
        }
    }

    static func lindex(_ c: CommandContext) {
        switch lookupList(c, c.args[1], write: false) {
        case .missing: c.reply.null()
        case .wrongType: return
        case .found(_, let list):
            guard let index = c.args.int64(2) else { return c.replyNotInteger() }
            if list.withElement(at: Int(index), { c.reply.bulk($0) }) == nil { c.reply.null() }
        }
    }

    // MARK: LSET / LINSERT

    static func lset(_ c: CommandContext) {
        switch lookupList(c, c.args[1], write: true) {
        case .missing: c.reply.error("ERR no such key")
        case .wrongType: return
        case .found(_, let list):
            guard let index = c.args.int64(2) else { return c.replyNotInteger() }
            guard list.set(Int(index), c.args[3]) else { return c.reply.error("ERR index out of range") }
            c.engine.dirty += 1
            c.reply.ok()
            c.notify(.list, "lset", keyAt: 1)
        }
    }

    static func linsert(_ c: CommandContext) {
        let after: Bool
        if c.args.matches(2, "after") {
            after = true
        } else if c.args.matches(2, "before") {
            after = false
        } else {
            return c.replySyntaxError()
        }
        switch lookupList(c, c.args[1], write: true) {
        case .missing: c.reply.integer(0)
        case .wrongType: return
        case .found(_, let list):
            guard list.insert(c.args[4], pivot: c.args[3], after: after) else { return c.reply.integer(-1) }
            c.notify(.list, "linsert", keyAt: 1)
            c.engine.dirty += 1
            c.reply.integer(list.count)
        }
    }

    // MARK: LREM / LTRIM

    /// `LREM key count element`: count > 0 removes from the head, < 0 from the tail, 0 all.
    static func lrem(_ c: CommandContext) {
        guard let toRemove = c.args.int64(2) else { return c.replyNotInteger() }
        switch lookupList(c, c.args[1], write: true) {
        case .missing: c.reply.integer(0)
        case .wrongType: return
        case .found(let i, let list):
            // Redis negates a negative count; LONG_MIN stays negative and never matches the number
            // removed, so it removes every match: limit 0 here.
            let limit = toRemove == Int64.min ? 0 : Int(toRemove.magnitude)
            let removed = list.remove(c.args[3], limit: limit, fromHead: toRemove >= 0)
            // Nothing removed, nothing published (the list cannot be empty then).
            if removed > 0 { elementsRemoved(c.engine, c.db, i, list, removed, key: c.args[1], event: "lrem") }
            c.reply.integer(removed)
        }
    }

    static func ltrim(_ c: CommandContext) {
        guard let start = c.args.int64(2), let end = c.args.int64(3) else { return c.replyNotInteger() }
        switch lookupList(c, c.args[1], write: true) {
        case .missing: c.reply.ok()
        case .wrongType: return
        case .found(let i, let list):
            let length = list.count
            var left = length, right = 0
            if let r = clampRange(start, end, length: length) {
                left = r.start
                right = length - r.end - 1
            }
            list.removeFirst(left)
            list.removeLast(right)
            // Published even when nothing was trimmed, as Redis does.
            elementsRemoved(c.engine, c.db, i, list, left + right, key: c.args[1], event: "ltrim")
            c.reply.ok()
        }
    }

    // MARK: LPOS

    /// `LPOS key element [RANK rank] [COUNT num-matches] [MAXLEN len]`. Options are parsed before
    /// the key is looked up. Redis 7.0 reads RANK as any long: -9223372036854775808 cannot be
    /// negated, stays negative, and so matches from the tail with every match counting and COUNT
    /// never reached; the wrapping arithmetic below reproduces that.
    static func lpos(_ c: CommandContext) {
        let a = c.args
        var rank = 1, count = -1, maxLength = 0
        var j = 3
        while j < a.count {
            let more = a.count - 1 - j > 0
            if more && a.matches(j, "rank") {
                j += 1
                guard let v = a.int64(j) else { return c.replyNotInteger() }
                if v == 0 {
                    return c.reply.error("ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... or use negative to start from the end of the list")
                }
                rank = Int(v)
            } else if more && a.matches(j, "count") {
                j += 1
                guard let v = a.int64(j), v >= 0 else { return c.reply.error("ERR COUNT can't be negative") }
                count = Int(v)
            } else if more && a.matches(j, "maxlen") {
                j += 1
                guard let v = a.int64(j), v >= 0 else { return c.reply.error("ERR MAXLEN can't be negative") }
                maxLength = Int(v)
            } else {
                return c.replySyntaxError()
            }
            j += 1
        }
        var fromTail = false
        if rank < 0 {
            rank = 0 &- rank
            fromTail = true
        }
        let list: QuickList
        switch lookupList(c, a[1], write: false) {
        case .missing: return count == -1 ? c.reply.null() : c.reply.arrayHeader(0)
        case .wrongType: return
        case .found(_, let l): list = l
        }
        var matches = 0
        if count == -1 {
            var found: Int?
            list.forEachMatch(a[2], fromTail: fromTail, maxLength: maxLength) { index in
                matches += 1
                if matches >= rank {
                    found = index
                    return false
                }
                return true
            }
            if let found { c.reply.integer(found) } else { c.reply.null() }
            return
        }
        var positions: [Int] = []
        list.forEachMatch(a[2], fromTail: fromTail, maxLength: maxLength) { index in
            matches += 1
            guard matches >= rank else { return true }
            positions.append(index)
            return count == 0 || (matches &- rank &+ 1) < count
        }
        c.reply.arrayHeader(positions.count)
        for p in positions { c.reply.integer(p) }
    }
}
