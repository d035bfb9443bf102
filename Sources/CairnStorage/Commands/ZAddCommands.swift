import CairnRESP

// ZADD, ZINCRBY, ZREM, ZSCORE, ZMSCORE, ZCARD, ZRANK, ZREVRANK.

extension SortedSetCommands {
    static func zadd(_ c: CommandContext) { zaddGeneric(c, incr: false) }

    /// ZINCRBY key increment member: ZADD's code with INCR set, so option words where the
    /// increment should be are read as options too (`ZINCRBY k nx 5` is a syntax error), as in Redis.
    static func zincrby(_ c: CommandContext) { zaddGeneric(c, incr: true) }

    /// Redis's zaddGenericCommand.
    static func zaddGeneric(_ c: CommandContext, incr: Bool) {
        let a = c.args
        var flags: SortedSetValue.AddFlags = incr ? [.incr] : []
        var ch = false
        var scoreIndex = 2
        while scoreIndex < a.count {
            if a.matches(scoreIndex, "nx") { flags.insert(.nx) }
            else if a.matches(scoreIndex, "xx") { flags.insert(.xx) }
            else if a.matches(scoreIndex, "ch") { ch = true }
            else if a.matches(scoreIndex, "incr") { flags.insert(.incr) }
            else if a.matches(scoreIndex, "gt") { flags.insert(.gt) }
            else if a.matches(scoreIndex, "lt") { flags.insert(.lt) }
            else { break }
            scoreIndex += 1
        }
        let remaining = a.count - scoreIndex
        guard remaining > 0 && remaining % 2 == 0 else { return c.replySyntaxError() }
        let elements = remaining / 2
        let nx = flags.contains(.nx), gt = flags.contains(.gt), lt = flags.contains(.lt)
        if nx && flags.contains(.xx) {
            return c.reply.error("ERR XX and NX options at the same time are not compatible")
        }
        if (gt && nx) || (lt && nx) || (gt && lt) {
            return c.reply.error("ERR GT, LT, and/or NX options at the same time are not compatible")
        }
        let increment = flags.contains(.incr)
        if increment && elements > 1 {
            return c.reply.error("ERR INCR option supports a single increment-element pair")
        }
        // Every score is checked before anything changes; they are parsed again while adding
        // (cheaper than keeping them: nearly every ZADD has one or a few).
        for j in 0..<elements where ScoreFormat.parseScore(a[scoreIndex + j * 2]) == nil {
            return c.reply.error("ERR value is not a valid float")
        }

        let key = a[1]
        let w: Writable
        switch lookupForWrite(c, key) {
        case .wrongType: return
        case .found(let found): w = found
        case .missing:
            if flags.contains(.xx) {
                // Nothing to update and nothing may be added.
                if increment { c.reply.null() } else { c.reply.integer(0) }
                return
            }
            w = Writable(zset: SortedSetValue(), index: nil, packed: false)
        }
        let zset = w.zset

        let limits = limits(c)
        var added = 0, updated = 0, processed = 0
        var score = 0.0
        for j in 0..<elements {
            let s = ScoreFormat.parseScore(a[scoreIndex + j * 2]) ?? 0
            let (outcome, newScore) = zset.add(a[scoreIndex + j * 2 + 1], score: s, flags: flags, limits: limits)
            switch outcome {
            case .notANumber:
                // Only INCR on an existing member gets here, so nothing was added before.
                discard(c.db, w)
                return c.reply.error("ERR resulting score is not a number (NaN)")
            case .added: added += 1; processed += 1
            case .updated: updated += 1; processed += 1
            case .unchanged: processed += 1
            case .skipped: break
            }
            score = newScore
        }
        if added + updated > 0 { store(c.db, key, w) } else { discard(c.db, w) }
        c.engine.dirty += Int64(added + updated)
        if added > 0 { c.engine.signalKeyReady(c.db, key) }
        if increment {
            if processed > 0 { c.reply.score(score) } else { c.reply.null() }
        } else {
            c.reply.integer(ch ? added + updated : added)
        }
        if added + updated > 0 { c.notify(.zset, increment ? "zincr" : "zadd", keyAt: 1) }
    }

    static func zrem(_ c: CommandContext) {
        let key = c.args[1]
        let w: Writable
        switch lookupForWrite(c, key) {
        case .wrongType: return
        case .missing: return c.reply.integer(0)
        case .found(let found): w = found
        }
        var deleted = 0
        for j in 2..<c.args.count {
            if w.zset.remove(c.args[j]) { deleted += 1 }
            if w.zset.isEmpty { break }
        }
        if deleted > 0 {
            let emptied = w.zset.isEmpty
            store(c.db, key, w)
            c.notify(.zset, "zrem", keyAt: 1)
            if emptied { c.notify(.generic, "del", keyAt: 1) }
        } else {
            discard(c.db, w)
        }
        c.engine.dirty += Int64(deleted)
        c.reply.integer(deleted)
    }

    static func zscore(_ c: CommandContext) {
        switch lookup(c, c.args[1]) {
        case .wrongType: return
        case .missing: c.reply.null()
        case .found(let zset):
            if let s = zset.score(of: c.args[2]) { c.reply.score(s) } else { c.reply.null() }
        }
    }

    /// A missing key is treated as an empty set: one null per member.
    static func zmscore(_ c: CommandContext) {
        var zset: SortedSetValue? = nil
        switch lookup(c, c.args[1]) {
        case .wrongType: return
        case .missing: break
        case .found(let z): zset = z
        }
        c.reply.arrayHeader(c.args.count - 2)
        for j in 2..<c.args.count {
            if let s = zset?.score(of: c.args[j]) { c.reply.score(s) } else { c.reply.null() }
        }
    }

    static func zcard(_ c: CommandContext) {
        switch lookup(c, c.args[1]) {
        case .wrongType: return
        case .missing: c.reply.integer(0)
        case .found(let zset): c.reply.integer(zset.count)
        }
    }

    /// ZRANK / ZREVRANK key member (Redis 7.0 has no WITHSCORE: arity 3).
    static func zrank(_ c: CommandContext, reverse: Bool) {
        switch lookup(c, c.args[1]) {
        case .wrongType: return
        case .missing: c.reply.null()
        case .found(let zset):
            if let r = zset.rank(of: c.args[2], reverse: reverse) { c.reply.integer(r) } else { c.reply.null() }
        }
    }
}
