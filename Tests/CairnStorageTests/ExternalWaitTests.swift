import CairnRESP
@testable import CairnStorage
import Testing

/// The general blocked-client state: a command (WAIT and MIGRATE later) parks its client until
/// another part of the node completes the wait, or its deadline passes.
@Suite struct ExternalWaitTests {
    /// `parktest <ms>`: waits externally; on timeout replies `:-1`. 0 ms: no deadline.
    static func harness(origin: ClientOrigin = .user) -> EngineHarness {
        let h = EngineHarness(origin: origin)
        h.engine.commands.register(CommandSpec("parktest", arity: 2, flags: [], categories: [.slow], group: "server",
                                               summary: "test", handler: { c in
            let ms = c.args.int64(1) ?? 0
            let blocked = c.engine.blockExternally(c, name: "parktest", deadline: ms == 0 ? nil : c.engine.now + ms) { reply in
                reply.integer(-1)
            }
            if !blocked { c.reply.error("ERR cannot block") }
        }))
        return h
    }

    func park(_ h: EngineHarness, _ ms: String) {
        Arguments.with(["parktest", ms].map { Array($0.utf8) }) { h.engine.execute(h.client, $0) }
    }

    @Test func completedByAnotherPartOfTheNode() {
        let h = Self.harness()
        var resumed = 0
        h.engine.onClientUnblocked = { _ in resumed += 1 }
        park(h, "0")
        #expect(h.client.blocked != nil)
        #expect(h.engine.blockedClientCount == 1)
        #expect(h.takeReply() == nil)
        // Deadlines that never come do not end it.
        h.engine.expireBlockedClients()
        #expect(h.client.blocked != nil)
        #expect(h.engine.completeExternalWait(h.client) { $0.integer(3) })
        #expect(h.takeReply() == .integer(3))
        #expect(h.client.blocked == nil && h.engine.blockedClientCount == 0 && resumed == 1)
        // Only once.
        #expect(!h.engine.completeExternalWait(h.client) { $0.integer(4) })
    }

    @Test func timesOutWithItsOwnReply() {
        let h = Self.harness()
        park(h, "1")
        #expect(h.client.blocked != nil)
        // The cron finds the deadline passed.
        let deadline = Clock.unixMillis() + 1
        while Clock.unixMillis() <= deadline {}
        h.engine.expireBlockedClients()
        #expect(h.takeReply() == .integer(-1))
        #expect(h.client.blocked == nil)
    }

    @Test func unblockAndDisconnectEndIt() {
        let h = Self.harness()
        park(h, "0")
        #expect(h.engine.unblock(h.client, withError: "UNBLOCKED client unblocked via CLIENT UNBLOCK"))
        #expect(h.takeReply() == .err("UNBLOCKED client unblocked via CLIENT UNBLOCK"))
        park(h, "0")
        h.engine.clientClosed(h.client)
        #expect(h.engine.blockedClientCount == 0 && h.engine.externallyBlocked.isEmpty)
    }

    @Test func aMasterLinkCannotPark() {
        let h = Self.harness(origin: .master)
        park(h, "0")
        #expect(h.client.blocked == nil)
        #expect(h.takeReply() == .err("ERR cannot block"))
    }
}
