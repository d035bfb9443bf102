import CairnCluster
import CairnGossip
import NIOCore
import NIOPosix
import Testing

/// Failover messages that must change nothing (Redis's clusterProcessPacket and
/// clusterSendFailoverAuthIfNeeded rules): a peer connects to A's bus port and speaks in the
/// name of B, a node A knows; A keeps its vote, its epochs and its slots, and keeps answering.
/// The bus field naming `name`.
private func field(_ name: NodeName) -> NodeNameField { NodeNameField(bytes: name.bytes)! }

@Suite struct ClusterBusFailoverInputTests {
    /// A (all slots, configEpoch 5) and B (no slots) that know each other.
    static func pair(_ group: MultiThreadedEventLoopGroup) async throws -> (BusNode, BusNode) {
        let a = try await BusNode(loop: group.next(), slots: [0...16383])
        let b = try await BusNode(loop: group.next())
        try await a.onLoop { bus in
            bus.state.currentEpoch = 5
            bus.state.update(bus.state.myself) { $0.configEpoch = 5 }
        }
        let (port, busPort) = (a.clientPort, a.busPort)
        _ = try await b.onLoop { $0.meet(ip: "127.0.0.1", port: port, busPort: busPort) }
        #expect(try await eventually { try await bothKnow(a, b) })
        return (a, b)
    }

    /// Sends `bodies` as B, then a PING, and waits for A's PONG: everything before it was processed.
    static func sendAs(_ sender: BusNode, to a: BusNode, currentEpoch: UInt64, configEpoch: UInt64 = 0, slots: SlotBitmap = SlotBitmap(),
                       flags: NodeFlags = [.master], replicaOf: NodeNameField = .none, forceAck: Bool = false,
                       _ bodies: [BusMessageBody]) throws {
        // B's real ports, so that A keeps B's address (and its link to B).
        try sendAs(sender.name, to: a, ports: (sender.clientPort, sender.busPort), currentEpoch: currentEpoch, configEpoch: configEpoch,
                   slots: slots, flags: flags, replicaOf: replicaOf, forceAck: forceAck, bodies)
    }

    static func sendAs(_ sender: NodeName, to a: BusNode, ports: (Int, Int) = (7000, 17000), currentEpoch: UInt64, configEpoch: UInt64 = 0, slots: SlotBitmap = SlotBitmap(),
                       flags: NodeFlags = [.master], replicaOf: NodeNameField = .none, forceAck: Bool = false,
                       _ bodies: [BusMessageBody]) throws {
        let socket = try TestSocket(port: a.busPort)
        let header = BusHeader(sender: field(sender), port: UInt16(ports.0), busPort: UInt16(ports.1), currentEpoch: currentEpoch,
                               configEpoch: configEpoch, slots: slots, replicaOf: replicaOf, flags: flags,
                               messageFlags: forceAck ? [.forceAck] : [])
        var bytes: [UInt8] = []
        for body in bodies + [.ping(PingData())] { bytes += try BusEncoder.bytes(of: BusMessage(header: header, body: body)) }
        try socket.send(bytes)
        var answer = try socket.readBusMessage()
        while answer.type != .pong { answer = try socket.readBusMessage() }
    }

