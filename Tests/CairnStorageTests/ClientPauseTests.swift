@testable import CairnStorage
import Testing

/// The pause bookkeeping (Redis's pauseClients / updateClientPauseTypeAndEndTime) and which
/// commands a pause postpones; the end-to-end behaviour is in Tests/Integration/test_client_pause.py.
@Suite struct ClientPauseTests {
    @Test func purposesCombineToTheStricterTypeAndItsFurthestEnd() {
        let engine = Engine()
        let now = Clock.unixMillis()
        engine.pauseClients(.clientCommand, untilMillis: now + 10_000, type: .write)
        engine.pauseClients(.failover, untilMillis: now + 5_000, type: .all)
        #expect(engine.clientPauseType() == .all && engine.clientPauseEndMillis == now + 5_000)
        // The same purpose again keeps the later end and the stricter type.
        engine.pauseClients(.clientCommand, untilMillis: now + 1_000, type: .write)
        engine.unpauseClients(.failover)
        #expect(engine.clientPauseType() == .write && engine.clientPauseEndMillis == now + 10_000)
        engine.unpauseClients(.clientCommand)
        #expect(engine.clientPauseType() == .off)
        // An end already past is no pause (CLIENT PAUSE 0).
        engine.pauseClients(.clientCommand, untilMillis: 0, type: .all)
        #expect(engine.clientPauseType() == .off)
    }

    @Test func writePausePostponesWritesUntilItWeakens() {
        let h = EngineHarness()
        var resumed: [Int64] = []
        h.engine.onClientUnblocked = { resumed.append($0.id) }
        h.engine.pauseClients(.clientCommand, untilMillis: Clock.unixMillis() + 60_000, type: .write)
        h.run("GET", "k")
        #expect(!h.client.postponed, "reads run under a WRITE pause")
        Arguments.with(["SET", "k", "v"].map { Array($0.utf8) }) { h.engine.execute(h.client, $0) }
        #expect(h.client.postponed && h.engine.postponedClientCount == 1)
        #expect(h.engine.databases[0].lookup(Array("k".utf8)) == nil, "the SET did not run")
        h.engine.unpauseClients(.clientCommand)
        #expect(!h.client.postponed && resumed == [h.client.id] && h.engine.postponedClientCount == 0)
    }

    /// With a deferring hook (the server's), a pause that ends inside some command hands the
    /// postponed clients over instead of running them there.
    @Test func resumedClientsAreHandedToTheDeferringHook() {
        let h = EngineHarness()
        var direct = 0
        var deferred: [Int64] = []
        h.engine.onClientUnblocked = { _ in direct += 1 }
        h.engine.onPostponedResume = { deferred += $0.map(\.id) }
        h.engine.pauseClients(.clientCommand, untilMillis: Clock.unixMillis() + 60_000, type: .all)
        Arguments.with(["GET", "k"].map { Array($0.utf8) }) { h.engine.execute(h.client, $0) }
        #expect(h.client.postponed)
        h.engine.unpauseClients(.clientCommand)
        #expect(deferred == [h.client.id] && direct == 0 && !h.client.postponed)
    }
}
