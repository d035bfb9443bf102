import CairnCluster
/// What a PING, PONG or MEET tells about one other node (`clusterMsgDataGossip`, 104 bytes;
/// docs/format-cluster-bus.md, "Gossip entry"). The 2 reserved bytes at the end are written as
/// zeros and ignored on reading.
public struct GossipEntry: Hashable, Sendable {
    /// The node the entry is about.
    public var nodeName: NodeNameField
    /// When the sender last pinged the node, in Unix seconds (0 when no ping is pending).
    public var pingSent: UInt32
    /// When the sender last received a PONG from the node, in Unix seconds.
    public var pongReceived: UInt32
    /// The node's address as the sender knows it.
    public var ip: IPAddressField
    /// The node's client port.
    public var port: UInt16
    /// The node's cluster-bus port.
    public var busPort: UInt16
    /// The node's flags as the sender sees them (PFAIL and FAIL are failure reports).
    public var flags: NodeFlags
    /// The node's plaintext client port when `port` is TLS, else 0.
    public var plaintextPort: UInt16

    /// An entry with every field given.
    public init(nodeName: NodeNameField, pingSent: UInt32, pongReceived: UInt32, ip: IPAddressField, port: UInt16,
                busPort: UInt16, flags: NodeFlags, plaintextPort: UInt16 = 0) {
        self.nodeName = nodeName
        self.pingSent = pingSent
        self.pongReceived = pongReceived
        self.ip = ip
        self.port = port
        self.busPort = busPort
        self.flags = flags
        self.plaintextPort = plaintextPort
    }
}
