import CairnRESP

// Sorted-set commands (t_zset.c in Redis 7.0). The command table and the helpers every file
// shares are here; the commands are in ZAddCommands.swift (ZADD ... ZRANK), ZRangeCommands.swift
// (ranges, counts, range removal), ZPopCommands.swift (ZPOPMIN/MAX, ZMPOP, the pop core for the
// blocking variants), ZSetAlgebra.swift (ZUNION/ZINTER/ZDIFF[STORE], ZINTERCARD) and
// ZRandScanCommands.swift (ZRANDMEMBER, ZSCAN). Arity, flags, ACL categories and key specs
// are those of Redis 7.0.15's COMMAND INFO.

enum SortedSetCommands {
    static let read: CommandFlags = [.readonly]
    static let readFast: CommandFlags = [.readonly, .fast]

    static func spec(_ name: String, _ arity: Int, _ flags: CommandFlags, _ categories: ACLCategories,
                     keys: [KeySpec], since: String, _ summary: String,
                     findKeys: KeyFinder? = nil,
                     handler: @escaping CommandHandler) -> CommandSpec {
        CommandSpec(name, arity: arity, flags: flags, categories: categories.union(.sortedset), keys: keys,
                    group: "sorted-set", since: since, summary: summary, findKeys: findKeys, handler: handler)
    }

