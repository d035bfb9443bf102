import CairnRESP
import CairnStorage
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// Configuration: the values, and one table of directives (name, how to read, parse and apply
// each) that serves the config file, `--name value` overrides and CONFIG GET/SET alike.
// Names, value syntax and error texts follow redis.conf and Redis 7.0's config.c.

public struct ServerSettings: Sendable {
    public var port = 6379
    public var bind = ["127.0.0.1", "-::1"]
    public var protectedMode = true
    public var dir = "."
    public var dbfilename = "dump.rdb"
    public var databases = 16
    public var hz = 10
    public var maxclients = 10000
    public var timeoutSeconds = 0
    public var tcpKeepaliveSeconds = 300
    public var tcpBacklog = 511
    public var requirepass: String? = nil
    public var protoMaxBulkLength = 512 * 1024 * 1024
    public var clientQueryBufferLimit = 1024 * 1024 * 1024
    public var loglevel = "notice"
    public var logfile = ""
    public var pidfile = ""
    public var activeExpireEffort = 1
    public var hashMaxListpackEntries = 512
    public var hashMaxListpackValue = 64
    public var setMaxIntsetEntries = 512
    public var zsetMaxListpackEntries = 128
    public var zsetMaxListpackValue = 64
    public var activeExpireEnabled = true
    /// `enable-protected-configs`: whether CONFIG SET may change protected directives (dir,
    /// dbfilename): `no`, `yes`, or `local` (only from loopback or unix-socket clients).
    public var enableProtectedConfigs = "no"
    // Administrative features (SlowLog.swift, Latency.swift, Eviction.swift, DebugCommand.swift).
    public var slowlogLogSlowerThan: Int64 = 10_000
    public var slowlogMaxLength = 128
    public var latencyMonitorThreshold: Int64 = 0
    public var maxmemory = 0
    public var maxmemoryPolicy = "noeviction"
    public var maxmemorySamples = 5
    public var maxmemoryEvictionTenacity = 10
    public var lfuLogFactor = 10
    public var lfuDecayTime = 1
    /// `enable-debug-command`: no (Redis 7.0's default), yes, or local.
    public var enableDebugCommand = "no"
    // [security]
    /// `user <name> <rule> ...` lines of the config file, in order (applied when the server starts).
    public var aclUsers: [[String]] = []
    /// `acllog-max-len`: entries ACL LOG keeps.
    public var acllogMaxLength = 128
    /// `aclfile`: where ACL LOAD / ACL SAVE keep the users ("" = users live in the config file).
    public var aclfile = ""
    /// `client-output-buffer-limit`.
    var outputBufferLimits = OutputBufferLimits()
    /// Replication, master side (ServerReplication.swift): Redis 7.0's defaults.
    public var replDisklessSync = true
    public var replDisklessSyncDelaySeconds = 5
    public var replDisklessSyncMaxReplicas = 0
    public var replBacklogSize = 1024 * 1024
    public var replBacklogTTLSeconds = 3600
    public var replPingReplicaPeriodSeconds = 10
    public var replTimeoutSeconds = 60
    /// Replication, replica side (MasterLink.swift).
    public var replicaof: (host: String, port: Int)? = nil
    public var masterauth: String? = nil
    public var masteruser: String? = nil
    public var replicaReadOnly = true
    public var replicaServeStaleData = true
    public var replicaAnnounceIP: String? = nil
    public var replicaAnnouncePort = 0
    public var replicaPriority = 100
    public var replicaAnnounced = true
    /// `repl-diskless-load`: disabled (a temporary file), on-empty-db (from the socket when the
    /// dataset is empty), swapdb (a temporary file, the old dataset kept aside until it loads).
    public var replDisklessLoad = "disabled"
    public var minReplicasToWrite = 0
    public var minReplicasMaxLagSeconds = 10
    /// The persistence directives (dbfilename, save, rdb*, append*, aof-*): the persistence
    /// component's own settings.
    public var persistence = PersistenceSettings()
    /// The cluster directives (ClusterConfig.swift).
    public var cluster = ClusterSettings()
    /// The remaining Redis 7.0 directives (ParityConfig.swift), most accepted with no effect.
    public var parity = ParitySettings()
    /// The process-level directives (ProcessConfig.swift).
    public var process = ProcessSettings()
    /// While a config file is read, the first `save` line replaces the defaults and later ones
    /// add to it (Redis's reading_config_file rule); CONFIG SET always replaces.
    var readingConfigFile = false
    var savePointsReadFromFile = false
    public init() {}
}

