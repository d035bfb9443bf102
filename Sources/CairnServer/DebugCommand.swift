import CairnRESP
import CairnStorage
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// DEBUG (debug.c in Redis 7.0): every subcommand of Redis 7.0.15's DEBUG HELP. SLEEP,
// SET-ACTIVE-EXPIRE, OBJECT, POPULATE, DIGEST, DIGEST-VALUE, PROTOCOL, ERROR here; RELOAD
// (PersistenceCommands.swift), LOADAOF (AOFCommands.swift); the crashes and restarts in
// DebugCrash.swift; the structure reports (HTSTATS, SDSLEN, LISTPACK, ...) in
// DebugStructures.swift; the settings and the rest in DebugState.swift. MALLCTL and MALLCTL-STR
// answer as for a jemalloc name that does not exist (Cairn runs on the C library's malloc). As in Redis 7.0 the command is refused unless `enable-debug-command`
// is yes (or local, from a loopback or unix-socket client). Like Redis, DEBUG is one command whose first argument picks the action,
// so an unknown action or a wrong argument count gets "unknown subcommand or wrong number of
// arguments".

enum DebugCommand {
    static func spec(_ server: Server) -> CommandSpec {
        CommandSpec(
            "debug", arity: -2, flags: [.admin, .noscript, .loading, .stale], categories: [.admin, .slow, .dangerous],
            group: "server", since: "1.0.0", summary: "A container for debugging commands", handler: server.bind(debug))
    }

    static let notAllowed = "ERR DEBUG command not allowed. If the enable-debug-command option is set to \"local\", you can run it from a local connection, otherwise you need to set this option in the configuration file, and then restart the server."

    static func allowed(_ server: Server, _ client: ClientSession) -> Bool {
        switch server.settings.enableDebugCommand {
        case "yes": return true
        case "local":
            let a = client.address
            return a.hasPrefix("/") || a.hasPrefix("127.") || a.hasPrefix("[::1]:") || a.isEmpty
        default: return false
        }
    }

    static func debug(_ server: Server, _ c: CommandContext) {
        let argc = c.args.count
        if c.args.matches(1, "help") && argc == 2 {
            help(c)
        } else if c.args.matches(1, "reload") {
            PersistenceCommands.debugReload(server, c)
        } else if c.args.matches(1, "loadaof") && argc == 2 {
            AOFCommands.debugLoadAOF(server, c)
        } else if c.args.matches(1, "sleep") && argc == 3 {
            sleep(c)
        } else if c.args.matches(1, "protocol") && argc == 3 {
            protocolSample(c)
        } else if c.args.matches(1, "change-repl-id") && argc == 2 {
            server.logger.warning("Changing replication IDs after receiving DEBUG change-repl-id")
            server.replication.ids.renew()
            server.replication.ids.clearSecond()
            c.reply.ok()
        } else if c.args.matches(1, "stringmatch-test") && argc == 2 {
            stringMatchFuzz()
            c.reply.simpleString("Apparently Redis did not crash: test passed")
        } else if c.args.matches(1, "error") && argc == 3 {
            // The argument as the error line itself (client libraries test error parsing with it),
            // newlines made spaces.
            c.reply.error(bytes: c.args.bytes(2).map { $0 == 10 || $0 == 13 ? 32 : $0 })
        } else if c.args.matches(1, "set-active-expire") && argc == 3 {
            server.settings.activeExpireEnabled = atoiSemantics(c.args.bytes(2)) != 0
            server.engine.settings.activeExpireEnabled = server.settings.activeExpireEnabled
            c.reply.ok()
        } else if c.args.matches(1, "object") && argc == 3 {
            object(c)
        } else if c.args.matches(1, "populate") && argc >= 3 && argc <= 5 {
            populate(server, c)
        } else if c.args.matches(1, "digest") && argc == 2 {
            c.reply.simpleString(DatasetDigest.dataset(c.engine))
        } else if c.args.matches(1, "digest-value") && argc >= 2 {
            let db = c.db
            c.reply.arrayHeader(argc - 2)
            for i in 2..<argc {
                c.reply.simpleString(DatasetDigest.value(db.table.find(c.args[i]).map { db.table[$0] }))
            }
        } else if !more(server, c) {
            unknownSubcommand(c)
        }
    }

