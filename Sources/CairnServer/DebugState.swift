import CairnCluster
import CairnGossip
import CairnRESP
import CairnStorage
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// DEBUG's settings that outlast the command (Redis keeps them as server.* fields): process-wide,
// like Redis's, since a cairn-server process runs one server. What each one changes in Cairn:
//
//   PAUSE-CRON 1                  Server.serverCron returns at once (Redis's pause_cron).
//   AOF-FLUSH-SLEEP <us>          Persistence.aofFlushSleepMicros: a sleep before each AOF write.
//   SET-SKIP-CHECKSUM-VALIDATION  DumpPayload.skipChecksumValidation: RESTORE payloads and loaded
//                                 RDB files are not checked against their CRC-64.
//   QUICKLIST-PACKED-THRESHOLD    kept, no effect: Cairn's QuickList has no "plain" nodes (every
//                                 element, however large, goes into a listpack node).
//   REPLYBUFFER PEAK-RESET-TIME / RESIZING
//                                 kept, no effect: Cairn's reply buffer policy is fixed
//                                 (ConnectionHandler: a 16 KiB buffer, dropped back to 16 KiB after
//                                 a write that grew it past 64 KiB); Redis's settings tune its
//                                 clientsCron resizing of the reply buffer from the observed peak.
//   SET-DISABLE-DENY-SCRIPTS      kept, no effect: Cairn has no scripting.
enum DebugState {
    nonisolated(unsafe) static var cronPaused = false
    /// Redis's default packed_threshold (1 GB).
    static let quicklistPackedThresholdDefault: UInt64 = 1 << 30
    nonisolated(unsafe) static var quicklistPackedThreshold = quicklistPackedThresholdDefault
    /// Redis's REPLY_BUFFER_DEFAULT_PEAK_RESET_TIME (ms); -1: never.
    static let replyBufferPeakResetDefaultMillis = 5000
    nonisolated(unsafe) static var replyBufferPeakResetMillis = replyBufferPeakResetDefaultMillis
    nonisolated(unsafe) static var replyBufferResizing = true
    nonisolated(unsafe) static var disableDenyScripts = false
}

extension DebugCommand {
    /// Redis's addReplySubcommandSyntaxError.
    static func unknownSubcommand(_ c: CommandContext) {
        let name = Array(c.args[0].map(ASCII.upper).prefix(128))
        c.reply.error(bytes: Array("ERR unknown subcommand or wrong number of arguments for '".utf8)
            + Array(ClientBytes.cString(c.args[1]).prefix(128)) + Array("'. Try ".utf8) + name + Array(" HELP.".utf8))
    }

    /// C's strcasecmp of argument `i` (up to its first NUL, as Redis compares C strings) with `word`.
    static func cEquals(_ c: CommandContext, _ i: Int, _ word: String) -> Bool {
        String(decoding: ClientBytes.cString(c.args[i]), as: UTF8.self).lowercased() == word
    }

    /// Redis's getLongLongFromObject: the whole argument is a decimal integer.
    static func longLong(_ c: CommandContext, _ i: Int) -> Int64? { c.args.int64(i) }

    /// LOG <message>: serverLog(LL_WARNING, "DEBUG LOG: %s"), the argument up to a NUL.
    static func log(_ server: Server, _ c: CommandContext) {
        server.logger.warning("DEBUG LOG: \(String(decoding: ClientBytes.cString(c.args[2]), as: UTF8.self))")
        c.reply.ok()
    }

    /// LEAK <string>: a copy of the string in a malloc'd block nothing frees (Redis's sdsdup).
    static func leak(_ c: CommandContext) {
        let bytes = c.args[2]
        if let block = malloc(bytes.count + 1) {
            if let base = bytes.baseAddress { memcpy(block, base, bytes.count) }
            block.storeBytes(of: 0, toByteOffset: bytes.count, as: UInt8.self)
        }
        c.reply.ok()
    }

    /// MALLCTL <key> [<val>] / MALLCTL-STR <key> [<val>]: Redis's jemalloc control names. Cairn
    /// runs on the C library's malloc, which has none, so every name is unknown: the error
    /// jemalloc gives for an unknown name (ENOENT), after Redis's own argument checks.
    static func mallctl(_ c: CommandContext, string: Bool) {
        if !string && c.args.count > 3 && longLong(c, 3) == nil { return c.replyNotInteger() }
        c.reply.error("ERR " + String(cString: strerror(ENOENT)))
    }

    /// QUICKLIST-PACKED-THRESHOLD <size>: memtoull, then quicklistisSetPackedThreshold's bounds.
    static func quicklistPackedThreshold(_ c: CommandContext) {
        guard let size = memtoull(Array(ClientBytes.cString(c.args[2]))), size <= (1 << 32) - (1 << 20) else {
            return c.reply.error("ERR argument must be a memory value bigger than 1 and smaller than 4gb")
        }
        DebugState.quicklistPackedThreshold = size == 0 ? DebugState.quicklistPackedThresholdDefault : size
        c.reply.ok()
    }