extension SavePoint {
    /// The arguments of a `save` directive, checked as Redis's setConfigSaveOption: one empty
    /// argument means none; a single argument is split at each space; seconds >= 1, changes >= 0,
    /// each read whole by strtoll.
    static func parse(_ args: [String]) throws -> [SavePoint] {
        var words = args
        if words.count == 1 {
            words = words[0].isEmpty ? [] : words[0].split(separator: " ", omittingEmptySubsequences: false).map(String.init)
        }
        let invalid = ConfigError("Invalid save parameters")
        guard words.count % 2 == 0 else { throw invalid }
        var numbers: [Int] = []
        for (i, word) in words.enumerated() {
            let parsed: Int? = word.withCString { start in
                var end: UnsafeMutablePointer<CChar>? = nil
                let v = strtoll(start, &end, 10)
                return end?.pointee == 0 ? Int(v) : nil
            }
            guard let v = parsed, i % 2 == 0 ? v >= 1 : v >= 0 else { throw invalid }
            numbers.append(v)
        }
        return stride(from: 0, to: numbers.count, by: 2).map { SavePoint(seconds: numbers[$0], changes: numbers[$0 + 1]) }
    }

    static func describe(_ points: [SavePoint]) -> String {
        points.map { "\($0.seconds) \($0.changes)" }.joined(separator: " ")
    }
}

public struct ConfigError: Error, Sendable, CustomStringConvertible {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

struct ConfigDirective: Sendable {
    var name: String
    var aliases: [String] = []
    var mutable = true
    /// CONFIG SET refuses it unless `enable-protected-configs` allows (Redis's PROTECTED_CONFIG).
    var protected = false
    /// A free-form string: CONFIG REWRITE writes it quoted.
    var isString = false
    /// The value as CONFIG GET prints it.
    var get: @Sendable (ServerSettings) -> String
    /// Parses and stores the arguments; throws ConfigError with Redis's reason text.
    var set: @Sendable (inout ServerSettings, [String]) throws -> Void
}

enum ConfigValue {
    static func bool(_ s: String) throws -> Bool {
        switch s.lowercased() {
        case "yes": return true
        case "no": return false
        default: throw ConfigError("argument must be 'yes' or 'no'")
        }
    }

    static func int(_ s: String, _ range: ClosedRange<Int>) throws -> Int {
        guard let v = Decimal.parseInt64(Array(s.utf8)) else { throw ConfigError("argument couldn't be parsed into an integer") }
        guard range.contains(Int(v)) else {
            throw ConfigError("argument must be between \(range.lowerBound) and \(range.upperBound) inclusive")
        }
        return Int(v)
    }

    /// Redis's memtoull: a number with an optional unit (b, k, kb, m, mb, g, gb; case-insensitive).
    static func memory(_ s: String, min: Int = 0, max: Int = Int.max) throws -> Int {
        let lower = s.lowercased()
        let units: [(String, Int)] = [("gb", 1 << 30), ("mb", 1 << 20), ("kb", 1 << 10), ("g", 1_000_000_000),
                                      ("m", 1_000_000), ("k", 1000), ("b", 1)]
        var digits = lower
        var multiplier = 1
        for (suffix, mul) in units where lower.hasSuffix(suffix) {
            digits = String(lower.dropLast(suffix.count))
            multiplier = mul
            break
        }
        guard let v = Decimal.parseInt64(Array(digits.utf8)), v >= 0 else {
            throw ConfigError("argument must be a memory value")
        }
        let (bytes, overflow) = Int(v).multipliedReportingOverflow(by: multiplier)
        guard !overflow else { throw ConfigError("argument must be a memory value") }
        guard bytes >= min && bytes <= max else {
            throw ConfigError("argument must be between \(min) and \(max) inclusive")
        }
        return bytes
    }

