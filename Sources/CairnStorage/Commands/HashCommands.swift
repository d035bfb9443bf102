import CairnRESP

// Hash commands (t_hash.c in Redis). Arity, flags, ACL categories and key specs mirror
// Redis 7.0's COMMAND INFO. A hash is never stored empty: the key goes with its last field.

enum HashCommands {
    static let specs: [CommandSpec] = [
        CommandSpec("hset", arity: -4, flags: [.write, .denyOOM, .fast], categories: [.write, .hash, .fast],
                    keys: [.at(1, [.RW, .update])],
                    group: "hash", since: "2.0.0", summary: "Set the string value of a hash field",
                    handler: { hsetGeneric($0, hmset: false) }),
        CommandSpec("hsetnx", arity: 4, flags: [.write, .denyOOM, .fast], categories: [.write, .hash, .fast],
                    keys: [.at(1, [.RW, .insert])], group: "hash", since: "2.0.0",
                    summary: "Set the value of a hash field, only if the field does not exist", handler: hsetnx),
        CommandSpec("hget", arity: 3, flags: [.readonly, .fast], categories: [.read, .hash, .fast],
                    keys: [.at(1, [.RO, .access])],
                    group: "hash", since: "2.0.0", summary: "Get the value of a hash field", handler: hget),
        CommandSpec("hmset", arity: -4, flags: [.write, .denyOOM, .fast], categories: [.write, .hash, .fast],
                    keys: [.at(1, [.RW, .update])],
                    group: "hash", since: "2.0.0", summary: "Set multiple hash fields to multiple values",
                    handler: { hsetGeneric($0, hmset: true) }),
        CommandSpec("hmget", arity: -3, flags: [.readonly, .fast], categories: [.read, .hash, .fast],
                    keys: [.at(1, [.RO, .access])],
                    group: "hash", since: "2.0.0", summary: "Get the values of all the given hash fields",
                    handler: hmget),
        CommandSpec("hgetall", arity: 2, flags: [.readonly], categories: [.read, .hash, .slow],
                    keys: [.at(1, [.RO, .access])],
                    group: "hash", since: "2.0.0", summary: "Get all the fields and values in a hash",
                    handler: { getAll($0, fields: true, values: true) }),
        CommandSpec("hdel", arity: -3, flags: [.write, .fast], categories: [.write, .hash, .fast],
                    keys: [.at(1, [.RW, .delete])],
                    group: "hash", since: "2.0.0", summary: "Delete one or more hash fields", handler: hdel),
        CommandSpec("hexists", arity: 3, flags: [.readonly, .fast], categories: [.read, .hash, .fast],
                    keys: [.at(1, [.RO])], group: "hash", since: "2.0.0", summary: "Determine if a hash field exists",
                    handler: hexists),
        CommandSpec("hlen", arity: 2, flags: [.readonly, .fast], categories: [.read, .hash, .fast],
                    keys: [.at(1, [.RO])], group: "hash", since: "2.0.0", summary: "Get the number of fields in a hash",
                    handler: hlen),
        CommandSpec("hkeys", arity: 2, flags: [.readonly], categories: [.read, .hash, .slow],
                    keys: [.at(1, [.RO, .access])],
                    group: "hash", since: "2.0.0", summary: "Get all the fields in a hash",
                    handler: { getAll($0, fields: true, values: false) }),
        CommandSpec("hvals", arity: 2, flags: [.readonly], categories: [.read, .hash, .slow],
                    keys: [.at(1, [.RO, .access])],
                    group: "hash", since: "2.0.0", summary: "Get all the values in a hash",
                    handler: { getAll($0, fields: false, values: true) }),
        CommandSpec("hstrlen", arity: 3, flags: [.readonly, .fast], categories: [.read, .hash, .fast],
                    keys: [.at(1, [.RO])],
                    group: "hash", since: "3.2.0", summary: "Get the length of the value of a hash field",
                    handler: hstrlen),
        CommandSpec("hincrby", arity: 4, flags: [.write, .denyOOM, .fast], categories: [.write, .hash, .fast],
                    keys: [.at(1, [.RW, .access, .update])], group: "hash", since: "2.0.0",
                    summary: "Increment the integer value of a hash field by the given number", handler: hincrby),
        CommandSpec("hincrbyfloat", arity: 4, flags: [.write, .denyOOM, .fast], categories: [.write, .hash, .fast],
                    keys: [.at(1, [.RW, .access, .update])], group: "hash", since: "2.6.0",
                    summary: "Increment the float value of a hash field by the given amount", handler: hincrbyfloat),
        CommandSpec("hrandfield", arity: -2, flags: [.readonly], categories: [.read, .hash, .slow],
                    keys: [.at(1, [.RO, .access])],
                    group: "hash", since: "6.2.0", summary: "Get one or multiple random fields from a hash",
                    handler: hrandfield),
        CommandSpec("hscan", arity: -3, flags: [.readonly], categories: [.read, .hash, .slow],
                    keys: [.at(1, [.RO, .access])], group: "hash", since: "2.8.0",
                    summary: "Incrementally iterate hash fields and associated values", handler: hscan),
    ]

