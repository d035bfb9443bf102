import CairnCluster
// Flag bytes and the state byte of the cluster bus (cluster.h in Redis 7.0). The numbers are
// fixed by the wire: never renumber one.

// Node flags are CairnCluster's NodeFlags: the same bits (CLUSTER_NODE_*) the header's `flags`
// and each gossip entry carry.

/// The first byte of the header's `mflags` (`CLUSTERMSG_FLAG0_*`).
public struct MessageFlags: OptionSet, Hashable, Sendable {
    /// The flags as the wire's byte.
    public let rawValue: UInt8
    /// Flags from the wire's byte; unknown bits are kept.
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    /// The sending master has paused its clients for a manual failover.
    public static let paused = MessageFlags(rawValue: 1 << 0)
    /// A FAILOVER_AUTH_REQUEST asking for a vote even though the master is up (manual failover).
    public static let forceAck = MessageFlags(rawValue: 1 << 1)
    /// A PING, PONG or MEET carries ping extensions after its gossip entries.
    public static let extensionData = MessageFlags(rawValue: 1 << 2)
}

/// The header's `state` byte: the cluster's state as the sender sees it. Values other than the
/// two Redis defines are kept as they came.
public struct BusClusterState: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    /// The state byte.
    public let rawValue: UInt8
    /// A state from its byte, known or not.
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    /// `cluster_state:ok`.
    public static let ok = BusClusterState(rawValue: 0)
    /// `cluster_state:fail`.
    public static let fail = BusClusterState(rawValue: 1)

    /// "ok", "fail", or the number.
    public var description: String {
        switch self {
        case .ok: "ok"
        case .fail: "fail"
        default: "state(\(rawValue))"
        }
    }
}