    static func oneOf(_ s: String, _ choices: [String]) throws -> String {
        let l = s.lowercased()
        guard choices.contains(l) else { throw ConfigError("argument(s) must be one of the following: \(choices.joined(separator: ", "))") }
        return l
    }

    static func yesNo(_ b: Bool) -> String { b ? "yes" : "no" }

    static func workingDirectory() -> String? { WorkingDirectory.current() }
}

enum ConfigTable {
    static func single(_ f: @escaping @Sendable (inout ServerSettings, String) throws -> Void) -> @Sendable (inout ServerSettings, [String]) throws -> Void {
        { s, args in
            guard args.count == 1 else { throw ConfigError("wrong number of arguments") }
            try f(&s, args[0])
        }
    }

    static let directives: [ConfigDirective] = coreDirectives + ClusterConfig.directives + ProcessConfig.directives + ParityConfig.directives

    private static let coreDirectives: [ConfigDirective] = [
        ConfigDirective(name: "port", mutable: false, get: { String($0.port) },
                        set: single { $0.port = try ConfigValue.int($1, 0...65535) }),
        ConfigDirective(name: "bind", mutable: false, get: { $0.bind.joined(separator: " ") },
                        set: { s, args in
                            guard !args.isEmpty else { throw ConfigError("wrong number of arguments") }
                            s.bind = args.flatMap { $0.split(separator: " ").map(String.init) }
                        }),
        ConfigDirective(name: "protected-mode", get: { ConfigValue.yesNo($0.protectedMode) },
                        set: single { $0.protectedMode = try ConfigValue.bool($1) }),
        // CONFIG SET dir also changes the working directory (see ConfigCommand.set).
        // CONFIG GET dir answers the actual working directory, as Redis does.
        ConfigDirective(name: "dir", protected: true, isString: true, get: { ConfigValue.workingDirectory() ?? $0.dir },
                        set: single { $0.dir = $1 }),
        ConfigDirective(name: "dbfilename", protected: true, isString: true, get: { $0.persistence.dbfilename },
                        set: single { s, v in
                            guard !v.contains("/") else { throw ConfigError("dbfilename can't be a path, just a filename") }
                            s.persistence.dbfilename = v
                        }),
        ConfigDirective(name: "databases", mutable: false, get: { String($0.databases) },
                        set: single { $0.databases = try ConfigValue.int($1, 1...Int(Int32.max)) }),
        ConfigDirective(name: "hz", get: { String($0.hz) },
                        set: single { s, v in
                            // Redis clamps hz to 1...500 rather than refusing.
                            let n = try ConfigValue.int(v, 0...Int(Int32.max))
                            s.hz = max(1, min(500, n))
                        }),
        ConfigDirective(name: "repl-diskless-sync", get: { ConfigValue.yesNo($0.replDisklessSync) },
                        set: single { $0.replDisklessSync = try ConfigValue.bool($1) }),
        ConfigDirective(name: "repl-diskless-sync-delay", get: { String($0.replDisklessSyncDelaySeconds) },
                        set: single { $0.replDisklessSyncDelaySeconds = try ConfigValue.int($1, 0...Int(Int32.max)) }),
        ConfigDirective(name: "repl-diskless-sync-max-replicas", get: { String($0.replDisklessSyncMaxReplicas) },
                        set: single { $0.replDisklessSyncMaxReplicas = try ConfigValue.int($1, 0...Int(Int32.max)) }),
        ConfigDirective(name: "repl-backlog-size", get: { String($0.replBacklogSize) },
                        set: single { $0.replBacklogSize = try ConfigValue.memory($1, min: 1, max: Int(Int64.max)) }),
        ConfigDirective(name: "repl-backlog-ttl", get: { String($0.replBacklogTTLSeconds) },
                        set: single { $0.replBacklogTTLSeconds = try ConfigValue.int($1, 0...Int(Int32.max)) }),
        ConfigDirective(name: "repl-ping-replica-period", aliases: ["repl-ping-slave-period"], get: { String($0.replPingReplicaPeriodSeconds) },
                        set: single { $0.replPingReplicaPeriodSeconds = try ConfigValue.int($1, 1...Int(Int32.max)) }),
        ConfigDirective(name: "repl-timeout", get: { String($0.replTimeoutSeconds) },
                        set: single { $0.replTimeoutSeconds = try ConfigValue.int($1, 1...Int(Int32.max)) }),
        // The master to replicate at start-up; at run time REPLICAOF changes it.
        ConfigDirective(name: "replicaof", aliases: ["slaveof"], mutable: false,
                        get: { s in s.replicaof.map { "\($0.host) \($0.port)" } ?? "" },
                        set: { s, args in
                            guard args.count == 2 else { throw ConfigError("wrong number of arguments") }
                            if args[0].lowercased() == "no" && args[1].lowercased() == "one" { s.replicaof = nil; return }
                            guard let port = Int(args[1]), (0...65535).contains(port) else { throw ConfigError("Invalid master port") }
                            s.replicaof = (args[0], port)
                        }),
        ConfigDirective(name: "masterauth", isString: true, get: { $0.masterauth ?? "" },
                        set: single { $0.masterauth = $1.isEmpty ? nil : $1 }),
        ConfigDirective(name: "masteruser", isString: true, get: { $0.masteruser ?? "" },
                        set: single { $0.masteruser = $1.isEmpty ? nil : $1 }),
        ConfigDirective(name: "replica-read-only", aliases: ["slave-read-only"], get: { ConfigValue.yesNo($0.replicaReadOnly) },
                        set: single { $0.replicaReadOnly = try ConfigValue.bool($1) }),
        ConfigDirective(name: "replica-serve-stale-data", aliases: ["slave-serve-stale-data"], get: { ConfigValue.yesNo($0.replicaServeStaleData) },
                        set: single { $0.replicaServeStaleData = try ConfigValue.bool($1) }),
        ConfigDirective(name: "replica-announce-ip", aliases: ["slave-announce-ip"], isString: true, get: { $0.replicaAnnounceIP ?? "" },
                        set: single { $0.replicaAnnounceIP = $1.isEmpty ? nil : $1 }),
        ConfigDirective(name: "replica-announce-port", aliases: ["slave-announce-port"], get: { String($0.replicaAnnouncePort) },
                        set: single { $0.replicaAnnouncePort = try ConfigValue.int($1, 0...65535) }),
        ConfigDirective(name: "replica-priority", aliases: ["slave-priority"], get: { String($0.replicaPriority) },
                        set: single { $0.replicaPriority = try ConfigValue.int($1, 0...Int(Int32.max)) }),
        ConfigDirective(name: "replica-announced", get: { ConfigValue.yesNo($0.replicaAnnounced) },
                        set: single { $0.replicaAnnounced = try ConfigValue.bool($1) }),
        ConfigDirective(name: "repl-diskless-load", get: { $0.replDisklessLoad },
                        set: single { $0.replDisklessLoad = try ConfigValue.oneOf($1, ["disabled", "on-empty-db", "swapdb"]) }),
        ConfigDirective(name: "min-replicas-to-write", aliases: ["min-slaves-to-write"], get: { String($0.minReplicasToWrite) },
                        set: single { $0.minReplicasToWrite = try ConfigValue.int($1, 0...Int(Int32.max)) }),
        ConfigDirective(name: "min-replicas-max-lag", aliases: ["min-slaves-max-lag"], get: { String($0.minReplicasMaxLagSeconds) },
                        set: single { $0.minReplicasMaxLagSeconds = try ConfigValue.int($1, 0...Int(Int32.max)) }),
        ConfigDirective(name: "maxclients", get: { String($0.maxclients) },
                        set: single { $0.maxclients = try ConfigValue.int($1, 1...Int(UInt32.max)) }),
        ConfigDirective(name: "timeout", get: { String($0.timeoutSeconds) },
                        set: single { $0.timeoutSeconds = try ConfigValue.int($1, 0...Int(Int32.max)) }),
        // Applied to connections when the listener starts, so not changeable at run time yet.
        ConfigDirective(name: "tcp-keepalive", mutable: false, get: { String($0.tcpKeepaliveSeconds) },
                        set: single { $0.tcpKeepaliveSeconds = try ConfigValue.int($1, 0...Int(Int32.max)) }),
        ConfigDirective(name: "tcp-backlog", mutable: false, get: { String($0.tcpBacklog) },
                        set: single { $0.tcpBacklog = try ConfigValue.int($1, 0...Int(Int32.max)) }),
        ConfigDirective(name: "requirepass", isString: true, get: { $0.requirepass ?? "" },
                        set: single { $0.requirepass = $1.isEmpty ? nil : $1 }),
        ConfigDirective(name: "proto-max-bulk-len", get: { String($0.protoMaxBulkLength) },
                        set: single { $0.protoMaxBulkLength = try ConfigValue.memory($1, min: 1024 * 1024, max: Int(Int64.max)) }),
        ConfigDirective(name: "client-query-buffer-limit", get: { String($0.clientQueryBufferLimit) },
                        set: single { $0.clientQueryBufferLimit = try ConfigValue.memory($1, min: 1024 * 1024, max: Int(Int64.max)) }),
        ConfigDirective(name: "loglevel", get: { $0.loglevel },
                        set: single { $0.loglevel = try ConfigValue.oneOf($1, ["debug", "verbose", "notice", "warning"]) }),
        // logfile, pidfile, daemonize: ProcessConfig.swift.
        ConfigDirective(name: "hash-max-listpack-entries", aliases: ["hash-max-ziplist-entries"],
                        get: { String($0.hashMaxListpackEntries) },
                        set: single { $0.hashMaxListpackEntries = try ConfigValue.int($1, 0...Int(Int64.max)) }),
        ConfigDirective(name: "hash-max-listpack-value", aliases: ["hash-max-ziplist-value"],
                        get: { String($0.hashMaxListpackValue) },
                        set: single { $0.hashMaxListpackValue = try ConfigValue.memory($1) }),
        ConfigDirective(name: "set-max-intset-entries", get: { String($0.setMaxIntsetEntries) },
                        set: single { $0.setMaxIntsetEntries = try ConfigValue.int($1, 0...Int(Int64.max)) }),
        ConfigDirective(name: "zset-max-listpack-entries", aliases: ["zset-max-ziplist-entries"],
                        get: { String($0.zsetMaxListpackEntries) },
                        set: single { $0.zsetMaxListpackEntries = try ConfigValue.int($1, 0...Int(Int64.max)) }),
        ConfigDirective(name: "zset-max-listpack-value", aliases: ["zset-max-ziplist-value"],
                        get: { String($0.zsetMaxListpackValue) },
                        set: single { $0.zsetMaxListpackValue = try ConfigValue.memory($1) }),
        ConfigDirective(name: "active-expire-effort", get: { String($0.activeExpireEffort) },
                        set: single { $0.activeExpireEffort = try ConfigValue.int($1, 1...10) }),
        // [security]
        ConfigDirective(name: "client-output-buffer-limit", get: { $0.outputBufferLimits.description },
                        set: { s, args in try s.outputBufferLimits.apply(args) }),
        ConfigDirective(name: "aclfile", mutable: false, isString: true, get: { $0.aclfile }, set: single { $0.aclfile = $1 }),
        ConfigDirective(name: "acllog-max-len", get: { String($0.acllogMaxLength) },
                        set: single { $0.acllogMaxLength = try ConfigValue.int($1, 0...Int(Int64.max)) }),
        ConfigDirective(name: "enable-protected-configs", mutable: false, get: { $0.enableProtectedConfigs },
                        set: single { $0.enableProtectedConfigs = try ConfigValue.oneOf($1, ["no", "yes", "local"]) }),
        // Administrative features.
        ConfigDirective(name: "slowlog-log-slower-than", get: { String($0.slowlogLogSlowerThan) },
                        set: single { $0.slowlogLogSlowerThan = Int64(try ConfigValue.int($1, -1...Int(Int64.max))) }),
        ConfigDirective(name: "slowlog-max-len", get: { String($0.slowlogMaxLength) },
                        set: single { $0.slowlogMaxLength = try ConfigValue.int($1, 0...Int(Int64.max)) }),
        ConfigDirective(name: "latency-monitor-threshold", get: { String($0.latencyMonitorThreshold) },
                        set: single { $0.latencyMonitorThreshold = Int64(try ConfigValue.int($1, 0...Int(Int64.max))) }),
        ConfigDirective(name: "maxmemory", get: { String($0.maxmemory) },
                        set: single { $0.maxmemory = try ConfigValue.memory($1) }),
        ConfigDirective(name: "maxmemory-policy", get: { $0.maxmemoryPolicy },
                        set: single { $0.maxmemoryPolicy = try ConfigValue.oneOf($1, MaxmemoryPolicy.allCases.map(\.rawValue)) }),
        ConfigDirective(name: "maxmemory-samples", get: { String($0.maxmemorySamples) },
                        set: single { $0.maxmemorySamples = try ConfigValue.int($1, 1...Int(Int32.max)) }),
        ConfigDirective(name: "maxmemory-eviction-tenacity", get: { String($0.maxmemoryEvictionTenacity) },
                        set: single { $0.maxmemoryEvictionTenacity = try ConfigValue.int($1, 0...100) }),
        ConfigDirective(name: "lfu-log-factor", get: { String($0.lfuLogFactor) },
                        set: single { $0.lfuLogFactor = try ConfigValue.int($1, 0...Int(Int32.max)) }),
        ConfigDirective(name: "lfu-decay-time", get: { String($0.lfuDecayTime) },
                        set: single { $0.lfuDecayTime = try ConfigValue.int($1, 0...Int(Int32.max)) }),
        ConfigDirective(name: "enable-debug-command", mutable: false, get: { $0.enableDebugCommand },
                        set: single { $0.enableDebugCommand = try ConfigValue.oneOf($1, ["no", "yes", "local"]) }),
        // Persistence. `save` is written quoted by CONFIG REWRITE so that `save ""` survives it.
        ConfigDirective(name: "save", isString: true, get: { SavePoint.describe($0.persistence.savePoints) },
                        set: { s, args in
                            guard !args.isEmpty else { throw ConfigError("wrong number of arguments") }
                            let points = try SavePoint.parse(args)
                            if s.readingConfigFile && s.savePointsReadFromFile {
                                s.persistence.savePoints += points
                            } else {
                                s.persistence.savePoints = points
                                s.savePointsReadFromFile = s.readingConfigFile
                            }
                        }),
        ConfigDirective(name: "rdbcompression", get: { $0.persistence.rdbCompression.rawValue },
                        set: single { s, v in
                            guard let c = RDBCompression(directive: v) else {
                                throw ConfigError("argument(s) must be one of the following: lz4, zlib, lzf, yes, no")
                            }
                            s.persistence.rdbCompression = c
                        }),
        ConfigDirective(name: "rdb-compression-level", get: { String($0.persistence.rdbCompressionLevel) },
                        set: single { $0.persistence.rdbCompressionLevel = try ConfigValue.int($1, 0...12) }),
        ConfigDirective(name: "rdbchecksum", mutable: false, get: { ConfigValue.yesNo($0.persistence.rdbChecksum) },
                        set: single { $0.persistence.rdbChecksum = try ConfigValue.bool($1) }),
        ConfigDirective(name: "stop-writes-on-bgsave-error", get: { ConfigValue.yesNo($0.persistence.stopWritesOnBgsaveError) },
                        set: single { $0.persistence.stopWritesOnBgsaveError = try ConfigValue.bool($1) }),
        ConfigDirective(name: "rdb-key-save-delay", get: { String($0.persistence.rdbKeySaveDelayMicros) },
                        set: single { $0.persistence.rdbKeySaveDelayMicros = try ConfigValue.int($1, Int(Int32.min)...Int(Int32.max)) }),
        ConfigDirective(name: "rdb-child-watchdog-seconds", get: { String($0.persistence.rdbChildWatchdogSeconds) },
                        set: single { $0.persistence.rdbChildWatchdogSeconds = try ConfigValue.int($1, 0...Int(Int32.max)) }),
        // The AOF. Switching `appendonly` at run time starts or stops it (ConfigCommand.set).
        ConfigDirective(name: "appendonly", get: { ConfigValue.yesNo($0.persistence.appendonly) },
                        set: single { $0.persistence.appendonly = try ConfigValue.bool($1) }),
        ConfigDirective(name: "appendfilename", mutable: false, isString: true, get: { $0.persistence.appendfilename },
                        set: single { s, v in
                            guard !v.isEmpty else { throw ConfigError("appendfilename can't be empty") }
                            guard !v.contains("/") else { throw ConfigError("appendfilename can't be a path, just a filename") }
                            s.persistence.appendfilename = v
                        }),
        ConfigDirective(name: "appenddirname", mutable: false, isString: true, get: { $0.persistence.appenddirname },
                        set: single { s, v in
                            guard !v.isEmpty else { throw ConfigError("appenddirname can't be empty") }
                            guard !v.contains("/") else { throw ConfigError("appenddirname can't be a path, just a dirname") }
                            s.persistence.appenddirname = v
                        }),
        ConfigDirective(name: "appendfsync", get: { $0.persistence.appendfsync.rawValue },
                        set: single { s, v in
                            guard let p = AOFFsyncPolicy(rawValue: v.lowercased()) else {
                                throw ConfigError("argument(s) must be one of the following: everysec, always, no")
                            }
                            s.persistence.appendfsync = p
                        }),
        ConfigDirective(name: "aof-use-rdb-preamble", get: { ConfigValue.yesNo($0.persistence.aofUseRdbPreamble) },
                        set: single { $0.persistence.aofUseRdbPreamble = try ConfigValue.bool($1) }),
        ConfigDirective(name: "aof-timestamp-enabled", get: { ConfigValue.yesNo($0.persistence.aofTimestampEnabled) },
                        set: single { $0.persistence.aofTimestampEnabled = try ConfigValue.bool($1) }),
        ConfigDirective(name: "aof-load-truncated", get: { ConfigValue.yesNo($0.persistence.aofLoadTruncated) },
                        set: single { $0.persistence.aofLoadTruncated = try ConfigValue.bool($1) }),
        ConfigDirective(name: "auto-aof-rewrite-percentage", get: { String($0.persistence.autoAofRewritePercentage) },
                        set: single { $0.persistence.autoAofRewritePercentage = try ConfigValue.int($1, 0...Int(Int32.max)) }),
        ConfigDirective(name: "auto-aof-rewrite-min-size", get: { String($0.persistence.autoAofRewriteMinSize) },
                        set: single { $0.persistence.autoAofRewriteMinSize = try ConfigValue.memory($1) }),
        ConfigDirective(name: "no-appendfsync-on-rewrite", get: { ConfigValue.yesNo($0.persistence.noAppendfsyncOnRewrite) },
                        set: single { $0.persistence.noAppendfsyncOnRewrite = try ConfigValue.bool($1) }),
    ]

