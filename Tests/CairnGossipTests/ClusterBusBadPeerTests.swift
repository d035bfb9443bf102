import CairnCluster
import CairnGossip
import NIOCore
import NIOPosix
import Testing

/// Peers that do not speak the bus, or speak it wrong: the link goes, the node stays.
@Suite struct ClusterBusBadPeerTests {
    static let stranger = NodeNameField(String(repeating: "5e", count: 20))!

    static func ping(_ type: BusMessageType = .ping) throws -> [UInt8] {
        let header = BusHeader(sender: stranger, port: 7100, busPort: 17100)
        let body: BusMessageBody = type == .meet ? .meet(PingData()) : .ping(PingData())
        return try BusEncoder.bytes(of: BusMessage(header: header, body: body))
    }

    @Test func garbageAndBadFramingDropTheLinkOnly() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 2)
        defer { group.shutdownGracefully { _ in } }
        let a = try await BusNode(loop: group.next())

        // Not the bus at all.
        let garbage = try TestSocket(port: a.busPort)
        try garbage.send(Array("GET / HTTP/1.1\r\nHost: example\r\n\r\n".utf8))
        #expect(garbage.closedByPeer())

        // A bus message with a wrong signature.
        var wrongSignature = try Self.ping()
        wrongSignature[0] = UInt8(ascii: "X")
        let second = try TestSocket(port: a.busPort)
        try second.send(wrongSignature)
        #expect(second.closedByPeer())

        // A length below the header and one far above any message: refused before waiting.
        for length: UInt32 in [100, .max] {
            let socket = try TestSocket(port: a.busPort)
            try socket.send(Array("RCmb".utf8) + withUnsafeBytes(of: length.bigEndian, Array.init))
            #expect(socket.closedByPeer())
        }

        // A framed message that is wrong inside (version 2) is skipped as Redis skips it; the
        // link stays and the next message is answered.
        var wrongVersion = try Self.ping()
        wrongVersion[9] = 2
        let skipping = try TestSocket(port: a.busPort)
        try skipping.send(wrongVersion + (try Self.ping()))
        let answer = try skipping.readBusMessage()
        #expect(answer.type == .pong && answer.header.sender.description == a.name.text)
        #expect(answer.header.port == UInt16(a.clientPort) && answer.header.busPort == UInt16(a.busPort))

        // A truncated message followed by a hang-up: nothing happens to the node.
        let truncated = try TestSocket(port: a.busPort)
        try truncated.send(Array(try Self.ping().prefix(1000)))
        _ = truncated

        // After all that, a real node still meets A.
        let b = try await BusNode(loop: group.next())
        let (port, busPort) = (a.clientPort, a.busPort)
        _ = try await b.onLoop { $0.meet(ip: "127.0.0.1", port: port, busPort: busPort) }
        let joined = try await eventually { try await bothKnow(a, b) }
        #expect(joined)
        // The stranger's PING (not a MEET) added nothing: only MEET makes a stranger a node.
        let nodeCount = try await a.state().nodes.count
        #expect(nodeCount == 2)
        try await a.stop()
        try await b.stop()
    }

    @Test func meetFromAStrangerStartsAHandshakeBack() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        defer { group.shutdownGracefully { _ in } }
        let a = try await BusNode(loop: group.next())
        let peer = try TestSocket(port: a.busPort)
        try peer.send(try Self.ping(.meet))
        let answer = try peer.readBusMessage()
        #expect(answer.type == .pong)
        // The stranger is in handshake at the connection's address with the header's ports; A
        // learned its own address from the MEET.
        let state = try await a.state()
        let added = state.nodes.values.filter { $0.flags.contains(.handshake) }
        #expect(added.count == 1 && added.first?.ip == "127.0.0.1" && added.first?.port == 7100 && added.first?.busPort == 17100)
        #expect(state.myselfNode.ip == "127.0.0.1")
        try await a.stop()
    }
}
