// The per-type message counters CLUSTER INFO prints (cluster_stats_messages_<type>_sent and
// _received, Redis's stats_bus_messages_sent/received).

/// How many messages of each type a bus sent and received since it started.
public struct BusMessageCounts: Hashable, Sendable {
    private var counts: [Int]

    /// All zeros.
    public init() { counts = Array(repeating: 0, count: BusMessageType.allCases.count) }

    /// The count for `type`.
    public subscript(type: BusMessageType) -> Int {
        get { counts[Int(type.rawValue)] }
        set { counts[Int(type.rawValue)] = newValue }
    }

    /// The sum over all types (CLUSTER INFO's `cluster_stats_messages_sent` / `_received`).
    public var total: Int { counts.reduce(0, +) }

    /// The types with a non-zero count, in type order, with their counts: the lines CLUSTER INFO
    /// prints (Redis skips the zeros).
    public var nonZero: [(type: BusMessageType, count: Int)] {
        BusMessageType.allCases.compactMap { counts[Int($0.rawValue)] > 0 ? ($0, counts[Int($0.rawValue)]) : nil }
    }
}

extension BusMessageType {
    /// The name CLUSTER INFO uses in `cluster_stats_messages_<name>_sent` (Redis's
    /// clusterGetMessageTypeString).
    public var statsName: String {
        switch self {
        case .ping: "ping"
        case .pong: "pong"
        case .meet: "meet"
        case .fail: "fail"
        case .publish: "publish"
        case .publishShard: "publishshard"
        case .failoverAuthRequest: "auth-req"
        case .failoverAuthAck: "auth-ack"
        case .update: "update"
        case .mfstart: "mfstart"
        case .module: "module"
        }
    }
}
