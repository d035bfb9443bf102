import CairnRESP

// ZUNION, ZINTER, ZDIFF, their STORE forms and ZINTERCARD, after Redis 7.0's
// zunionInterDiffGenericCommand. Inputs may be sorted sets or plain sets (every member of a set
// scores 1). Inputs are taken smallest first (a stable sort by size, like glibc's qsort on these
// small arrays), which also fixes the order in which SUM adds up a member's scores.

/// A plain set as an input of the sorted-set algebra.
public struct SetAlgebraInput {
    public var count: Int
    public var forEachMember: ((UnsafeRawBufferPointer) -> Void) -> Void
    public var contains: (UnsafeRawBufferPointer) -> Bool

    public init(count: Int, forEachMember: @escaping ((UnsafeRawBufferPointer) -> Void) -> Void,
                contains: @escaping (UnsafeRawBufferPointer) -> Bool) {
        self.count = count
        self.forEachMember = forEachMember
        self.contains = contains
    }
}

extension SortedSetCommands {
    enum SetOperation { case union, inter, diff }
    enum Aggregate { case sum, min, max }

    /// How the algebra reads a plain set: its size, its members, membership.
    /// MERGE NOTE: SetValue is still an empty shell on this branch (the sets work is elsewhere);
    /// when both land, this body becomes three calls into SetValue. Until then a set reads as empty.
    static func setInput(_ s: SetValue) -> SetAlgebraInput {
        SetAlgebraInput(count: s.count,
                        forEachMember: { body in
                            s.forEach { m in
                                switch m {
                                case .int(let v): SetValue.withDigits(v, body)
                                case .bytes(let b): b.withUnsafeBytes(body)
                                }
                            }
                        },
                        contains: { s.contains($0) })
    }

    /// One input: absent, a sorted set or a plain set, with its weight.
    struct Source {
        enum Subject {
            case none
            case zset(SortedSetValue)
            case set(SetAlgebraInput)
        }
        var subject: Subject
        var weight = 1.0

        var count: Int {
            switch subject {
            case .none: return 0
            case .zset(let z): return z.count
            case .set(let s): return s.count
            }
        }

        func forEach(_ body: (UnsafeRawBufferPointer, Double) -> Void) {
            switch subject {
            case .none: return
            case .zset(let z): z.forEachInOrder(body)
            case .set(let s): s.forEachMember { body($0, 1) }
            }
        }

        func score(of member: UnsafeRawBufferPointer) -> Double? {
            switch subject {
            case .none: return nil
            case .zset(let z): return z.score(of: member)
            case .set(let s): return s.contains(member) ? 1 : nil
            }
        }
    }

    @inline(__always)
    static func aggregate(_ target: inout Double, _ value: Double, _ how: Aggregate) {
        switch how {
        case .sum:
            target += value
            if target.isNaN { target = 0 }  // inf + -inf
        case .min: target = value < target ? value : target
        case .max: target = value > target ? value : target
        }
    }

    /// ZUNION/ZINTER/ZDIFF numkeys key... [WEIGHTS w...] [AGGREGATE SUM|MIN|MAX] [WITHSCORES]
    /// and the STORE forms (`destination` at argument 1, numkeys at 2).
    static func zsetAlgebra(_ c: CommandContext, _ op: SetOperation, destination: Bool) {
        algebra(c, op, numkeysAt: destination ? 2 : 1, destination: destination, cardinalityOnly: false)
    }

    /// ZINTERCARD numkeys key... [LIMIT limit]
    static func zintercard(_ c: CommandContext) {
        algebra(c, .inter, numkeysAt: 1, destination: false, cardinalityOnly: true)
    }

