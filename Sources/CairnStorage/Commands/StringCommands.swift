import CairnRESP

// String commands (t_string.c in Redis). Range commands, APPEND and LCS are in StringRanges.swift.

enum StringCommands {
    static let specs: [CommandSpec] = [
        CommandSpec("get", arity: 2, flags: [.readonly, .fast], categories: [.read, .string, .fast],
                    keys: [.at(1, [.RO, .access])], group: "string", summary: "Get the value of a key", handler: get),
        CommandSpec("set", arity: -3, flags: [.write, .denyOOM], categories: [.write, .string, .slow],
                    keys: [.at(1, [.RW, .access, .update, .variableFlags],
                                notes: "RW and ACCESS due to the optional `GET` argument")],
                    group: "string", summary: "Set the string value of a key", handler: set),
        CommandSpec("setnx", arity: 3, flags: [.write, .denyOOM, .fast], categories: [.write, .string, .fast],
                    keys: [.at(1, [.OW, .insert])],
                    group: "string", summary: "Set the value of a key, only if the key does not exist",
                    handler: setnx),
        CommandSpec("setex", arity: 4, flags: [.write, .denyOOM], categories: [.write, .string, .slow],
                    keys: [.at(1, [.OW, .update])],
                    group: "string", since: "2.0.0", summary: "Set the value and expiration of a key",
                    handler: { setWithExpire($0, seconds: true) }),
        CommandSpec("psetex", arity: 4, flags: [.write, .denyOOM], categories: [.write, .string, .slow],
                    keys: [.at(1, [.OW, .update])], group: "string", since: "2.6.0",
                    summary: "Set the value and expiration in milliseconds of a key",
                    handler: { setWithExpire($0, seconds: false) }),
        CommandSpec("getset", arity: 3, flags: [.write, .denyOOM, .fast], categories: [.write, .string, .fast],
                    keys: [.at(1, [.RW, .access, .update])],
                    group: "string", summary: "Set the string value of a key and return its old value",
                    handler: getset),
        CommandSpec("getdel", arity: 2, flags: [.write, .fast], categories: [.write, .string, .fast],
                    keys: [.at(1, [.RW, .access, .delete])],
                    group: "string", since: "6.2.0", summary: "Get the value of a key and delete the key",
                    handler: getdel),
        CommandSpec("getex", arity: -2, flags: [.write, .fast], categories: [.write, .string, .fast],
                    keys: [.at(1, [.RW, .access, .update], notes: "RW and UPDATE because it changes the TTL")],
                    group: "string", since: "6.2.0",
                    summary: "Get the value of a key and optionally set its expiration", handler: getex),
        CommandSpec("mget", arity: -2, flags: [.readonly, .fast], categories: [.read, .string, .fast],
                    keys: [.from(1, lastKey: -1, [.RO, .access])],
                    group: "string", summary: "Get the values of all the given keys",
                    handler: mget),
        CommandSpec("mset", arity: -3, flags: [.write, .denyOOM], categories: [.write, .string, .slow],
                    keys: [.from(1, lastKey: -1, step: 2, [.OW, .update])], group: "string", since: "1.0.1",
                    summary: "Set multiple keys to multiple values", handler: { mset($0, onlyIfNoneExist: false) }),
        CommandSpec("msetnx", arity: -3, flags: [.write, .denyOOM], categories: [.write, .string, .slow],
                    keys: [.from(1, lastKey: -1, step: 2, [.OW, .insert])], group: "string", since: "1.0.1",
                    summary: "Set multiple keys to multiple values, only if none of the keys exist",
                    handler: { mset($0, onlyIfNoneExist: true) }),
        CommandSpec("append", arity: 3, flags: [.write, .denyOOM, .fast], categories: [.write, .string, .fast],
                    keys: [.at(1, [.RW, .insert])],
                    group: "string", since: "2.0.0", summary: "Append a value to a key", handler: append),
        CommandSpec("strlen", arity: 2, flags: [.readonly, .fast], categories: [.read, .string, .fast],
                    keys: [.at(1, [.RO])],
                    group: "string", since: "2.2.0", summary: "Get the length of the value stored in a key",
                    handler: strlen),
        CommandSpec("getrange", arity: 4, flags: [.readonly], categories: [.read, .string, .slow],
                    keys: [.at(1, [.RO, .access])], group: "string", since: "2.4.0",
                    summary: "Get a substring of the string stored at a key", handler: getrange),
        CommandSpec("setrange", arity: 4, flags: [.write, .denyOOM], categories: [.write, .string, .slow],
                    keys: [.at(1, [.RW, .update])], group: "string", since: "2.2.0",
                    summary: "Overwrite part of a string at key starting at the specified offset", handler: setrange),
        CommandSpec("substr", arity: 4, flags: [.readonly], categories: [.read, .string, .slow],
                    keys: [.at(1, [.RO, .access])],
                    group: "string", summary: "Get a substring of the string stored at a key",
                    handler: getrange),
        CommandSpec("incr", arity: 2, flags: [.write, .denyOOM, .fast], categories: [.write, .string, .fast],
                    keys: [.at(1, [.RW, .access, .update])],
                    group: "string", summary: "Increment the integer value of a key by one",
                    handler: { incrDecr($0, by: 1) }),
        CommandSpec("decr", arity: 2, flags: [.write, .denyOOM, .fast], categories: [.write, .string, .fast],
                    keys: [.at(1, [.RW, .access, .update])],
                    group: "string", summary: "Decrement the integer value of a key by one",
                    handler: { incrDecr($0, by: -1) }),
        CommandSpec("incrby", arity: 3, flags: [.write, .denyOOM, .fast], categories: [.write, .string, .fast],
                    keys: [.at(1, [.RW, .access, .update])],
                    group: "string", summary: "Increment the integer value of a key by the given amount",
                    handler: incrby),
        CommandSpec("decrby", arity: 3, flags: [.write, .denyOOM, .fast], categories: [.write, .string, .fast],
                    keys: [.at(1, [.RW, .access, .update])],
                    group: "string", summary: "Decrement the integer value of a key by the given number",
                    handler: decrby),
        CommandSpec("incrbyfloat", arity: 3, flags: [.write, .denyOOM, .fast], categories: [.write, .string, .fast],
                    keys: [.at(1, [.RW, .access, .update])], group: "string", since: "2.6.0",
                    summary: "Increment the float value of a key by the given amount", handler: incrbyfloat),
        CommandSpec("lcs", arity: -3, flags: [.readonly], categories: [.read, .string, .slow],
                    keys: [.from(1, lastKey: 1, [.RO, .access])],
                    group: "string", since: "7.0.0", summary: "Find longest common substring",
                    handler: lcs),
    ]

