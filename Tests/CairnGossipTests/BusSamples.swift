import CairnCluster
import CairnGossip

/// Hand-made messages of every type, for the tests that do not need real Redis bytes.
enum BusSamples {
    static let alice = NodeNameField(String(repeating: "a1", count: 20))!
    static let bob = NodeNameField(String(repeating: "b2", count: 20))!
    static let carol = NodeNameField(String(repeating: "c3", count: 20))!

    static func header(_ sender: NodeNameField = alice) -> BusHeader {
        BusHeader(sender: sender, port: 7000, busPort: 17000, currentEpoch: 5, configEpoch: 3, replicationOffset: 1234,
                  slots: SlotBitmap(ranges: [0...5460]), flags: [.master, .myself], state: .ok)
    }

    static func gossip(_ name: NodeNameField, port: UInt16) -> GossipEntry {
        GossipEntry(nodeName: name, pingSent: 0, pongReceived: 1_733_000_000, ip: IPAddressField("127.0.0.1"),
                    port: port, busPort: port + 10000, flags: [.master])
    }

    static var bodies: [BusMessageBody] {
        let ping = PingData(gossip: [gossip(bob, port: 7001), gossip(carol, port: 7002)], hostname: "alice.example")
        return [
            .ping(ping), .pong(PingData(gossip: [gossip(bob, port: 7001)], hostname: nil)), .meet(PingData()),
            .fail(node: carol),
            .publish(PublishData(channel: Array("news".utf8), message: Array("hello".utf8))),
            .publishShard(PublishData(channel: Array("{x}".utf8), message: [])),
            .failoverAuthRequest, .failoverAuthAck, .mfstart,
            .update(UpdateData(configEpoch: 9, node: bob, slots: SlotBitmap(ranges: [5461...10922]))),
            .module(ModuleData(moduleID: 0x0102_0304_0506_0708, type: 7, payload: Array("payload".utf8))),
        ]
    }

    static var messages: [BusMessage] { bodies.map { BusMessage(header: header(), body: $0) } }

    /// A message's bytes with `field` overwritten, big-endian, at `offset`.
    static func patched<T: FixedWidthInteger>(_ bytes: [UInt8], at offset: Int, _ value: T) -> [UInt8] {
        var out = bytes
        withUnsafeBytes(of: value.bigEndian) { raw in
            for (i, byte) in raw.enumerated() { out[offset + i] = byte }
        }
        return out
    }
}
