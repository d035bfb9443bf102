import CairnRESP

// Set commands (t_set.c in Redis). Arity, flags, ACL categories and key specs mirror Redis
// 7.0's COMMAND INFO. A set is never stored empty: the key goes with its last member. The
// multi-set commands (SINTER, SUNION, SDIFF and their STORE / CARD forms) are in
// SetAlgebraCommands.swift.

enum SetCommands {
    static var specs: [CommandSpec] { basicSpecs + algebraSpecs }

    static let basicSpecs: [CommandSpec] = [
        CommandSpec("sadd", arity: -3, flags: [.write, .denyOOM, .fast], categories: [.write, .set, .fast],
                    keys: [.at(1, [.RW, .insert])],
                    group: "set", since: "1.0.0", summary: "Add one or more members to a set", handler: sadd),
        CommandSpec("srem", arity: -3, flags: [.write, .fast], categories: [.write, .set, .fast],
                    keys: [.at(1, [.RW, .delete])],
                    group: "set", since: "1.0.0", summary: "Remove one or more members from a set",
                    handler: srem),
        CommandSpec("smembers", arity: 2, flags: [.readonly], categories: [.read, .set, .slow],
                    keys: [.at(1, [.RO, .access])],
                    group: "set", since: "1.0.0", summary: "Get all the members in a set",
                    handler: { intersect($0, keys: 1..<2, destination: nil) }),
        CommandSpec("sismember", arity: 3, flags: [.readonly, .fast], categories: [.read, .set, .fast],
                    keys: [.at(1, [.RO])],
                    group: "set", since: "1.0.0", summary: "Determine if a given value is a member of a set",
                    handler: sismember),
        CommandSpec("smismember", arity: -3, flags: [.readonly, .fast], categories: [.read, .set, .fast],
                    keys: [.at(1, [.RO, .access])], group: "set", since: "6.2.0",
                    summary: "Returns the membership associated with the given elements for a set", handler: smismember),
        CommandSpec("scard", arity: 2, flags: [.readonly, .fast], categories: [.read, .set, .fast],
                    keys: [.at(1, [.RO])],
                    group: "set", since: "1.0.0", summary: "Get the number of members in a set", handler: scard),
        CommandSpec("spop", arity: -2, flags: [.write, .fast], categories: [.write, .set, .fast],
                    keys: [.at(1, [.RW, .access, .delete])], group: "set", since: "1.0.0",
                    summary: "Remove and return one or multiple random members from a set", handler: spop),
        CommandSpec("srandmember", arity: -2, flags: [.readonly], categories: [.read, .set, .slow],
                    keys: [.at(1, [.RO, .access])],
                    group: "set", since: "1.0.0", summary: "Get one or multiple random members from a set",
                    handler: srandmember),
        CommandSpec("smove", arity: 4, flags: [.write, .fast], categories: [.write, .set, .fast],
                    keys: [.at(1, [.RW, .access, .delete]), .at(2, [.RW, .insert])],
                    group: "set", since: "1.0.0", summary: "Move a member from one set to another",
                    handler: smove),
        CommandSpec("sscan", arity: -3, flags: [.readonly], categories: [.read, .set, .slow],
                    keys: [.at(1, [.RO, .access])],
                    group: "set", since: "2.8.0", summary: "Incrementally iterate Set elements", handler: sscan),
    ]

    // MARK: lookup and replies

    enum Lookup { case missing, found(Int, SetValue), wrongType }

    /// The set at `key`: a counted read lookup, or a write lookup. Replies WRONGTYPE for another type.
    @inline(__always)
    static func lookup(_ c: CommandContext, _ key: UnsafeRawBufferPointer, write: Bool = false) -> Lookup {
        let db = c.db
        guard let i = write ? db.lookupWrite(key) : db.lookupRead(key) else { return .missing }
        guard case .set(let s) = db.table.value(at: i) else {
            c.replyWrongType()
            return .wrongType
        }
        return .found(i, s)
    }

    static func maxIntsetEntries(_ c: CommandContext) -> Int { c.engine.settings.setMaxIntsetEntries }

    @inline(__always)
    static func replyMember(_ c: CommandContext, _ m: SetMember) {
        switch m {
        case .int(let v): c.reply.bulk(integer: v)
        case .bytes(let b): c.reply.bulk(b)
        }
    }

    // MARK: SADD / SREM