    /// Redis's memtoull: digits then an optional unit (b, k, kb, m, mb, g, gb); nil on error.
    static func memtoull(_ text: [UInt8]) -> UInt64? {
        if text.first == UInt8(ascii: "-") { return nil }
        let digits = text.prefix { $0 >= 48 && $0 <= 57 }
        let unit = String(decoding: text[digits.count...], as: UTF8.self).lowercased()
        let multiplier: UInt64
        switch unit {
        case "", "b": multiplier = 1
        case "k": multiplier = 1000
        case "kb": multiplier = 1024
        case "m": multiplier = 1000 * 1000
        case "mb": multiplier = 1024 * 1024
        case "g": multiplier = 1000 * 1000 * 1000
        case "gb": multiplier = 1024 * 1024 * 1024
        default: return nil
        }
        // strtoull of the digits: an empty run is 0 (no EINVAL on glibc), too many digits saturate.
        guard digits.count < 128 else { return nil }
        var value: UInt64 = 0
        for d in digits {
            let (m, o1) = value.multipliedReportingOverflow(by: 10)
            let (a, o2) = m.addingReportingOverflow(UInt64(d - 48))
            if o1 || o2 { value = UInt64.max; break }
            value = a
        }
        return value &* multiplier
    }

    /// REPLYBUFFER PEAK-RESET-TIME <NEVER|RESET|ms> / REPLYBUFFER RESIZING <0|1>.
    static func replyBuffer(_ c: CommandContext) {
        if cEquals(c, 2, "peak-reset-time") {
            if cEquals(c, 3, "never") {
                DebugState.replyBufferPeakResetMillis = -1
            } else if cEquals(c, 3, "reset") {
                DebugState.replyBufferPeakResetMillis = DebugState.replyBufferPeakResetDefaultMillis
            } else {
                guard let ms = longLong(c, 3) else { return c.replyNotInteger() }
                DebugState.replyBufferPeakResetMillis = Int(ms)
            }
        } else if cEquals(c, 2, "resizing") {
            DebugState.replyBufferResizing = atoiSemantics(c.args.bytes(3)) != 0
        } else {
            return unknownSubcommand(c)
        }
        c.reply.ok()
    }

    /// CONFIG-REWRITE-FORCE-ALL: CONFIG REWRITE writing every directive, defaults included.
    static func configRewriteForceAll(_ server: Server, _ c: CommandContext) {
        guard let path = server.configFile, path != "-" else {
            // Redis calls fopen(NULL): EFAULT.
            return c.reply.error("ERR CONFIG-REWRITE-FORCE-ALL failed: " + String(cString: strerror(EFAULT)))
        }
        do {
            let users = server.settings.aclfile.isEmpty ? ACLFile.lines(server.acl, c.engine.commands) : []
            try ConfigRewrite.rewrite(path: path, settings: server.settings, users: users, force: true)
            c.reply.ok()
        } catch {
            c.reply.error("ERR CONFIG-REWRITE-FORCE-ALL failed: \(error)")
        }
    }

    /// DROP-CLUSTER-PACKET-FILTER <type>: bus messages of that type are dropped when received
    /// (-1: none). Without cluster mode the value is only kept, as in Redis.
    static func dropClusterPacketFilter(_ server: Server, _ c: CommandContext) {
        guard let type = longLong(c, 2) else { return c.replyNotInteger() }
        server.clusterBus?.dropPacketFilter = Int(type)
        c.reply.ok()
    }

    /// CLUSTERLINK KILL <to|from|all> <node-id>.
    static func clusterLinkKill(_ server: Server, _ c: CommandContext) {
        guard let bus = server.clusterBus else {
            return c.reply.error("ERR Debug option only available for cluster mode enabled setup!")
        }
        let id = String(decoding: ClientBytes.cString(c.args[4]), as: UTF8.self)
        guard let name = NodeName(id), bus.state[name] != nil else { return c.reply.error("ERR Unknown node \(id)") }
        let direction = String(decoding: ClientBytes.cString(c.args[3]), as: UTF8.self)
        switch direction.lowercased() {
        case "from": _ = bus.killLinks(of: name, outbound: false, inbound: true)
        case "to": _ = bus.killLinks(of: name, outbound: true, inbound: false)
        case "all": _ = bus.killLinks(of: name, outbound: true, inbound: true)
        // Redis replies this error and then +OK as well (a second reply); Cairn sends the error only.
        default: return c.reply.error("ERR Unknown direction \(direction)")
        }
        c.reply.ok()
    }

    /// REPLICATE <arg> ...: the arguments as one command in the replication stream (the
    /// replicas and the backlog), not in the AOF and not run here (Redis's replicationFeedSlaves
    /// into the database last selected for replicas: Cairn's stream selects the client's).
    static func replicate(_ c: CommandContext) {
        c.engine.feedReplicasOnly(db: c.client.db, (2..<c.args.count).map { c.args.bytes($0) })
        c.reply.ok()
    }
}