    /// The subcommands added with Redis 7.0.15's full list; false when none matches.
    static func more(_ server: Server, _ c: CommandContext) -> Bool {
        let argc = c.args.count
        if c.args.matches(1, "segfault") {
            segfault(server)
        } else if c.args.matches(1, "panic") {
            panic(server, "DEBUG PANIC called at Unix time \(Clock.unixMillis() / 1000)")
        } else if c.args.matches(1, "restart") {
            restart(server, c, graceful: true)
        } else if c.args.matches(1, "crash-and-recover") {
            restart(server, c, graceful: false)
        } else if c.args.matches(1, "oom") {
            outOfMemory(server, c)
        } else if c.args.matches(1, "assert") {
            assertFailure(server, c)
        } else if c.args.matches(1, "log") && argc == 3 {
            log(server, c)
        } else if c.args.matches(1, "leak") && argc == 3 {
            leak(c)
        } else if c.args.matches(1, "drop-cluster-packet-filter") && argc == 3 {
            dropClusterPacketFilter(server, c)
        } else if c.args.matches(1, "sdslen") && argc == 3 {
            sdslen(c)
        } else if c.args.matches(1, "listpack") && argc == 3 {
            listpack(c)
        } else if c.args.matches(1, "quicklist") && (argc == 3 || argc == 4) {
            quicklist(c)
        } else if c.args.matches(1, "quicklist-packed-threshold") && argc == 3 {
            quicklistPackedThreshold(c)
        } else if c.args.matches(1, "set-skip-checksum-validation") && argc == 3 {
            DumpPayload.skipChecksumValidation = atoiSemantics(c.args.bytes(2)) != 0
            c.reply.ok()
        } else if c.args.matches(1, "aof-flush-sleep") && argc == 3 {
            Persistence.aofFlushSleepMicros = Int(truncatingIfNeeded: Int32(truncatingIfNeeded: atoiSemantics(c.args.bytes(2))))
            c.reply.ok()
        } else if c.args.matches(1, "replicate") && argc >= 3 {
            replicate(c)
        } else if c.args.matches(1, "structsize") && argc == 2 {
            structSize(c)
        } else if c.args.matches(1, "htstats") && argc == 3 {
            htstats(c)
        } else if c.args.matches(1, "htstats-key") && argc == 3 {
            htstatsKey(c)
        } else if c.args.matches(1, "set-disable-deny-scripts") && argc == 3 {
            DebugState.disableDenyScripts = atoiSemantics(c.args.bytes(2)) != 0
            c.reply.ok()
        } else if c.args.matches(1, "config-rewrite-force-all") && argc == 2 {
            configRewriteForceAll(server, c)
        } else if c.args.matches(1, "client-eviction") && argc == 2 {
            clientEviction(server, c)
        } else if c.args.matches(1, "mallctl") && argc >= 3 {
            mallctl(c, string: false)
        } else if c.args.matches(1, "mallctl-str") && argc >= 3 {
            mallctl(c, string: true)
        } else if c.args.matches(1, "pause-cron") && argc == 3 {
            DebugState.cronPaused = atoiSemantics(c.args.bytes(2)) != 0
            c.reply.ok()
        } else if c.args.matches(1, "replybuffer") && argc == 4 {
            replyBuffer(c)
        } else if c.args.matches(1, "clusterlink") && argc == 5 && c.args.matches(2, "kill") {
            clusterLinkKill(server, c)
        } else {
            return false
        }
        return true
    }