    // MARK: helpers shared by the string and bit commands

    /// Writes a string value as a bulk reply.
    @inline(__always)
    static func replyString(_ c: CommandContext, _ value: Value) {
        if case .int(let v) = value {
            c.reply.bulk(integer: v)
        } else if case .string(let s) = value {
            c.reply.bulk(s.bytes)
        }
    }

    /// Writes a string value read in place as a bulk reply.
    @inline(__always)
    static func replyString(_ c: CommandContext, _ view: StringView) {
        switch view {
        case .int(let v): c.reply.bulk(integer: v)
        case .bytes(let b): c.reply.bulk(b)
        }
    }

    /// Looks up a key for reading; replies WRONGTYPE and returns `.wrongType` if it is not a string.
    enum StringLookup { case missing, found(Int, Value), wrongType }

    @inline(__always)
    static func lookupString(_ c: CommandContext, _ key: UnsafeRawBufferPointer, write: Bool = false) -> StringLookup {
        let db = c.db
        guard let i = write ? db.lookupWrite(key) : db.lookupRead(key) else { return .missing }
        let v = db.table.value(at: i)
        guard v.isString else {
            c.replyWrongType()
            return .wrongType
        }
        return .found(i, v)
    }

    enum IndexLookup { case missing, found(Int), wrongType }

    /// As `lookupString` for commands that edit the value in place: only the index is returned, so
    /// the caller edits the value through the table (`KeyTable.editString`).
    static func lookupStringIndex(_ c: CommandContext, _ key: UnsafeRawBufferPointer) -> IndexLookup {
        let db = c.db
        guard let i = db.lookupWrite(key) else { return .missing }
        guard db.table.isString(at: i) else {
            c.replyWrongType()
            return .wrongType
        }
        return .found(i)
    }

