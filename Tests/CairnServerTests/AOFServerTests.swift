@testable import CairnServer
import CairnRESP
@testable import CairnStorage
import Testing
#if canImport(Glibc)
import Glibc
#endif

// The AOF in a server that is built but not started: start-up, feeding and the end of a turn,
// MISCONF after a failed write, a rewrite whose swap fails and the back-off of automatic
// rewrites, the manifest transitions of a rewrite, shutdown while the first base is written.
// Commands run on the test thread, so the test ends each turn itself (`endAOFTurn`) and runs
// the cron's AOF step (`aofCron`) by hand. Rewrites fork the test process.

@Suite(.serialized) struct AOFServerTests {
    final class Fixture {
        let dir: String
        let harness: ServerHarness
        var server: Server { harness.server }
        var aofDir: String { dir + "/appendonlydir" }

        init(sync: (@Sendable (Int32) -> Int32)? = nil, configure: (inout ServerSettings) -> Void = { _ in }) throws {
            var template = Array("/tmp/cairn-aofsrv-XXXXXX".utf8CString)
            dir = mkdtemp(&template).map { String(cString: $0) } ?? "/tmp"
            var settings = ServerSettings()
            settings.persistence.dbfilename = dir + "/dump.rdb"
            settings.persistence.appenddirname = dir + "/appendonlydir"
            settings.persistence.appendonly = true
            settings.enableDebugCommand = "yes"
            configure(&settings)
            harness = ServerHarness(settings: settings)
            if let sync { harness.server.persistence.aof.fsyncThread = AOFFsyncThread(sync: sync) }
            try server.loadDataFromDisk()
        }

        deinit {
            server.persistence.shutdown()
            PersistenceTests.removeTree(dir)
        }

        @discardableResult
        func run(_ words: String...) -> RESPValue { harness.run(words.map { Array($0.utf8) }) }

        func files() -> [String] {
            DirectoryEntries.names(in: aofDir) ?? []
        }

        func manifestText() -> String {
            String(decoding: server.persistence.aof.manifest.serialized(), as: UTF8.self)
        }

        /// Runs the cron's AOF step until the rewrite child has been reaped (bounded).
        func waitForRewrite() {
            for _ in 0..<3000 where server.persistence.child != nil {
                server.persistence.cron()
                usleep(10_000)
            }
            #expect(server.persistence.child == nil, "the rewrite did not end")
        }

        func info() -> [String: String] { server.persistenceFields() }

        /// A fresh engine loaded from the AOF directory.
        func reloaded() throws -> Engine {
            let engine = Engine()
            _ = try AOFLoader.load(directory: aofDir, prefix: "appendonly.aof", into: engine, options: AOFLoadOptions(),
                                   logger: ServerHarness.quietLogger)
            return engine
        }
    }

    @Test func startUpCreatesBaseIncrementAndManifest() throws {
        let f = try Fixture()
        #expect(f.files() == ["appendonly.aof.1.base.rdb", "appendonly.aof.1.incr.aof", "appendonly.aof.manifest"])
        #expect(f.manifestText() == "file appendonly.aof.1.base.rdb seq 1 type b\nfile appendonly.aof.1.incr.aof seq 1 type i\n")
        #expect(f.server.persistence.aof.status == .on)
        #expect(f.info()["aof_enabled"] == "1")
    }

    @Test func writesWaitForTheEndOfTheTurnReadsDoNot() throws {
        let f = try Fixture()
        f.run("GET", "a")
        #expect(!f.server.aofHoldsReplies)
        #expect(f.run("SET", "a", "1") == .ok)
        #expect(f.run("INCR", "n") == .integer(1))
        #expect(f.server.aofHoldsReplies, "replies of this turn wait for its write")
        #expect(f.info()["aof_buffer_length"] != "0")
        f.server.persistence.endAOFTurn()
        #expect(!f.server.aofHoldsReplies)
        #expect(f.info()["aof_buffer_length"] == "0")
        let engine = try f.reloaded()
        #expect(engine.databases[0].count == 2)
    }