    /// C's atoi: optional whitespace and sign, then digits up to the first non-digit.
    static func atoiSemantics(_ bytes: [UInt8]) -> Int64 {
        var i = 0
        while i < bytes.count && (bytes[i] == 32 || (9...13).contains(bytes[i])) { i += 1 }
        var negative = false
        if i < bytes.count && (bytes[i] == UInt8(ascii: "-") || bytes[i] == UInt8(ascii: "+")) {
            negative = bytes[i] == UInt8(ascii: "-")
            i += 1
        }
        var v: Int64 = 0
        while i < bytes.count, bytes[i] >= 48, bytes[i] <= 57 {
            v = v &* 10 &+ Int64(bytes[i] - 48)
            i += 1
        }
        return negative ? -v : v
    }

    /// DEBUG SLEEP seconds: blocks the server (decimals allowed; parsed as strtod, so text that is
    /// not a number sleeps 0).
    static func sleep(_ c: CommandContext) {
        let text = c.args.string(2)
        let seconds = text.withCString { strtod($0, nil) }
        if seconds.isFinite && seconds > 0 {
            let micros = min(seconds * 1_000_000, Double(Int64.max / 2))
            var ts = timespec(tv_sec: Int(micros / 1_000_000), tv_nsec: Int(micros.truncatingRemainder(dividingBy: 1_000_000)) * 1000)
            var rest = timespec()
            while nanosleep(&ts, &rest) != 0 && errno == EINTR { ts = rest }
        }
        c.reply.ok()
    }

    /// `Value at:<address> refcount:N encoding:E serializedlength:N lru:N lru_seconds_idle:N`
    /// (plus the ql_* fields for lists). The key is found without expiring it or touching it.
    static func object(_ c: CommandContext) {
        let db = c.db
        guard let i = db.table.find(c.args[2]) else { return c.reply.error("ERR no such key") }
        let e = db.table[i]
        let now = c.engine.lruClock
        let idle = now >= e.accessClock ? now - e.accessClock : now + (0xFF_FFFF - e.accessClock)
        var refcount: Int64 = 1
        if case .int(let v) = e.value, (0...9999).contains(v), !e.unsharedInteger { refcount = 2_147_483_647 }
        var line = "Value at:\(address(e.value)) refcount:\(refcount) encoding:\(e.value.encodingName) serializedlength:\(RDBLength.of(e.value)) lru:\(e.accessClock) lru_seconds_idle:\(idle)"
        if case .list(let l) = e.value {
            let nodes = l.nodes.count
            let average = nodes == 0 ? 0 : Double(l.count) / Double(nodes)
            let size = l.nodes.reduce(0) { $0 + RDBLength.listpackBytes($1) }
            line += " ql_nodes:\(nodes) ql_avg_node:\(InfoFormat.fixed(average, 2)) ql_listpack_max:\(QuickList.fill) ql_compressed:0 ql_uncompressed_size:\(size)"
        }
        c.reply.simpleString(line)
    }

    /// A stand-in for Redis's object pointer: the value's storage address where it has one.
    static func address(_ v: Value) -> String {
        let raw: UInt
        switch v {
        case .int(let n): raw = UInt(bitPattern: Int(truncatingIfNeeded: n.hashValue)) & 0x7FFF_FFFF_FFF0
        case .string(let s): raw = s.bytes.withUnsafeBufferPointer { UInt(bitPattern: $0.baseAddress) }
        case .list(let l): raw = UInt(bitPattern: Unmanaged.passUnretained(l).toOpaque())
        case .hash(let h): raw = UInt(bitPattern: Unmanaged.passUnretained(h).toOpaque())
        case .set(let s): raw = UInt(bitPattern: Unmanaged.passUnretained(s).toOpaque())
        case .zset(let z): raw = UInt(bitPattern: Unmanaged.passUnretained(z).toOpaque())
        }
        return "0x" + String(raw, radix: 16)
    }