    @Test func forgedAndStaleVoteRequestsGetNoVote() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 2)
        defer { group.shutdownGracefully { _ in } }
        let (a, b) = try await Self.pair(group)
        // B as a master asks for a vote: refused ("it is a master node").
        try Self.sendAs(b, to: a, currentEpoch: 6, [.failoverAuthRequest])
        #expect(try await a.state().lastVoteEpoch == 0)
        // B turns replica of A (a PING says so), then asks while A is up: refused ("its master
        // is up"); with a stale epoch: refused ("reqEpoch < curEpoch").
        let ofA = field(a.name)
        try Self.sendAs(b, to: a, currentEpoch: 6, flags: [.replica], replicaOf: ofA, [])
        try Self.sendAs(b, to: a, currentEpoch: 6, flags: [.replica], replicaOf: ofA, [.failoverAuthRequest])
        try Self.sendAs(b, to: a, currentEpoch: 1, flags: [.replica], replicaOf: ofA, forceAck: true, [.failoverAuthRequest])
        var state = try await a.state()
        #expect(state.lastVoteEpoch == 0 && state[b.name]?.replicaOf == a.name)
        // With FORCEACK (a manual failover) in the current epoch the vote is given, once: a
        // second request in the same epoch gets nothing, and B's real node receives one ACK.
        try Self.sendAs(b, to: a, currentEpoch: 7, flags: [.replica], replicaOf: ofA, forceAck: true,
                        [.failoverAuthRequest, .failoverAuthRequest])
        state = try await a.state()
        #expect(state.lastVoteEpoch == 7 && state.currentEpoch == 7)
        #expect(try await eventually { try await b.onLoop { $0.messagesReceived[.failoverAuthAck] } == 1 })
        // An epoch lower than A's in later headers never lowers A's epochs.
        try Self.sendAs(b, to: a, currentEpoch: 2, flags: [.replica], replicaOf: ofA, [])
        state = try await a.state()
        #expect(state.currentEpoch == 7 && state.lastVoteEpoch == 7 && state.owner(of: 0) == a.name)
        try await a.stop()
        try await b.stop()
    }

    @Test func staleUpdateAndFailForUnknownNodesChangeNothing() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 2)
        defer { group.shutdownGracefully { _ in } }
        let (a, b) = try await Self.pair(group)
        var allSlots = SlotBitmap()
        for slot in 0..<clusterSlotCount { allSlots.insert(slot) }
        // An UPDATE giving B all of A's slots under an epoch older than A's, a claim by B's own
        // header with an older configEpoch, a FAIL about a node nobody knows, an UPDATE about an
        // unknown node: all ignored.
        let update = UpdateData(configEpoch: 3, node: field(b.name), slots: allSlots)
        let unknown = NodeNameField(String(repeating: "cd", count: 20))!
        try Self.sendAs(b, to: a, currentEpoch: 5, configEpoch: 4, slots: allSlots,
                        [.update(update), .fail(node: unknown),
                         .update(UpdateData(configEpoch: 99, node: unknown, slots: allSlots))])
        var state = try await a.state()
        #expect(state.owner(of: 0) == a.name && state.owner(of: 16383) == a.name)
        #expect(state.myselfNode.configEpoch == 5)
        #expect(state[b.name]?.flags.contains(.fail) == false)
        // A FAIL about A itself is ignored too.
        try Self.sendAs(b, to: a, currentEpoch: 5, [.fail(node: field(a.name))])
        state = try await a.state()
        #expect(!state.myselfNode.flags.contains(.fail))
        // A FAIL from a sender A does not know is ignored (Redis: "Ignoring FAIL message from
        // unknown node").
        let stranger = NodeName(String(repeating: "ef", count: 20))!
        try Self.sendAs(stranger, to: a, currentEpoch: 5, [.fail(node: field(b.name))])
        state = try await a.state()
        #expect(state[b.name]?.flags.contains(.fail) == false)
        try await a.stop()
        try await b.stop()
    }

    @Test func aFloodOfPingsIsAnsweredAndMovesNoEpochBack() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 2)
        defer { group.shutdownGracefully { _ in } }
        let (a, b) = try await Self.pair(group)
        // The flood claims to come from B, a node A knows. The real B is stopped first: A keeps
        // one inbound link per node, so once B reconnected (its cron retries within ~100 ms) A
        // would drop the test's link for B's new one, and the test would read nothing.
        let bName = b.name
        try await b.stop()
        let socket = try TestSocket(port: a.busPort)
        let header = BusHeader(sender: field(bName), port: 7000, busPort: 17000, currentEpoch: 1)
        let ping = try BusEncoder.bytes(of: BusMessage(header: header, body: .ping(PingData())))
        let count = 5000
        var flood: [UInt8] = []
        flood.reserveCapacity(ping.count * count)
        for _ in 0..<count { flood += ping }
        try socket.send(flood)
        var pongs = 0
        while pongs < count {
            if try socket.readBusMessage().type == .pong { pongs += 1 }
        }
        let state = try await a.state()
        #expect(state.currentEpoch == 5 && state.myselfNode.configEpoch == 5)
        #expect(state.owner(of: 0) == a.name)
        try await a.stop()
    }
}