    // MARK: lookup

    enum Lookup { case missing, found(HashValue), wrongType }

    /// The hash at `key` as an object, for a counted read (a small hash is copied out of its
    /// record; hot reads use lookupReadable, writes lookupForWrite). Replies WRONGTYPE for another type.
    @inline(__always)
    static func lookup(_ c: CommandContext, _ key: UnsafeRawBufferPointer) -> Lookup {
        let db = c.db
        guard let i = db.lookupRead(key) else { return .missing }
        guard case .hash(let h) = db.table.value(at: i) else {
            c.replyWrongType()
            return .wrongType
        }
        return .found(h)
    }

    /// A hash read in place: a small one's listpack in its key's record, or a hashtable's object.
    /// The hot reads (HGET, HMGET, HEXISTS, HLEN, HSTRLEN, HGETALL) use it so that a small hash is
    /// never copied out to answer them.
    enum Readable {
        case packed(UnsafeRawBufferPointer, entries: Int)
        case object(HashValue)

        /// The value of `field`, or nil; `body` gets it borrowed.
        @inline(__always)
        func withValue<R>(_ field: UnsafeRawBufferPointer, _ body: (UnsafeRawBufferPointer?) -> R) -> R {
            switch self {
            case .object(let h):
                guard let v = h.value(field) else { return body(nil) }
                return v.withUnsafeBytes { body($0) }
            case .packed(let raw, _):
                guard let o = Listpack.hashFieldOffset(in: raw, field) else { return body(nil) }
                let f = Listpack.rawEntry(raw, at: o)
                let v = Listpack.rawEntry(raw, at: f.next)
                return body(UnsafeRawBufferPointer(rebasing: raw[v.start..<(v.start + v.length)]))
            }
        }

        var count: Int {
            switch self {
            case .object(let h): return h.count
            case .packed(_, let entries): return entries / 2
            }
        }

        func forEach(_ body: (UnsafeRawBufferPointer, UnsafeRawBufferPointer) -> Void) {
            switch self {
            case .object(let h):
                h.forEach { f, v in f.withUnsafeBytes { f in v.withUnsafeBytes { body(f, $0) } } }
            case .packed(let raw, _):
                var field: UnsafeRawBufferPointer? = nil
                Listpack.forEachPayload(in: raw) { e in
                    if let f = field {
                        body(f, e)
                        field = nil
                    } else {
                        field = e
                    }
                    return true
                }
            }
        }
    }

    enum ReadLookup { case missing, found(Readable), wrongType }

