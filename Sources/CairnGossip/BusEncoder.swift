import NIOCore

/// Writes bus messages byte for byte as Redis 7.0 does (clusterBuildMessageHdr and the senders
/// in cluster.c): big-endian integers, reserved bytes zeroed, `totlen`, count and extension
/// count computed from the message, extensions padded with zeros to 8 bytes.
public enum BusEncoder {
    /// The message's length on the wire (its `totlen`).
    public static func encodedBytes(of message: BusMessage) -> Int {
        BusFormat.headerBytes + dataBytes(of: message.body)
    }

    /// Appends the message to `buffer`. Throws `tooLargeToEncode` when a count or the total
    /// length does not fit its wire field; nothing is written then.
    public static func encode(_ message: BusMessage, into buffer: inout ByteBuffer) throws(BusError) {
        let total = encodedBytes(of: message)
        var count = 0
        var extensions: [PingExtension] = []
        if let ping = message.body.pingData {
            count = ping.gossip.count
            extensions = ping.extensions
        }
        guard count <= Int(UInt16.max), extensions.count <= Int(UInt16.max), total <= Int(UInt32.max) else {
            throw BusError(.tooLargeToEncode, "\(message.type) of \(total) bytes, \(count) gossip entries, \(extensions.count) extensions")
        }
        var flags = message.header.messageFlags
        if !extensions.isEmpty { flags.insert(.extensionData) }
        let header = message.header

        buffer.reserveCapacity(minimumWritableBytes: total)
        buffer.writeBytes(BusFormat.signature)
        buffer.writeInteger(UInt32(total))
        buffer.writeInteger(BusFormat.protocolVersion)
        buffer.writeInteger(header.port)
        buffer.writeInteger(message.type.rawValue)
        buffer.writeInteger(UInt16(count))
        buffer.writeInteger(header.currentEpoch)
        buffer.writeInteger(header.configEpoch)
        buffer.writeInteger(header.replicationOffset)
        buffer.writeBytes(header.sender.bytes)
        buffer.writeBytes(header.slots.bytes)
        buffer.writeBytes(header.replicaOf.bytes)
        buffer.writeBytes(header.ip.bytes)
        buffer.writeInteger(UInt16(extensions.count))
        buffer.writeRepeatingByte(0, count: BusFormat.reservedBytes)
        buffer.writeInteger(header.plaintextPort)
        buffer.writeInteger(header.busPort)
        buffer.writeInteger(header.flags.rawValue)
        buffer.writeInteger(header.state.rawValue)
        buffer.writeInteger(flags.rawValue)
        buffer.writeRepeatingByte(0, count: BusFormat.messageFlagsReservedBytes)
        writeBody(message.body, into: &buffer)
    }

    /// The message as a byte array.
    public static func bytes(of message: BusMessage) throws(BusError) -> [UInt8] {
        var buffer = ByteBuffer()
        try encode(message, into: &buffer)
        return buffer.readBytes(length: buffer.readableBytes) ?? []
    }

    private static func dataBytes(of body: BusMessageBody) -> Int {
        switch body {
        case .ping(let data), .pong(let data), .meet(let data):
            return data.gossip.count * BusFormat.gossipEntryBytes + data.extensions.reduce(0) { $0 + $1.encodedBytes }
        case .fail: return BusFormat.failDataBytes
        case .publish(let data), .publishShard(let data):
            return BusFormat.publishFixedBytes + data.channel.count + data.message.count
        case .failoverAuthRequest, .failoverAuthAck, .mfstart: return 0
        case .update: return BusFormat.updateDataBytes
        case .module(let data): return BusFormat.moduleFixedBytes + data.payload.count
        }
    }

    private static func writeBody(_ body: BusMessageBody, into buffer: inout ByteBuffer) {
        switch body {
        case .ping(let data), .pong(let data), .meet(let data):
            for entry in data.gossip { writeGossip(entry, into: &buffer) }
            for ext in data.extensions { writeExtension(ext, into: &buffer) }
        case .fail(let node):
            buffer.writeBytes(node.bytes)
        case .publish(let data), .publishShard(let data):
            // Lengths fit: the total was checked against UInt32.max.
            buffer.writeInteger(UInt32(data.channel.count))
            buffer.writeInteger(UInt32(data.message.count))
            buffer.writeBytes(data.channel)
            buffer.writeBytes(data.message)
        case .failoverAuthRequest, .failoverAuthAck, .mfstart:
            break
        case .update(let data):
            buffer.writeInteger(data.configEpoch)
            buffer.writeBytes(data.node.bytes)
            buffer.writeBytes(data.slots.bytes)
        case .module(let data):
            buffer.writeInteger(data.moduleID)
            buffer.writeInteger(UInt32(data.payload.count))
            buffer.writeInteger(data.type)
            buffer.writeBytes(data.payload)
        }
    }

    private static func writeGossip(_ entry: GossipEntry, into buffer: inout ByteBuffer) {
        buffer.writeBytes(entry.nodeName.bytes)
        buffer.writeInteger(entry.pingSent)
        buffer.writeInteger(entry.pongReceived)
        buffer.writeBytes(entry.ip.bytes)
        buffer.writeInteger(entry.port)
        buffer.writeInteger(entry.busPort)
        buffer.writeInteger(entry.flags.rawValue)
        buffer.writeInteger(entry.plaintextPort)
        buffer.writeInteger(UInt16(0))
    }

    private static func writeExtension(_ ext: PingExtension, into buffer: inout ByteBuffer) {
        let payload = ext.payload
        // Fits: the message total, which includes this length, was checked against UInt32.max.
        buffer.writeInteger(UInt32(ext.encodedBytes))
        buffer.writeInteger(ext.type)
        buffer.writeInteger(UInt16(0))
        buffer.writeBytes(payload)
        buffer.writeRepeatingByte(0, count: PingExtension.padded(payload.count) - payload.count)
    }
}

extension BusMessageBody {
    /// The gossip and extensions of a PING, PONG or MEET; nil for the other types.
    public var pingData: PingData? {
        switch self {
        case .ping(let data), .pong(let data), .meet(let data): data
        default: nil
        }
    }
}

extension PingData {
    /// What Redis 7.0's clusterSendPing puts after the header: the gossip entries, then the
    /// hostname extension if the node announces one (an empty hostname sends none).
    public init(gossip: [GossipEntry], hostname: String?) {
        let name = Array((hostname ?? "").utf8)
        self.init(gossip: gossip, extensions: name.isEmpty ? [] : [.hostname(name)])
    }
}
