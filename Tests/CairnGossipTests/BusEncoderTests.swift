import CairnCluster
import CairnGossip
import Testing

/// The encoder writes each field at its documented offset, pads as Redis does, and every
/// message type survives encode then decode.
@Suite struct BusEncoderTests {
    @Test func everyTypeRoundTrips() throws {
        for message in BusSamples.messages {
            let bytes = try BusEncoder.bytes(of: message)
            #expect(bytes.count == BusEncoder.encodedBytes(of: message))
            var decoded = try BusDecoder.decode(message: bytes)
            if !(message.body.pingData?.extensions.isEmpty ?? true) {
                #expect(decoded.header.messageFlags.contains(.extensionData), "set by the encoder")
                decoded.header.messageFlags.remove(.extensionData)
            }
            #expect(decoded == message, "\(message.type)")
        }
    }

    @Test func sizesByType() throws {
        let sizes = try BusSamples.messages.map { try BusEncoder.bytes(of: $0).count }
        #expect(sizes == [2256 + 2 * 104 + 24, 2256 + 104, 2256, 2296, 2256 + 8 + 4 + 5, 2256 + 8 + 3, 2256, 2256, 2256,
                          4352, 2256 + 13 + 7])
        #expect(BusFormat.clusterMsgStructBytes == 4352)
    }

    @Test func headerFieldsSitAtTheirOffsets() throws {
        var header = BusSamples.header()
        header.port = 0x0102
        header.currentEpoch = 0x1112_1314_1516_1718
        header.configEpoch = 0x2122_2324_2526_2728
        header.replicationOffset = 0x3132_3334_3536_3738
        header.replicaOf = BusSamples.bob
        header.ip = IPAddressField("10.0.0.1")
        header.plaintextPort = 0x4142
        header.busPort = 0x5152
        header.flags = [.replica, .myself, .noFailover]
        header.state = .fail
        header.messageFlags = [.paused]
        header.slots = SlotBitmap(ranges: [0...0, 9...9, 16383...16383])
        let message = BusMessage(header: header, body: .ping(PingData(gossip: [BusSamples.gossip(BusSamples.carol, port: 7002)],
                                                                      hostname: "h")))
        let b = try BusEncoder.bytes(of: message)
        func u(_ offset: Int, _ size: Int) -> UInt64 { b[offset..<(offset + size)].reduce(0) { $0 << 8 | UInt64($1) } }
        typealias O = BusFormat.Offset
        #expect(Array(b[0..<4]) == Array("RCmb".utf8))
        #expect(u(O.totalLength, 4) == UInt64(b.count))
        #expect(u(O.version, 2) == 1)
        #expect(u(O.port, 2) == 0x0102)
        #expect(u(O.type, 2) == 0)
        #expect(u(O.count, 2) == 1)
        #expect(u(O.currentEpoch, 8) == 0x1112_1314_1516_1718)
        #expect(u(O.configEpoch, 8) == 0x2122_2324_2526_2728)
        #expect(u(O.replicationOffset, 8) == 0x3132_3334_3536_3738)
        #expect(Array(b[O.sender..<(O.sender + 40)]) == BusSamples.alice.bytes)
        #expect(b[O.slots] == 0b0000_0001 && b[O.slots + 1] == 0b0000_0010 && b[O.slots + 2047] == 0b1000_0000,
                "slot s is bit s%8 of byte s/8")
        #expect(Array(b[O.replicaOf..<(O.replicaOf + 40)]) == BusSamples.bob.bytes)
        #expect(Array(b[O.ip..<(O.ip + 9)]) == Array("10.0.0.1\0".utf8))
        #expect(u(O.extensionCount, 2) == 1)
        #expect(b[O.reserved..<(O.reserved + 30)].allSatisfy { $0 == 0 })
        #expect(u(O.plaintextPort, 2) == 0x4142)
        #expect(u(O.busPort, 2) == 0x5152)
        #expect(u(O.flags, 2) == 2 | 16 | 512)
        #expect(b[O.state] == 1)
        #expect(Array(b[O.messageFlags..<(O.messageFlags + 3)]) == [1 | 4, 0, 0], "paused, and extension data added")
        // The gossip entry, then the extension.
        let g = O.data
        #expect(Array(b[g..<(g + 40)]) == BusSamples.carol.bytes)
        #expect(u(g + 40, 4) == 0 && u(g + 44, 4) == 1_733_000_000)
        #expect(Array(b[(g + 48)..<(g + 58)]) == Array("127.0.0.1\0".utf8))
        #expect(u(g + 94, 2) == 7002 && u(g + 96, 2) == 17002 && u(g + 98, 2) == 1 && u(g + 100, 2) == 0 && u(g + 102, 2) == 0)
        let e = g + 104
        #expect(u(e, 4) == 16 && u(e + 4, 2) == 0 && u(e + 6, 2) == 0)
        #expect(Array(b[(e + 8)..<(e + 16)]) == [UInt8(ascii: "h"), 0, 0, 0, 0, 0, 0, 0])
        #expect(e + 16 == b.count)
    }

    @Test func hostnamePaddingFollowsRedis() throws {
        // Redis: 8-byte header + (length + 1) rounded up to 8.
        for length in 1...24 {
            let name = String(repeating: "n", count: length)
            let message = BusMessage(header: BusSamples.header(), body: .pong(PingData(gossip: [], hostname: name)))
            let bytes = try BusEncoder.bytes(of: message)
            #expect(bytes.count - BusFormat.headerBytes == 8 + (length + 1 + 7) / 8 * 8, "\(length)")
            #expect(try BusDecoder.decode(message: bytes).body.pingData?.extensions.first?.hostnameText == name)
        }
        let none = BusMessage(header: BusSamples.header(), body: .pong(PingData(gossip: [], hostname: "")))
        #expect(try BusEncoder.bytes(of: none).count == BusFormat.headerBytes, "an empty hostname sends no extension")
    }

    @Test func unknownExtensionsSurvive() throws {
        // What a Redis 7.2 peer adds: human nodename (1), forgotten node (2), shard id (3).
        let extensions: [PingExtension] = [
            .unknown(type: 3, data: [UInt8](repeating: 0xAB, count: 40)),
            .hostname(Array("peer".utf8)),
            .unknown(type: 2, data: BusSamples.carol.bytes + [0, 0, 0, 0, 0, 0, 0, 60]),
            .unknown(type: 0xFFFF, data: []),
        ]
        let message = BusMessage(header: BusSamples.header(), body: .meet(PingData(gossip: [], extensions: extensions)))
        let bytes = try BusEncoder.bytes(of: message)
        let decoded = try BusDecoder.decode(message: bytes)
        #expect(decoded.body.pingData?.extensions == extensions)
        #expect(try BusEncoder.bytes(of: decoded) == bytes)
    }

    @Test func anUnalignedUnknownExtensionIsPadded() throws {
        let message = BusMessage(header: BusSamples.header(), body: .ping(PingData(extensions: [.unknown(type: 9, data: [1, 2, 3])])))
        let decoded = try BusDecoder.decode(message: try BusEncoder.bytes(of: message))
        #expect(decoded.body.pingData?.extensions == [.unknown(type: 9, data: [1, 2, 3, 0, 0, 0, 0, 0])])
    }

    @Test func countsBeyondTheWireAreRefused() {
        let entry = BusSamples.gossip(BusSamples.bob, port: 7001)
        let tooMany = BusMessage(header: BusSamples.header(),
                                 body: .ping(PingData(gossip: Array(repeating: entry, count: Int(UInt16.max) + 1))))
        #expect(throws: BusError.self) { try BusEncoder.bytes(of: tooMany) }
        do {
            _ = try BusEncoder.bytes(of: tooMany)
        } catch {
            #expect(error.code == .tooLargeToEncode)
        }
        let most = BusMessage(header: BusSamples.header(), body: .ping(PingData(gossip: Array(repeating: entry, count: Int(UInt16.max)))))
        #expect((try? BusDecoder.decode(message: BusEncoder.bytes(of: most)))?.body.pingData?.gossip.count == Int(UInt16.max))
    }
}

