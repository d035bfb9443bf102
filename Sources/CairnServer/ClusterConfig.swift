// The cluster directives of Redis 7.0 (config.c), with its defaults, ranges and mutability. The
// cluster itself reads them from ServerSettings.cluster; `cluster-enabled`, `cluster-config-file`
// and `cluster-port` are fixed at start, as in Redis.

/// Settings of cluster mode (docs/cluster.md).
public struct ClusterSettings: Sendable {
    public var enabled = false
    /// nodes.conf, relative to `dir`.
    public var configFile = "nodes.conf"
    public var nodeTimeoutMillis: Int64 = 15000
    /// The bus port; 0 = the client port + 10000.
    public var port = 0
    public var announceIP: String? = nil
    public var announcePort = 0
    public var announceBusPort = 0
    public var announceTLSPort = 0
    public var announceHostname: String? = nil
    public var requireFullCoverage = true
    public var allowReadsWhenDown = false
    public var allowPubsubshardWhenDown = true
    /// ip, hostname or unknown-endpoint: what MOVED/ASK and CLUSTER SLOTS name a node by.
    public var preferredEndpointType = "ip"
    public var replicaValidityFactor = 10
    public var migrationBarrier = 1
    public var allowReplicaMigration = true
    public var replicaNoFailover = false
    public var linkSendbufLimitBytes = 0

    public init() {}

    /// The bus port this node listens on.
    public func busPort(clientPort: Int) -> Int { port != 0 ? port : clientPort + Self.busPortOffset }

    /// Redis's CLUSTER_PORT_INCR.
    public static let busPortOffset = 10000
    /// Redis's NET_HOST_STR_LEN: a hostname is shorter.
    static let hostnameBytesMax = 255
}

enum ClusterConfig {
    private static func single(_ f: @escaping @Sendable (inout ServerSettings, String) throws -> Void) -> @Sendable (inout ServerSettings, [String]) throws -> Void {
        ConfigTable.single(f)
    }

    /// `cluster-announce-hostname`: Redis's isValidAnnouncedHostname.
    static func hostname(_ s: String) throws -> String? {
        if s.isEmpty { return nil }
        guard s.utf8.count <= ClusterSettings.hostnameBytesMax else {
            throw ConfigError("Hostnames must be less than 256 characters")
        }
        guard s.utf8.allSatisfy({ c in
            (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A) || (c >= 0x30 && c <= 0x39) || c == 0x2D || c == 0x2E
        }) else { throw ConfigError("Hostnames may only contain alphanumeric characters, hyphens or dots") }
        return s
    }

    static let directives: [ConfigDirective] = [
        ConfigDirective(name: "cluster-enabled", mutable: false, get: { ConfigValue.yesNo($0.cluster.enabled) },
                        set: single { $0.cluster.enabled = try ConfigValue.bool($1) }),
        ConfigDirective(name: "cluster-config-file", mutable: false, isString: true, get: { $0.cluster.configFile },
                        set: single { $0.cluster.configFile = $1 }),
        ConfigDirective(name: "cluster-node-timeout", get: { String($0.cluster.nodeTimeoutMillis) },
                        set: single { $0.cluster.nodeTimeoutMillis = Int64(try ConfigValue.int($1, 0...Int(Int64.max))) }),
        ConfigDirective(name: "cluster-port", mutable: false, get: { String($0.cluster.port) },
                        set: single { $0.cluster.port = try ConfigValue.int($1, 0...65535) }),
        ConfigDirective(name: "cluster-announce-ip", isString: true, get: { $0.cluster.announceIP ?? "" },
                        set: single { $0.cluster.announceIP = $1.isEmpty ? nil : $1 }),
        ConfigDirective(name: "cluster-announce-port", get: { String($0.cluster.announcePort) },
                        set: single { $0.cluster.announcePort = try ConfigValue.int($1, 0...65535) }),
        ConfigDirective(name: "cluster-announce-bus-port", get: { String($0.cluster.announceBusPort) },
                        set: single { $0.cluster.announceBusPort = try ConfigValue.int($1, 0...65535) }),
        ConfigDirective(name: "cluster-announce-tls-port", get: { String($0.cluster.announceTLSPort) },
                        set: single { $0.cluster.announceTLSPort = try ConfigValue.int($1, 0...65535) }),
        ConfigDirective(name: "cluster-announce-hostname", isString: true, get: { $0.cluster.announceHostname ?? "" },
                        set: single { $0.cluster.announceHostname = try hostname($1) }),
        ConfigDirective(name: "cluster-require-full-coverage", get: { ConfigValue.yesNo($0.cluster.requireFullCoverage) },
                        set: single { $0.cluster.requireFullCoverage = try ConfigValue.bool($1) }),
        ConfigDirective(name: "cluster-allow-reads-when-down", get: { ConfigValue.yesNo($0.cluster.allowReadsWhenDown) },
                        set: single { $0.cluster.allowReadsWhenDown = try ConfigValue.bool($1) }),
        ConfigDirective(name: "cluster-allow-pubsubshard-when-down", get: { ConfigValue.yesNo($0.cluster.allowPubsubshardWhenDown) },
                        set: single { $0.cluster.allowPubsubshardWhenDown = try ConfigValue.bool($1) }),
        ConfigDirective(name: "cluster-preferred-endpoint-type", get: { $0.cluster.preferredEndpointType },
                        set: single { $0.cluster.preferredEndpointType = try ConfigValue.oneOf($1, ["ip", "hostname", "unknown-endpoint"]) }),
        ConfigDirective(name: "cluster-replica-validity-factor", aliases: ["cluster-slave-validity-factor"],
                        get: { String($0.cluster.replicaValidityFactor) },
                        set: single { $0.cluster.replicaValidityFactor = try ConfigValue.int($1, 0...Int(Int32.max)) }),
        ConfigDirective(name: "cluster-migration-barrier", get: { String($0.cluster.migrationBarrier) },
                        set: single { $0.cluster.migrationBarrier = try ConfigValue.int($1, 0...Int(Int32.max)) }),
        ConfigDirective(name: "cluster-allow-replica-migration", get: { ConfigValue.yesNo($0.cluster.allowReplicaMigration) },
                        set: single { $0.cluster.allowReplicaMigration = try ConfigValue.bool($1) }),
        ConfigDirective(name: "cluster-replica-no-failover", aliases: ["cluster-slave-no-failover"],
                        get: { ConfigValue.yesNo($0.cluster.replicaNoFailover) },
                        set: single { $0.cluster.replicaNoFailover = try ConfigValue.bool($1) }),
        ConfigDirective(name: "cluster-link-sendbuf-limit", get: { String($0.cluster.linkSendbufLimitBytes) },
                        set: single { $0.cluster.linkSendbufLimitBytes = try ConfigValue.memory($1) }),
    ]
}