    static func sadd(_ c: CommandContext) {
        let a = c.args
        let s: SetValue
        var isNew = false
        switch lookup(c, a[1], write: true) {
        case .wrongType: return
        case .missing:
            s = SetValue()
            isNew = true
        case .found(_, let found): s = found
        }
        let max = maxIntsetEntries(c)
        var added = 0
        for j in 2..<a.count where s.add(a[j], maxIntsetEntries: max) { added += 1 }
        if isNew { c.db.insert(a[1], .set(s)) }
        c.engine.dirty += Int64(added)
        c.reply.integer(added)
        if added > 0 { c.notify(.set, "sadd", keyAt: 1) }
    }

    static func srem(_ c: CommandContext) {
        let a = c.args
        switch lookup(c, a[1], write: true) {
        case .wrongType: return
        case .missing: c.reply.integer(0)
        case .found(let i, let s):
            var removed = 0
            for j in 2..<a.count where s.remove(a[j]) {
                removed += 1
                if s.isEmpty {
                    c.db.table.remove(at: i)
                    break
                }
            }
            c.engine.dirty += Int64(removed)
            c.reply.integer(removed)
            if removed > 0 {
                c.notify(.set, "srem", keyAt: 1)
                if s.isEmpty { c.notify(.generic, "del", keyAt: 1) }
            }
        }
    }

    // MARK: membership

    static func sismember(_ c: CommandContext) {
        switch lookup(c, c.args[1]) {
        case .wrongType: return
        case .missing: c.reply.integer(0)
        case .found(_, let s): c.reply.integer(s.contains(c.args[2]) ? 1 : 0)
        }
    }

    static func smismember(_ c: CommandContext) {
        let a = c.args
        var set: SetValue? = nil
        switch lookup(c, a[1]) {
        case .wrongType: return
        case .missing: break
        case .found(_, let s): set = s
        }
        c.reply.arrayHeader(a.count - 2)
        for j in 2..<a.count { c.reply.integer(set?.contains(a[j]) == true ? 1 : 0) }
    }

    static func scard(_ c: CommandContext) {
        switch lookup(c, c.args[1]) {
        case .wrongType: return
        case .missing: c.reply.integer(0)
        case .found(_, let s): c.reply.integer(s.count)
        }
    }

    // MARK: SPOP

    /// Redis's SPOP_MOVE_STRATEGY_MUL: when what stays is under a fifth of what goes, the
    /// survivors are moved to a new set instead.
    static let spopMoveStrategyMultiplier = 5

    static func spop(_ c: CommandContext) {
        let a = c.args
        if a.count == 3 { return spopWithCount(c) }
        if a.count > 3 { return c.replySyntaxError() }
        switch lookup(c, a[1], write: true) {
        case .wrongType: return
        case .missing: c.reply.null()
        case .found(let i, let s):
            guard let r = s.randomIndex(using: &c.engine.random) else { return c.reply.null() }
            let member = s.remove(at: r)
            c.notify(.set, "spop", keyAt: 1)
            replyMember(c, member)
            if s.isEmpty {
                c.db.table.remove(at: i)
                c.notify(.generic, "del", keyAt: 1)
            }
            c.engine.dirty += 1
            // The random choice is not replayed: the member it picked is removed by name.
            c.propagate(.word("SREM"), .raw(a[1]), .bytes(member.bytes))
        }
    }

    /// After Redis's spopWithCountCommand. The reply is a set (RESP3 `~`).
    static func spopWithCount(_ c: CommandContext) {
        guard let l = c.args.int64(2), l >= 0 else {
            return c.reply.error("ERR value is out of range, must be positive")
        }
        let i: Int, s: SetValue
        switch lookup(c, c.args[1], write: true) {
        case .wrongType: return
        case .missing: return c.reply.setHeader(0)
        case .found(let index, let found): (i, s) = (index, found)
        }
        let count = Int(l)
        if count == 0 { return c.reply.setHeader(0) }
        let size = s.count
        let db = c.db
        c.notify(.set, "spop", keyAt: 1)
        c.engine.dirty += Int64(min(count, size))

        // Everything: reply with the whole set and drop the key. Redis replies through SUNION of
        // the one key, whose read lookup counts a keyspace hit.
        if count >= size {
            c.engine.stats.keyspaceHits += 1
            c.reply.setHeader(size)
            s.forEach { replyMember(c, $0) }
            db.table.remove(at: i)
            c.notify(.generic, "del", keyAt: 1)
            c.propagate(.word("DEL"), .raw(c.args[1]))
            return
        }

        let remaining = size - count
        c.reply.setHeader(count)
        var popped: [[UInt8]] = [Array("SREM".utf8), Array(c.args[1])]
        let recording = c.engine.propagating
        if remaining * spopMoveStrategyMultiplier > count {
            for _ in 0..<count {
                guard let r = s.randomIndex(using: &c.engine.random) else { break }
                let member = s.remove(at: r)
                replyMember(c, member)
                if recording { popped.append(member.bytes) }
            }
        } else {
            // Most of the set goes: move the few survivors to a new set (built as any new set is,
            // so it may well be an intset again) and reply with what is left of the old one.
            let survivors = SetValue()
            let max = maxIntsetEntries(c)
            for _ in 0..<remaining {
                guard let r = s.randomIndex(using: &c.engine.random) else { break }
                survivors.add(s.remove(at: r), maxIntsetEntries: max)
            }
            s.forEach { member in
                replyMember(c, member)
                if recording { popped.append(member.bytes) }
            }
            db.table.setValue(at: i, .set(survivors))
        }
        c.propagate(popped)
    }

