import CairnRESP
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// The rest of Redis 7.0's parameters (config.c's static_configs), so that every name CONFIG GET *
// lists on redis-server 7.0 is known to Cairn with the same type, default, value syntax, range
// checks, error texts and mutability. Most name a feature Cairn does not have (active defrag,
// io-threads, TLS, streams, HyperLogLog, scripting, client tracking, keyspace notifications ...):
// those are accepted, stored, listed and rewritten, with no effect (README, "Configuration
// directives"). `replica-ignore-maxmemory` (Evictor) and `repl-disable-tcp-nodelay` (a
// replica's full sync) have their effect.
//
// Values are kept as the canonical text CONFIG GET answers (what Redis's getters print), keyed
// by the directive's name; `ParitySettings` reads the few that have an effect.

/// Settings of the directives in ParityConfig.swift.
public struct ParitySettings: Sendable {
    /// Name -> value as CONFIG GET prints it; a name absent holds its default.
    var values: [String: String] = [:]

    public init() {}

    public func value(_ name: String) -> String { values[name] ?? ParityConfig.defaults[name] ?? "" }

    /// `replica-ignore-maxmemory` (alias `slave-ignore-maxmemory`): a replica does not evict.
    public var replicaIgnoreMaxmemory: Bool { value("replica-ignore-maxmemory") == "yes" }
    /// `repl-disable-tcp-nodelay`: TCP_NODELAY off on a replica's connection once it syncs in full.
    public var replDisableTCPNoDelay: Bool { value("repl-disable-tcp-nodelay") == "yes" }
}

enum ParityConfig {
    typealias Parse = @Sendable ([String]) throws -> String

    /// Every directive of the table with its default's text.
    static let defaults: [String: String] = Dictionary(uniqueKeysWithValues: specs.map { ($0.name, $0.defaultValue) })

    static let directives: [ConfigDirective] = specs.map { spec in
        let name = spec.name, def = spec.defaultValue, parse = spec.parse, display = spec.display
        return ConfigDirective(name: name, aliases: spec.aliases, mutable: spec.mutable, isString: spec.isString,
                               get: { s in display.map { $0(s.parity.values[name] ?? def) } ?? s.parity.values[name] ?? def },
                               set: { s, args in s.parity.values[name] = try parse(args) })
    }

    struct Spec: Sendable {
        var name: String
        var aliases: [String] = []
        var mutable = true
        var isString = false
        var defaultValue: String
        var parse: Parse
        /// How CONFIG GET prints the stored value, when it is not the stored text itself.
        var display: (@Sendable (String) -> String)? = nil
    }

    // MARK: value kinds (config.c's bool, numeric, enum, string and special configs)

    private static func one(_ f: @escaping @Sendable (String) throws -> String) -> Parse {
        { args in
            guard args.count == 1 else { throw ConfigError("wrong number of arguments") }
            return try f(args[0])
        }
    }

    private static func bool(_ name: String, aliases: [String] = [], mutable: Bool = true, _ def: Bool,
                             refuseYes: String? = nil) -> Spec {
        Spec(name: name, aliases: aliases, mutable: mutable, defaultValue: ConfigValue.yesNo(def), parse: one { v in
            let b = try ConfigValue.bool(v)
            if b, let refuseYes { throw ConfigError(refuseYes) }
            return ConfigValue.yesNo(b)
        })
    }

    /// An integer config (INTEGER_CONFIG): string2ll, then the bounds.
    private static func int(_ name: String, aliases: [String] = [], mutable: Bool = true, _ range: ClosedRange<Int>, _ def: Int) -> Spec {
        Spec(name: name, aliases: aliases, mutable: mutable, defaultValue: String(def), parse: one { v in
            String(try ConfigValue.int(v, range))
        })
    }

    /// A MEMORY_CONFIG: memtoull (units), then the bounds.
    private static func memory(_ name: String, _ range: ClosedRange<Int>, _ def: Int) -> Spec {
        Spec(name: name, defaultValue: String(def), parse: one { v in
            String(try ConfigValue.memory(v, min: range.lowerBound, max: range.upperBound))
        })
    }

