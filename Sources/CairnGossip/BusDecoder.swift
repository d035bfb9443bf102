import CairnCluster
import NIOCore

/// Reads bus messages from a link's byte stream, checking what Redis 7.0 checks
/// (docs/format-cluster-bus.md, "Validation") and a little more. A message is parsed only once
/// all of its bytes are in the buffer, and consumed as a whole: nothing is parsed twice, and the
/// declared length is checked against `messageBytesMax` before the decoder waits for it.
public struct BusDecoder: Sendable {
    /// The default limit on one message: far above any PING (2256 bytes + 104 per gossip entry;
    /// 65535 entries make 6.8 MB) and above the PUBLISH payloads one expects on a bus. Redis 7.0
    /// itself has no limit: a larger PUBLISH from a Redis peer drops the link.
    public static let messageBytesMaxDefault = 64 * 1024 * 1024

    /// Messages declaring a larger `totlen` are refused without waiting for their bytes.
    public let messageBytesMax: Int
    /// Set once the framing is lost: every later call throws it again.
    private var framingError: BusError? = nil

    /// A decoder refusing messages longer than `messageBytesMax` bytes.
    public init(messageBytesMax: Int = BusDecoder.messageBytesMaxDefault) {
        self.messageBytesMax = messageBytesMax
    }

    /// The next whole message, or nil when more bytes are needed (nothing is consumed then).
    ///
    /// A message that is framed correctly but wrong inside (version, type, lengths, extensions)
    /// is consumed before the error is thrown (`BusError.messageSkipped`). A bad signature or an
    /// out-of-bounds length loses the framing: nothing is consumed, and every later call throws
    /// the same error.
    public mutating func next(from buffer: inout ByteBuffer) throws(BusError) -> BusMessage? {
        if let framingError { throw framingError }
        let start = buffer.readerIndex
        guard buffer.readableBytes >= BusFormat.framePrefixBytes,
              let signature = buffer.getInteger(at: start, as: UInt32.self),
              let declared = buffer.getInteger(at: start + BusFormat.Offset.totalLength, as: UInt32.self)
        else { return nil }
        if let error = framingProblem(signature: signature, declaredLength: Int(declared)) {
            framingError = error
            throw error
        }
        let totalLength = Int(declared)
        guard buffer.readableBytes >= totalLength, var message = buffer.readSlice(length: totalLength) else { return nil }
        return try BusDecoder.parse(&message)
    }

    /// Why the first 8 bytes cannot start a message, or nil when they can.
    private func framingProblem(signature: UInt32, declaredLength: Int) -> BusError? {
        if signature != BusDecoder.signatureWord {
            return BusError(.badSignature, "bad signature 0x\(String(signature, radix: 16))")
        }
        if declaredLength < BusFormat.headerBytes {
            return BusError(.lengthBelowHeader, "message length \(declaredLength) is below the header's \(BusFormat.headerBytes)")
        }
        if declaredLength > messageBytesMax {
            return BusError(.lengthAboveMax, "message length \(declaredLength) is above the limit of \(messageBytesMax)")
        }
        return nil
    }

    /// Decodes exactly one whole message, e.g. a fixture file.
    public static func decode(message bytes: some Collection<UInt8>,
                              messageBytesMax: Int = BusDecoder.messageBytesMaxDefault) throws(BusError) -> BusMessage {
        var decoder = BusDecoder(messageBytesMax: messageBytesMax)
        var buffer = ByteBuffer(bytes: bytes)
        guard let message = try decoder.next(from: &buffer) else {
            throw BusError(.truncated, "\(bytes.count) bytes are less than the message declares")
        }
        guard buffer.readableBytes == 0 else {
            throw BusError(.trailingBytes, "\(buffer.readableBytes) bytes follow the message")
        }
        return message
    }

    /// "RCmb" read as a big-endian 32-bit integer.
    static let signatureWord: UInt32 = 0x5243_6D62