    @Test func alwaysSyncsOncePerTurnForEveryClientOfTheTurn() throws {
        let disk = AOFWriterTests.SlowDisk()
        let f = try Fixture(sync: { disk.sync($0) }) { $0.persistence.appendfsync = .always }
        let clients = (1...3).map { f.harness.makeClient(id: Int64(100 + $0)) }
        for (i, client) in clients.enumerated() {
            f.harness.run([Array("SET".utf8), Array("k\(i)".utf8), Array("v".utf8)], as: client)
        }
        f.harness.run([Array("INCR".utf8), Array("n".utf8)], as: clients[0])
        #expect(disk.count == 0, "nothing synced before the turn ends")
        f.server.persistence.endAOFTurn()
        #expect(disk.count == 1, "one fsync for the whole turn")
        f.run("SET", "later", "1")
        f.server.persistence.endAOFTurn()
        #expect(disk.count == 2)
        // A turn without writes costs no fsync.
        f.run("GET", "later")
        f.server.persistence.endAOFTurn()
        f.server.persistence.cron()
        #expect(disk.count == 2)
        #expect(try f.reloaded().databases[0].count == 5)
    }

    @Test func aFailedWriteRefusesWritesWithMisconfUntilOneSucceeds() throws {
        let f = try Fixture()
        guard let writer = f.server.persistence.aof.writer else { throw AOFError(.io, "no writer") }
        let good = dup(writer.fd)
        let full = open("/dev/full", O_WRONLY)
        dup2(full, writer.fd)
        f.run("SET", "a", "1")
        f.server.persistence.endAOFTurn()
        #expect(f.info()["aof_last_write_status"] == "err")
        let misconf = RESPValue.err("MISCONF Errors writing to the AOF file: No space left on device")
        #expect(f.run("SET", "b", "2") == misconf)
        #expect(f.run("PING") == misconf)
        #expect(f.run("GET", "a") == .bulk("1"))
        // The disk has room again: the cron's retry writes the buffer and writes are accepted.
        dup2(good, writer.fd)
        f.server.persistence.cron()
        #expect(f.info()["aof_last_write_status"] == "ok")
        #expect(f.run("SET", "b", "2") == .ok)
        f.server.persistence.endAOFTurn()
        close(good)
        close(full)
        let engine = try f.reloaded()
        #expect(engine.databases[0].count == 2)
    }

    @Test func bgrewriteaofSwapsBaseAndDropsHistory() throws {
        let f = try Fixture()
        f.run("SET", "a", "1")
        f.run("SELECT", "5")
        f.run("RPUSH", "l", "x", "y")
        f.server.persistence.endAOFTurn()
        #expect(f.run("BGREWRITEAOF") == .simple("Background append only file rewriting started"))
        #expect(f.manifestText().hasSuffix("file appendonly.aof.2.incr.aof seq 2 type i\n"))
        // Written while the child runs: goes to the new increment, after a SELECT.
        f.run("SET", "during", "1")
        f.server.persistence.endAOFTurn()
        f.waitForRewrite()
        #expect(f.files() == ["appendonly.aof.2.base.rdb", "appendonly.aof.2.incr.aof", "appendonly.aof.manifest"])
        #expect(f.manifestText() == "file appendonly.aof.2.base.rdb seq 2 type b\nfile appendonly.aof.2.incr.aof seq 2 type i\n")
        let fields = f.info()
        #expect(fields["aof_last_bgrewrite_status"] == "ok")
        #expect(fields["aof_rewrites"] == "1")
        let engine = try f.reloaded()
        #expect(engine.databases[0].count == 1)
        #expect(engine.databases[5].count == 2)
    }

