import CairnCluster
import CairnGossip
import Foundation
import NIOCore
import Testing

/// Messages captured from real Redis 7.0.15 nodes (Fixtures/cluster/bus/, made by
/// tools/capture-cluster-bus): each decodes to the type its file names, with the sender, ports,
/// slots, gossip and extensions the capture's nodes had, and re-encodes byte for byte.
@Suite struct BusFixtureTests {
    struct Capture: Decodable {
        struct Node: Decodable {
            var id: String
            var port: UInt16
            var announcedBusPort: UInt16
            var hostname: String
            var setupSlots: [[Int]]
        }
        struct Message: Decodable {
            var file: String
            var type: String
            var phase: String
            var sender: String
        }
        var nodes: [String: Node]
        var messages: [Message]
    }

    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Fixtures/cluster/bus")

    static func capture() throws -> Capture {
        try JSONDecoder().decode(Capture.self, from: Data(contentsOf: directory.appendingPathComponent("capture.json")))
    }

    static func bytes(_ file: String) throws -> [UInt8] {
        [UInt8](try Data(contentsOf: directory.appendingPathComponent(file)))
    }

    static let typeNames: [String: BusMessageType] = [
        "ping": .ping, "pong": .pong, "meet": .meet, "fail": .fail, "publish": .publish,
        "failover-auth-request": .failoverAuthRequest, "failover-auth-ack": .failoverAuthAck, "update": .update,
        "mfstart": .mfstart, "module": .module, "publishshard": .publishShard,
    ]

    static func slots(_ ranges: [[Int]]) -> SlotBitmap {
        SlotBitmap(ranges: ranges.compactMap { $0.count == 2 ? $0[0]...$0[1] : nil })
    }

    @Test func everyTypeRedisSendsWithoutAModuleWasCaptured() throws {
        let captured = Set(try Self.capture().messages.compactMap { Self.typeNames[$0.type] })
        #expect(captured == Set(BusMessageType.allCases).subtracting([.module]))
    }

    @Test func fixturesDecodeWithTheirNodesState() throws {
        let capture = try Self.capture()
        let nameOf = Dictionary(uniqueKeysWithValues: capture.nodes.map { ($0.value.id, $0.key) })
        #expect(capture.messages.count >= 20)
        for entry in capture.messages {
            let bytes = try Self.bytes(entry.file)
            let message = try BusDecoder.decode(message: bytes)
            let node = try #require(capture.nodes[entry.sender], "\(entry.file)")
            #expect(message.type == Self.typeNames[entry.type], "\(entry.file)")
            #expect(entry.file.hasPrefix(entry.type + "-"))
            #expect(message.header.sender.description == node.id, "\(entry.file)")
            #expect(message.header.port == node.port, "\(entry.file)")
            #expect(message.header.busPort == node.announcedBusPort, "\(entry.file)")
            #expect(message.header.plaintextPort == 0)
            #expect(message.header.ip.string == (entry.sender == "C" ? "127.0.0.1" : ""), "\(entry.file)")
            #expect(message.header.flags.contains(.myself))
            #expect(message.header.flags.contains(.master) != message.header.flags.contains(.replica), "\(entry.file)")
            #expect(message.header.replicaOf.isNone == message.header.flags.contains(.master), "\(entry.file)")
            #expect(message.header.state == .ok || message.header.state == .fail)

            // The slots: a replica sends its master's (D replicates A until the failover, then
            // A replicates D: the same slots); C claims one more slot of B's in the update phase.
            var owner = entry.sender
            if entry.sender == "D" { owner = "A" }
            let expected = Self.slots(capture.nodes[owner]?.setupSlots ?? [])
            if entry.sender == "D" && message.header.flags.contains(.master) && entry.phase == "setup" {
                #expect(message.header.slots == SlotBitmap(), "\(entry.file): D before CLUSTER REPLICATE")
            } else if entry.sender == "C" && entry.phase == "update" {
                var claimed = expected
                claimed.insert(6000)
                #expect(message.header.slots == expected || message.header.slots == claimed, "\(entry.file)")
            } else {
                #expect(message.header.slots == expected, "\(entry.file): \(message.header.slots.ranges)")
            }

            if let ping = message.body.pingData {
                let hostname = node.hostname.isEmpty ? [] : [PingExtension.hostname(Array(node.hostname.utf8))]
                #expect(ping.extensions == hostname, "\(entry.file)")
                #expect(message.header.messageFlags.contains(.extensionData) == !hostname.isEmpty)
                for gossip in ping.gossip {
                    let about = try #require(nameOf[gossip.nodeName.description].flatMap { capture.nodes[$0] }, "\(entry.file)")
                    #expect(gossip.nodeName != message.header.sender)
                    #expect(gossip.port == about.port && gossip.busPort == about.announcedBusPort, "\(entry.file)")
                    #expect(gossip.ip.string == "127.0.0.1")
                    #expect(gossip.flags.contains(.master) || gossip.flags.contains(.replica))
                }
            }
            #expect(try BusEncoder.bytes(of: message) == bytes, "\(entry.file) re-encodes as Redis wrote it")
            #expect(BusEncoder.encodedBytes(of: message) == bytes.count)
        }
    }

