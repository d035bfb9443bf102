import CairnCluster
/// The fixed header every bus message starts with (docs/format-cluster-bus.md, "Header"): who
/// sends, its epochs, slots, address and flags. The fields the wire derives from the message
/// itself — signature, total length, version, type, gossip count, extension count — are not
/// stored here: the encoder computes them and the decoder checks them. The reserved bytes are
/// written as zeros and ignored on reading.
public struct BusHeader: Hashable, Sendable {
    /// The sender's client port (TLS or plain, whichever is the main one).
    public var port: UInt16
    /// The highest epoch the sender knows of.
    public var currentEpoch: UInt64
    /// The sender's config epoch if it is a master, otherwise its master's.
    public var configEpoch: UInt64
    /// The master's replication offset, or a replica's processed offset.
    public var replicationOffset: UInt64
    /// The sender's node name.
    public var sender: NodeNameField
    /// The slots the sender serves; a replica sends its master's.
    public var slots: SlotBitmap
    /// The sender's master, or `.none` (all zeros) for a master.
    public var replicaOf: NodeNameField
    /// `cluster-announce-ip` when set; empty means "use the address the link comes from".
    public var ip: IPAddressField
    /// The sender's plaintext client port when `port` is the TLS one, else 0.
    public var plaintextPort: UInt16
    /// The sender's cluster-bus port.
    public var busPort: UInt16
    /// The sender's own flags.
    public var flags: NodeFlags
    /// The cluster's state as the sender sees it.
    public var state: BusClusterState
    /// The first `mflags` byte. The encoder adds `.extensionData` itself when a PING, PONG or
    /// MEET carries extensions.
    public var messageFlags: MessageFlags

    /// A header with every field given or left at the value Redis sends for a fresh master.
    public init(sender: NodeNameField, port: UInt16, busPort: UInt16, currentEpoch: UInt64 = 0, configEpoch: UInt64 = 0,
                replicationOffset: UInt64 = 0, slots: SlotBitmap = SlotBitmap(), replicaOf: NodeNameField = .none,
                ip: IPAddressField = .empty, plaintextPort: UInt16 = 0, flags: NodeFlags = [.master, .myself],
                state: BusClusterState = .fail, messageFlags: MessageFlags = []) {
        self.port = port
        self.currentEpoch = currentEpoch
        self.configEpoch = configEpoch
        self.replicationOffset = replicationOffset
        self.sender = sender
        self.slots = slots
        self.replicaOf = replicaOf
        self.ip = ip
        self.plaintextPort = plaintextPort
        self.busPort = busPort
        self.flags = flags
        self.state = state
        self.messageFlags = messageFlags
    }
}
