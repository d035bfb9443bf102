// One node of the cluster as this node knows it (Redis's clusterNode, minus the links).

/// A node's flags, with Redis's bit values (the cluster bus carries them as a 16-bit field).
public struct NodeFlags: OptionSet, Hashable, Sendable {
    public let rawValue: UInt16
    public init(rawValue: UInt16) { self.rawValue = rawValue }

    /// A master (printed `master`).
    public static let master = NodeFlags(rawValue: 1)
    /// A replica (printed `slave`).
    public static let replica = NodeFlags(rawValue: 2)
    /// Possibly failing: this node's own timeout expired (printed `fail?`).
    public static let pfail = NodeFlags(rawValue: 4)
    /// Failing, agreed by a majority of masters (printed `fail`).
    public static let fail = NodeFlags(rawValue: 8)
    /// This node itself (printed `myself`).
    public static let myself = NodeFlags(rawValue: 16)
    /// Met but not yet answered the first ping; the name is temporary (printed `handshake`).
    public static let handshake = NodeFlags(rawValue: 32)
    /// The address is not known (printed `noaddr`).
    public static let noaddr = NodeFlags(rawValue: 64)
    /// A MEET is to be sent to this node (never printed).
    public static let meet = NodeFlags(rawValue: 128)
    /// A master that may receive a migrated replica (never printed).
    public static let migrateTo = NodeFlags(rawValue: 256)
    /// A replica that will not fail over (printed `nofailover`).
    public static let noFailover = NodeFlags(rawValue: 512)

    /// The printed flags in the order Redis prints them, with their names.
    public static let printed: [(flag: NodeFlags, name: String)] = [
        (.myself, "myself"), (.master, "master"), (.replica, "slave"), (.pfail, "fail?"),
        (.fail, "fail"), (.handshake, "handshake"), (.noaddr, "noaddr"), (.noFailover, "nofailover"),
    ]

    /// The flags as CLUSTER NODES prints them: comma-separated, `noflags` when none is printed.
    public var text: String {
        let names = NodeFlags.printed.filter { contains($0.flag) }.map(\.name)
        return names.isEmpty ? "noflags" : names.joined(separator: ",")
    }
}

/// A node of the cluster: its address, role, epochs, timing and slots.
public struct ClusterNode: Hashable, Sendable {
    /// The longest IP address text Redis keeps (its buffer holds 46 bytes with the NUL).
    public static let ipBytesMax = 45

    /// The node's name.
    public let name: NodeName
    /// The IP address clients and nodes use (empty when unknown).
    public var ip: String
    /// The client port.
    public var port: Int
    /// The cluster bus port.
    public var busPort: Int
    /// The announced hostname, empty when none.
    public var hostname: String
    /// Role and state flags.
    public var flags: NodeFlags
    /// The master's name when this node is a replica.
    public var replicaOf: NodeName?
    /// When the last ping to this node was sent (Unix ms), 0 when none is outstanding.
    public var pingSentMs: Int64
    /// When the last pong from this node arrived (Unix ms).
    public var pongReceivedMs: Int64
    /// When the node was flagged `fail` (Unix ms), 0 when it is not.
    public var failTimeMs: Int64
    /// The node's configuration epoch (a replica's printed epoch is its master's).
    public var configEpoch: UInt64
    /// Whether a bus link to the node is up (always printed `connected` for myself).
    public var linkConnected: Bool
    /// The slots the node serves; changed through `ClusterState` so the owner table agrees.
    public internal(set) var slots: SlotBitmap

    /// A node with nothing known but its name: no address, no flags, no slots (what Redis
    /// creates when a name is first seen in a reference).
    public init(name: NodeName, ip: String = "", port: Int = 0, busPort: Int = 0, hostname: String = "",
                flags: NodeFlags = [], replicaOf: NodeName? = nil, configEpoch: UInt64 = 0) {
        self.name = name
        self.ip = ip
        self.port = port
        self.busPort = busPort
        self.hostname = hostname
        self.flags = flags
        self.replicaOf = replicaOf
        self.pingSentMs = 0
        self.pongReceivedMs = 0
        self.failTimeMs = 0
        self.configEpoch = configEpoch
        self.linkConnected = false
        self.slots = SlotBitmap()
    }

    /// Whether the node is a master.
    public var isMaster: Bool { flags.contains(.master) }
    /// Whether the node is a replica.
    public var isReplica: Bool { flags.contains(.replica) }
}