    static func lookup(_ name: String) -> ConfigDirective? {
        let l = name.lowercased()
        return directives.first { $0.name == l || $0.aliases.contains(l) }
    }
}

public enum ConfigFile {
    /// Applies redis.conf-syntax `text` to `settings`. Errors name the line, as Redis does.
    public static func apply(_ text: String, to settings: inout ServerSettings) throws {
        settings.readingConfigFile = true
        defer { settings.readingConfigFile = false }
        try applyLines(text, to: &settings)
    }

    /// The text of the files an `include` names: one file, or every match of a glob pattern
    /// (none is fine). A file that can't be read is fatal, as in Redis's loadServerConfig.
    static func included(_ pattern: String) throws -> [String] {
        var paths = [pattern]
        if pattern.contains(where: { $0 == "*" || $0 == "?" || $0 == "[" }) {
            paths = []
            var g = glob_t()
            if glob(pattern, 0, nil, &g) == 0 {
                for i in 0..<Int(g.gl_pathc) {
                    if let p = g.gl_pathv[i] { paths.append(String(cString: p)) }
                }
            }
            globfree(&g)
        }
        return try paths.map { path in
            guard let f = fopen(path, "r") else {
                throw ConfigError("Fatal error, can't open config file '\(path)': \(String(cString: strerror(errno)))")
            }
            defer { fclose(f) }
            var bytes: [UInt8] = []
            var buf = [UInt8](repeating: 0, count: 65536)
            while true {
                let n = fread(&buf, 1, buf.count, f)
                if n <= 0 { break }
                bytes += buf[0..<n]
            }
            return String(decoding: bytes, as: UTF8.self)
        }
    }

