import CairnRESP

// String commands (t_string.c in Redis).

enum StringCommands {
    static let specs: [CommandSpec] = [
        CommandSpec("get", arity: 2, flags: [.readonly, .fast], categories: [.read, .string, .fast],
                    keys: .one, group: "string", summary: "Returns the string value of a key.", handler: get),
        CommandSpec("set", arity: -3, flags: [.write, .denyOOM], categories: [.write, .string, .slow],
                    keys: .one, group: "string", summary: "Sets the string value of a key.", handler: set),
    ]

    // MARK: helpers shared by the string commands

    /// Writes the string value at entry `i` as a bulk reply.
    @inline(__always)
    static func replyString(_ c: CommandContext, _ value: Value) {
        switch value {
        case .int(let v): c.reply.bulk(integer: v)
        case .string(let s): c.reply.bulk(s.bytes)
        }
    }

    /// Looks up a key for reading; replies WRONGTYPE and returns `.wrongType` if it is not a string.
    enum StringLookup { case missing, found(Int, Value), wrongType }

    @inline(__always)
    static func lookupString(_ c: CommandContext, _ key: UnsafeRawBufferPointer, write: Bool = false) -> StringLookup {
        let db = c.db
        guard let i = write ? db.lookupWrite(key) : db.lookupRead(key) else { return .missing }
        let v = db.table[i].value
        guard v.isString else {
            c.replyWrongType()
            return .wrongType
        }
        return .found(i, v)
    }

    // MARK: GET / SET

    static func get(_ c: CommandContext) {
        switch lookupString(c, c.args[1]) {
        case .missing: c.reply.null()
        case .found(_, let v): replyString(c, v)
        case .wrongType: return
        }
    }

    struct SetOptions {
        var nx = false, xx = false, get = false, keepTTL = false
        var expireArg = -1          // index of the EX/PX/EXAT/PXAT value
        var unitSeconds = false
        var relative = false
    }

    /// Parses SET's options from argument `from`; replies `ERR syntax error` and returns nil on a
    /// bad combination, as Redis's parseExtendedStringArgumentsOrReply does.
    static func parseSetOptions(_ c: CommandContext, from: Int) -> SetOptions? {
        var o = SetOptions()
        var i = from
        let a = c.args
        while i < a.count {
            let hasNext = i + 1 < a.count
            if a.matches(i, "nx") && !o.xx { o.nx = true }
            else if a.matches(i, "xx") && !o.nx { o.xx = true }
            else if a.matches(i, "get") { o.get = true }
            else if a.matches(i, "keepttl") && o.expireArg < 0 { o.keepTTL = true }
            else if hasNext && o.expireArg < 0 && !o.keepTTL && (a.matches(i, "ex") || a.matches(i, "px") || a.matches(i, "exat") || a.matches(i, "pxat")) {
                o.unitSeconds = a.matches(i, "ex") || a.matches(i, "exat")
                o.relative = a.matches(i, "ex") || a.matches(i, "px")
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
        guard let o = parseSetOptions(c, from: 3) else { return }
        var expireAt = noExpiry
        if o.expireArg >= 0 {
            guard let at = absoluteExpire(c, arg: o.expireArg, seconds: o.unitSeconds, relative: o.relative) else { return }
            expireAt = at
        }
        let key = c.args[1]
        let db = c.db
        let existing = db.lookupWrite(key)
        if o.get {
            if let i = existing {
                let v = db.table[i].value
                guard v.isString else { return c.replyWrongType() }
                replyString(c, v)
            } else {
                c.reply.null()
            }
        }
        if (o.nx && existing != nil) || (o.xx && existing == nil) {
            if !o.get { c.reply.null() }
            return
        }
        let value = Value.string(fromStored: c.args[2])
        if let i = existing {
            db.table[i].value = value
            if !o.keepTTL || expireAt != noExpiry { db.table.setExpire(at: i, expireAt) }
        } else {
            db.insert(key, value, expireAt: expireAt)
        }
        c.engine.dirty += 1
        if !o.get { c.reply.ok() }
    }
}