    /// The hash at `key` for a counted read, in place. Replies WRONGTYPE for another type. What
    /// it returns is valid until the keyspace changes.
    @inline(__always)
    static func lookupReadable(_ c: CommandContext, _ key: UnsafeRawBufferPointer) -> ReadLookup {
        let db = c.db
        guard let i = db.lookupRead(key) else { return .missing }
        if let (raw, entries) = db.table.packedHash(at: i) { return .found(.packed(raw, entries: entries)) }
        guard case .hash(let h) = db.table.value(at: i) else {
            c.replyWrongType()
            return .wrongType
        }
        return .found(.object(h))
    }

    /// A hash being written, and where it goes back. A small hash is packed in its key's record,
    /// so `hash` is a copy of it (the engine's PackedScratch) that `store` writes back; a
    /// hashtable is the table's own object, changed in place; a new hash (`index` nil) is
    /// inserted by `store`.
    struct Writable {
        let hash: HashValue
        let index: Int?
        let packed: Bool
    }

    enum WriteLookup { case missing, found(Writable), wrongType }

    /// The hash at `key` for writing (a write lookup). Replies WRONGTYPE for another type.
    @inline(__always)
    static func lookupForWrite(_ c: CommandContext, _ key: UnsafeRawBufferPointer) -> WriteLookup {
        let db = c.db
        guard let i = db.lookupWrite(key) else { return .missing }
        if let (raw, entries) = db.table.packedHash(at: i) {
            let copy = c.engine.packedScratch.takeHash(copying: raw, entries: entries)
            return .found(Writable(hash: copy, index: i, packed: true))
        }
        guard case .hash(let h) = db.table.value(at: i) else {
            c.replyWrongType()
            return .wrongType
        }
        return .found(Writable(hash: h, index: i, packed: false))
    }

    /// For commands that add fields (Redis's hashTypeLookupWriteOrCreate): the hash at `key`, or a
    /// new one. Nil after WRONGTYPE.
    @inline(__always)
    static func lookupOrCreate(_ c: CommandContext, _ key: UnsafeRawBufferPointer) -> Writable? {
        switch lookupForWrite(c, key) {
        case .wrongType: return nil
        case .missing: return Writable(hash: HashValue(), index: nil, packed: false)
        case .found(let w): return w
        }
    }

    /// Makes a write to `w.hash` part of the keyspace: the key goes when the hash is empty (an
    /// empty hash is never stored), a new hash is inserted, a packed one written back.
    @inline(__always)
    static func store(_ c: CommandContext, _ key: UnsafeRawBufferPointer, _ w: Writable) {
        guard let i = w.index else {
            if !w.hash.isEmpty { c.db.insert(key, .hash(w.hash)) }
            return
        }
        if w.hash.isEmpty {
            c.db.table.remove(at: i)
        } else if w.packed {
            // Still small: the bytes go back; converted: the object becomes the record's.
            if w.hash.isListpack {
                c.db.table.setPacked(at: i, kind: .packedHash, w.hash.pack)
            } else {
                c.db.table.setValue(at: i, .hash(w.hash))
            }
        }
        if w.packed { c.engine.packedScratch.give(w.hash) }
    }

    /// Ends a write that changed nothing: a packed hash's copy goes back to the scratch (so the
    /// next write does not allocate one).
    @inline(__always)
    static func discard(_ c: CommandContext, _ w: Writable) {
        if w.packed { c.engine.packedScratch.give(w.hash) }
    }

    static func hashLimits(_ c: CommandContext) -> HashLimits { HashLimits(c.engine.settings) }

    // MARK: HSET / HMSET / HSETNX

    static func hsetGeneric(_ c: CommandContext, hmset: Bool) {
        let a = c.args
        guard a.count % 2 == 0 else { return c.replyArityError() }
        guard let w = lookupOrCreate(c, a[1]) else { return }
        let h = w.hash
        let limits = hashLimits(c)
        h.convertIfTooLong((2..<a.count).lazy.map { a[$0].count }, limits: limits)
        var created = 0
        for k in stride(from: 2, to: a.count, by: 2) where h.set(a[k], a[k + 1], limits: limits) {
            created += 1
        }
        store(c, a[1], w)
        c.engine.dirty += Int64((a.count - 2) / 2)
        if hmset { c.reply.ok() } else { c.reply.integer(created) }
        c.notify(.hash, "hset", keyAt: 1)
    }