    /// DEBUG POPULATE count [prefix] [size]: keys prefix:0 ... prefix:count-1 holding value:N
    /// (zero-padded or cut to `size` bytes when given); keys that exist are left alone.
    static func populate(_ server: Server, _ c: CommandContext) {
        let mustBePositive = "ERR value is out of range, must be positive"
        guard let count = c.args.int64(2), count >= 0 else { return c.reply.error(mustBePositive) }
        var size = 0
        if c.args.count == 5 {
            guard let s = c.args.int64(4), s >= 0 else { return c.reply.error(mustBePositive) }
            size = Int(clamping: s)
        }
        let prefix = c.args.count >= 4 ? Array(c.args[3].prefix { $0 != 0 }) : Array("key".utf8)
        let db = c.db
        var j: Int64 = 0
        while j < count {
            let key = prefix + Array(":\(j)".utf8)
            if db.lookupWrite(key) == nil {
                var value = Array("value:\(j)".utf8)
                if size > 0 {
                    if value.count >= size {
                        value = Array(value.prefix(size))
                    } else {
                        value.append(contentsOf: [UInt8](repeating: 0, count: size - value.count))
                    }
                }
                let i = db.insert(key, .string(StringBytes(value, raw: value.count > Value.embeddedStringBytesMax)))
                db.table.setAccessClock(at: i, server.admin.evictor.initialClock(c.engine))
            }
            j += 1
        }
        c.reply.ok()
    }

    /// DEBUG PROTOCOL <type>: one reply of each RESP type, Redis 7.0's samples (client
    /// libraries' own tests read them), in the client's protocol.
    static func protocolSample(_ c: CommandContext) {
        let small: [RESPValue] = (0..<3).map { .integer($0) }
        switch c.args.string(2).lowercased() {
        case "string": c.reply.bulk("Hello World")
        case "integer": c.reply.integer(12345)
        case "double": c.reply.value(.double(3.141))
        case "bignum": c.reply.bigNumber("1234567999999999999999999999999999999")
        case "null": c.reply.null()
        case "array": c.reply.value(.array(small))
        case "set": c.reply.value(.set(small))
        case "map": c.reply.value(.map((0..<3).map { (.integer($0), .boolean($0 == 1)) }))
        case "attrib":
            // An attribute is not a reply: a real one follows (and only that one in RESP2).
            c.reply.value(.attribute([(.bulkString(Array("key-popularity".utf8)), .array([.bulkString(Array("key:123".utf8)), .integer(90)]))]))
            c.reply.bulk("Some real reply following the attribute")
        case "push":
            guard c.reply.resp3 else { return c.reply.error("ERR RESP2 is not supported by this command") }
            c.reply.value(.push([.bulkString(Array("server-cpu-usage".utf8)), .integer(42)]))
            c.reply.bulk("Some real reply following the push reply")
        case "true": c.reply.boolean(true)
        case "false": c.reply.boolean(false)
        case "verbatim": c.reply.verbatim("This is a verbatim\nstring")
        default:
            c.reply.error("ERR Wrong protocol type name. Please use one of the following: string|integer|double|bignum|null|array|set|map|attrib|push|verbatim|true|false")
        }
    }

    /// Random patterns against random strings (Redis's stringmatchlen_fuzz_test): the glob
    /// matcher must return, whatever it is given. 100,000 cycles (Redis runs 10 million in C;
    /// this keeps the command short in a debug build).
    static func stringMatchFuzz() {
        var generator = SystemRandomNumberGenerator()
        var matches = 0
        for _ in 0..<100_000 {
            let text = (0..<Int.random(in: 0..<32, using: &generator)).map { _ in UInt8.random(in: 0..<128, using: &generator) }
            let pattern = (0..<Int.random(in: 0..<32, using: &generator)).map { _ in UInt8.random(in: 0..<128, using: &generator) }
            if GlobPattern.matches(pattern, text) { matches += 1 }
        }
        _ = matches
    }

