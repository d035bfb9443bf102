import CairnRESP

// SINTER, SINTERCARD, SINTERSTORE, SUNION, SUNIONSTORE, SDIFF, SDIFFSTORE (and SMEMBERS, which
// Redis 7.0 runs as a one-key SINTER), after t_set.c's sinterGenericCommand and
// sunionDiffGenericCommand. Missing keys are empty sets. Results are built as any new set is
// (intset first, converting as members come), so stored results have Redis's encoding and an
// all-integer result is listed in ascending order, as Redis lists it.

extension SetCommands {
    static let algebraSpecs: [CommandSpec] = [
        CommandSpec("sinter", arity: -2, flags: [.readonly], categories: [.read, .set, .slow],
                    keys: [.from(1, lastKey: -1, [.RO, .access])],
                    group: "set", since: "1.0.0", summary: "Intersect multiple sets",
                    handler: { intersect($0, keys: 1..<$0.args.count, destination: nil) }),
        CommandSpec("sintercard", arity: -3, flags: [.readonly], categories: [.read, .set, .slow],
                    keys: [.numkeys(at: 1, [.RO, .access])], group: "set", since: "7.0.0",
                    summary: "Intersect multiple sets and return the cardinality of the result",
                    findKeys: sintercardKeys, handler: sintercard),
        CommandSpec("sinterstore", arity: -3, flags: [.write, .denyOOM], categories: [.write, .set, .slow],
                    keys: [.at(1, [.RW, .update]), .from(2, lastKey: -1, [.RO, .access])], group: "set", since: "1.0.0",
                    summary: "Intersect multiple sets and store the resulting set in a key",
                    handler: { intersect($0, keys: 2..<$0.args.count, destination: 1) }),
        CommandSpec("sunion", arity: -2, flags: [.readonly], categories: [.read, .set, .slow],
                    keys: [.from(1, lastKey: -1, [.RO, .access])],
                    group: "set", since: "1.0.0", summary: "Add multiple sets",
                    handler: { unionOrDiff($0, keys: 1..<$0.args.count, destination: nil, diff: false) }),
        CommandSpec("sunionstore", arity: -3, flags: [.write, .denyOOM], categories: [.write, .set, .slow],
                    keys: [.at(1, [.OW, .update]), .from(2, lastKey: -1, [.RO, .access])], group: "set", since: "1.0.0",
                    summary: "Add multiple sets and store the resulting set in a key",
                    handler: { unionOrDiff($0, keys: 2..<$0.args.count, destination: 1, diff: false) }),
        CommandSpec("sdiff", arity: -2, flags: [.readonly], categories: [.read, .set, .slow],
                    keys: [.from(1, lastKey: -1, [.RO, .access])],
                    group: "set", since: "1.0.0", summary: "Subtract multiple sets",
                    handler: { unionOrDiff($0, keys: 1..<$0.args.count, destination: nil, diff: true) }),
        CommandSpec("sdiffstore", arity: -3, flags: [.write, .denyOOM], categories: [.write, .set, .slow],
                    keys: [.at(1, [.OW, .update]), .from(2, lastKey: -1, [.RO, .access])], group: "set", since: "1.0.0",
                    summary: "Subtract multiple sets and store the resulting set in a key",
                    handler: { unionOrDiff($0, keys: 2..<$0.args.count, destination: 1, diff: true) }),
    ]

    /// SINTERCARD numkeys key [key ...] [LIMIT limit]: the keys are arguments 2..<2+numkeys when
    /// numkeys is sane, none otherwise (COMMAND GETKEYS then says the arguments are invalid).
    @Sendable
    static func sintercardKeys(_ args: Arguments) -> [Int] {
        guard args.count > 2, let n = args.int64(1), n >= 1, n <= Int64(args.count - 2) else { return [] }
        return Array(2..<(2 + Int(n)))
    }

    /// Looks up the sets named by `keys` as Redis does: every key, a missing one as nil, stopping
    /// at the first of another type (WRONGTYPE replied, nil returned).
    static func lookupSets(_ c: CommandContext, _ keys: Range<Int>) -> [SetValue?]? {
        let db = c.db
        var sets: [SetValue?] = []
        sets.reserveCapacity(keys.count)
        for j in keys {
            guard let i = db.lookupRead(c.args[j]) else {
                sets.append(nil)
                continue
            }
            guard case .set(let s) = db.table.value(at: i) else {
                c.replyWrongType()
                return nil
            }
            sets.append(s)
        }
        return sets
    }

