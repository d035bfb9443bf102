import CairnRESP

// DUMP and RESTORE (cluster.c in Redis 7.0): values move between servers as RDB-encoded payloads
// with the RDB version and a CRC-64 (RDB/DumpPayload.swift), byte-compatible with Redis.

enum DumpRestoreCommands {
    static let specs: [CommandSpec] = [
        CommandSpec("dump", arity: 2, flags: [.readonly], categories: [.keyspace, .read, .slow],
                    keys: [.at(1, [.RO, .access])], group: "generic", since: "2.6.0",
                    summary: "Return a serialized version of the value stored at the specified key.", handler: dump),
        CommandSpec("restore", arity: -4, flags: [.write, .denyOOM], categories: [.keyspace, .write, .slow, .dangerous],
                    keys: [.at(1, [.OW, .update])], group: "generic", since: "2.6.0",
                    summary: "Create a key using the provided serialized value, previously obtained using DUMP.",
                    handler: restore),
        // What MIGRATE sends in cluster mode: RESTORE that also implies ASKING (the cluster stage
        // lets it into a slot this node is importing).
        CommandSpec("restore-asking", arity: -4, flags: [.write, .denyOOM], categories: [.keyspace, .write, .slow, .dangerous],
                    keys: [.at(1, [.OW, .update])], group: "server", since: "3.0.0",
                    summary: "An internal command for migrating keys in a cluster.", handler: restore),
    ]

    static func dump(_ c: CommandContext) {
        guard let i = c.db.lookupRead(c.args[1]) else { return c.reply.null() }
        c.reply.bulk(DumpPayload.encode(c.db.table.value(at: i), lzf: c.engine.settings.dumpCompressesStrings))
    }

    static func restore(_ c: CommandContext) {
        var replace = false, absoluteTTL = false
        var idle: Int64 = -1, frequency: Int64 = -1
        var j = 4
        while j < c.args.count {
            let more = j + 1 < c.args.count
            if c.args.matches(j, "replace") {
                replace = true
            } else if c.args.matches(j, "absttl") {
                absoluteTTL = true
            } else if c.args.matches(j, "idletime") && more && frequency == -1 {
                guard let v = c.args.int64(j + 1) else { return c.replyNotInteger() }
                guard v >= 0 else { return c.reply.error("ERR Invalid IDLETIME value, must be >= 0") }
                idle = v
                j += 1
            } else if c.args.matches(j, "freq") && more && idle == -1 {
                guard let v = c.args.int64(j + 1) else { return c.replyNotInteger() }
                guard v >= 0 && v <= 255 else { return c.reply.error("ERR Invalid FREQ value, must be >= 0 and <= 255") }
                frequency = v
                j += 1
            } else {
                return c.replySyntaxError()
            }
            j += 1
        }
        let db = c.db
        let key = c.args[1]
        if !replace && db.lookupWrite(key) != nil {
            return c.reply.error("BUSYKEY Target key name already exists.")
        }
        guard var ttl = c.args.int64(2) else { return c.replyNotInteger() }
        guard ttl >= 0 else { return c.reply.error("ERR Invalid TTL value, must be >= 0") }
        let payload = c.args.bytes(3)
        guard DumpPayload.verify(payload) else {
            return c.reply.error("ERR DUMP payload version or checksum are wrong")
        }
        guard let value = try? DumpPayload.decode(payload, settings: c.engine.settings), !value.isEmptyCollection else {
            return c.reply.error("ERR Bad data format")
        }
        let deleted = replace && db.delete(key)
        if ttl > 0 && !absoluteTTL { ttl += c.engine.now }
        if ttl > 0 && ttl <= c.engine.now && c.engine.deletesPastTimes {
            // Already expired: nothing is created (the old key is gone with REPLACE).
            if deleted {
                c.engine.dirty += 1
                c.propagate(.word("DEL"), .raw(key))
                c.notify(.generic, "del", keyAt: 1)
            }
            return c.reply.ok()
        }
        let i = db.insert(key, value, expireAt: ttl > 0 ? ttl : noExpiry)
        if frequency >= 0 {
            db.table.setAccessClock(at: i, LFU.minutes(nowMillis: c.engine.now) << 8 | UInt32(frequency))
        } else if idle >= 0 {
            let clock = Int64(c.engine.lruClock) - idle
            db.table.setAccessClock(at: i, UInt32(truncatingIfNeeded: clock) & 0xFF_FFFF)
        }
        c.notify(.generic, "restore", keyAt: 1)
        c.engine.dirty += 1
        if ttl > 0 && !absoluteTTL {
            // A relative TTL replays as the absolute time it gave.
            var words = c.args.copyAll()
            words[2] = Array(String(ttl).utf8)
            words.append(Array("ABSTTL".utf8))
            c.propagate(words)
        }
        c.reply.ok()
    }
}
