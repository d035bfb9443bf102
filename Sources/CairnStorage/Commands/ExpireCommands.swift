import CairnRESP

// EXPIRE, PEXPIRE, EXPIREAT, PEXPIREAT, TTL, PTTL, EXPIRETIME, PEXPIRETIME, PERSIST (expire.c in
// Redis). Expiry times are absolute unix milliseconds in KeyEntry.expireAt.

enum ExpireCommands {
    static let specs: [CommandSpec] = [
        setter("expire", since: "1.0.0", summary: "Set a key's time to live in seconds", handler: expire),
        setter("pexpire", since: "2.6.0", summary: "Set a key's time to live in milliseconds", handler: pexpire),
        setter("expireat", since: "1.2.0", summary: "Set the expiration for a key as a UNIX timestamp", handler: expireat),
        setter("pexpireat", since: "2.6.0",
               summary: "Set the expiration for a key as a UNIX timestamp specified in milliseconds", handler: pexpireat),
        getter("ttl", since: "1.0.0", summary: "Get the time to live for a key in seconds", handler: ttl),
        getter("pttl", since: "2.6.0", summary: "Get the time to live for a key in milliseconds", handler: pttl),
        getter("expiretime", since: "7.0.0", summary: "Get the expiration Unix timestamp for a key", handler: expiretime),
        getter("pexpiretime", since: "7.0.0",
               summary: "Get the expiration Unix timestamp for a key in milliseconds", handler: pexpiretime),
        CommandSpec("persist", arity: 2, flags: [.write, .fast], categories: [.keyspace, .write, .fast],
                    keys: [.at(1, [.RW, .update])],
                    group: "generic", since: "2.2.0", summary: "Remove the expiration from a key",
                    handler: persist),
    ]

    static func setter(_ name: String, since: String, summary: String, handler: @escaping CommandHandler) -> CommandSpec {
        CommandSpec(name, arity: -3, flags: [.write, .fast], categories: [.keyspace, .write, .fast],
                    keys: [.at(1, [.RW, .update])], group: "generic", since: since, summary: summary, handler: handler)
    }

    static func getter(_ name: String, since: String, summary: String, handler: @escaping CommandHandler) -> CommandSpec {
        CommandSpec(name, arity: 2, flags: [.readonly, .fast], categories: [.keyspace, .read, .fast],
                    keys: [.at(1, [.RO, .access])], group: "generic", since: since, summary: summary, handler: handler)
    }

    // MARK: EXPIRE family

    static func expire(_ c: CommandContext) { expireGeneric(c, base: c.engine.now, seconds: true) }
    static func pexpire(_ c: CommandContext) { expireGeneric(c, base: c.engine.now, seconds: false) }
    static func expireat(_ c: CommandContext) { expireGeneric(c, base: 0, seconds: true) }
    static func pexpireat(_ c: CommandContext) { expireGeneric(c, base: 0, seconds: false) }

    struct Condition: OptionSet {
        let rawValue: UInt8
        static let nx = Condition(rawValue: 1)
        static let xx = Condition(rawValue: 2)
        static let gt = Condition(rawValue: 4)
        static let lt = Condition(rawValue: 8)
    }

    /// Parses NX|XX|GT|LT from argument 3 on, with Redis's errors (checked before the time).
    static func parseCondition(_ c: CommandContext) -> Condition? {
        var flags: Condition = []
        for j in 3..<max(3, c.args.count) {
            if c.args.matches(j, "nx") { flags.insert(.nx) }
            else if c.args.matches(j, "xx") { flags.insert(.xx) }
            else if c.args.matches(j, "gt") { flags.insert(.gt) }
            else if c.args.matches(j, "lt") { flags.insert(.lt) }
            else {
                // Redis formats the option with %s: it ends at the first NUL byte.
                c.reply.error("ERR Unsupported option ", quoting: c.args[j], "")
                return nil
            }
        }
        if flags.contains(.nx) && !flags.isDisjoint(with: [.xx, .gt, .lt]) {
            c.reply.error("ERR NX and XX, GT or LT options at the same time are not compatible")
            return nil
        }
        if flags.contains([.gt, .lt]) {
            c.reply.error("ERR GT and LT options at the same time are not compatible")
            return nil
        }
        return flags
    }