    private static func applyLines(_ text: String, to settings: inout ServerSettings) throws {
        var lineNumber = 0
        for rawLine in text.split(separator: "\n", omittingEmptySubsequences: false) {
            lineNumber += 1
            let line = rawLine.trimmingCharacters(in: " \t\r")
            if line.isEmpty || line.hasPrefix("#") { continue }
            guard let words = ArgumentSplitter.split(Array(line.utf8)) else {
                throw fatal(lineNumber, line, "Unbalanced quotes in configuration line")
            }
            guard let first = words.first else { continue }
            let name = String(decoding: first, as: UTF8.self)
            let values = words.dropFirst().map { String(decoding: $0, as: UTF8.self) }
            // `include path`: the file's lines, read where the line stands (errors name the
            // included file's own line numbers, as Redis's do). Redis changes directory at each
            // `dir` line, so a relative path is taken from the `dir` read so far.
            if name.lowercased() == "include" && values.count == 1 {
                var path = values[0]
                if !path.hasPrefix("/") && settings.dir != "." { path = settings.dir + "/" + path }
                for included in try included(path) { try applyLines(included, to: &settings) }
                continue
            }
            // [security] `user` lines are ACL users, not a CONFIG parameter (Redis keeps them apart too).
            if name.lowercased() == "user" {
                guard !values.isEmpty else { throw fatal(lineNumber, line, "Bad directive or wrong number of arguments") }
                if let reason = ACLState.configLineError(values, existing: settings.aclUsers) {
                    throw fatal(lineNumber, line, reason)
                }
                settings.aclUsers.append(values)
                continue
            }
            guard let directive = ConfigTable.lookup(name) else {
                throw fatal(lineNumber, line, "Bad directive or wrong number of arguments")
            }
            do {
                try directive.set(&settings, values)
            } catch let e as ConfigError {
                throw fatal(lineNumber, line, e.message)
            }
        }
    }