    /// Stores a STORE command's result at argument `destination` (replacing any value and its
    /// expiry) and publishes `event`, or deletes the key when the result is empty (publishing
    /// "del" if there was one); replies with the size.
    static func store(_ c: CommandContext, _ result: SetValue, at destination: Int, event: StaticString) {
        let key = c.args[destination]
        if result.isEmpty {
            c.reply.integer(0)
            if c.db.delete(key) {
                c.engine.dirty += 1
                c.notify(.generic, "del", keyAt: destination)
            }
            return
        }
        c.db.set(key, .set(result))
        c.engine.dirty += 1
        c.reply.integer(result.count)
        c.notify(.set, event, keyAt: destination)
    }

    // MARK: SINTER / SINTERSTORE / SINTERCARD / SMEMBERS

    static func sintercard(_ c: CommandContext) {
        let a = c.args
        guard let numkeys = a.int64(1), numkeys >= 1 else {
            return c.reply.error("ERR numkeys should be greater than 0")
        }
        guard numkeys <= Int64(a.count - 2) else {
            return c.reply.error("ERR Number of keys can't be greater than number of args")
        }
        var limit = 0
        var j = 2 + Int(numkeys)
        while j < a.count {
            if a.matches(j, "limit") && j + 1 < a.count {
                j += 1
                guard let l = a.int64(j), l >= 0 else { return c.reply.error("ERR LIMIT can't be negative") }
                limit = Int(l)
            } else {
                return c.replySyntaxError()
            }
            j += 1
        }
        intersect(c, keys: 2..<(2 + Int(numkeys)), destination: nil, cardinalityOnly: true, limit: limit)
    }

    /// Iterates the smallest set and keeps what every other set holds. `limit` (SINTERCARD, 0 for
    /// none) stops the count early.
    static func intersect(_ c: CommandContext, keys: Range<Int>, destination: Int?,
                          cardinalityOnly: Bool = false, limit: Int = 0) {
        guard let found = lookupSets(c, keys) else { return }
        // Intersecting with an empty set is empty.
        if found.contains(where: { $0 == nil }) {
            if let destination {
                store(c, SetValue(), at: destination, event: "sinterstore")
            } else if cardinalityOnly {
                c.reply.integer(0)
            } else {
                c.reply.setHeader(0)
            }
            return
        }
        // Smallest first; equal sizes keep their order (a stable sort, as glibc's qsort is).
        var sets = found.compactMap { $0 }
        for k in 1..<sets.count {
            let s = sets[k]
            var m = k
            while m > 0 && sets[m - 1].count > s.count {
                sets[m] = sets[m - 1]
                m -= 1
            }
            sets[m] = s
        }
        let first = sets[0]
        let others = sets.dropFirst().filter { $0 !== first }

        var cardinality = 0
        var kept: [SetMember] = []
        let result = destination == nil ? nil : SetValue()
        let max = maxIntsetEntries(c)
        for k in 0..<first.count {
            let m = first.member(at: k)
            guard others.allSatisfy({ $0.contains(m) }) else { continue }
            cardinality += 1
            if cardinalityOnly {
                if limit > 0 && cardinality >= limit { break }
            } else if let result {
                result.add(m, maxIntsetEntries: max)
            } else {
                kept.append(m)
            }
        }

        if cardinalityOnly {
            c.reply.integer(cardinality)
        } else if let result, let destination {
            store(c, result, at: destination, event: "sinterstore")
        } else {
            c.reply.setHeader(kept.count)
            for m in kept { replyMember(c, m) }
        }
    }

    // MARK: SUNION / SDIFF and their STORE forms

    static func unionOrDiff(_ c: CommandContext, keys: Range<Int>, destination: Int?, diff: Bool) {
        guard let sets = lookupSets(c, keys) else { return }
        let max = maxIntsetEntries(c)
        let result = SetValue()
        if !diff {
            for s in sets { s?.forEach { result.add($0, maxIntsetEntries: max) } }
        } else if let first = sets[0], !sets.dropFirst().contains(where: { $0 === first }) {
            // Redis's choice of algorithm (it decides the result's encoding, so it is kept):
            // 1 checks each member of the first set against the others, 2 copies the first set
            // and removes the others' members from the copy.
            var workOne = 0, workTwo = 0
            for s in sets {
                guard let s else { continue }
                workOne += first.count
                workTwo += s.count
            }
            let others = sets.dropFirst().compactMap { $0 }
            if workOne / 2 <= workTwo {
                first.forEach { m in
                    if !others.contains(where: { $0.contains(m) }) { result.add(m, maxIntsetEntries: max) }
                }
            } else {
                first.forEach { result.add($0, maxIntsetEntries: max) }
                for s in others where !result.isEmpty {
                    s.forEach { result.remove($0) }
                }
            }
        }
        // (A first set that is missing, or named again later, leaves the difference empty.)

        if let destination {
            store(c, result, at: destination, event: diff ? "sdiffstore" : "sunionstore")
        } else {
            c.reply.setHeader(result.count)
            result.forEach { replyMember(c, $0) }
        }
    }
}