    /// An enum config: case-insensitive; CONFIG GET prints the first name of the value chosen.
    private static func enumeration(_ name: String, mutable: Bool = true, _ names: [(String, Int)], _ def: String) -> Spec {
        let list = names.map(\.0).joined(separator: ", ")
        return Spec(name: name, mutable: mutable, defaultValue: def, parse: one { v in
            guard let chosen = names.first(where: { $0.0 == v.lowercased() }) else {
                throw ConfigError("argument(s) must be one of the following: \(list)")
            }
            return names.first { $0.1 == chosen.1 }!.0
        })
    }

    private static func string(_ name: String, mutable: Bool = true, _ def: String = "") -> Spec {
        Spec(name: name, mutable: mutable, isString: true, defaultValue: def, parse: one { $0 })
    }

    /// A MULTI_ARG_CONFIG's words: CONFIG SET's single argument is split at each space (Redis's
    /// sdssplitlen: an empty value is no words, two spaces make an empty word); a config file
    /// line gives them apart.
    static func words(_ args: [String]) -> [String] {
        guard args.count == 1 else { return args }
        if args[0].isEmpty { return [] }
        return args[0].split(separator: " ", omittingEmptySubsequences: false).map(String.init)
    }

    // MARK: special configs

    /// `maxmemory-clients`: bytes (memtoull) or a percentage of maxmemory (`N%`, N <= 100).
    static func maxmemoryClients(_ v: String) throws -> String {
        if let bytes = try? ConfigValue.memory(v) { return String(bytes) }
        if v.utf8.count > 1, v.hasSuffix("%"), let n = Decimal.parseInt64(Array(v.utf8.dropLast())), n >= 0 {
            guard n <= 100 else { throw ConfigError("percentage argument must be less or equal to 100") }
            return n == 0 ? "0" : "\(n)%"
        }
        throw ConfigError("argument must be a memory or percent value")
    }

    /// Redis's keyspaceEventsStringToFlags: the value is stored as every class letter it sets
    /// ("A" expanded), so that a class Redis's printed form drops ("n" next to "A") still
    /// counts; CONFIG GET prints `keyspaceEventsText` of it, as Redis prints its flags.
    static func keyspaceEvents(_ v: String) throws -> String {
        _ = try keyspaceEventsText(v)  // refuses what Redis refuses
        var letters = ""
        for c in "g$lshzxetdnKEm" where v.contains(c) || (v.contains("A") && "g$lshzxetd".contains(c)) { letters.append(c) }
        return letters
    }

    /// Redis's keyspaceEventsStringToFlags then keyspaceEventsFlagsToString (notify.c).
    static func keyspaceEventsText(_ v: String) throws -> String {
        let bits: [Character: Int] = ["K": 1 << 0, "E": 1 << 1, "g": 1 << 2, "$": 1 << 3, "l": 1 << 4, "s": 1 << 5,
                                      "h": 1 << 6, "z": 1 << 7, "x": 1 << 8, "e": 1 << 9, "t": 1 << 10, "m": 1 << 11,
                                      "d": 1 << 13, "n": 1 << 14]
        let all = (1 << 2) | (1 << 3) | (1 << 4) | (1 << 5) | (1 << 6) | (1 << 7) | (1 << 8) | (1 << 9) | (1 << 10) | (1 << 13)
        var flags = 0
        for c in v {
            if c == "A" { flags |= all; continue }
            guard let b = bits[c] else { throw ConfigError("Invalid event class character. Use 'Ag$lshzxeKEtmdn'.") }
            flags |= b
        }
        var out = ""
        if flags & all == all {
            out = "A"
        } else {
            for c in "g$lshzxetdn" where flags & bits[c]! != 0 { out.append(c) }
        }
        for c in "KEm" where flags & bits[c]! != 0 { out.append(c) }
        return out
    }

