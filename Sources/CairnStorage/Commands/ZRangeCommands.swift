import CairnRESP

// ZRANGE and its older forms (ZREVRANGE, Z[REV]RANGEBYSCORE, Z[REV]RANGEBYLEX), ZRANGESTORE,
// ZCOUNT, ZLEXCOUNT and ZREMRANGEBYRANK/SCORE/LEX, after Redis 7.0's zrangeGenericCommand.

extension SortedSetCommands {
    enum RangeKind { case auto, rank, score, lex }
    enum Direction { case auto, forward, reverse }

    static func zrange(_ c: CommandContext) { zrangeGeneric(c, keyAt: 1, store: false, .auto, .auto) }
    static func zrangestore(_ c: CommandContext) { zrangeGeneric(c, keyAt: 2, store: true, .auto, .auto) }
    static func zrevrange(_ c: CommandContext) { zrangeGeneric(c, keyAt: 1, store: false, .rank, .reverse) }
    static func zrangebyscore(_ c: CommandContext) { zrangeGeneric(c, keyAt: 1, store: false, .score, .forward) }
    static func zrevrangebyscore(_ c: CommandContext) { zrangeGeneric(c, keyAt: 1, store: false, .score, .reverse) }
    static func zrangebylex(_ c: CommandContext) { zrangeGeneric(c, keyAt: 1, store: false, .lex, .forward) }
    static func zrevrangebylex(_ c: CommandContext) { zrangeGeneric(c, keyAt: 1, store: false, .lex, .reverse) }

    // MARK: bounds

    /// `1.5`, `(1.5`, `-inf`... as zslParseRange reads one bound.
    static func parseScoreBound(_ arg: UnsafeRawBufferPointer) -> ScoreBound? {
        if arg.count > 0 && arg[0] == UInt8(ascii: "(") {
            return ScoreFormat.parseBound(UnsafeRawBufferPointer(rebasing: arg[1...])).map { ScoreBound($0, exclusive: true) }
        }
        return ScoreFormat.parseBound(arg).map { ScoreBound($0) }
    }

    /// `[a`, `(a`, `-`, `+` as zslParseLexRangeItem reads them. `+` and `-` are compared as C
    /// strings there, so anything after a NUL byte following them is ignored.
    static func parseLexBound(_ arg: UnsafeRawBufferPointer) -> LexBound? {
        guard arg.count > 0 else { return nil }
        switch arg[0] {
        case UInt8(ascii: "+"): return arg.count == 1 || arg[1] == 0 ? .plusInfinity : nil
        case UInt8(ascii: "-"): return arg.count == 1 || arg[1] == 0 ? .minusInfinity : nil
        case UInt8(ascii: "("): return .exclusive(Array(arg[1...]))
        case UInt8(ascii: "["): return .inclusive(Array(arg[1...]))
        default: return nil
        }
    }

    static func parseScoreRange(_ c: CommandContext, _ minAt: Int, _ maxAt: Int) -> ZRange? {
        guard let min = parseScoreBound(c.args[minAt]), let max = parseScoreBound(c.args[maxAt]) else {
            c.reply.error("ERR min or max is not a float")
            return nil
        }
        return .score(min: min, max: max)
    }

    static func parseLexRange(_ c: CommandContext, _ minAt: Int, _ maxAt: Int) -> ZRange? {
        guard let min = parseLexBound(c.args[minAt]), let max = parseLexBound(c.args[maxAt]) else {
            c.reply.error("ERR min or max not valid string range item")
            return nil
        }
        return .lex(min: min, max: max)
    }

    /// Redis's rank sanitising: negative indices count from the end; nil when the range is empty.
    static func rankRange(_ start: Int, _ end: Int, count: Int) -> ClosedRange<Int>? {
        var s = start < 0 ? count + start : start
        var e = end < 0 ? count + end : end
        if s < 0 { s = 0 }
        guard s <= e && s < count else { return nil }
        if e >= count { e = count - 1 }
        return s...e
    }