    static let specs: [CommandSpec] = [
        spec("zadd", -4, [.write, .denyOOM, .fast], [.write, .fast], keys: [.at(1, [.RW, .update])], since: "1.2.0",
             "Add one or more members to a sorted set, or update its score if it already exists", handler: zadd),
        spec("zincrby", 4, [.write, .denyOOM, .fast], [.write, .fast],
             keys: [.at(1, [.RW, .access, .update])], since: "1.2.0",
             "Increment the score of a member in a sorted set", handler: zincrby),
        spec("zrem", -3, [.write, .fast], [.write, .fast], keys: [.at(1, [.RW, .delete])], since: "1.2.0",
             "Remove one or more members from a sorted set", handler: zrem),
        spec("zscore", 3, readFast, [.read, .fast], keys: [.at(1, [.RO, .access])], since: "1.2.0",
             "Get the score associated with the given member in a sorted set", handler: zscore),
        spec("zmscore", -3, readFast, [.read, .fast], keys: [.at(1, [.RO, .access])], since: "6.2.0",
             "Get the score associated with the given members in a sorted set", handler: zmscore),
        spec("zcard", 2, readFast, [.read, .fast], keys: [.at(1, [.RO])], since: "1.2.0",
             "Get the number of members in a sorted set", handler: zcard),
        spec("zcount", 4, readFast, [.read, .fast], keys: [.at(1, [.RO, .access])], since: "2.0.0",
             "Count the members in a sorted set with scores within the given values", handler: zcount),
        spec("zlexcount", 4, readFast, [.read, .fast], keys: [.at(1, [.RO, .access])], since: "2.8.9",
             "Count the number of members in a sorted set between a given lexicographical range", handler: zlexcount),
        spec("zrange", -4, read, [.read, .slow], keys: [.at(1, [.RO, .access])], since: "1.2.0",
             "Return a range of members in a sorted set", handler: zrange),
        spec("zrangebyscore", -4, read, [.read, .slow], keys: [.at(1, [.RO, .access])], since: "1.0.5",
             "Return a range of members in a sorted set, by score", handler: zrangebyscore),
        spec("zrevrangebyscore", -4, read, [.read, .slow], keys: [.at(1, [.RO, .access])], since: "2.2.0",
             "Return a range of members in a sorted set, by score, with scores ordered from high to low",
             handler: zrevrangebyscore),
        spec("zrangebylex", -4, read, [.read, .slow], keys: [.at(1, [.RO, .access])], since: "2.8.9",
             "Return a range of members in a sorted set, by lexicographical range", handler: zrangebylex),
        spec("zrevrangebylex", -4, read, [.read, .slow], keys: [.at(1, [.RO, .access])], since: "2.8.9",
             "Return a range of members in a sorted set, by lexicographical range, ordered from higher to lower strings.",
             handler: zrevrangebylex),
        spec("zrevrange", -4, read, [.read, .slow], keys: [.at(1, [.RO, .access])], since: "1.2.0",
             "Return a range of members in a sorted set, by index, with scores ordered from high to low",
             handler: zrevrange),
        spec("zrangestore", -5, [.write, .denyOOM], [.write, .slow],
             keys: [.at(1, [.OW, .update]), .at(2, [.RO, .access])], since: "6.2.0",
             "Store a range of members from sorted set into another key", handler: zrangestore),
        spec("zrank", 3, readFast, [.read, .fast], keys: [.at(1, [.RO, .access])], since: "2.0.0",
             "Determine the index of a member in a sorted set", handler: { zrank($0, reverse: false) }),
        spec("zrevrank", 3, readFast, [.read, .fast], keys: [.at(1, [.RO, .access])], since: "2.0.0",
             "Determine the index of a member in a sorted set, with scores ordered from high to low",
             handler: { zrank($0, reverse: true) }),
        spec("zremrangebyrank", 4, [.write], [.write, .slow], keys: [.at(1, [.RW, .delete])], since: "2.0.0",
             "Remove all members in a sorted set within the given indexes", handler: zremrangebyrank),
        spec("zremrangebyscore", 4, [.write], [.write, .slow], keys: [.at(1, [.RW, .delete])], since: "1.2.0",
             "Remove all members in a sorted set within the given scores", handler: zremrangebyscore),
        spec("zremrangebylex", 4, [.write], [.write, .slow], keys: [.at(1, [.RW, .delete])], since: "2.8.9",
             "Remove all members in a sorted set between the given lexicographical range", handler: zremrangebylex),
        spec("zpopmin", -2, [.write, .fast], [.write, .fast], keys: [.at(1, [.RW, .access, .delete])], since: "5.0.0",
             "Remove and return members with the lowest scores in a sorted set", handler: { zpop($0, max: false) }),
        spec("zpopmax", -2, [.write, .fast], [.write, .fast], keys: [.at(1, [.RW, .access, .delete])], since: "5.0.0",
             "Remove and return members with the highest scores in a sorted set", handler: { zpop($0, max: true) }),
        spec("zmpop", -4, [.write], [.write, .slow], keys: [.numkeys(at: 1, [.RW, .access, .delete])], since: "7.0.0",
             "Remove and return members with scores in a sorted set",
             findKeys: { numkeysKeys($0, numkeysAt: 1, destination: nil) }, handler: zmpop),
        spec("zunion", -3, [.readonly], [.read, .slow], keys: [.numkeys(at: 1, [.RO, .access])], since: "6.2.0",
             "Add multiple sorted sets", findKeys: { numkeysKeys($0, numkeysAt: 1, destination: nil) },
             handler: { zsetAlgebra($0, .union, destination: false) }),
        spec("zinter", -3, [.readonly], [.read, .slow], keys: [.numkeys(at: 1, [.RO, .access])], since: "6.2.0",
             "Intersect multiple sorted sets", findKeys: { numkeysKeys($0, numkeysAt: 1, destination: nil) },
             handler: { zsetAlgebra($0, .inter, destination: false) }),
        spec("zdiff", -3, [.readonly], [.read, .slow], keys: [.numkeys(at: 1, [.RO, .access])], since: "6.2.0",
             "Subtract multiple sorted sets", findKeys: { numkeysKeys($0, numkeysAt: 1, destination: nil) },
             handler: { zsetAlgebra($0, .diff, destination: false) }),
        spec("zunionstore", -4, [.write, .denyOOM], [.write, .slow],
             keys: [.at(1, [.OW, .update]), .numkeys(at: 2, [.RO, .access])], since: "2.0.0",
             "Add multiple sorted sets and store the resulting sorted set in a new key",
             findKeys: { numkeysKeys($0, numkeysAt: 2, destination: 1) },
             handler: { zsetAlgebra($0, .union, destination: true) }),
        spec("zinterstore", -4, [.write, .denyOOM], [.write, .slow],
             keys: [.at(1, [.OW, .update]), .numkeys(at: 2, [.RO, .access])], since: "2.0.0",
             "Intersect multiple sorted sets and store the resulting sorted set in a new key",
             findKeys: { numkeysKeys($0, numkeysAt: 2, destination: 1) },
             handler: { zsetAlgebra($0, .inter, destination: true) }),
        spec("zdiffstore", -4, [.write, .denyOOM], [.write, .slow],
             keys: [.at(1, [.OW, .update]), .numkeys(at: 2, [.RO, .access])], since: "6.2.0",
             "Subtract multiple sorted sets and store the resulting sorted set in a new key",
             findKeys: { numkeysKeys($0, numkeysAt: 2, destination: 1) },
             handler: { zsetAlgebra($0, .diff, destination: true) }),
        spec("zintercard", -3, [.readonly], [.read, .slow], keys: [.numkeys(at: 1, [.RO, .access])], since: "7.0.0",
             "Intersect multiple sorted sets and return the cardinality of the result",
             findKeys: { numkeysKeys($0, numkeysAt: 1, destination: nil) }, handler: zintercard),
        spec("zrandmember", -2, read, [.read, .slow], keys: [.at(1, [.RO, .access])], since: "6.2.0",
             "Get one or multiple random elements from a sorted set", handler: zrandmember),
        spec("zscan", -3, read, [.read, .slow], keys: [.at(1, [.RO, .access])], since: "2.8.0",
             "Incrementally iterate sorted sets elements and associated scores", handler: zscan),
    ]

    // MARK: shared helpers

    static func limits(_ c: CommandContext) -> SortedSetValue.Limits { SortedSetValue.Limits(c.engine.settings) }

    enum Lookup {
        case missing
        case wrongType
        case found(SortedSetValue)
    }