    /// `latency-tracking-info-percentiles`: doubles in [0, 100], printed as "%f" without trailing zeros.
    static func percentiles(_ args: [String]) throws -> String {
        var out: [String] = []
        for w in words(args) {
            guard let d = strictDouble(w) else { throw ConfigError("Invalid latency-tracking-info-percentiles parameters") }
            guard d >= 0 && d <= 100 else {
                throw ConfigError("latency-tracking-info-percentiles parameters should sit between [0.0,100.0]")
            }
            out.append(formatPercentile(d))
        }
        return out.joined(separator: " ")
    }

    /// Redis's string2d: strtod over the whole text, no leading space, no NaN, no overflow.
    static func strictDouble(_ s: String) -> Double? {
        guard let first = s.utf8.first, isspace(Int32(first)) == 0 else { return nil }
        return s.withCString { start -> Double? in
            var end: UnsafeMutablePointer<CChar>? = nil
            errno = 0
            let d = strtod(start, &end)
            let failed = errno == ERANGE
            guard let end, UnsafePointer(end) - start == s.utf8.count, !d.isNaN else { return nil }
            if failed && (d.isInfinite || d == 0) { return nil }
            return d
        }
    }

    static func formatPercentile(_ d: Double) -> String {
        var text = cFormat("%f", d)
        if text.contains(".") {
            while text.hasSuffix("0") { text.removeLast() }
            if text.hasSuffix(".") { text.removeLast() }
        }
        return text
    }