    /// Byte length of a string value (digits for `.int`).
    static func stringLength(_ v: Value) -> Int {
        if case .int(let n) = v { return Decimal.digitCount(n) }
        if case .string(let s) = v { return s.bytes.count }
        return 0
    }

    /// Redis's checkStringLength: replies the proto-max-bulk-len error if `size + append` is too long.
    static func checkStringLength(_ c: CommandContext, _ size: Int64, _ append: Int64) -> Bool {
        let (total, overflow) = size.addingReportingOverflow(append)
        if overflow || total > Int64(c.engine.settings.protoMaxBulkLength) {
            c.reply.error("ERR string exceeds maximum allowed size (proto-max-bulk-len)")
            return false
        }
        return true
    }

    // MARK: GET / SET family

    static func get(_ c: CommandContext) {
        let db = c.db
        guard let i = db.lookupRead(c.args[1]) else { return c.reply.null() }
        guard let view = db.table.stringView(at: i) else { return c.replyWrongType() }
        replyString(c, view)
    }

    enum ExpireKind: Equatable {
        case ex, px, exat, pxat
        var seconds: Bool { self == .ex || self == .exat }
        var relative: Bool { self == .ex || self == .px }
    }

    struct ExtendedOptions {
        var nx = false, xx = false, get = false, keepTTL = false, persist = false
        var expire: ExpireKind?
        var expireArg = -1
    }

    /// Parses SET's (`forSet`) or GETEX's options from argument `from` as Redis's
    /// parseExtendedStringArgumentsOrReply does: one expiry kind (repeatable, the last value wins),
    /// not combined with KEEPTTL/PERSIST, NX and XX exclusive. Replies `ERR syntax error` on anything else.
    static func parseExtendedOptions(_ c: CommandContext, from: Int, forSet: Bool) -> ExtendedOptions? {
        var o = ExtendedOptions()
        let a = c.args
        var i = from
        while i < a.count {
            let hasNext = i + 1 < a.count
            var kind: ExpireKind?
            if a.matches(i, "ex") { kind = .ex }
            else if a.matches(i, "px") { kind = .px }
            else if a.matches(i, "exat") { kind = .exat }
            else if a.matches(i, "pxat") { kind = .pxat }

            if forSet && a.matches(i, "nx") && !o.xx { o.nx = true }
            else if forSet && a.matches(i, "xx") && !o.nx { o.xx = true }
            else if forSet && a.matches(i, "get") { o.get = true }
            else if forSet && a.matches(i, "keepttl") && o.expire == nil { o.keepTTL = true }
            else if !forSet && a.matches(i, "persist") && o.expire == nil { o.persist = true }
            else if let kind, hasNext, !o.keepTTL, !o.persist, o.expire == nil || o.expire == kind {
                o.expire = kind
                o.expireArg = i + 1
                i += 1
            } else {
                c.replySyntaxError()
                return nil
            }
            i += 1
        }
        return o
    }

    /// Converts an expire argument to an absolute unix-ms time, replying with Redis's error text
    /// when it is not an integer or is out of range.
    static func absoluteExpire(_ c: CommandContext, arg: Int, seconds: Bool, relative: Bool) -> Int64? {
        guard var ms = c.args.int64(arg) else {
            c.replyNotInteger()
            return nil
        }
        if ms <= 0 || (seconds && ms > Int64.max / 1000) {
            c.reply.error("ERR invalid expire time in '\(c.command.fullName)' command")
            return nil
        }
        if seconds { ms *= 1000 }
        if relative { ms = ms &+ c.engine.now }
        if ms <= 0 {
            c.reply.error("ERR invalid expire time in '\(c.command.fullName)' command")
            return nil
        }
        return ms
    }

