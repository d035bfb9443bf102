// Sizes and offsets of Redis 7.0's cluster bus, protocol version 1. The byte-by-byte description
// is docs/format-cluster-bus.md; every number here is fixed by the wire and must never change,
// or Cairn stops talking to real Redis nodes.

/// Sizes, offsets and limits of the cluster-bus wire format (docs/format-cluster-bus.md).
public enum BusFormat {
    /// The four bytes every message starts with: "RCmb".
    public static let signature: [UInt8] = Array("RCmb".utf8)
    /// The only protocol version Redis 7.0 speaks and accepts.
    public static let protocolVersion: UInt16 = 1

    /// The fixed header that starts every message; the type's data follows at this offset.
    public static let headerBytes = 2256
    /// The prefix a reader needs to know the message's length: signature and `totlen`.
    public static let framePrefixBytes = 8
    /// A node name: 40 hexadecimal characters, not terminated.
    public static let nodeNameBytes = 40
    /// An IP address field: a NUL-terminated string in 46 bytes (INET6_ADDRSTRLEN).
    public static let ipBytes = 46
    /// Hash slots in a cluster.
    public static let slotCount = 16384
    /// The slot bitmap: one bit per slot.
    public static let slotBitmapBytes = slotCount / 8
    /// One gossip entry of a PING, PONG or MEET.
    public static let gossipEntryBytes = 104
    /// The header in front of each ping extension: length (4), type (2), unused (2).
    public static let extensionHeaderBytes = 8
    /// Ping extensions are padded to a multiple of this.
    public static let extensionAlignmentBytes = 8
    /// FAIL's data: the failing node's name.
    public static let failDataBytes = nodeNameBytes
    /// PUBLISH's and PUBLISHSHARD's data before the channel and message bytes: two lengths.
    public static let publishFixedBytes = 8
    /// UPDATE's data: config epoch, node name, slot bitmap.
    public static let updateDataBytes = 8 + nodeNameBytes + slotBitmapBytes
    /// MODULE's data before the payload: module id (8), payload length (4), module's type (1).
    public static let moduleFixedBytes = 13
    /// The size of Redis's `clusterMsg` struct (header plus its largest data member, UPDATE).
    public static let clusterMsgStructBytes = headerBytes + updateDataBytes

    /// Where each header field starts (`clusterMsg` in Redis's cluster.h). All integers are
    /// big-endian.
    public enum Offset {
        /// `sig`: "RCmb".
        public static let signature = 0
        /// `totlen`: the whole message's length (4 bytes).
        public static let totalLength = 4
        /// `ver`: the protocol version (2 bytes).
        public static let version = 8
        /// `port`: the client port (2 bytes).
        public static let port = 10
        /// `type`: the message type (2 bytes).
        public static let type = 12
        /// `count`: gossip entries of a PING, PONG or MEET (2 bytes).
        public static let count = 14
        /// `currentEpoch` (8 bytes).
        public static let currentEpoch = 16
        /// `configEpoch` (8 bytes).
        public static let configEpoch = 24
        /// `offset`: the replication offset (8 bytes).
        public static let replicationOffset = 32
        /// `sender`: the sender's name (40 bytes).
        public static let sender = 40
        /// `myslots`: the slot bitmap (2048 bytes).
        public static let slots = 80
        /// `slaveof`: the master's name (40 bytes).
        public static let replicaOf = 2128
        /// `myip`: the announced IP (46 bytes).
        public static let ip = 2168
        /// `extensions`: ping extensions (2 bytes).
        public static let extensionCount = 2214
        /// `notused1` (30 bytes).
        public static let reserved = 2216
        /// `pport`: the plaintext port (2 bytes).
        public static let plaintextPort = 2246
        /// `cport`: the bus port (2 bytes).
        public static let busPort = 2248
        /// `flags`: the sender's node flags (2 bytes).
        public static let flags = 2250
        /// `state`: the cluster state byte.
        public static let state = 2252
        /// `mflags`: message flags (1 byte used, 2 reserved).
        public static let messageFlags = 2253
        /// The type's data.
        public static let data = 2256
    }

    /// Bytes reserved after the extension count (`notused1`), written as zeros.
    public static let reservedBytes = 30
    /// Bytes of `mflags` after the first one, reserved and written as zeros.
    public static let messageFlagsReservedBytes = 2
}