    // MARK: ZRANGE family

    static func zrangeGeneric(_ c: CommandContext, keyAt: Int, store: Bool, _ kind: RangeKind, _ direction: Direction) {
        let a = c.args
        var kind = kind, direction = direction
        var withScores = false
        var offset = 0, limit = -1
        // Step 1: options after <src> <min> <max>.
        var j = keyAt + 3
        while j < a.count {
            let left = a.count - j - 1
            if !store && a.matches(j, "withscores") {
                withScores = true
            } else if a.matches(j, "limit") && left >= 2 {
                guard let o = long(c, j + 1), let l = long(c, j + 2) else { return }
                offset = o
                limit = l
                j += 2
            } else if direction == .auto && a.matches(j, "rev") {
                direction = .reverse
            } else if kind == .auto && a.matches(j, "bylex") {
                kind = .lex
            } else if kind == .auto && a.matches(j, "byscore") {
                kind = .score
            } else {
                return c.replySyntaxError()
            }
            j += 1
        }
        if direction == .auto { direction = .forward }
        if kind == .auto { kind = .rank }
        if limit != -1 && kind == .rank {
            return c.reply.error("ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX")
        }
        if withScores && kind == .lex {
            return c.reply.error("ERR syntax error, WITHSCORES not supported in combination with BYLEX")
        }
        let reverse = direction == .reverse
        // Reversed score and lex ranges are given as <max> <min>.
        let (minAt, maxAt) = reverse && kind != .rank ? (keyAt + 2, keyAt + 1) : (keyAt + 1, keyAt + 2)

        // Step 2: the range.
        var start = 0, end = 0
        var range: ZRange? = nil
        switch kind {
        case .rank, .auto:
            guard let s = long(c, minAt), let e = long(c, maxAt) else { return }
            (start, end) = (s, e)
        case .score:
            guard let r = parseScoreRange(c, minAt, maxAt) else { return }
            range = r
        case .lex:
            guard let r = parseLexRange(c, minAt, maxAt) else { return }
            range = r
        }

        // Step 3: the source.
        let zset: SortedSetValue
        switch lookup(c, a[keyAt]) {
        case .wrongType: return
        case .missing:
            if store { storeRange(c, [], knownLength: nil) } else { c.reply.arrayHeader(0) }
            return
        case .found(let z): zset = z
        }

        // Step 4: the elements.
        if store {
            var items: [(member: [UInt8], score: Double)] = []
            let collect: SortedSetValue.ElementVisitor = { m, s in items.append((Array(m), s)) }
            var knownLength: Int? = nil
            if let range {
                zset.forEach(in: range, reverse: reverse, offset: offset, limit: limit, collect)
            } else if let ranks = rankRange(start, end, count: zset.count) {
                knownLength = ranks.count
                items.reserveCapacity(ranks.count)
                zset.forEach(ranks: ranks, reverse: reverse, collect)
            }
            storeRange(c, items, knownLength: knownLength)
            return
        }
        let resp3 = c.reply.resp3
        let scores = withScores
        if let range {
            // The length goes first. By score, ranks give it in O(log n). By lex a walk counts it:
            // members sorted by score need not be sorted by bytes, and then only the walk itself
            // knows where it stops.
            var n: Int
            if case .lex = range {
                n = zset.forEach(in: range, reverse: reverse, offset: offset, limit: limit) { _, _ in }
            } else {
                n = offset < 0 ? 0 : max(0, zset.count(in: range) - offset)
                if limit >= 0 { n = min(n, limit) }
            }
            c.reply.arrayHeader(replyLength(n, withScores: scores, resp3: resp3))
            if n > 0 {
                zset.forEach(in: range, reverse: reverse, offset: offset, limit: n) { m, s in
                    writeElement(&c.reply, m, s, withScores: scores)
                }
            }
        } else if let ranks = rankRange(start, end, count: zset.count) {
            c.reply.arrayHeader(replyLength(ranks.count, withScores: scores, resp3: resp3))
            zset.forEach(ranks: ranks, reverse: reverse) { m, s in writeElement(&c.reply, m, s, withScores: scores) }
        } else {
            c.reply.arrayHeader(0)
        }
    }