    // MARK: SRANDMEMBER

    /// Redis's SRANDMEMBER_SUB_STRATEGY_MUL.
    static let srandmemberSubStrategyMultiplier = 3

    static func srandmember(_ c: CommandContext) {
        let a = c.args
        if a.count == 3 { return srandmemberWithCount(c) }
        if a.count > 3 { return c.replySyntaxError() }
        switch lookup(c, a[1]) {
        case .wrongType: return
        case .missing: c.reply.null()
        case .found(_, let s):
            guard let r = s.randomIndex(using: &c.engine.random) else { return c.reply.null() }
            replyMember(c, s.member(at: r))
        }
    }

    /// After Redis's srandmemberWithCountCommand: a negative count may repeat members, a positive
    /// one gives distinct members (the whole set when it asks for as many or more).
    static func srandmemberWithCount(_ c: CommandContext) {
        guard let l = c.args.int64(2) else { return c.replyNotInteger() }
        guard l >= -Int64.max else {
            return c.reply.error("ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807")
        }
        let s: SetValue
        switch lookup(c, c.args[1]) {
        case .wrongType: return
        case .missing: return c.reply.arrayHeader(0)
        case .found(_, let found): s = found
        }
        let unique = l >= 0
        let count = Int(l.magnitude)
        if count == 0 { return c.reply.arrayHeader(0) }
        let size = s.count

        if !unique || count == 1 {
            c.reply.arrayHeader(count)
            for _ in 0..<count {
                replyMember(c, s.member(at: Int.random(in: 0..<size, using: &c.engine.random)))
            }
            return
        }
        if count >= size {
            c.reply.arrayHeader(size)
            s.forEach { replyMember(c, $0) }
            return
        }
        c.reply.arrayHeader(count)
        for index in HashCommands.distinctIndices(count, of: size, using: &c.engine.random) {
            replyMember(c, s.member(at: index))
        }
    }

    // MARK: SMOVE

    static func smove(_ c: CommandContext) {
        let a = c.args
        let db = c.db
        // Both looked up before either is used: the second lookup may reclaim an expired key and
        // move entries, so values are held, not indices.
        let source = db.lookupWrite(a[1]).map { db.table.value(at: $0) }
        let destination = db.lookupWrite(a[2]).map { db.table.value(at: $0) }
        guard let source else { return c.reply.integer(0) }
        guard case .set(let from) = source else { return c.replyWrongType() }
        var to: SetValue? = nil
        if let destination {
            guard case .set(let existing) = destination else { return c.replyWrongType() }
            to = existing
        }
        if let to, to === from { return c.reply.integer(from.contains(a[3]) ? 1 : 0) }
        guard from.remove(a[3]) else { return c.reply.integer(0) }
        c.notify(.set, "srem", keyAt: 1)
        if from.isEmpty {
            db.delete(a[1])
            c.notify(.generic, "del", keyAt: 1)
        }
        let target: SetValue
        if let to {
            target = to
        } else {
            target = SetValue()
            db.insert(a[2], .set(target))
        }
        c.engine.dirty += 1
        if target.add(a[3], maxIntsetEntries: maxIntsetEntries(c)) {
            c.engine.dirty += 1
            c.notify(.set, "sadd", keyAt: 2)
        }
        c.reply.integer(1)
    }

    // MARK: SSCAN

    static func sscan(_ c: CommandContext) {
        guard let cursor = CollectionScan.cursor(c) else { return }
        switch lookup(c, c.args[1]) {
        case .wrongType: return
        case .missing: CollectionScan.replyEmpty(c)
        case .found(_, let s):
            CollectionScan.run(c, cursor: cursor, pairs: false) {
                if s.isIntset { return .whole(s.members.map(\.bytes)) }
                return .table { cursor, items in s.scan(cursor: cursor) { items.append($0) } }
            }
        }
    }
}
