import CairnCluster
import CairnGossip
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import Testing

/// Two ClusterBus nodes in one process, each on its own event loop, over loopback.
@Suite struct ClusterBusTests {
    @Test func twoNodesMeetAndLearnSlots() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 2)
        defer { group.shutdownGracefully { _ in } }
        let a = try await BusNode(loop: group.next())
        let b = try await BusNode(loop: group.next())
        let saves = NIOLockedValueBox(0)
        try await a.onLoop { bus in bus.onChange = { _ in saves.withLockedValue { $0 += 1 } } }

        let (port, busPort) = (b.clientPort, b.busPort)
        let met = try await a.onLoop { $0.meet(ip: "127.0.0.1", port: port, busPort: busPort) }
        #expect(met)
        let joined = try await eventually { try await bothKnow(a, b) }
        #expect(joined)

        let viewFromA = try await a.state()
        #expect(viewFromA[b.name]?.ip == "127.0.0.1" && viewFromA[b.name]?.port == b.clientPort && viewFromA[b.name]?.busPort == b.busPort)
        #expect(viewFromA[b.name]?.isMaster == true)
        #expect(viewFromA.nodes.count == 2, "the handshake node was renamed, not kept beside the real one")
        // Neither has cluster-announce-ip: each learned its address from the connection.
        #expect(viewFromA.myselfNode.ip == "127.0.0.1")
        let viewFromB = try await b.state()
        #expect(viewFromB.myselfNode.ip == "127.0.0.1" && viewFromB[a.name]?.port == a.clientPort)
        #expect(saves.withLockedValue { $0 } > 0, "a new node and a completed handshake are saved")

        let bName = b.name
        try await b.onLoop { bus in
            bus.state.assign(1000, to: bName)
            bus.broadcastPong()
        }
        let learned = try await eventually { try await a.state().owner(of: 1000) == b.name }
        #expect(learned)

        let links = try await a.onLoop { $0.links }
        #expect(links.contains { $0.direction == "to" && $0.node == bName })
        #expect(links.contains { $0.direction == "from" && $0.node == bName })
        let counts = try await a.onLoop { ($0.messagesSent, $0.messagesReceived) }
        // A sent the MEET and answered B's first PING; it received the PONG to its MEET and that PING.
        #expect(counts.0[.meet] >= 1 && counts.0[.pong] >= 1 && counts.1[.pong] >= 1 && counts.1[.ping] >= 1)

        try await a.stop()
        try await b.stop()
    }

    @Test func slotClaimsFollowConfigEpochs() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 2)
        defer { group.shutdownGracefully { _ in } }
        let a = try await BusNode(loop: group.next(), slots: [0...10])
        let b = try await BusNode(loop: group.next())
        let lost = NIOLockedValueBox<[Int]>([])
        let fsyncs = NIOLockedValueBox<[Bool]>([])
        try await a.onLoop { bus in
            bus.onSlotsLost = { slots, _ in lost.withLockedValue { $0 += slots } }
            bus.onChange = { fsync in fsyncs.withLockedValue { $0.append(fsync) } }
            bus.state.update(bus.state.myself) { $0.configEpoch = 5 }
            bus.state.currentEpoch = 5
        }
        let (port, busPort) = (b.clientPort, b.busPort)
        _ = try await a.onLoop { $0.meet(ip: "127.0.0.1", port: port, busPort: busPort) }
        let joined = try await eventually { try await bothKnow(a, b) }
        #expect(joined)

        // B claims slot 3 with an older epoch: A keeps it. Then slot 4 with a newer one: B gets it.
        let bName = b.name
        try await b.onLoop { bus in
            bus.state.update(bName) { $0.configEpoch = 2 }
            bus.state.assign(3, to: bName)
            bus.broadcastPong()
        }
        let bSeesOldClaim = try await eventually { try await a.state()[b.name]?.configEpoch == 2 }
        #expect(bSeesOldClaim)
        let keptByA = try await a.state().owner(of: 3) == a.name
        #expect(keptByA)

        try await b.onLoop { bus in
            bus.state.currentEpoch = 9
            bus.state.update(bName) { $0.configEpoch = 9 }
            bus.state.unassign(3)
            bus.state.assign(4, to: bName)
            bus.broadcastPong()
        }
        let taken = try await eventually { try await a.state().owner(of: 4) == b.name }
        #expect(taken)
        let stateA = try await a.state()
        #expect(stateA.owner(of: 3) == a.name && stateA.currentEpoch >= 9)
        #expect(lost.withLockedValue { $0 } == [4])
        #expect(fsyncs.withLockedValue { $0 }.contains(true), "epoch and slot changes are saved with an fsync")

        try await a.stop()
        try await b.stop()
    }

    @Test func meetRefusesBadAddresses() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        defer { group.shutdownGracefully { _ in } }
        let a = try await BusNode(loop: group.next())
        // Read in the same turn as the MEETs: on a loaded machine the cron could otherwise time the
        // unanswered handshake out before the state is looked at.
        let (results, handshakes) = try await a.onLoop { bus in
            let results = [bus.meet(ip: "not-an-ip", port: 7000, busPort: 17000), bus.meet(ip: "127.0.0.1", port: 0, busPort: 17000),
                           bus.meet(ip: "127.0.0.1", port: 7000, busPort: 65536), bus.meet(ip: "::1", port: 7000, busPort: 17000),
                           bus.meet(ip: "::1", port: 7000, busPort: 17000)]
            return (results, bus.state.nodes.values.filter { $0.flags.contains(.handshake) })
        }
        #expect(results == [false, false, false, true, true])
        // The second MEET of one address joins the handshake under way.
        #expect(handshakes.count == 1 && handshakes.first?.ip == "::1")
        try await a.stop()
    }

    @Test func aLostLinkIsReconnectedByTheCron() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 2)
        defer { group.shutdownGracefully { _ in } }
        let a = try await BusNode(loop: group.next())
        let b = try await BusNode(loop: group.next(), slots: [7...7])
        let (port, busPort) = (b.clientPort, b.busPort)
        _ = try await a.onLoop { $0.meet(ip: "127.0.0.1", port: port, busPort: busPort) }
        let joined = try await eventually { try await bothKnow(a, b) }
        #expect(joined)

        // B goes away: A's link to it drops and stays down while nothing listens.
        try await b.stop()
        let down = try await eventually { try await a.state()[b.name]?.linkConnected == false }
        #expect(down)

        // B comes back with the same name and ports: A's cron reconnects and B learns A again
        // from A's PING (B's new table starts with itself only).
        let restarted = try await BusNode(loop: group.next(), slots: [7...7], name: b.name, ports: (b.clientPort, b.busPort))
        let back = try await eventually { try await a.knows(b.name) }
        #expect(back)
        let stateA = try await a.state()
        #expect(stateA.nodes.count == 2 && stateA.owner(of: 7) == b.name)
        try await a.stop()
        try await restarted.stop()
    }

    @Test func aHandshakeNobodyAnswersExpires() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        defer { group.shutdownGracefully { _ in } }
        let a = try await BusNode(loop: group.next(), settings: .init(nodeTimeoutMillis: 1000))
        let nobody = try freePortPair()
        // Read the table in the same loop turn as the MEET: on a loaded machine a second call could
        // come after the one-second handshake timeout and find the node already gone.
        let started = try await a.onLoop { bus -> Bool in
            bus.meet(ip: "127.0.0.1", port: nobody.client, busPort: nobody.bus) && bus.state.nodes.count == 2
        }
        #expect(started)
        let expired = try await eventually { try await a.state().nodes.count == 1 }
        #expect(expired)
        try await a.stop()
    }
}