    static func set(_ c: CommandContext) {
        guard let o = parseExtendedOptions(c, from: 3, forSet: true) else { return }
        var expireAt = noExpiry
        if let kind = o.expire {
            guard let at = absoluteExpire(c, arg: o.expireArg, seconds: kind.seconds, relative: kind.relative) else { return }
            expireAt = at
        }
        let key = c.args[1]
        let db = c.db
        // SET ... GET reads the old value as GET does (a counted keyspace read).
        let existing = o.get ? db.lookupRead(key) : db.lookupWrite(key)
        if o.get {
            if let i = existing {
                guard let view = db.table.stringView(at: i) else { return c.replyWrongType() }
                replyString(c, view)
            } else {
                c.reply.null()
            }
        }
        if (o.nx && existing != nil) || (o.xx && existing == nil) {
            if !o.get { c.reply.null() }
            return
        }
        db.setString(key, c.args[2], at: existing, keepTTL: o.keepTTL, expireAt: expireAt)
        c.engine.dirty += 1
        c.notify(.string, "set", keyAt: 1)
        if expireAt != noExpiry { c.notify(.generic, "expire", keyAt: 1) }
        // A relative expiry replays as the absolute time it gave (Redis 7.0 propagates PXAT).
        if expireAt != noExpiry { c.propagate(.word("SET"), .raw(key), .raw(c.args[2]), .word("PXAT"), .int(expireAt)) }
        if !o.get { c.reply.ok() }
    }

    static func setnx(_ c: CommandContext) {
        let key = c.args[1]
        let db = c.db
        if db.lookupWrite(key) != nil {
            c.reply.integer(0)
            return
        }
        db.setString(key, c.args[2], at: nil)
        c.engine.dirty += 1
        c.notify(.string, "set", keyAt: 1)
        c.reply.integer(1)
    }

    /// SETEX key seconds value / PSETEX key milliseconds value.
    static func setWithExpire(_ c: CommandContext, seconds: Bool) {
        guard let at = absoluteExpire(c, arg: 2, seconds: seconds, relative: true) else { return }
        c.db.set(c.args[1], Value.string(fromStored: c.args[3]), expireAt: at)
        c.engine.dirty += 1
        c.notify(.string, "set", keyAt: 1)
        c.notify(.generic, "expire", keyAt: 1)
        c.propagate(.word("SET"), .raw(c.args[1]), .raw(c.args[3]), .word("PXAT"), .int(at))
        c.reply.ok()
    }

    static func getset(_ c: CommandContext) {
        let key = c.args[1]
        let value = Value.string(fromStored: c.args[2])
        switch lookupString(c, key) {
        case .wrongType: return
        case .missing:
            c.reply.null()
            c.db.insert(key, value)
        case .found(let i, let old):
            replyString(c, old)
            c.db.table.setValue(at: i, value)
            c.db.table.setExpire(at: i, noExpiry)
        }
        c.notify(.string, "set", keyAt: 1)
        c.engine.dirty += 1
    }

    static func getdel(_ c: CommandContext) {
        switch lookupString(c, c.args[1]) {
        case .wrongType: return
        case .missing: c.reply.null()
        case .found(_, let v):
            replyString(c, v)
            c.db.delete(c.args[1])
            c.engine.dirty += 1
            c.notify(.generic, "del", keyAt: 1)
        }
    }

    static func getex(_ c: CommandContext) {
        guard let o = parseExtendedOptions(c, from: 2, forSet: false) else { return }
        let key = c.args[1]
        let i: Int, v: Value
        switch lookupString(c, key) {
        case .wrongType: return
        case .missing: return c.reply.null()
        case .found(let foundIndex, let found): (i, v) = (foundIndex, found)
        }
        // Redis validates the time only once it knows the key exists.
        var expireAt = noExpiry
        if let kind = o.expire {
            guard let at = absoluteExpire(c, arg: o.expireArg, seconds: kind.seconds, relative: kind.relative) else { return }
            expireAt = at
        }
        replyString(c, v)
        let db = c.db
        if let kind = o.expire {
            if (kind == .exat || kind == .pxat) && expireAt <= c.engine.now && c.engine.deletesPastTimes {
                db.delete(key)
                c.propagate(.word("DEL"), .raw(key))
                c.notify(.generic, "del", keyAt: 1)
            } else {
                db.table.setExpire(at: i, expireAt)
                c.propagate(.word("PEXPIREAT"), .raw(key), .int(expireAt))
                c.notify(.generic, "expire", keyAt: 1)
            }
            c.engine.dirty += 1
        } else if o.persist && db.table.expireAt(at: i) != noExpiry {
            db.table.setExpire(at: i, noExpiry)
            c.engine.dirty += 1
            c.propagate(.word("PERSIST"), .raw(key))
            c.notify(.generic, "persist", keyAt: 1)
        }
    }