    /// Turns `--name value ...` command-line arguments into config text (redis-server's rules:
    /// each `--name` starts a new line, following words are its arguments).
    public static func text(fromOverrides args: [String]) -> String {
        var lines: [String] = []
        for a in args {
            if a.hasPrefix("--") && a.count > 2 {
                lines.append(String(a.dropFirst(2)))
            } else if lines.isEmpty {
                lines.append(quote(a))
            } else {
                lines[lines.count - 1] += " " + quote(a)
            }
        }
        return lines.joined(separator: "\n")
    }

    static func quote(_ s: String) -> String {
        var out = "\""
        for ch in s.unicodeScalars {
            switch ch {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default: out.unicodeScalars.append(ch)
            }
        }
        return out + "\""
    }

    static func fatal(_ line: Int, _ text: String, _ reason: String) -> ConfigError {
        ConfigError("""

        *** FATAL CONFIG FILE ERROR (Cairn) ***
        Reading the configuration file, at line \(line)
        >>> '\(text)'
        \(reason)
        """)
    }
}

extension StringProtocol {
    func trimmingCharacters(in set: String) -> String {
        let chars = Set(set)
        var s = Substring(self)
        while let f = s.first, chars.contains(f) { s = s.dropFirst() }
        while let l = s.last, chars.contains(l) { s = s.dropLast() }
        return String(s)
    }
}