@Suite struct BusFieldTests {
    /// The header carries CairnCluster's SlotBitmap verbatim (its own tests cover the rest).
    @Test func slotBitmapIsTheWireField() {
        #expect(SlotBitmap(bytes: [UInt8](repeating: 0xFF, count: BusFormat.slotBitmapBytes))?.ranges == [0...16383])
        #expect(SlotBitmap(bytes: [UInt8](repeating: 0, count: BusFormat.slotBitmapBytes - 1)) == nil)
        #expect(Array(SlotBitmap(ranges: [0...2, 100...100]).bytes.prefix(13)) == [0x07] + [UInt8](repeating: 0, count: 11) + [0x10])
    }

    @Test func names() {
        #expect(NodeNameField(String(repeating: "0", count: 39)) == nil)
        #expect(NodeNameField(String(repeating: "é", count: 20)) == nil, "40 bytes, but not ASCII")
        #expect(NodeNameField.none.isNone && !BusSamples.alice.isNone)
        #expect(BusSamples.alice.description == String(repeating: "a1", count: 20))
    }

    @Test func ipFields() {
        #expect(IPAddressField("::1").string == "::1")
        #expect(IPAddressField.empty.isEmpty && IPAddressField.empty.string == "")
        let long = IPAddressField(String(repeating: "9", count: 60))
        #expect(long.string.count == 45 && long.bytes.last == 0, "cut so that the terminator fits")
        #expect(IPAddressField(bytes: [UInt8](repeating: 0, count: 45)) == nil)
    }
}