    static func help(_ c: CommandContext) {
        Help.reply(c, command: "DEBUG", lines: [
            "AOF-FLUSH-SLEEP <microsec>",
            "    Server will sleep before flushing the AOF, this is used for testing.",
            "ASSERT",
            "    Crash by assertion failed.",
            "CHANGE-REPL-ID",
            "    Change the replication IDs of the instance.",
            "    Dangerous: should be used only for testing the replication subsystem.",
            "CONFIG-REWRITE-FORCE-ALL",
            "    Like CONFIG REWRITE but writes all configuration options, including",
            "    keywords not listed in original configuration file or default values.",
            "CRASH-AND-RECOVER [<milliseconds>]",
            "    Hard crash and restart after a <milliseconds> delay (default 0).",
            "DIGEST",
            "    Output a hex signature representing the current DB content.",
            "DIGEST-VALUE <key> [<key> ...]",
            "    Output a hex signature of the values of all the specified keys.",
            "ERROR <string>",
            "    Return a Redis protocol error with <string> as message. Useful for clients",
            "    unit tests to simulate Redis errors.",
            "LEAK <string>",
            "    Create a memory leak of the input string.",
            "LOG <message>",
            "    Write <message> to the server log.",
            "HTSTATS <dbid>",
            "    Return hash table statistics of the specified Redis database.",
            "HTSTATS-KEY <key>",
            "    Like HTSTATS but for the hash table stored at <key>'s value.",
            "LOADAOF",
            "    Flush the AOF buffers on disk and reload the AOF in memory.",
            "REPLICATE <string>",
            "    Replicates the provided string to replicas, allowing data divergence.",
            "MALLCTL <key> [<val>]",
            "    Get or set a malloc tuning integer.",
            "MALLCTL-STR <key> [<val>]",
            "    Get or set a malloc tuning string.",
            "OBJECT <key>",
            "    Show low level info about `key` and associated value.",
            "DROP-CLUSTER-PACKET-FILTER <packet-type>",
            "    Drop all packets that match the filtered type. Set to -1 allow all packets.",
            "OOM",
            "    Crash the server simulating an out-of-memory error.",
            "PANIC",
            "    Crash the server simulating a panic.",
            "POPULATE <count> [<prefix>] [<size>]",
            "    Create <count> string keys named key:<num>. If <prefix> is specified then",
            "    it is used instead of the 'key' prefix. These are not propagated to",
            "    replicas. Cluster slots are not respected so keys not belonging to the",
            "    current node can be created in cluster mode.",
            "PROTOCOL <type>",
            "    Reply with a test value of the specified type. <type> can be: string,",
            "    integer, double, bignum, null, array, set, map, attrib, push, verbatim,",
            "    true, false.",
            "RELOAD [option ...]",
            "    Save the RDB on disk and reload it back to memory. Valid <option> values:",
            "    * MERGE: conflicting keys will be loaded from RDB.",
            "    * NOFLUSH: the existing database will not be removed before load, but",
            "      conflicting keys will generate an exception and kill the server.",
            "    * NOSAVE: the database will be loaded from an existing RDB file.",
            "    Examples:",
            "    * DEBUG RELOAD: verify that the server is able to persist, flush and reload",
            "      the database.",
            "    * DEBUG RELOAD NOSAVE: replace the current database with the contents of an",
            "      existing RDB file.",
            "    * DEBUG RELOAD NOSAVE NOFLUSH MERGE: add the contents of an existing RDB",
            "      file to the database.",
            "RESTART [<milliseconds>]",
            "    Graceful restart: save config, db, restart after a <milliseconds> delay (default 0).",
            "SDSLEN <key>",
            "    Show low level SDS string info representing `key` and value.",
            "SEGFAULT",
            "    Crash the server with sigsegv.",
            "SET-ACTIVE-EXPIRE <0|1>",
            "    Setting it to 0 disables expiring keys in background when they are not",
            "    accessed (otherwise the Redis behavior). Setting it to 1 reenables back the",
            "    default.",
            "QUICKLIST-PACKED-THRESHOLD <size>",
            "    Sets the threshold for elements to be inserted as plain vs packed nodes",
            "    Default value is 1GB, allows values up to 4GB. Setting to 0 restores to default.",
            "SET-SKIP-CHECKSUM-VALIDATION <0|1>",
            "    Enables or disables checksum checks for RDB files and RESTORE's payload.",
            "SLEEP <seconds>",
            "    Stop the server for <seconds>. Decimals allowed.",
            "STRINGMATCH-TEST",
            "    Run a fuzz tester against the stringmatchlen() function.",
            "STRUCTSIZE",
            "    Return the size of different Redis core C structures.",
            "LISTPACK <key>",
            "    Show low level info about the listpack encoding of <key>.",
            "QUICKLIST <key> [<0|1>]",
            "    Show low level info about the quicklist encoding of <key>.",
            "    The optional argument (0 by default) sets the level of detail",
            "CLIENT-EVICTION",
            "    Show low level client eviction pools info (maxmemory-clients).",
            "PAUSE-CRON <0|1>",
            "    Stop periodic cron job processing.",
            "REPLYBUFFER PEAK-RESET-TIME <NEVER||RESET|time>",
            "    Sets the time (in milliseconds) to wait between client reply buffer peak resets.",
            "    In case NEVER is provided the last observed peak will never be reset",
            "    In case RESET is provided the peak reset time will be restored to the default value",
            "REPLYBUFFER RESIZING <0|1>",
            "    Enable or disable the reply buffer resize cron job",
            "CLUSTERLINK KILL <to|from|all> <node-id>",
            "    Kills the link based on the direction to/from (both) with the provided node.",
        ])
    }
}

