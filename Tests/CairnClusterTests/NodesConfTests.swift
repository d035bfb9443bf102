import Testing
@testable import CairnCluster

/// nodes.conf files written by real redis-server 7.0 nodes (Fixtures/cluster/nodes-conf/).
@Suite struct NodesConfFixtureTests {
    static let files = (try? Fixture.files(in: "nodes-conf", ending: ".conf")) ?? []

    @Test func fixturesExist() {
        #expect(Self.files.count >= 9)
    }

    @Test(arguments: files)
    func parsesAndWritesBackTheSameBytes(path: String) throws {
        let bytes = try Fixture.bytes(path)
        let loaded = try #require(try NodesConf.parse(bytes))
        #expect(loaded.warnings.isEmpty)
        #expect(String(decoding: NodesConf.render(loaded.state), as: UTF8.self) == String(decoding: bytes, as: UTF8.self))
    }

    @Test func readsEveryField() throws {
        let state = try #require(try NodesConf.parse(Fixture.bytes("nodes-conf/node-1.conf"))).state
        #expect(state.nodes.count == 6)
        #expect(state.currentEpoch == 6 && state.lastVoteEpoch == 0)
        let me = state.myselfNode
        #expect(me.flags == [.myself, .master])
        #expect(me.ip == "127.0.0.1" && me.busPort == me.port + 10000)
        #expect(me.slots.ranges == [0...5460])
        #expect(me.configEpoch == 1)
        let target = try #require(state.migratingTo[5000])
        #expect(state.importingFrom.isEmpty)
        #expect(state[target]?.slots.contains(5461) == true)
        #expect(state.owner(of: 5000) == state.myself)
        let masters = state.orderedNodes.filter(\.isMaster)
        let replicas = state.orderedNodes.filter(\.isReplica)
        #expect(masters.count == 3 && replicas.count == 3)
        for replica in replicas {
            #expect(replica.configEpoch == 0)  // a replica's printed epoch is its master's
            let master = try #require(replica.replicaOf.flatMap { state[$0] })
            #expect(master.isMaster)
            #expect(state.printedEpoch(of: replica) == master.configEpoch)
        }
        #expect(replicas.contains { $0.flags.contains(.noFailover) })
        for slot in 0..<clusterSlotCount { #expect(state.owner(of: slot) != nil) }
        #expect(state.evaluatedStatus(requireFullCoverage: true) == .ok)
    }

    @Test func importingSideAndFailedReplica() throws {
        let states = try Self.files.filter { $0.contains("/node-") }.map { try #require(try NodesConf.parse(Fixture.bytes($0))).state }
        #expect(states.filter { !$0.importingFrom.isEmpty }.count == 1)
        #expect(states.filter { !$0.migratingTo.isEmpty }.count == 1)
        let failed = try #require(try NodesConf.parse(Fixture.bytes("nodes-conf/failed-replica.conf"))).state
        let gone = try #require(failed.orderedNodes.first { $0.flags.contains(.fail) })
        #expect(gone.isReplica && !gone.linkConnected && gone.pingSentMs != 0)
    }

    @Test func hostnames() throws {
        let state = try #require(try NodesConf.parse(Fixture.bytes("nodes-conf/hostname-1.conf"))).state
        #expect(state.myselfNode.hostname == "node-1.cairn.test")
        #expect(Set(state.orderedNodes.map(\.hostname)) == ["node-1.cairn.test", "node-2.cairn.test", "node-3.cairn.test"])
    }

    /// CLUSTER NODES from real nodes: the same lines, so parsing and printing them gives the reply.
    @Test(arguments: ["nodes-conf/cluster-nodes-1.txt", "nodes-conf/cluster-nodes-4.txt", "nodes-conf/hostname-cluster-nodes.txt"])
    func clusterNodesText(path: String) throws {
        let text = try Fixture.text(path)
        let state = try #require(try NodesConf.parse(Array(text.utf8))).state
        #expect(NodesConf.clusterNodes(state) == text)
    }

    @Test func startAfterLoadResetsTimesAndLinks() throws {
        var state = try #require(try NodesConf.parse(Fixture.bytes("nodes-conf/failed-replica.conf"))).state
        state.startAfterLoad(nowMs: 42)
        for node in state.orderedNodes {
            #expect(!node.linkConnected)
            #expect(node.pingSentMs == 0 || node.pingSentMs == 42)
            #expect(node.pongReceivedMs == 0 || node.pongReceivedMs == 42)
            #expect(node.failTimeMs == (node.flags.contains(.fail) ? 42 : 0))
        }
    }
}

/// What the loader accepts beyond what Redis writes, and how it writes that back.
@Suite struct NodesConfGrammarTests {
    static let a = String(repeating: "a", count: 40)
    static let b = String(repeating: "b", count: 40)
    static let c = String(repeating: "c", count: 40)

    func load(_ text: String) throws -> ClusterState {
        try #require(try NodesConf.parse(Array(text.utf8))).state
    }

    @Test func emptyFileMeansNoConfiguration() throws {
        #expect(try NodesConf.parse([]) == nil)
    }

    @Test func oldAddressWithoutBusPort() throws {
        let state = try load("\(Self.a) 10.0.0.1:7000 myself,master - 0 0 3 connected 1 3-4\n")
        #expect(state.myselfNode.busPort == 17000)
        #expect(state.myselfNode.slots.slots == [1, 3, 4])
        #expect(String(decoding: NodesConf.render(state), as: UTF8.self)
            == "\(Self.a) 10.0.0.1:7000@17000 myself,master - 0 0 3 connected 1 3-4\nvars currentEpoch 3 lastVoteEpoch 0\n")
    }

    @Test func referencedNodesWithoutLinesAndCaseAndBlankLines() throws {
        let text = "\n\(Self.a) [::1]:7000@17000 MYSELF,Slave \(Self.b) 0 0 9 connected\r\n \t\nVARS currenteppoch 1 CURRENTEPOCH 2 lastvoteepoch 1\n"
        let loaded = try #require(try NodesConf.parse(Array(text.utf8)))
        #expect(loaded.warnings.count == 1)
        let state = loaded.state
        #expect(state.myselfNode.ip == "[::1]")
        #expect(state.myselfNode.flags == [.myself, .replica] && state.myselfNode.configEpoch == 0)
        #expect(state.currentEpoch == 2 && state.lastVoteEpoch == 1)
        #expect(state[NodeName(Self.b)!] == ClusterNode(name: NodeName(Self.b)!))
        #expect(String(decoding: NodesConf.render(state), as: UTF8.self) == """
            \(Self.a) [::1]:7000@17000 myself,slave \(Self.b) 0 0 0 connected
            \(Self.b) :0@0 noflags - 0 0 0 disconnected
            vars currentEpoch 2 lastVoteEpoch 1

            """)
    }

    @Test func ipv6UsesTheLastColon() throws {
        let state = try load("\(Self.a) ::1:7000@17000 myself,master - 0 0 0 connected\n")
        #expect(state.myselfNode.ip == "::1" && state.myselfNode.port == 7000)
    }

    @Test func movingSlotsOnAnyLineAreWrittenOnMyselfLine() throws {
        let state = try load("""
            \(Self.b) 127.0.0.1:7001@17001 master - 0 5 2 connected 100 [7->-\(Self.c)]
            \(Self.a) 127.0.0.1:7000@17000 myself,master - 0 0 1 connected 7 [100-<-\(Self.b)]
            \(Self.c) 127.0.0.1:7002@17002 handshake - 0 0 0 disconnected

            """)
        #expect(state.migratingTo == [7: NodeName(Self.c)!])
        #expect(state.importingFrom == [100: NodeName(Self.b)!])
        #expect(state.currentEpoch == 2)
        #expect(String(decoding: NodesConf.render(state), as: UTF8.self) == """
            \(Self.b) 127.0.0.1:7001@17001 master - 0 5 2 connected 100
            \(Self.a) 127.0.0.1:7000@17000 myself,master - 0 0 1 connected 7 [7->-\(Self.c)] [100-<-\(Self.b)]
            vars currentEpoch 2 lastVoteEpoch 0

            """)
        #expect(NodesConf.clusterNodes(state).hasSuffix("\(Self.c) 127.0.0.1:7002@17002 handshake - 0 0 0 disconnected\n"))
    }

    @Test func builtStateRendersAsRedis() throws {
        let me = NodeName(Self.a)!, other = NodeName(Self.b)!
        var state = ClusterState(myself: ClusterNode(name: me, ip: "127.0.0.1", port: 7000, busPort: 17000, flags: .master, configEpoch: 1))
        state.add(ClusterNode(name: other, ip: "127.0.0.1", port: 7001, busPort: 17001, hostname: "b.test", flags: [.replica, .pfail], replicaOf: me))
        for slot in 0...10 { state.assign(slot, to: me) }
        state.assign(16383, to: me)
        state.update(other) { $0.pongReceivedMs = 99; $0.linkConnected = true }
        state.currentEpoch = 4
        #expect(NodesConf.clusterNodes(state) == """
            \(Self.a) 127.0.0.1:7000@17000 myself,master - 0 0 1 connected 0-10 16383
            \(Self.b) 127.0.0.1:7001@17001,b.test slave,fail? \(Self.a) 0 99 1 connected

            """)
        let reloaded = try #require(try NodesConf.parse(NodesConf.render(state))).state
        #expect(reloaded == state)
    }
}