    /// Parses one message whose bytes are exactly `message`'s readable bytes.
    static func parse(_ message: inout ByteBuffer) throws(BusError) -> BusMessage {
        var reader = WireReader(message)
        reader.skip(BusFormat.framePrefixBytes)
        let version: UInt16 = try reader.integer()
        guard version == BusFormat.protocolVersion else {
            throw BusError(.unsupportedVersion, "protocol version \(version), not \(BusFormat.protocolVersion)")
        }
        let port: UInt16 = try reader.integer()
        let rawType: UInt16 = try reader.integer()
        guard let type = BusMessageType(rawValue: rawType) else {
            throw BusError(.unknownType, "unknown message type \(rawType)")
        }
        let count: UInt16 = try reader.integer()
        let currentEpoch: UInt64 = try reader.integer()
        let configEpoch: UInt64 = try reader.integer()
        let offset: UInt64 = try reader.integer()
        let sender = NodeNameField(unchecked: try reader.bytes(BusFormat.nodeNameBytes))
        let slots = try reader.slotBitmap()
        let replicaOf = NodeNameField(unchecked: try reader.bytes(BusFormat.nodeNameBytes))
        let ip = IPAddressField(unchecked: try reader.bytes(BusFormat.ipBytes))
        let extensionCount: UInt16 = try reader.integer()
        reader.skip(BusFormat.reservedBytes)
        let plaintextPort: UInt16 = try reader.integer()
        let busPort: UInt16 = try reader.integer()
        let flags: UInt16 = try reader.integer()
        let state: UInt8 = try reader.integer()
        let messageFlags: UInt8 = try reader.integer()
        reader.skip(BusFormat.messageFlagsReservedBytes)

        let header = BusHeader(sender: sender, port: port, busPort: busPort, currentEpoch: currentEpoch,
                               configEpoch: configEpoch, replicationOffset: offset, slots: slots, replicaOf: replicaOf,
                               ip: ip, plaintextPort: plaintextPort, flags: NodeFlags(rawValue: flags),
                               state: BusClusterState(rawValue: state), messageFlags: MessageFlags(rawValue: messageFlags))
        let body = try parseBody(type, &reader, count: Int(count), extensionCount: Int(extensionCount),
                                 extensionFlag: header.messageFlags.contains(.extensionData))
        return BusMessage(header: header, body: body)
    }

    private static func parseBody(_ type: BusMessageType, _ reader: inout WireReader, count: Int, extensionCount: Int,
                                  extensionFlag: Bool) throws(BusError) -> BusMessageBody {
        let dataBytes = reader.remaining
        func expect(_ bytes: Int) throws(BusError) {
            guard dataBytes == bytes else {
                throw BusError(.lengthMismatch, "\(type) carries \(dataBytes) data bytes, expected \(bytes)")
            }
        }
        switch type {
        case .ping, .pong, .meet:
            let data = try parsePing(type, &reader, count: count, extensionCount: extensionCount, extensionFlag: extensionFlag)
            switch type {
            case .ping: return .ping(data)
            case .pong: return .pong(data)
            default: return .meet(data)
            }
        case .fail:
            try expect(BusFormat.failDataBytes)
            return .fail(node: NodeNameField(unchecked: try reader.bytes(BusFormat.nodeNameBytes)))
        case .publish, .publishShard:
            guard dataBytes >= BusFormat.publishFixedBytes else {
                throw BusError(.lengthMismatch, "\(type) carries \(dataBytes) data bytes, less than its two lengths")
            }
            let channelLength = Int(try reader.integer() as UInt32)
            let messageLength = Int(try reader.integer() as UInt32)
            try expect(BusFormat.publishFixedBytes + channelLength + messageLength)
            let data = PublishData(channel: try reader.bytes(channelLength), message: try reader.bytes(messageLength))
            return type == .publish ? .publish(data) : .publishShard(data)
        case .failoverAuthRequest, .failoverAuthAck, .mfstart:
            try expect(0)
            return type == .mfstart ? .mfstart : type == .failoverAuthAck ? .failoverAuthAck : .failoverAuthRequest
        case .update:
            try expect(BusFormat.updateDataBytes)
            let epoch: UInt64 = try reader.integer()
            let node = NodeNameField(unchecked: try reader.bytes(BusFormat.nodeNameBytes))
            let slots = try reader.slotBitmap()
            return .update(UpdateData(configEpoch: epoch, node: node, slots: slots))
        case .module:
            guard dataBytes >= BusFormat.moduleFixedBytes else {
                throw BusError(.lengthMismatch, "module message carries \(dataBytes) data bytes, less than its fixed part")
            }
            let moduleID: UInt64 = try reader.integer()
            let length = Int(try reader.integer() as UInt32)
            let moduleType: UInt8 = try reader.integer()
            try expect(BusFormat.moduleFixedBytes + length)
            return .module(ModuleData(moduleID: moduleID, type: moduleType, payload: try reader.bytes(length)))
        }
    }