/// What Redis's rdbSavedObjectLen would say, for DEBUG OBJECT's serializedlength: exact for
/// integers and strings Redis would not compress (up to 20 bytes; longer ones Redis compresses
/// with LZF, which Cairn does not do, so this is their uncompressed length), and the uncompressed
/// RDB size of a list stored as listpack nodes. Hashes, sets and sorted sets are not measured yet.
enum RDBLength {
    static func length(_ n: Int) -> Int {
        n < 1 << 6 ? 1 : n < 1 << 14 ? 2 : n <= Int(UInt32.max) ? 5 : 9
    }

    static func string(_ n: Int) -> Int { length(n) + n }

    static func integer(_ v: Int64) -> Int {
        if v >= -(1 << 7) && v < 1 << 7 { return 2 }
        if v >= -(1 << 15) && v < 1 << 15 { return 3 }
        if v >= -(1 << 31) && v < 1 << 31 { return 5 }
        return string(CairnRESP.Decimal.bytes(v).count)
    }

    static func of(_ value: Value) -> Int {
        switch value {
        case .int(let v): return integer(v)
        case .string(let s):
            if s.bytes.count <= 11, let v = CairnRESP.Decimal.parseInt64(s.bytes) { return integer(v) }
            return string(s.bytes.count)
        case .list(let l):
            return length(l.nodes.count) + l.nodes.reduce(0) { $0 + 1 + string(listpackBytes($1)) }
        case .hash, .set, .zset:
            return 0
        }
    }

    /// The size of Redis's listpack holding the same elements: 6-byte header, each entry
    /// (encoding + data + backlen), end byte.
    static func listpackBytes(_ node: Listpack) -> Int {
        var total = 7
        node.forEach { element in
            total += entryBytes(element)
            return true
        }
        return total
    }

    static func entryBytes(_ element: ArraySlice<UInt8>) -> Int {
        let encoded: Int
        if element.count <= 20, let v = CairnRESP.Decimal.parseInt64(Array(element)) {
            switch v {
            case 0...127: encoded = 1
            case -4096...4095: encoded = 2
            case -32768...32767: encoded = 3
            case -8_388_608...8_388_607: encoded = 4
            case -2_147_483_648...2_147_483_647: encoded = 5
            default: encoded = 9
            }
        } else {
            let n = element.count
            encoded = (n < 64 ? 1 : n < 4096 ? 2 : 5) + n
        }
        let back = encoded <= 127 ? 1 : encoded < 16383 ? 2 : encoded < 2_097_151 ? 3 : encoded < 268_435_455 ? 4 : 5
        return encoded + back
    }
}
