import CairnRESP

// ZPOPMIN, ZPOPMAX, ZMPOP, and the pop core that the blocking variants (BZPOPMIN, BZPOPMAX,
// BZMPOP) reuse: `popForBlocked` removes the elements, `writePopped` writes any of the four reply
// shapes Redis's genericZpopCommand produces.

extension SortedSetCommands {
    /// How popped elements are replied (Redis's emitkey / use_nested_array combinations).
    public enum PopReplyShape: Sendable {
        /// [m1, s1, m2, s2...]: ZPOPMIN/ZPOPMAX without COUNT, or in RESP2.
        case flat
        /// [[m1, s1], [m2, s2]...]: ZPOPMIN/ZPOPMAX with COUNT in RESP3.
        case nested
        /// [key, m1, s1...]: BZPOPMIN/BZPOPMAX.
        case keyedFlat
        /// [key, [[m1, s1]...]]: ZMPOP/BZMPOP.
        case keyedNested
    }

    /// Pops up to `count` (>= 1) elements of the sorted set at `key`, lowest scores first when
    /// `min` (else highest), deleting the key once empty and adding the pops to `dirty`. Nil when
    /// the key holds no sorted set: the caller looks up the key first (WRONGTYPE, blocking).
    public static func popForBlocked(db: Database, key: UnsafeRawBufferPointer, min: Bool, count: Int)
        -> [(member: [UInt8], score: Double)]? {
        guard let i = db.lookupWrite(key) else { return nil }
        let w: Writable
        if let packed = packedForWrite(db, at: i) {
            w = packed
        } else if case .zset(let zset) = db.table.value(at: i) {
            w = Writable(zset: zset, index: i, packed: false)
        } else {
            return nil
        }
        var out: [(member: [UInt8], score: Double)] = []
        out.reserveCapacity(Swift.min(count, w.zset.count))
        while out.count < count, let e = w.zset.popExtreme(max: !min) { out.append(e) }
        let emptied = w.zset.isEmpty
        store(db, key, w)
        db.engine.dirty += Int64(out.count)
        // One event however many were popped, then "del" for an emptied set (genericZpopCommand).
        if !out.isEmpty { db.engine.notify(.zset, min ? "zpopmin" : "zpopmax", Array(key), db: db.id) }
        if emptied { db.engine.notify(.generic, "del", Array(key), db: db.id) }
        return out
    }

    public static func popForBlocked(db: Database, key: [UInt8], min: Bool, count: Int)
        -> [(member: [UInt8], score: Double)]? {
        key.withUnsafeBytes { popForBlocked(db: db, key: $0, min: min, count: count) }
    }

    /// Writes popped elements in `shape`; `key` is needed for the keyed shapes.
    public static func writePopped(_ reply: inout ReplyWriter, key: UnsafeRawBufferPointer,
                                   _ items: [(member: [UInt8], score: Double)], shape: PopReplyShape) {
        switch shape {
        case .flat: reply.arrayHeader(items.count * 2)
        case .nested: reply.arrayHeader(items.count)
        case .keyedFlat:
            reply.arrayHeader(items.count * 2 + 1)
            reply.bulk(key)
        case .keyedNested:
            reply.arrayHeader(2)
            reply.bulk(key)
            reply.arrayHeader(items.count)
        }
        let nested = shape == .nested || shape == .keyedNested
        for it in items {
            if nested { reply.arrayHeader(2) }
            reply.bulk(it.member)
            reply.score(it.score)
        }
    }

    /// Redis's genericZpopCommand: pops from the first of `keys` (argument indices) that holds a
    /// sorted set. `count` nil is the plain single pop; `nilWhenEmpty` answers a null array
    /// rather than an empty one when no key has elements.
    static func genericPop(_ c: CommandContext, keys: Range<Int>, max: Bool, count: Int?,
                           shape: PopReplyShape, nilWhenEmpty: Bool) {
        let db = c.db
        var found: Int? = nil
        for k in keys {
            guard let i = db.lookupWrite(c.args[k]) else { continue }
            guard db.table.type(at: i) == .zset else { return c.replyWrongType() }
            found = k
            break
        }
        guard let k = found else {
            if nilWhenEmpty { c.reply.nullArray() } else { c.reply.arrayHeader(0) }
            return
        }
        if count == 0 { return c.reply.arrayHeader(0) }
        let key = c.args[k]
        let items = popForBlocked(db: db, key: key, min: !max, count: count ?? 1) ?? []
        writePopped(&c.reply, key: key, items, shape: shape)
    }

    /// ZPOPMIN / ZPOPMAX key [count]
    static func zpop(_ c: CommandContext, max: Bool) {
        guard c.args.count <= 3 else { return c.replySyntaxError() }
        var count: Int? = nil
        if c.args.count == 3 {
            guard let n = long(c, 2, in: 0...Int.max, message: "ERR value is out of range, must be positive") else { return }
            count = n
        }
        // RESP3 nests the pairs only when a count was given.
        let shape: PopReplyShape = c.reply.resp3 && count != nil ? .nested : .flat
        genericPop(c, keys: 1..<2, max: max, count: count, shape: shape, nilWhenEmpty: false)
    }

    /// The arguments of ZMPOP / BZMPOP after `numkeys` at `numkeysAt`: the key argument range,
    /// MIN or MAX, and COUNT. Replies the error and returns nil when they are invalid.
    public static func parseMultiPop(_ c: CommandContext, numkeysAt: Int) -> (keys: Range<Int>, max: Bool, count: Int)? {
        let a = c.args
        guard let numkeys = long(c, numkeysAt, in: 1...Int.max, message: "ERR numkeys should be greater than 0") else {
            return nil
        }
        guard numkeys < a.count - numkeysAt - 1 else {
            c.replySyntaxError()
            return nil
        }
        let whereAt = numkeysAt + numkeys + 1
        let max: Bool
        if a.matches(whereAt, "min") { max = false }
        else if a.matches(whereAt, "max") { max = true }
        else {
            c.replySyntaxError()
            return nil
        }
        var count = -1
        var j = whereAt + 1
        while j < a.count {
            guard count == -1 && a.matches(j, "count") && j + 1 < a.count else {
                c.replySyntaxError()
                return nil
            }
            j += 1
            guard let n = long(c, j, in: 1...Int.max, message: "ERR count should be greater than 0") else { return nil }
            count = n
            j += 1
        }
        return ((numkeysAt + 1)..<whereAt, max, count == -1 ? 1 : count)
    }

    /// ZMPOP numkeys key [key ...] MIN|MAX [COUNT count]
    static func zmpop(_ c: CommandContext) {
        guard let (keys, max, count) = parseMultiPop(c, numkeysAt: 1) else { return }
        genericPop(c, keys: keys, max: max, count: count, shape: .keyedNested, nilWhenEmpty: true)
    }
}