    private static func parsePing(_ type: BusMessageType, _ reader: inout WireReader, count: Int, extensionCount: Int,
                                  extensionFlag: Bool) throws(BusError) -> PingData {
        let gossipBytes = count * BusFormat.gossipEntryBytes
        guard reader.remaining >= gossipBytes else {
            throw BusError(.lengthMismatch, "\(type) counts \(count) gossip entries in \(reader.remaining) data bytes")
        }
        var gossip: [GossipEntry] = []
        gossip.reserveCapacity(count)
        for _ in 0..<count { gossip.append(try parseGossip(&reader)) }

        var extensions: [PingExtension] = []
        if extensionFlag {
            for index in 0..<extensionCount {
                guard reader.remaining >= BusFormat.extensionHeaderBytes else {
                    throw BusError(.extensionPastEnd, "extension \(index) of \(extensionCount) starts \(reader.remaining) bytes before the end")
                }
                let length = Int(try reader.integer() as UInt32)
                let extensionType: UInt16 = try reader.integer()
                reader.skip(2)
                guard length % BusFormat.extensionAlignmentBytes == 0 else {
                    throw BusError(.extensionMisaligned, "extension \(index) is \(length) bytes, not a multiple of 8")
                }
                guard length >= BusFormat.extensionHeaderBytes else {
                    throw BusError(.extensionTooShort, "extension \(index) is \(length) bytes, less than its header")
                }
                let payloadBytes = length - BusFormat.extensionHeaderBytes
                guard payloadBytes <= reader.remaining else {
                    throw BusError(.extensionPastEnd, "extension \(index) of \(length) bytes runs past the message's end")
                }
                let payload = try reader.bytes(payloadBytes)
                if extensionType == PingExtension.hostnameType {
                    guard let end = payload.firstIndex(of: 0) else {
                        throw BusError(.extensionMalformed, "hostname extension without a terminating NUL")
                    }
                    extensions.append(.hostname(Array(payload[..<end])))
                } else {
                    extensions.append(.unknown(type: extensionType, data: payload))
                }
            }
        } else if extensionCount != 0 {
            throw BusError(.extensionsWithoutFlag, "\(type) counts \(extensionCount) extensions without the extension-data flag")
        }
        guard reader.remaining == 0 else {
            throw BusError(.lengthMismatch, "\(type) has \(reader.remaining) bytes after its gossip and extensions")
        }
        return PingData(gossip: gossip, extensions: extensions)
    }

    private static func parseGossip(_ reader: inout WireReader) throws(BusError) -> GossipEntry {
        let name = NodeNameField(unchecked: try reader.bytes(BusFormat.nodeNameBytes))
        let pingSent: UInt32 = try reader.integer()
        let pongReceived: UInt32 = try reader.integer()
        let ip = IPAddressField(unchecked: try reader.bytes(BusFormat.ipBytes))
        let port: UInt16 = try reader.integer()
        let busPort: UInt16 = try reader.integer()
        let flags: UInt16 = try reader.integer()
        let plaintextPort: UInt16 = try reader.integer()
        reader.skip(2)
        return GossipEntry(nodeName: name, pingSent: pingSent, pongReceived: pongReceived, ip: ip, port: port,
                           busPort: busPort, flags: NodeFlags(rawValue: flags), plaintextPort: plaintextPort)
    }
}

/// Sequential big-endian reads over one message. The callers check lengths first; a short read
/// still throws rather than traps.
struct WireReader {
    private var buffer: ByteBuffer

    init(_ buffer: ByteBuffer) { self.buffer = buffer }

    var remaining: Int { buffer.readableBytes }

    mutating func integer<T: FixedWidthInteger>(_: T.Type = T.self) throws(BusError) -> T {
        guard let value = buffer.readInteger(endianness: .big, as: T.self) else { throw WireReader.short }
        return value
    }

    mutating func bytes(_ count: Int) throws(BusError) -> [UInt8] {
        guard count >= 0, let bytes = buffer.readBytes(length: count) else { throw WireReader.short }
        return bytes
    }

    /// A 2048-byte slot bitmap, in Redis's bit order (CairnCluster's SlotBitmap layout).
    mutating func slotBitmap() throws(BusError) -> SlotBitmap {
        guard let bitmap = SlotBitmap(bytes: try bytes(BusFormat.slotBitmapBytes)) else { throw WireReader.short }
        return bitmap
    }

    mutating func skip(_ count: Int) {
        buffer.moveReaderIndex(forwardBy: min(count, buffer.readableBytes))
    }

    private static let short = BusError(.truncated, "message shorter than its own fields")
}