    static func hsetnx(_ c: CommandContext) {
        let a = c.args
        guard let w = lookupOrCreate(c, a[1]) else { return }
        let h = w.hash
        // An existing field: nothing is written, so nothing converts either.
        if h.contains(a[2]) {
            discard(c, w)
            return c.reply.integer(0)
        }
        let limits = hashLimits(c)
        h.convertIfTooLong([a[2].count, a[3].count], limits: limits)
        h.set(a[2], a[3], limits: limits)
        store(c, a[1], w)
        c.engine.dirty += 1
        c.reply.integer(1)
        c.notify(.hash, "hset", keyAt: 1)
    }

    // MARK: reads

    static func hget(_ c: CommandContext) {
        switch lookupReadable(c, c.args[1]) {
        case .wrongType: return
        case .missing: c.reply.null()
        case .found(let h):
            h.withValue(c.args[2]) { v in if let v { c.reply.bulk(v) } else { c.reply.null() } }
        }
    }

    static func hmget(_ c: CommandContext) {
        let a = c.args
        var hash: Readable? = nil
        switch lookupReadable(c, a[1]) {
        case .wrongType: return
        case .missing: break
        case .found(let h): hash = h
        }
        c.reply.arrayHeader(a.count - 2)
        for j in 2..<a.count {
            guard let hash else {
                c.reply.null()
                continue
            }
            hash.withValue(a[j]) { v in if let v { c.reply.bulk(v) } else { c.reply.null() } }
        }
    }

    /// HGETALL (a map), HKEYS, HVALS (arrays).
    static func getAll(_ c: CommandContext, fields: Bool, values: Bool) {
        let h: Readable
        switch lookupReadable(c, c.args[1]) {
        case .wrongType: return
        case .missing:
            if fields && values { c.reply.mapHeader(0) } else { c.reply.arrayHeader(0) }
            return
        case .found(let found): h = found
        }
        if fields && values { c.reply.mapHeader(h.count) } else { c.reply.arrayHeader(h.count) }
        h.forEach { f, v in
            if fields { c.reply.bulk(f) }
            if values { c.reply.bulk(v) }
        }
    }

    static func hexists(_ c: CommandContext) {
        switch lookupReadable(c, c.args[1]) {
        case .wrongType: return
        case .missing: c.reply.integer(0)
        case .found(let h): c.reply.integer(h.withValue(c.args[2]) { $0 == nil ? 0 : 1 })
        }
    }

    static func hlen(_ c: CommandContext) {
        switch lookupReadable(c, c.args[1]) {
        case .wrongType: return
        case .missing: c.reply.integer(0)
        case .found(let h): c.reply.integer(h.count)
        }
    }

    static func hstrlen(_ c: CommandContext) {
        switch lookupReadable(c, c.args[1]) {
        case .wrongType: return
        case .missing: c.reply.integer(0)
        case .found(let h): c.reply.integer(h.withValue(c.args[2]) { $0?.count ?? 0 })
        }
    }

    // MARK: HDEL

    static func hdel(_ c: CommandContext) {
        let a = c.args
        switch lookupForWrite(c, a[1]) {
        case .wrongType: return
        case .missing: c.reply.integer(0)
        case .found(let w):
            var deleted = 0
            for j in 2..<a.count where w.hash.remove(a[j]) {
                deleted += 1
                if w.hash.isEmpty { break }
            }
            if deleted > 0 {
                let emptied = w.hash.isEmpty
                store(c, a[1], w)
                c.notify(.hash, "hdel", keyAt: 1)
                if emptied { c.notify(.generic, "del", keyAt: 1) }
            } else {
                discard(c, w)
            }
            c.engine.dirty += Int64(deleted)
            c.reply.integer(deleted)
        }
    }

