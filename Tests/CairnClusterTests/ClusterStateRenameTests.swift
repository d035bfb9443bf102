import Testing
import CairnCluster

/// `ClusterState.rename`: what the bus does when a handshake node's first PONG gives its real name.
@Suite struct ClusterStateRenameTests {
    static let names = (0..<5).map { NodeName(String(repeating: String($0), count: 40))! }

    @Test func renameKeepsPlaceSlotsAndReferences() {
        var state = ClusterState(myself: ClusterNode(name: Self.names[0], flags: .master))
        state.add(ClusterNode(name: Self.names[1], ip: "10.0.0.1", port: 7001, busPort: 17001, flags: [.master, .handshake], configEpoch: 4))
        state.add(ClusterNode(name: Self.names[2], flags: .replica, replicaOf: Self.names[1]))
        state.assign(9, to: Self.names[1])
        state.setMigrating(3, to: Self.names[1])
        state.setImporting(4, from: Self.names[1])
        state.update(Self.names[1]) { $0.pongReceivedMs = 77; $0.linkConnected = true }

        let renamedOK = state.rename(Self.names[1], to: Self.names[3])
        #expect(renamedOK)
        #expect(state[Self.names[1]] == nil)
        let renamed = state[Self.names[3]]
        #expect(renamed?.ip == "10.0.0.1" && renamed?.port == 7001 && renamed?.busPort == 17001 && renamed?.configEpoch == 4)
        #expect(renamed?.pongReceivedMs == 77 && renamed?.linkConnected == true && renamed?.flags == [.master, .handshake])
        #expect(renamed?.slots.slots == [9] && state.owner(of: 9) == Self.names[3])
        #expect(state.migratingTo[3] == Self.names[3] && state.importingFrom[4] == Self.names[3])
        #expect(state[Self.names[2]]?.replicaOf == Self.names[3])
        #expect(state.order == [Self.names[0], Self.names[3], Self.names[2]])
    }

    @Test func renameRefusesMyselfUnknownAndTakenNames() {
        var state = ClusterState(myself: ClusterNode(name: Self.names[0], flags: .master))
        state.add(ClusterNode(name: Self.names[1]))
        state.add(ClusterNode(name: Self.names[2]))
        let before = state
        let results = [state.rename(Self.names[0], to: Self.names[4]), state.rename(Self.names[3], to: Self.names[4]),
                       state.rename(Self.names[1], to: Self.names[2]), state.rename(Self.names[1], to: Self.names[0])]
        #expect(results == [false, false, false, false])
        #expect(state == before)
    }
}