    @Test func aFailedSwapKeepsTheManifestAndBacksOff() throws {
        let f = try Fixture()
        f.run("SET", "a", "1")
        f.server.persistence.endAOFTurn()
        // The next base name is taken by a non-empty directory: the parent's rename fails.
        let blocker = f.aofDir + "/appendonly.aof.2.base.rdb"
        mkdir(blocker, 0o755)
        close(open(blocker + "/x", O_CREAT | O_WRONLY, 0o644))
        #expect(f.run("BGREWRITEAOF") == .simple("Background append only file rewriting started"))
        f.waitForRewrite()
        var fields = f.info()
        #expect(fields["aof_last_bgrewrite_status"] == "err")
        #expect(fields["aof_rewrites_consecutive_failures"] == "1")
        // The increment opened for the rewrite stays in use; nothing temporary is left.
        #expect(f.manifestText() == "file appendonly.aof.1.base.rdb seq 1 type b\nfile appendonly.aof.1.incr.aof seq 1 type i\nfile appendonly.aof.2.incr.aof seq 2 type i\n")
        #expect(!f.files().contains { $0.hasPrefix("temp-") })
        f.run("SET", "b", "2")
        f.server.persistence.endAOFTurn()
        #expect(try f.reloaded().databases[0].count == 2)

        // Three failures in a row: automatic and scheduled rewrites wait (1 minute at first).
        f.server.persistence.aof.consecutiveFailures = 3
        #expect(f.server.persistence.rewriteLimited())
        #expect(f.server.persistence.aof.retryDelayMinutes == 1)
        #expect(f.server.persistence.rewriteLimited())
        // BGREWRITEAOF by hand is not limited, and succeeds once the name is free.
        PersistenceTests.removeTree(blocker)
        #expect(f.run("BGREWRITEAOF") == .simple("Background append only file rewriting started"))
        f.waitForRewrite()
        fields = f.info()
        #expect(fields["aof_last_bgrewrite_status"] == "ok")
        #expect(fields["aof_rewrites_consecutive_failures"] == "0")
        #expect(f.manifestText() == "file appendonly.aof.2.base.rdb seq 2 type b\nfile appendonly.aof.3.incr.aof seq 3 type i\n")
        #expect(try f.reloaded().databases[0].count == 2)
    }

    @Test func shutdownWaitsForTheFirstBase() throws {
        let f = try Fixture(configure: { $0.persistence.appendonly = false; $0.persistence.rdbKeySaveDelayMicros = 100_000 })
        f.run("SET", "a", "1")
        f.run("SET", "b", "1")
        #expect(f.run("CONFIG", "SET", "appendonly", "yes") == .ok)
        #expect(f.server.persistence.aof.status == .waitRewrite)
        #expect(!f.server.persistence.prepareForShutdown(nosave: true))
        #expect(f.server.persistence.prepareForShutdown(nosave: true, force: true))
        #expect(f.server.persistence.child == nil)
    }

    @Test func manifestTransitionsOfARewrite() {
        var m = AOFManifest(base: .init(name: "p.1.base.rdb", seq: 1, type: .base),
                            increments: [.init(name: "p.1.incr.aof", seq: 1, type: .incr)])
        #expect(m.addIncrement(prefix: "p").name == "p.2.incr.aof")
        #expect(m.replaceBase(prefix: "p", rdbPreamble: false).name == "p.2.base.aof")
        m.markRewrittenIncrementsAsHistory(keepingLast: true)
        #expect(m.history.map(\.name) == ["p.1.base.rdb", "p.1.incr.aof"])
        #expect(m.history.allSatisfy { $0.type == .history })
        #expect(m.increments.map(\.name) == ["p.2.incr.aof"])
        m.markRewrittenIncrementsAsHistory(keepingLast: false)
        #expect(m.increments.isEmpty)
        // Numbers keep increasing past names still in history.
        #expect(m.addIncrement(prefix: "p").name == "p.3.incr.aof")
    }
}