    static func algebra(_ c: CommandContext, _ op: SetOperation, numkeysAt: Int, destination: Bool, cardinalityOnly: Bool) {
        let a = c.args
        guard let setCount = long(c, numkeysAt) else { return }
        guard setCount >= 1 else {
            return c.reply.error("ERR at least 1 input key is needed for '\(c.command.fullName)' command")
        }
        guard setCount <= a.count - (numkeysAt + 1) else { return c.replySyntaxError() }

        // The inputs are looked up (and type checked) before the options are read.
        let db = c.db
        var sources: [Source] = []
        sources.reserveCapacity(setCount)
        var j = numkeysAt + 1
        for _ in 0..<setCount {
            var subject = Source.Subject.none
            if let i = db.lookupRead(a[j]) {
                switch db.table.value(at: i) {
                case .zset(let z): subject = .zset(z)
                case .set(let s): subject = .set(setInput(s))
                default: return c.replyWrongType()
                }
            }
            sources.append(Source(subject: subject))
            j += 1
        }

        var how = Aggregate.sum
        var withScores = false
        var limit = 0
        while j < a.count {
            let remaining = a.count - j
            if op != .diff && !cardinalityOnly && remaining >= setCount + 1 && a.matches(j, "weights") {
                j += 1
                for k in 0..<setCount {
                    guard let w = ScoreFormat.parseScore(a[j]) else {
                        return c.reply.error("ERR weight value is not a float")
                    }
                    sources[k].weight = w
                    j += 1
                }
            } else if op != .diff && !cardinalityOnly && remaining >= 2 && a.matches(j, "aggregate") {
                if a.matches(j + 1, "sum") { how = .sum }
                else if a.matches(j + 1, "min") { how = .min }
                else if a.matches(j + 1, "max") { how = .max }
                else { return c.replySyntaxError() }
                j += 2
            } else if !destination && !cardinalityOnly && a.matches(j, "withscores") {
                withScores = true
                j += 1
            } else if cardinalityOnly && remaining >= 2 && a.matches(j, "limit") {
                guard let l = long(c, j + 1, in: 0...Int.max, message: "ERR LIMIT can't be negative") else { return }
                limit = l
                j += 2
            } else {
                return c.replySyntaxError()
            }
        }

        if op != .diff {
            // Smallest first; a stable sort keeps equal sizes in argument order.
            sources = sources.enumerated().sorted { ($0.element.count, $0.offset) < ($1.element.count, $1.offset) }.map(\.element)
        }

        if cardinalityOnly {
            return c.reply.integer(intersectionCount(sources, limit: limit))
        }
        let result: [(member: [UInt8], score: Double)]
        switch op {
        case .union: result = union(sources, how)
        case .inter: result = intersection(sources, how)
        case .diff: result = difference(sources)
        }

        if destination {
            let key = a[1]
            if result.isEmpty {
                if db.delete(key) {
                    c.engine.dirty += 1
                    c.notify(.generic, "del", keyAt: 1)
                }
                return c.reply.integer(0)
            }
            db.set(key, .zset(SortedSetValue.build(result, sorted: false, limits: limits(c))))
            c.engine.dirty += 1
            c.engine.signalKeyReady(db, key)
            c.reply.integer(result.count)
            switch op {
            case .union: c.notify(.zset, "zunionstore", keyAt: 1)
            case .inter: c.notify(.zset, "zinterstore", keyAt: 1)
            case .diff: c.notify(.zset, "zdiffstore", keyAt: 1)
            }
            return
        }
        let sorted = result.sorted(by: SortedSetValue.precedes)
        c.reply.arrayHeader(replyLength(sorted.count, withScores: withScores, resp3: c.reply.resp3))
        for item in sorted {
            item.member.withUnsafeBytes { writeElement(&c.reply, $0, item.score, withScores: withScores) }
        }
    }

    static func union(_ sources: [Source], _ how: Aggregate) -> [(member: [UInt8], score: Double)] {
        var accumulator = ByteMap<Double>(minimumCapacity: sources.last?.count ?? 0)
        for source in sources where source.count > 0 {
            let w = source.weight
            source.forEach { m, s in
                var score = w * s
                if score.isNaN { score = 0 }  // 0 × inf
                let h = ByteMap<Double>.hash(m)
                if let i = accumulator.find(m, hash: h) {
                    aggregate(&accumulator[payloadAt: i], score, how)
                } else {
                    accumulator.insert(Array(m), hash: h, score)
                }
            }
        }
        return accumulator.allEntries.map { ($0.key, $0.payload) }
    }

    /// Members of the smallest input found in every other, scores aggregated in input order.
    static func intersection(_ sources: [Source], _ how: Aggregate) -> [(member: [UInt8], score: Double)] {
        var out: [(member: [UInt8], score: Double)] = []
        guard let first = sources.first, first.count > 0 else { return out }
        first.forEach { m, s in
            var score = first.weight * s
            if score.isNaN { score = 0 }
            for other in sources.dropFirst() {
                guard let value = other.score(of: m) else { return }
                aggregate(&score, value * other.weight, how)
            }
            out.append((Array(m), score))
        }
        return out
    }

    static func intersectionCount(_ sources: [Source], limit: Int) -> Int {
        guard let first = sources.first, first.count > 0 else { return 0 }
        var n = 0
        var done = false
        first.forEach { m, _ in
            guard !done else { return }
            for other in sources.dropFirst() where other.score(of: m) == nil { return }
            n += 1
            if limit > 0 && n >= limit { done = true }
        }
        return n
    }

    /// Members of the first input found in no other, with their scores in the first.
    static func difference(_ sources: [Source]) -> [(member: [UInt8], score: Double)] {
        var out: [(member: [UInt8], score: Double)] = []
        guard let first = sources.first, first.count > 0 else { return out }
        first.forEach { m, s in
            for other in sources.dropFirst() where other.score(of: m) != nil { return }
            out.append((Array(m), s))
        }
        return out
    }
}
