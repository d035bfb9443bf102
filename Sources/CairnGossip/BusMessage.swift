import CairnCluster
// The messages of Redis 7.0's cluster bus (docs/format-cluster-bus.md). Type numbers are fixed
// by the wire: never renumber one.

/// The message types of Redis 7.0 (`CLUSTERMSG_TYPE_*`).
public enum BusMessageType: UInt16, Hashable, Sendable, CaseIterable {
    /// PING: heartbeat with gossip.
    case ping = 0
    /// PONG: the answer to PING and MEET, or a configuration broadcast.
    case pong = 1
    /// MEET: a PING that makes the receiver add the sender.
    case meet = 2
    /// FAIL: a node has failed.
    case fail = 3
    /// PUBLISH: a Pub/Sub message for every node.
    case publish = 4
    /// FAILOVER_AUTH_REQUEST: a replica asks for votes.
    case failoverAuthRequest = 5
    /// FAILOVER_AUTH_ACK: a master's vote.
    case failoverAuthAck = 6
    /// UPDATE: a node's newer slot configuration.
    case update = 7
    /// MFSTART: a replica starts a manual failover with its master.
    case mfstart = 8
    /// MODULE: a module's message.
    case module = 9
    /// PUBLISHSHARD: a sharded Pub/Sub message for the nodes of a slot.
    case publishShard = 10
}

/// One bus message: the fixed header and the data of its type.
public struct BusMessage: Hashable, Sendable {
    /// The sender's state.
    public var header: BusHeader
    /// The type and its data.
    public var body: BusMessageBody

    /// A message from its parts.
    public init(header: BusHeader, body: BusMessageBody) {
        self.header = header
        self.body = body
    }

    /// The message's type.
    public var type: BusMessageType { body.type }
}

/// What follows the header, by type.
public enum BusMessageBody: Hashable, Sendable {
    /// A heartbeat with gossip; answered with a PONG.
    case ping(PingData)
    /// The answer to PING or MEET, or a broadcast of a configuration change.
    case pong(PingData)
    /// A PING that makes the receiver add the sender to its node table.
    case meet(PingData)
    /// The named node has failed (a majority of masters agreed).
    case fail(node: NodeNameField)
    /// PUBLISH propagated to every node.
    case publish(PublishData)
    /// SPUBLISH propagated to the nodes serving the channel's slot.
    case publishShard(PublishData)
    /// A replica asks the masters for their vote.
    case failoverAuthRequest
    /// A master gives the requesting replica its vote.
    case failoverAuthAck
    /// A node's newer slot configuration, sent to a node that claims those slots with an older one.
    case update(UpdateData)
    /// A replica asks its master to pause clients for a manual failover.
    case mfstart
    /// A module's message, kept raw (Cairn has no modules).
    case module(ModuleData)

    /// The wire type of this body.
    public var type: BusMessageType {
        switch self {
        case .ping: .ping
        case .pong: .pong
        case .meet: .meet
        case .fail: .fail
        case .publish: .publish
        case .publishShard: .publishShard
        case .failoverAuthRequest: .failoverAuthRequest
        case .failoverAuthAck: .failoverAuthAck
        case .update: .update
        case .mfstart: .mfstart
        case .module: .module
        }
    }
}

/// The data of a PING, PONG or MEET.
public struct PingData: Hashable, Sendable {
    /// Entries about other nodes (at most 65535: the header's count is 16 bits).
    public var gossip: [GossipEntry]
    /// Extensions in the order they came (at most 65535).
    public var extensions: [PingExtension]

    /// Data with the given entries and extensions, in that order on the wire.
    public init(gossip: [GossipEntry] = [], extensions: [PingExtension] = []) {
        self.gossip = gossip
        self.extensions = extensions
    }
}

/// The data of a PUBLISH or PUBLISHSHARD.
public struct PublishData: Hashable, Sendable {
    /// The channel name.
    public var channel: [UInt8]
    /// The published message.
    public var message: [UInt8]

    /// Data for `channel` and `message`.
    public init(channel: [UInt8], message: [UInt8]) {
        self.channel = channel
        self.message = message
    }
}

/// The data of an UPDATE: a node's config epoch and slots.
public struct UpdateData: Hashable, Sendable {
    /// The config epoch of `node`.
    public var configEpoch: UInt64
    /// The node that owns `slots`.
    public var node: NodeNameField
    /// The slots `node` owns at `configEpoch`.
    public var slots: SlotBitmap

    /// An UPDATE's data from its parts.
    public init(configEpoch: UInt64, node: NodeNameField, slots: SlotBitmap) {
        self.configEpoch = configEpoch
        self.node = node
        self.slots = slots
    }
}

/// The data of a MODULE message. Redis copies the module id in host order, so it is opaque:
/// read and written as 8 big-endian bytes, equal only to itself.
public struct ModuleData: Hashable, Sendable {
    /// The sending module's id (opaque).
    public var moduleID: UInt64
    /// The module's own message type.
    public var type: UInt8
    /// The module's bytes.
    public var payload: [UInt8]

    /// A MODULE message's data from its parts.
    public init(moduleID: UInt64, type: UInt8, payload: [UInt8]) {
        self.moduleID = moduleID
        self.type = type
        self.payload = payload
    }
}