    static func replyInvalidExpireTime(_ c: CommandContext) {
        c.reply.error("ERR invalid expire time in '\(c.command.fullName)' command")
    }

    /// `base` is the engine time for relative forms and 0 for the absolute ones. Negative times
    /// are allowed (they delete the key); only overflow of the unit conversion or the addition
    /// is an error, as in Redis.
    static func expireGeneric(_ c: CommandContext, base: Int64, seconds: Bool) {
        guard let condition = parseCondition(c) else { return }
        guard var when = c.args.int64(2) else { return c.replyNotInteger() }
        if seconds {
            guard when <= Int64.max / 1000 && when >= Int64.min / 1000 else { return replyInvalidExpireTime(c) }
            when *= 1000
        }
        guard when <= Int64.max - base else { return replyInvalidExpireTime(c) }
        when += base

        let db = c.db
        guard let i = db.lookupWrite(c.args[1]) else { return c.reply.integer(0) }
        let current = db.table.expireAt(at: i)
        let hasExpiry = current != noExpiry
        if condition.contains(.nx) && hasExpiry { return c.reply.integer(0) }
        if condition.contains(.xx) && !hasExpiry { return c.reply.integer(0) }
        // No expiry counts as an infinite one: GT never passes, LT always does.
        if condition.contains(.gt) && (!hasExpiry || when <= current) { return c.reply.integer(0) }
        if condition.contains(.lt) && hasExpiry && when >= current { return c.reply.integer(0) }

        if when <= c.engine.now && c.engine.deletesPastTimes {
            db.table.remove(at: i, freer: c.engine.settings.lazyFreeExpire ? c.engine.lazyFreer : nil)
            c.propagate(.word("DEL"), .raw(c.args[1]))
            c.notify(.generic, "del", keyAt: 1)
            c.engine.dirty += 1
            c.reply.integer(1)
        } else {
            db.table.setExpire(at: i, when)
            // Every form replays as the absolute time it set (Redis propagates PEXPIREAT).
            c.propagate(.word("PEXPIREAT"), .raw(c.args[1]), .int(when))
            c.engine.dirty += 1
            // Redis replies before it publishes here (a RESP3 client subscribed to its own
            // events sees the reply first), and after it for the deletion above.
            c.reply.integer(1)
            c.notify(.generic, "expire", keyAt: 1)
        }
    }

    // MARK: TTL family

    static func ttl(_ c: CommandContext) { ttlGeneric(c, milliseconds: false, absolute: false) }
    static func pttl(_ c: CommandContext) { ttlGeneric(c, milliseconds: true, absolute: false) }
    static func expiretime(_ c: CommandContext) { ttlGeneric(c, milliseconds: false, absolute: true) }
    static func pexpiretime(_ c: CommandContext) { ttlGeneric(c, milliseconds: true, absolute: true) }

    /// -2 for a missing key, -1 for no expiry; seconds are rounded to the nearest, as Redis does.
    /// The lookup counts a hit or miss but leaves the access clock alone.
    static func ttlGeneric(_ c: CommandContext, milliseconds: Bool, absolute: Bool) {
        let db = c.db
        guard let i = db.lookupRead(c.args[1], touch: false) else { return c.reply.integer(-2) }
        let at = db.table.expireAt(at: i)
        guard at != noExpiry else { return c.reply.integer(-1) }
        let value = max(0, absolute ? at : at - c.engine.now)
        // Rounded without forming value + 500, which overflows for times near Int64.max (Redis
        // answers those with the mathematically rounded value).
        c.reply.integer(milliseconds ? value : value / 1000 + (value % 1000 >= 500 ? 1 : 0))
    }

    static func persist(_ c: CommandContext) {
        let db = c.db
        guard let i = db.lookupWrite(c.args[1]), db.table.expireAt(at: i) != noExpiry else { return c.reply.integer(0) }
        db.table.setExpire(at: i, noExpiry)
        c.notify(.generic, "persist", keyAt: 1)
        c.engine.dirty += 1
        c.reply.integer(1)
    }
}
