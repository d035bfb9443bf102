import CairnRESP

// ZRANDMEMBER and ZSCAN.

extension SortedSetCommands {
    /// Redis's bound for the count with WITHSCORES (-LONG_MAX/2 ... LONG_MAX/2), so the reply
    /// length (twice the count in RESP2) cannot overflow.
    static let randomCountWithScoresMax = Int.max / 2

    /// ZRANDMEMBER key [count [WITHSCORES]]
    static func zrandmember(_ c: CommandContext) {
        let a = c.args
        if a.count >= 3 {
            guard let l = long(c, 2) else { return }
            guard l != Int.min else {
                return c.reply.error("ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807")
            }
            if a.count > 4 || (a.count == 4 && !a.matches(3, "withscores")) { return c.replySyntaxError() }
            let withScores = a.count == 4
            if withScores && (l < -randomCountWithScoresMax || l > randomCountWithScoresMax) {
                return c.reply.error("ERR value is out of range")
            }
            return randomWithCount(c, l, withScores: withScores)
        }
        switch lookup(c, a[1]) {
        case .wrongType: return
        case .missing: c.reply.null()
        case .found(let zset):
            let slots = zset.slots()
            zset.element(at: Int.random(in: 0..<slots.count, using: &c.engine.random), in: slots) { m, _ in c.reply.bulk(m) }
        }
    }

    /// Redis's zrandmemberWithCountCommand: a negative count draws with repetition; a positive
    /// one returns distinct members (the whole set, highest score first, when it asks for as
    /// many as there are).
    static func randomWithCount(_ c: CommandContext, _ l: Int, withScores: Bool) {
        let zset: SortedSetValue
        switch lookup(c, c.args[1]) {
        case .wrongType: return
        case .missing: return c.reply.arrayHeader(0)
        case .found(let z): zset = z
        }
        let count = l.magnitude
        let unique = l >= 0
        guard count > 0 else { return c.reply.arrayHeader(0) }
        let resp3 = c.reply.resp3
        let slots = zset.slots()
        let emit: SortedSetValue.ElementVisitor = { m, s in writeElement(&c.reply, m, s, withScores: withScores) }

        // Repetition allowed (or a single draw): independent uniform draws.
        if !unique || count == 1 {
            c.reply.arrayHeader(replyLength(Int(count), withScores: withScores, resp3: resp3))
            for _ in 0..<count { zset.element(at: Int.random(in: 0..<slots.count, using: &c.engine.random), in: slots, emit) }
            return
        }
        let size = slots.count
        let n = Int(min(count, UInt(size)))
        c.reply.arrayHeader(replyLength(n, withScores: withScores, resp3: resp3))
        if n == size {
            // Redis walks the set from its tail here.
            zset.forEach(ranks: 0...(size - 1), reverse: true, emit)
        } else if n * 3 > size {
            // Many of them: a partial shuffle of all slots.
            var all = Array(0..<size)
            for i in 0..<n {
                all.swapAt(i, Int.random(in: i..<size, using: &c.engine.random))
                zset.element(at: all[i], in: slots, emit)
            }
        } else {
            // Few of them: draw until `n` distinct slots came up.
            var chosen = Set<Int>(minimumCapacity: n)
            while chosen.count < n {
                let i = Int.random(in: 0..<size, using: &c.engine.random)
                if chosen.insert(i).inserted { zset.element(at: i, in: slots, emit) }
            }
        }
    }

    /// ZSCAN key cursor [MATCH pattern] [COUNT count]. The cursor is checked first, then the key
    /// (a missing key answers an empty scan without reading the options), then the options.
    static func zscan(_ c: CommandContext) {
        let a = c.args
        guard let cursor = KeyspaceCommands.parseScanCursor(a[2]) else { return c.reply.error("ERR invalid cursor") }
        let zset: SortedSetValue
        switch lookup(c, a[1]) {
        case .wrongType: return
        case .missing:
            c.reply.arrayHeader(2)
            c.reply.bulk(integer: 0)
            c.reply.arrayHeader(0)
            return
        case .found(let z): zset = z
        }
        var count = KeyspaceCommands.scanDefaultCount
        var pattern: UnsafeRawBufferPointer? = nil
        var j = 3
        while j < a.count {
            guard j + 1 < a.count else { return c.replySyntaxError() }
            if a.matches(j, "count") {
                guard let n = a.int64(j + 1) else { return c.replyNotInteger() }
                guard n >= 1 else { return c.replySyntaxError() }
                count = Int(n)
            } else if a.matches(j, "match") {
                let p = a[j + 1]
                pattern = p.count == 1 && p[0] == UInt8(ascii: "*") ? nil : p
            } else {
                return c.replySyntaxError()
            }
            j += 2
        }
        var found: [(member: [UInt8], score: Double)] = []
        let next = zset.scan(cursor: cursor, count: count) { m, s in
            if let pattern, !GlobPattern.matches(pattern, m) { return }
            found.append((Array(m), s))
        }
        c.reply.arrayHeader(2)
        c.reply.bulk(integer: Int64(bitPattern: next))
        c.reply.arrayHeader(found.count * 2)
        for item in found {
            c.reply.bulk(item.member)
            c.reply.scoreBulk(item.score)
        }
    }
}