    // MARK: multi-key

    static func mget(_ c: CommandContext) {
        let db = c.db
        c.reply.arrayHeader(c.args.count - 1)
        for k in 1..<c.args.count {
            if let i = db.lookupRead(c.args[k]), let view = db.table.stringView(at: i) {
                replyString(c, view)
            } else {
                c.reply.null()
            }
        }
    }

    static func mset(_ c: CommandContext, onlyIfNoneExist: Bool) {
        let a = c.args
        guard a.count % 2 == 1 else { return c.replyArityError() }
        let db = c.db
        if onlyIfNoneExist {
            for k in stride(from: 1, to: a.count, by: 2) where db.lookupWrite(a[k]) != nil {
                c.reply.integer(0)
                return
            }
        }
        for k in stride(from: 1, to: a.count, by: 2) {
            db.setString(a[k], a[k + 1], at: db.lookupWrite(a[k]))
            c.notify(.string, "set", keyAt: k)
        }
        c.engine.dirty += Int64(a.count / 2)
        if onlyIfNoneExist { c.reply.integer(1) } else { c.reply.ok() }
    }

    // MARK: counters

    static func incrby(_ c: CommandContext) {
        guard let by = c.args.int64(2) else { return c.replyNotInteger() }
        incrDecr(c, by: by)
    }

    static func decrby(_ c: CommandContext) {
        guard let by = c.args.int64(2) else { return c.replyNotInteger() }
        guard by != Int64.min else { return c.reply.error("ERR decrement would overflow") }
        incrDecr(c, by: -by)
    }

    static func incrDecr(_ c: CommandContext, by increment: Int64) {
        let key = c.args[1]
        let db = c.db
        switch lookupString(c, key, write: true) {
        case .wrongType: return
        case .missing:
            db.insert(key, .int(increment))
            c.notify(.string, "incrby", keyAt: 1)
            c.reply.integer(increment)
        case .found(let i, let v):
            var current: Int64?
            if case .int(let n) = v { current = n } else if case .string(let s) = v { current = Decimal.parseInt64(s.bytes) }
            guard let current else { return c.replyNotInteger() }
            let (result, overflow) = current.addingReportingOverflow(increment)
            guard !overflow else { return c.reply.error("ERR increment or decrement would overflow") }
            db.table.setInteger(at: i, result)
            c.notify(.string, "incrby", keyAt: 1)
            c.reply.integer(result)
        }
        c.engine.dirty += 1
    }

    static func incrbyfloat(_ c: CommandContext) {
        let key = c.args[1]
        let db = c.db
        var index: Int?
        var current: LongDouble = 0
        switch lookupString(c, key, write: true) {
        case .wrongType: return
        case .missing: break
        case .found(let i, let v):
            index = i
            if case .int(let n) = v {
                current = LongDouble(n)
            } else if case .string(let s) = v, let parsed = FloatFormat.parseLongDouble(s.bytes) {
                current = parsed
            } else {
                return c.reply.error("ERR value is not a valid float")
            }
        }
        guard let increment = FloatFormat.parseLongDouble(c.args[2]) else {
            return c.reply.error("ERR value is not a valid float")
        }
        let result = current + increment
        guard result.isFinite else { return c.reply.error("ERR increment would produce NaN or Infinity") }
        let bytes = FloatFormat.human(result)
        // Redis stores the printed result as a plain string object, never int-encoded.
        let value = Value.string(StringBytes(bytes, raw: bytes.count > Value.embeddedStringBytesMax))
        if let index {
            db.table.setValue(at: index, value)
        } else {
            db.insert(key, value)
        }
        c.notify(.string, "incrbyfloat", keyAt: 1)
        c.engine.dirty += 1
        // The float arithmetic is not replayed: the result is (Redis propagates SET ... KEEPTTL).
        c.propagate(.word("SET"), .raw(key), .bytes(bytes), .word("KEEPTTL"))
        c.reply.bulk(bytes)
    }
}