    // MARK: counters

    static func hincrby(_ c: CommandContext) {
        let a = c.args
        guard let increment = a.int64(3) else { return c.replyNotInteger() }
        guard let w = lookupOrCreate(c, a[1]) else { return }
        let h = w.hash
        var current: Int64 = 0
        if let v = h.value(a[2]) {
            guard let n = v.withUnsafeBytes({ Decimal.parseInt64($0) }) else {
                discard(c, w)
                return c.reply.error("ERR hash value is not an integer")
            }
            current = n
        }
        let (result, overflow) = current.addingReportingOverflow(increment)
        guard !overflow else {
            discard(c, w)
            return c.reply.error("ERR increment or decrement would overflow")
        }
        h.set(a[2], Decimal.bytes(result), limits: hashLimits(c))
        store(c, a[1], w)
        c.engine.dirty += 1
        c.reply.integer(result)
        c.notify(.hash, "hincrby", keyAt: 1)
    }

    /// In C long double, parsed and printed as INCRBYFLOAT does (FloatFormat).
    static func hincrbyfloat(_ c: CommandContext) {
        let a = c.args
        guard let increment = FloatFormat.parseLongDouble(a[3]) else {
            return c.reply.error("ERR value is not a valid float")
        }
        guard increment.isFinite else { return c.reply.error("ERR value is NaN or Infinity") }
        guard let w = lookupOrCreate(c, a[1]) else { return }
        let h = w.hash
        var current: LongDouble = 0
        if let v = h.value(a[2]) {
            guard let parsed = v.withUnsafeBytes({ FloatFormat.parseLongDouble($0) }) else {
                discard(c, w)
                return c.reply.error("ERR hash value is not a float")
            }
            current = parsed
        }
        let result = current + increment
        guard result.isFinite else {
            discard(c, w)
            return c.reply.error("ERR increment would produce NaN or Infinity")
        }
        let bytes = FloatFormat.human(result)
        h.set(a[2], bytes, limits: hashLimits(c))
        store(c, a[1], w)
        c.engine.dirty += 1
        c.propagate(.word("HSET"), .raw(a[1]), .raw(a[2]), .bytes(bytes))
        c.reply.bulk(bytes)
        c.notify(.hash, "hincrbyfloat", keyAt: 1)
    }

    // MARK: HRANDFIELD

    /// Redis's HRANDFIELD_SUB_STRATEGY_MUL: above count×3 > size, sample by removing.
    static let subStrategyMultiplier = 3

    static func hrandfield(_ c: CommandContext) {
        let a = c.args
        if a.count >= 3 {
            guard let l = a.int64(2) else { return c.replyNotInteger() }
            guard l >= -Int64.max else {
                return c.reply.error("ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807")
            }
            if a.count > 4 || (a.count == 4 && !a.matches(3, "withvalues")) { return c.replySyntaxError() }
            let withValues = a.count == 4
            // The reply holds count×2 items: Redis refuses counts that could overflow that.
            if withValues && (l < -(Int64.max / 2) || l > Int64.max / 2) {
                return c.reply.error("ERR value is out of range")
            }
            return hrandfieldWithCount(c, l, withValues: withValues)
        }
        switch lookup(c, a[1]) {
        case .wrongType: return
        case .missing: c.reply.null()
        case .found(let h):
            guard let r = h.randomIndex(using: &c.engine.random), let p = h.pair(at: r) else { return c.reply.null() }
            c.reply.bulk(p.field)
        }
    }

    @inline(__always)
    static func replyPair(_ c: CommandContext, _ field: ArraySlice<UInt8>, _ value: ArraySlice<UInt8>, withValues: Bool) {
        if withValues && c.reply.resp3 { c.reply.arrayHeader(2) }
        c.reply.bulk(field)
        if withValues { c.reply.bulk(value) }
    }

