import CairnRESP

// OBJECT ENCODING | FREQ | IDLETIME | REFCOUNT | HELP (object.c in Redis). The engine dispatches
// the subcommands itself, so the container's handler only runs if that dispatch is bypassed.

extension KeyspaceCommands {
    static let objectSpec = CommandSpec(
        "object", arity: -2, flags: [], categories: [.slow], group: "generic", since: "2.2.3",
        summary: "A container for object introspection commands",
        subcommands: [
            CommandSpec("help", arity: 2, flags: [.loading, .stale], categories: [.keyspace, .slow],
                        group: "generic", since: "6.2.0", summary: "Show helpful text about the different subcommands",
                        handler: objectHelp),
            CommandSpec("idletime", arity: 3, flags: [.readonly], categories: [.keyspace, .read, .slow],
                        keys: [.at(2, [.RO])], group: "generic", since: "2.2.3",
                        summary: "Get the time since a Redis object was last accessed", handler: objectIdletime),
            CommandSpec("freq", arity: 3, flags: [.readonly], categories: [.keyspace, .read, .slow],
                        keys: [.at(2, [.RO])], group: "generic", since: "4.0.0",
                        summary: "Get the logarithmic access frequency counter of a Redis object", handler: objectFreq),
            CommandSpec("encoding", arity: 3, flags: [.readonly], categories: [.keyspace, .read, .slow],
                        keys: [.at(2, [.RO])], group: "generic", since: "2.2.3",
                        summary: "Inspect the internal encoding of a Redis object", handler: objectEncoding),
            CommandSpec("refcount", arity: 3, flags: [.readonly], categories: [.keyspace, .read, .slow],
                        keys: [.at(2, [.RO])], group: "generic", since: "2.2.3",
                        summary: "Get the number of references to the value of the key", handler: objectRefcount),
        ],
        handler: { $0.replySyntaxError() })

    /// Redis's shared integer objects: values 0..<10000 set as integers share one object whose
    /// refcount is pinned at INT_MAX (except a COPY's duplicate, see KeyEntry.unsharedInteger).
    static let sharedIntegers: ClosedRange<Int64> = 0...9999
    static let sharedRefcount: Int64 = 2_147_483_647
    /// Redis's LRU clock wraps at 24 bits.
    static let lruClockMax: UInt32 = (1 << 24) - 1

    /// The entry for OBJECT's key argument, or nil after replying a null. The lookup counts a hit
    /// or miss but does not touch the access clock (LOOKUP_NOTOUCH), so IDLETIME is not reset, and
    /// a miss publishes no "keymiss" (LOOKUP_NONOTIFY).
    static func objectLookup(_ c: CommandContext) -> KeyEntry? {
        let db = c.db
        guard let i = db.lookupRead(c.args[2], touch: false, notifyMiss: false) else {
            c.reply.null()
            return nil
        }
        return db.table[i]
    }

    static func objectEncoding(_ c: CommandContext) {
        guard let e = objectLookup(c) else { return }
        c.reply.bulk(String(describing: e.value.encodingName))
    }

    static func objectRefcount(_ c: CommandContext) {
        guard let e = objectLookup(c) else { return }
        if case .int(let v) = e.value, sharedIntegers.contains(v), !e.unsharedInteger {
            c.reply.integer(sharedRefcount)
        } else {
            c.reply.integer(1)
        }
    }

    static func objectIdletime(_ c: CommandContext) {
        guard let e = objectLookup(c) else { return }
        let now = c.engine.lruClock
        let idle = now >= e.accessClock ? now - e.accessClock : now + (lruClockMax - e.accessClock)
        c.reply.integer(Int64(idle))
    }

    /// There is no maxmemory policy yet, so never an LFU one: FREQ always errors for a live key.
    static func objectFreq(_ c: CommandContext) {
        guard objectLookup(c) != nil else { return }
        c.reply.error("ERR An LFU maxmemory policy is not selected, access frequency not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.")
    }

    static let objectHelpLines: [StaticString] = [
        "ENCODING <key>",
        "    Return the kind of internal representation used in order to store the value",
        "    associated with a <key>.",
        "FREQ <key>",
        "    Return the access frequency index of the <key>. The returned integer is",
        "    proportional to the logarithm of the recent access frequency of the key.",
        "IDLETIME <key>",
        "    Return the idle time of the <key>, that is the approximated number of",
        "    seconds elapsed since the last access to the key.",
        "REFCOUNT <key>",
        "    Return the number of references of the value associated with the specified",
        "    <key>.",
        "HELP",
        "    Prints this help.",
    ]

    /// As Redis's addReplyHelp: a header naming the command as typed, upper-cased, then the lines.
    static func objectHelp(_ c: CommandContext) {
        var header = c.args[0].map(ASCII.upper)
        header.append(contentsOf: Array(" <subcommand> [<arg> [value] [opt] ...]. Subcommands are:".utf8))
        c.reply.arrayHeader(objectHelpLines.count + 1)
        c.reply.simpleString(bytes: header)
        for line in objectHelpLines { c.reply.simpleString(line) }
    }
}
