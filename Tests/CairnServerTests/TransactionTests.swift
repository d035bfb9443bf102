@testable import CairnServer
import CairnRESP
@testable import CairnStorage
import Testing

/// MULTI/EXEC/DISCARD/WATCH through the server's dispatch path. Expected replies were checked
/// against Redis 7.0.15.
@Suite struct TransactionTests {
    func w(_ words: String...) -> [[UInt8]] { words.map { Array($0.utf8) } }

    @Test func queueAndExec() {
        let h = ServerHarness()
        #expect(h.run("MULTI") == .ok)
        #expect(h.run("SET", "a", "1") == .simple("QUEUED"))
        #expect(h.run("INCR", "a") == .simple("QUEUED"))
        #expect(h.run("INCR", "nonint-later") == .simple("QUEUED"))
        #expect(h.run("EXEC") == .array([.ok, .integer(2), .integer(1)]))
        #expect(h.run("GET", "a") == .bulk("2"))
        #expect(h.run("MULTI") == .ok)
        #expect(h.run("EXEC") == .array([]))
    }

    @Test func runTimeErrorsAreReportedPerCommand() {
        let h = ServerHarness()
        h.run("SET", "s", "abc")
        h.run("MULTI")
        h.run("INCR", "s")
        h.run("SET", "t", "1")
        #expect(h.run("EXEC") == .array([.err("ERR value is not an integer or out of range"), .ok]))
    }

    @Test func queueTimeErrorsAbortTheExec() {
        let h = ServerHarness()
        h.run("MULTI")
        #expect(h.run("GET") == .err("ERR wrong number of arguments for 'get' command"))
        #expect(h.run("SET", "a", "1") == .simple("QUEUED"))
        #expect(h.run("EXEC") == .err("EXECABORT Transaction discarded because of previous errors."))
        #expect(h.run("GET", "a") == .nilBulk)
        h.run("MULTI")
        #expect(h.run("NOSUCH") == .err("ERR unknown command 'NOSUCH', with args beginning with: "))
        #expect(h.run("EXEC") == .err("EXECABORT Transaction discarded because of previous errors."))
        h.run("MULTI")
        #expect(h.run("SHUTDOWN") == .err("ERR Command not allowed inside a transaction"))
        #expect(h.run("EXEC") == .err("EXECABORT Transaction discarded because of previous errors."))
    }

    @Test func nestingWatchInsideAndStrayExec() {
        let h = ServerHarness()
        #expect(h.run("EXEC") == .err("ERR EXEC without MULTI"))
        #expect(h.run("DISCARD") == .err("ERR DISCARD without MULTI"))
        h.run("MULTI")
        #expect(h.run("MULTI") == .err("ERR MULTI calls can not be nested"))
        #expect(h.run("WATCH", "k") == .err("ERR WATCH inside MULTI is not allowed"))
        h.run("SET", "a", "1")
        #expect(h.run("EXEC") == .array([.ok]))  // neither error dooms the transaction
        h.run("MULTI")
        h.run("SET", "a", "2")
        #expect(h.run("DISCARD") == .ok)
        #expect(h.run("GET", "a") == .bulk("1"))
    }

    @Test func watchedKeyWrittenByAnotherClientFailsExec() {
        let h = ServerHarness()
        let other = h.makeClient(id: 99)
        h.run("WATCH", "k")
        h.run(w("SET", "k", "1"), as: other)
        h.run("MULTI")
        h.run("SET", "k", "2")
        #expect(h.run("EXEC") == .array(nil))
        #expect(h.run("GET", "k") == .bulk("1"))
        // EXEC unwatched everything: the next transaction runs.
        h.run("MULTI")
        h.run("SET", "k", "3")
        #expect(h.run("EXEC") == .array([.ok]))
    }

    @Test func resp3AbortIsNull() {
        let h = ServerHarness()
        h.run("HELLO", "3")
        h.run("WATCH", "k")
        h.run("SET", "k", "1")  // the watcher's own write counts too
        h.run("MULTI")
        h.run("GET", "k")
        #expect(h.raw("EXEC") == "_\r\n")
    }

    @Test func unwatchAndUnchangedKeysLetExecRun() {
        let h = ServerHarness()
        let other = h.makeClient(id: 99)
        h.run("WATCH", "k", "j")
        h.run(w("SET", "unrelated", "1"), as: other)
        h.run(w("SET", "k", "nx-fails", "XX"), as: other)  // no change: must not invalidate
        h.run("MULTI")
        h.run("PING")
        #expect(h.run("EXEC") == .array([.simple("PONG")]))
        h.run("WATCH", "k")
        h.run("UNWATCH")
        h.run(w("SET", "k", "1"), as: other)
        h.run("MULTI")
        h.run("PING")
        #expect(h.run("EXEC") == .array([.simple("PONG")]))
    }

    @Test func readOnlySourceOfAWriteDoesNotInvalidate() {
        let h = ServerHarness()
        let other = h.makeClient(id: 99)
        h.run("SET", "src", "x")
        h.run("WATCH", "src")
        h.run(w("COPY", "src", "dst"), as: other)       // src is read-only in COPY's key specs
        h.run(w("BITOP", "NOT", "dst2", "src"), as: other)
        h.run("MULTI")
        h.run("GET", "src")
        #expect(h.run("EXEC") == .array([.bulk("x")]))
        h.run("WATCH", "dst")
        h.run(w("COPY", "src", "dst", "REPLACE"), as: other)  // dst is written
        h.run("MULTI")
        h.run("GET", "dst")
        #expect(h.run("EXEC") == .array(nil))
    }

    @Test func flushAndExpiryInvalidate() {
        let h = ServerHarness()
        let other = h.makeClient(id: 99)
        h.run("SET", "k", "1")
        h.run("WATCH", "k")
        h.run(w("FLUSHALL"), as: other)
        h.run("MULTI"); h.run("PING")
        #expect(h.run("EXEC") == .array(nil))
        // Watching a missing key: FLUSHALL does not touch it (Redis touches existing keys only).
        h.run("WATCH", "missing")
        h.run(w("FLUSHDB"), as: other)
        h.run("MULTI"); h.run("PING")
        #expect(h.run("EXEC") == .array([.simple("PONG")]))
        // A key that expires between WATCH and EXEC fails the EXEC. The TTL is put in the past
        // behind the engine's back (no command, so nothing else touches the key): a TTL of a few
        // milliseconds could already be over at WATCH time on a slow machine, and a key expired
        // when WATCH runs does not fail the EXEC (Redis records that at WATCH time).
        h.run("SET", "e", "1")
        h.run("WATCH", "e")
        let db = h.server.engine.databases[0]
        db.table.setExpire(at: db.lookup(Array("e".utf8))!, 1)
        h.run("MULTI"); h.run("PING")
        #expect(h.run("EXEC") == .array(nil))
    }

    @Test func resetAndDisconnectDropState() {
        let h = ServerHarness()
        h.run("WATCH", "k")
        h.run("MULTI")
        #expect(h.run("RESET") == .simple("RESET"))
        #expect(h.run("EXEC") == .err("ERR EXEC without MULTI"))
        h.run("WATCH", "k")
        h.server.engine.clientClosed(h.client)
        #expect(h.server.engine.watchedKeys.isEmpty)
    }
}
