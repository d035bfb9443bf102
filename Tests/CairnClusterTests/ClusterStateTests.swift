import Testing
@testable import CairnCluster

@Suite struct ClusterStateTests {
    static let names = (0..<4).map { NodeName(String(repeating: String($0), count: 40))! }

    @Test func assignMovesOwnership() {
        var state = ClusterState(myself: ClusterNode(name: Self.names[0], flags: .master))
        state.add(ClusterNode(name: Self.names[1], flags: .master))
        let first = state.assign(5, to: Self.names[0]), second = state.assign(5, to: Self.names[1])
        #expect(first && second)
        #expect(state[Self.names[0]]?.slots.isEmpty == true)
        #expect(state[Self.names[1]]?.slots.slots == [5])
        let outOfRange = state.assign(16384, to: Self.names[1]), unknown = state.assign(1, to: Self.names[3])
        let again = state.add(ClusterNode(name: Self.names[1]))
        #expect(!outOfRange && !unknown && !again)
        let once = state.unassign(5), twice = state.unassign(5)
        #expect(once && !twice)
    }

    @Test func removeForgetsEverything() {
        var state = ClusterState(myself: ClusterNode(name: Self.names[0], flags: .master))
        state.add(ClusterNode(name: Self.names[1], flags: .master))
        state.add(ClusterNode(name: Self.names[2], flags: .replica, replicaOf: Self.names[1]))
        state.assign(7, to: Self.names[1])
        state.setImporting(7, from: Self.names[1])
        let removedMyself = state.remove(Self.names[0]), removed = state.remove(Self.names[1])
        #expect(!removedMyself && removed)
        #expect(state.owner(of: 7) == nil && state.importingFrom.isEmpty)
        #expect(state[Self.names[2]]?.replicaOf == nil)
        #expect(state.order == [Self.names[0], Self.names[2]])
    }

    @Test func updateKeepsIdentityAndSlots() {
        var state = ClusterState(myself: ClusterNode(name: Self.names[0], flags: .master))
        state.assign(1, to: Self.names[0])
        state.update(Self.names[0]) { $0.flags = .replica; $0.slots = SlotBitmap(); $0.port = 6379 }
        #expect(state.myselfNode.flags == [.myself, .replica] && state.myselfNode.slots.slots == [1] && state.myselfNode.port == 6379)
    }

    @Test func evaluatedStatus() {
        var state = ClusterState(myself: ClusterNode(name: Self.names[0], flags: .master))
        for name in Self.names.dropFirst() { state.add(ClusterNode(name: name, flags: .master)) }
        #expect(state.evaluatedStatus(requireFullCoverage: true) == .fail)   // nothing served
        for slot in 0..<clusterSlotCount { state.assign(slot, to: Self.names[slot % 3]) }
        #expect(state.evaluatedStatus(requireFullCoverage: true) == .ok)
        state.update(Self.names[1]) { $0.flags.insert(.pfail) }
        #expect(state.evaluatedStatus(requireFullCoverage: true) == .ok)     // 2 of 3 reachable
        state.update(Self.names[2]) { $0.flags.insert(.fail) }
        #expect(state.evaluatedStatus(requireFullCoverage: false) == .fail)  // 1 of 3: minority
        state.update(Self.names[1]) { $0.flags.remove(.pfail) }
        #expect(state.evaluatedStatus(requireFullCoverage: false) == .ok)
        #expect(state.evaluatedStatus(requireFullCoverage: true) == .fail)   // a slot on a failed node
        state.unassign(0)
        state.update(Self.names[2]) { $0.flags.remove(.fail) }
        #expect(state.evaluatedStatus(requireFullCoverage: true) == .fail)
        #expect(state.evaluatedStatus(requireFullCoverage: false) == .ok)
    }

    @Test func randomNamesAreHex() {
        var generator = SystemRandomNumberGenerator()
        let name = NodeName.random(using: &generator)
        #expect(name.text.count == 40 && name.text.allSatisfy { $0.isHexDigit && !$0.isUppercase })
        #expect(NodeName(name.text) == name)
    }

    @Test func servedRangesAndReplicas() throws {
        let state = try #require(try NodesConf.parse(Fixture.bytes("nodes-conf/node-1.conf"))).state
        let ranges = state.servedRanges
        #expect(ranges.map(\.slots) == [0...5460, 5461...10922, 10923...16383])
        for (slots, owner) in ranges {
            #expect(state[owner]?.slots.ranges == [slots])
            #expect(state.replicas(of: owner).count == 1)
        }
        var partial = ClusterState(myself: ClusterNode(name: Self.names[0], flags: .master))
        for slot in [0, 1, 5, 16383] { partial.assign(slot, to: Self.names[0]) }
        #expect(partial.servedRanges.map(\.slots) == [0...1, 5...5, 16383...16383])
    }
}