    /// ZRANGESTORE's destination: `items` (in the order the range produced them) replace it, or
    /// it is deleted when there are none. Replies with the number stored.
    ///
    /// Redis adds the items one by one to a new set that starts as a listpack unless the rank
    /// range's `knownLength` is already too long, and converts it when it outgrows the limits;
    /// scores added while it is a listpack lose the sign of -0, so that is reproduced here.
    static func storeRange(_ c: CommandContext, _ items: [(member: [UInt8], score: Double)], knownLength: Int?) {
        let destination = c.args[1]
        guard !items.isEmpty else {
            if c.db.delete(destination) {
                c.engine.dirty += 1
                c.notify(.generic, "del", keyAt: 1)
            }
            c.reply.integer(0)
            return
        }
        let limits = limits(c)
        var normalized = items
        var large = (knownLength ?? 0) > limits.maxEntries
        for i in normalized.indices {
            if !large && (i + 1 > limits.maxEntries || normalized[i].member.count > limits.maxValue) { large = true }
            if !large && normalized[i].score == 0 { normalized[i].score = 0 }
        }
        let zset = SortedSetValue.build(normalized, sorted: false, limits: limits)
        c.db.set(destination, .zset(zset))
        c.engine.dirty += 1
        c.engine.signalKeyReady(c.db, destination)
        c.reply.integer(items.count)
        c.notify(.zset, "zrangestore", keyAt: 1)
    }

    // MARK: ZCOUNT / ZLEXCOUNT

    static func zcount(_ c: CommandContext) {
        guard let range = parseScoreRange(c, 2, 3) else { return }
        countRange(c, range)
    }

    static func zlexcount(_ c: CommandContext) {
        guard let range = parseLexRange(c, 2, 3) else { return }
        countRange(c, range)
    }

    static func countRange(_ c: CommandContext, _ range: ZRange) {
        switch lookup(c, c.args[1]) {
        case .wrongType: return
        case .missing: c.reply.integer(0)
        case .found(let zset): c.reply.integer(zset.count(in: range))
        }
    }

    // MARK: ZREMRANGEBY*

    static func zremrangebyrank(_ c: CommandContext) {
        guard let start = long(c, 2), let end = long(c, 3) else { return }
        removeRange(c, event: "zremrangebyrank") { zset in
            guard let ranks = rankRange(start, end, count: zset.count) else { return 0 }
            return zset.removeRange(ranks: ranks)
        }
    }

    static func zremrangebyscore(_ c: CommandContext) {
        guard let range = parseScoreRange(c, 2, 3) else { return }
        removeRange(c, event: "zremrangebyscore") { $0.removeRange(range) }
    }

    static func zremrangebylex(_ c: CommandContext) {
        guard let range = parseLexRange(c, 2, 3) else { return }
        removeRange(c, event: "zremrangebylex") { $0.removeRange(range) }
    }

    static func removeRange(_ c: CommandContext, event: StaticString, _ remove: (SortedSetValue) -> Int) {
        let key = c.args[1]
        switch lookupForWrite(c, key) {
        case .wrongType: return
        case .missing: c.reply.integer(0)
        case .found(let w):
            let deleted = remove(w.zset)
            if deleted > 0 {
                let emptied = w.zset.isEmpty
                store(c.db, key, w)
                c.notify(.zset, event, keyAt: 1)
                if emptied { c.notify(.generic, "del", keyAt: 1) }
            } else {
                discard(c.db, w)
            }
            c.engine.dirty += Int64(deleted)
            c.reply.integer(deleted)
        }
    }
}