    /// After Redis's hrandfieldWithCountCommand: a negative count may repeat fields, a positive
    /// one gives distinct fields (the whole hash when it asks for as many or more). WITHVALUES
    /// pairs are flat in RESP2 and two-element arrays in RESP3.
    static func hrandfieldWithCount(_ c: CommandContext, _ l: Int64, withValues: Bool) {
        let h: HashValue
        switch lookup(c, c.args[1]) {
        case .wrongType: return
        case .missing: return c.reply.arrayHeader(0)
        case .found(let found): h = found
        }
        let size = h.count
        let unique = l >= 0
        let count = Int(l.magnitude)  // |l| <= Int64.max, checked by the caller
        if count == 0 { return c.reply.arrayHeader(0) }
        let flat = withValues && !c.reply.resp3

        // Repetitions allowed (or a single pick): independent uniform draws.
        if !unique || count == 1 {
            c.reply.arrayHeader(flat ? count * 2 : count)
            if h.isListpack {
                let pairs = h.pairs
                for _ in 0..<count {
                    let p = pairs[Int.random(in: 0..<size, using: &c.engine.random)]
                    replyPair(c, p.field, p.value, withValues: withValues)
                }
            } else {
                for _ in 0..<count {
                    guard let p = h.pair(at: Int.random(in: 0..<size, using: &c.engine.random)) else { continue }
                    replyPair(c, p.field, p.value, withValues: withValues)
                }
            }
            return
        }

        // As many as there are, or more: the whole hash.
        if count >= size {
            c.reply.arrayHeader(flat ? size * 2 : size)
            h.forEach { replyPair(c, $0, $1, withValues: withValues) }
            return
        }

        c.reply.arrayHeader(flat ? count * 2 : count)
        if h.isListpack {
            // Selection sampling: distinct pairs in listpack order (as Redis's lpRandomPairsUnique).
            var needed = count, left = size
            h.forEach { f, v in
                if needed > 0 && Int.random(in: 0..<left, using: &c.engine.random) < needed {
                    replyPair(c, f, v, withValues: withValues)
                    needed -= 1
                }
                left -= 1
            }
        } else {
            for index in distinctIndices(count, of: size, using: &c.engine.random) {
                guard let p = h.pair(at: index) else { continue }
                replyPair(c, p.field, p.value, withValues: withValues)
            }
        }
    }

    /// `count` distinct indices of 0..<size (count < size): drops random ones from the whole range
    /// when most are wanted, else draws until enough distinct ones came up (Redis's CASE 3 / 4).
    static func distinctIndices<G: RandomNumberGenerator>(_ count: Int, of size: Int, using g: inout G) -> [Int] {
        if count * subStrategyMultiplier > size {
            var all = Array(0..<size)
            while all.count > count {
                let r = Int.random(in: 0..<all.count, using: &g)
                all.swapAt(r, all.count - 1)
                all.removeLast()
            }
            return all
        }
        var picked = Set<Int>(minimumCapacity: count)
        var order: [Int] = []
        order.reserveCapacity(count)
        while order.count < count {
            let r = Int.random(in: 0..<size, using: &g)
            if picked.insert(r).inserted { order.append(r) }
        }
        return order
    }

    // MARK: HSCAN

    static func hscan(_ c: CommandContext) {
        guard let cursor = CollectionScan.cursor(c) else { return }
        switch lookup(c, c.args[1]) {
        case .wrongType: return
        case .missing: CollectionScan.replyEmpty(c)
        case .found(let h):
            CollectionScan.run(c, cursor: cursor, pairs: true) {
                if h.isListpack {
                    var all: [[UInt8]] = []
                    all.reserveCapacity(h.count * 2)
                    h.forEach { f, v in
                        all.append(Array(f))
                        all.append(Array(v))
                    }
                    return .whole(all)
                }
                return .table { cursor, items in
                    h.scan(cursor: cursor) { f, v in
                        items.append(f)
                        items.append(v)
                    }
                }
            }
        }
    }
}