    /// The sorted set at `key` for a read (counting hits and misses; writes use lookupForWrite).
    /// Replies WRONGTYPE when the key holds something else.
    static func lookup(_ c: CommandContext, _ key: UnsafeRawBufferPointer) -> Lookup {
        let db = c.db
        guard let i = db.lookupRead(key) else { return .missing }
        guard case .zset(let z) = db.table.value(at: i) else {
            c.replyWrongType()
            return .wrongType
        }
        return .found(z)
    }

    /// A sorted set being written, and where it goes back. A small set is packed in its key's
    /// record, so `zset` is a copy of it (the engine's PackedScratch) that `store` writes back; a
    /// skiplist set is the table's own object, changed in place; a new set (`index` nil) is
    /// inserted by `store`.
    struct Writable {
        let zset: SortedSetValue
        let index: Int?
        let packed: Bool
    }

    enum WriteLookup {
        case missing
        case wrongType
        case found(Writable)
    }

    /// The sorted set at `key` for writing (a write lookup). Replies WRONGTYPE for another type.
    static func lookupForWrite(_ c: CommandContext, _ key: UnsafeRawBufferPointer) -> WriteLookup {
        let db = c.db
        guard let i = db.lookupWrite(key) else { return .missing }
        if let w = packedForWrite(db, at: i) { return .found(w) }
        guard case .zset(let z) = db.table.value(at: i) else {
            c.replyWrongType()
            return .wrongType
        }
        return .found(Writable(zset: z, index: i, packed: false))
    }

    /// The small sorted set packed at `index`, copied for writing, or nil for another kind.
    @inline(__always)
    static func packedForWrite(_ db: Database, at index: Int) -> Writable? {
        guard let (raw, entries) = db.table.packedZset(at: index) else { return nil }
        let copy = db.engine.packedScratch.takeZset(copying: raw, entries: entries)
        return Writable(zset: copy, index: index, packed: true)
    }

    /// Makes a write to `w.zset` part of the keyspace: the key goes when the set is empty (an
    /// empty sorted set is never stored), a new set is inserted, a packed one written back.
    static func store(_ db: Database, _ key: UnsafeRawBufferPointer, _ w: Writable) {
        guard let i = w.index else {
            if !w.zset.isEmpty { db.insert(key, .zset(w.zset)) }
            return
        }
        if w.zset.isEmpty {
            db.table.remove(at: i)
        } else if w.packed {
            // Still small: the bytes go back; converted: the object becomes the record's.
            if w.zset.isListpack {
                db.table.setPacked(at: i, kind: .packedZset, w.zset.pairs)
            } else {
                db.table.setValue(at: i, .zset(w.zset))
            }
        }
        if w.packed { db.engine.packedScratch.give(w.zset) }
    }

    /// Ends a write that changed nothing: a packed set's copy goes back to the scratch (so the
    /// next write does not allocate one).
    static func discard(_ db: Database, _ w: Writable) {
        if w.packed { db.engine.packedScratch.give(w.zset) }
    }

    /// One element of a reply: `member` alone, or with its score: a [member, score] pair in
    /// RESP3, two flat items in RESP2 (the array header counted them).
    @inline(__always)
    static func writeElement(_ reply: inout ReplyWriter, _ member: UnsafeRawBufferPointer, _ score: Double, withScores: Bool) {
        if withScores && reply.resp3 { reply.arrayHeader(2) }
        reply.bulk(member)
        if withScores { reply.score(score) }
    }

    /// Array length for `n` elements of a reply with or without scores.
    @inline(__always)
    static func replyLength(_ n: Int, withScores: Bool, resp3: Bool) -> Int { withScores && !resp3 ? n * 2 : n }

    /// A count argument as Redis's getLongFromObjectOrReply reads it.
    static func long(_ c: CommandContext, _ i: Int) -> Int? {
        guard let v = c.args.int64(i) else {
            c.replyNotInteger()
            return nil
        }
        return Int(v)
    }

    /// Redis's getRangeLongFromObjectOrReply with a message: that message for anything that is not
    /// an integer within min...max.
    static func long(_ c: CommandContext, _ i: Int, in range: ClosedRange<Int>, message: StaticString) -> Int? {
        guard let v = c.args.int64(i), range.contains(Int(v)) else {
            c.reply.error(message)
            return nil
        }
        return Int(v)
    }

    /// Key positions of a numkeys command (ZUNION, ZMPOP, ZUNIONSTORE...): the destination first
    /// when there is one, then the `numkeys` keys after the count, as Redis's key specs give them.
    /// None when the count is not a positive number of keys that fits (COMMAND GETKEYS errors).
    static func numkeysKeys(_ args: Arguments, numkeysAt position: Int, destination: Int?) -> [Int] {
        guard position < args.count else { return [] }
        let first = position + 1
        // Redis reads the count with C's atoi here (COMMAND GETKEYS ZUNION 4294967297 a b → a).
        let n = CNumber.atoi(args[position])
        guard n >= 1, n <= args.count - first else { return [] }
        return (destination.map { [$0] } ?? []) + Array(first..<(first + n))
    }
}