    @Test func bodiesCarryWhatTheCaptureDid() throws {
        let capture = try Self.capture()
        func id(_ name: String) -> NodeNameField? { capture.nodes[name].flatMap { NodeNameField($0.id) } }
        for entry in capture.messages {
            let message = try BusDecoder.decode(message: try Self.bytes(entry.file))
            switch message.body {
            case .publish(let data):
                #expect(String(decoding: data.channel, as: UTF8.self) == "news")
                #expect(String(decoding: data.message, as: UTF8.self) == "hello from b")
            case .publishShard(let data):
                #expect(String(decoding: data.channel, as: UTF8.self).hasSuffix("}shard"))
                #expect(String(decoding: data.message, as: UTF8.self) == "hello shard")
            case .fail(let node):
                #expect(node == id("C"), "C was killed")
            case .update(let data):
                // In the update phase, about B, whose slot C tried to take; after the failover,
                // about D, to A which still claimed its old slots.
                let owner = try #require(capture.nodes.first { NodeNameField($0.value.id) == data.node }?.key, "\(entry.file)")
                #expect(data.slots == Self.slots(capture.nodes[owner == "D" ? "A" : owner]?.setupSlots ?? []), "\(entry.file)")
                if entry.phase == "update" {
                    #expect(owner == "B" && data.configEpoch == 2, "\(entry.file)")
                }
            case .failoverAuthRequest:
                #expect(message.header.sender == id("D"))
                #expect(message.header.messageFlags.contains(.forceAck), "a manual failover asks for a forced ack")
                #expect(message.header.replicaOf == id("A"))
            case .failoverAuthAck:
                #expect(message.header.flags.contains(.master))
            case .mfstart:
                #expect(message.header.sender == id("D") && message.header.replicaOf == id("A"))
            case .meet(let data):
                #expect(data.gossip.isEmpty, "the first message to a stranger has nothing to gossip")
            case .ping, .pong, .module:
                break
            }
        }
    }

    @Test func aPausedMasterSaysSo() throws {
        // A pauses its clients for D's manual failover; D, just promoted, still has its manual
        // failover state for a moment and says so too.
        let capture = try Self.capture()
        var paused = 0
        for entry in capture.messages {
            let header = try BusDecoder.decode(message: try Self.bytes(entry.file)).header
            guard header.messageFlags.contains(.paused) else { continue }
            paused += 1
            #expect(header.flags.contains(.master), "\(entry.file)")
            #expect(entry.phase == "failover" && (entry.sender == "A" || entry.sender == "D"), "\(entry.file)")
        }
        #expect(paused > 0)
    }

    @Test func theStreamDecoderReadsAllFixturesInAnyPieces() throws {
        let capture = try Self.capture()
        var stream: [UInt8] = []
        var expected: [BusMessage] = []
        for entry in capture.messages {
            let bytes = try Self.bytes(entry.file)
            stream += bytes
            expected.append(try BusDecoder.decode(message: bytes))
        }
        for pieceBytes in [1, 7, 8, 9, 1000, 2256, 4096, stream.count] {
            var decoder = BusDecoder()
            var buffer = ByteBuffer()
            var got: [BusMessage] = []
            var at = 0
            while at < stream.count {
                let end = min(at + pieceBytes, stream.count)
                buffer.writeBytes(stream[at..<end])
                at = end
                while let message = try decoder.next(from: &buffer) { got.append(message) }
            }
            #expect(got == expected, "pieces of \(pieceBytes)")
            #expect(buffer.readableBytes == 0)
        }
    }
}