    private static func cFormat(_ format: String, _ d: Double) -> String {
        var buffer = [CChar](repeating: 0, count: 512)
        _ = withVaList([d]) { vsnprintf(&buffer, buffer.count, format, $0) }
        let length = buffer.firstIndex(of: 0) ?? buffer.count
        return String(decoding: buffer[..<length].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// `oom-score-adj-values`: three integers in -2000...2000 (strtoll over the whole word).
    static func oomScoreAdjValues(_ args: [String]) throws -> String {
        let w = words(args)
        guard w.count == 3 else { throw ConfigError("wrong number of arguments") }
        var values: [Int] = []
        for word in w {
            let parsed: Int? = word.withCString { start in
                var end: UnsafeMutablePointer<CChar>? = nil
                let v = strtoll(start, &end, 10)
                return end?.pointee == 0 ? Int(v) : nil
            }
            guard let v = parsed, (-2000...2000).contains(v) else {
                throw ConfigError("Invalid oom-score-adj-values, elements must be between -2000 and 2000.")
            }
            values.append(v)
        }
        return values.map(String.init).joined(separator: " ")
    }

    // MARK: the table

    static let intMax = Int(Int32.max), intMin = Int(Int32.min), longMax = Int(Int64.max), uintMax = Int(UInt32.max)
    static let defragUnavailable = "Active defragmentation cannot be enabled: it requires a Redis server compiled with a modified Jemalloc like the one shipped by default with the Redis source distribution"

    static let specs: [Spec] = [
        // Bool configs.
        bool("io-threads-do-reads", mutable: false, false),
        bool("rdb-del-sync-files", false),
        bool("activerehashing", true),
        bool("dynamic-hz", true),
        bool("lazyfree-lazy-eviction", false),
        bool("lazyfree-lazy-expire", false),
        bool("lazyfree-lazy-server-del", false),
        bool("lazyfree-lazy-user-del", false),
        bool("lazyfree-lazy-user-flush", false),
        bool("repl-disable-tcp-nodelay", false),
        bool("aof-rewrite-incremental-fsync", true),
        bool("rdb-save-incremental-fsync", true),
        bool("replica-lazy-flush", aliases: ["slave-lazy-flush"], false),
        bool("replica-ignore-maxmemory", aliases: ["slave-ignore-maxmemory"], true),
        bool("jemalloc-bg-thread", true),
        // Cairn has no defragmenter: refused as by a Redis built without the defrag-capable Jemalloc.
        bool("activedefrag", false, refuseYes: defragUnavailable),
        bool("disable-thp", mutable: false, true),
        bool("latency-tracking", true),
        bool("aof-disable-auto-gc", false),
        bool("replica-ignore-disk-write-errors", false),
        // String configs.
        string("server_cpulist", mutable: false),
        string("bio_cpulist", mutable: false),
        string("aof_rewrite_cpulist", mutable: false),
        string("bgsave_cpulist", mutable: false),
        string("ignore-warnings"),
        string("bind-source-addr"),
        // Enum configs.
        enumeration("oom-score-adj", [("no", 0), ("yes", 1), ("relative", 1), ("absolute", 2)], "no"),
        enumeration("acl-pubsub-default", [("allchannels", 1), ("resetchannels", 0)], "resetchannels"),
        enumeration("sanitize-dump-payload", [("no", 0), ("yes", 1), ("clients", 2)], "no"),
        enumeration("enable-module-command", mutable: false, [("no", 0), ("yes", 1), ("local", 2)], "no"),
        enumeration("propagation-error-behavior", [("ignore", 0), ("panic", 1), ("panic-on-replicas", 2)], "ignore"),
        // Integer configs.
        int("io-threads", mutable: false, 1...128, 1),
        int("list-max-listpack-size", aliases: ["list-max-ziplist-size"], intMin...intMax, -2),
        int("active-defrag-cycle-min", 1...99, 1),
        int("active-defrag-cycle-max", 1...99, 25),
        int("active-defrag-threshold-lower", 0...1000, 10),
        int("active-defrag-threshold-upper", 0...1000, 100),
        int("list-compress-depth", 0...intMax, 0),
        int("socket-mark-id", mutable: false, 0...uintMax, 0),
        int("active-defrag-max-scan-fields", 1...longMax, 1000),
        int("busy-reply-threshold", aliases: ["lua-time-limit"], 0...longMax, 5000),
        int("stream-node-max-entries", 0...longMax, 100),
        int("tracking-table-max-keys", 0...longMax, 1_000_000),
        memory("active-defrag-ignore-bytes", 1...longMax, 100 << 20),
        memory("stream-node-max-bytes", 0...longMax, 4096),
        memory("hll-sparse-max-bytes", 0...longMax, 3000),
        Spec(name: "maxmemory-clients", defaultValue: "0", parse: one(maxmemoryClients)),
        // TLS (Redis built with OpenSSL): all modifiable in 7.0.
        int("tls-port", 0...65535, 0),
        int("tls-session-cache-size", 0...intMax, 20 * 1024),
        int("tls-session-cache-timeout", 0...intMax, 300),
        bool("tls-cluster", false),
        bool("tls-replication", false),
        enumeration("tls-auth-clients", [("no", 0), ("yes", 1), ("optional", 2)], "yes"),
        bool("tls-prefer-server-ciphers", false),
        bool("tls-session-caching", true),
        string("tls-cert-file"),
        string("tls-key-file"),
        string("tls-key-file-pass"),
        string("tls-client-cert-file"),
        string("tls-client-key-file"),
        string("tls-client-key-file-pass"),
        string("tls-dh-params-file"),
        string("tls-ca-cert-file"),
        string("tls-ca-cert-dir"),
        string("tls-protocols"),
        string("tls-ciphers"),
        string("tls-ciphersuites"),
        // Special configs (written quoted by CONFIG REWRITE, as Redis does).
        Spec(name: "oom-score-adj-values", isString: true, defaultValue: "0 200 800", parse: oomScoreAdjValues),
        Spec(name: "notify-keyspace-events", isString: true, defaultValue: "", parse: one(keyspaceEvents),
             display: { (try? keyspaceEventsText($0)) ?? $0 }),
        Spec(name: "latency-tracking-info-percentiles", isString: true, defaultValue: "50 99 99.9", parse: percentiles),
    ]
}
