import CairnRESP
@testable import CairnStorage
import Logging
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// The persistence component below the server: one child slot whatever the job, an RDB stream to
/// the descriptors of a diskless replica sync, one loader with one set of rules, the AOF.
@Suite struct PersistenceComponentTests {
    final class Fixture {
        let dir = AOFTestFiles.makeDirectory()
        let harness = EngineHarness()
        let persistence: Persistence

        init(configure: (inout PersistenceSettings) -> Void = { _ in }) {
            var settings = PersistenceSettings()
            settings.savePoints = []
            settings.dbfilename = dir + "/dump.rdb"
            settings.appenddirname = dir + "/appendonlydir"
            configure(&settings)
            persistence = Persistence(engine: harness.engine, settings: settings,
                                      logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() }))
            persistence.install()
        }

        deinit {
            persistence.shutdown()
            AOFTestFiles.remove(dir)
        }

        /// Runs the cron until no child runs (bounded).
        func waitForChild() { runCron(until: { self.persistence.child == nil }, "the child to end") }

        /// Runs the cron until `condition` holds (bounded).
        func runCron(until condition: () -> Bool, _ what: String) {
            for _ in 0..<6000 where !condition() {
                persistence.cron()
                usleep(5000)
            }
            #expect(condition(), "timed out waiting for \(what)")
        }
    }

    @Test func oneChildSlotForEveryJob() throws {
        let f = Fixture { $0.rdbKeySaveDelayMicros = 2000 }
        for i in 0..<200 { f.harness.run("SET", "k\(i)", "v") }
        #expect(f.persistence.startBackgroundSave())
        #expect(f.persistence.child?.kind == .rdbToDisk)
        // Nothing else may fork meanwhile.
        #expect(!f.persistence.startRewrite())
        #expect(!f.persistence.startSnapshot(toDescriptors: [1]))
        guard case .failure(let busy) = f.persistence.requestBackgroundSave(schedule: false) else {
            Issue.record("a second BGSAVE was accepted")
            return
        }
        #expect(busy.reply == Persistence.saveInProgress)
        #expect(try f.persistence.requestRewrite().get() == "Background append only file rewriting scheduled")
        var ended: Bool?
        f.persistence.whenBackgroundSaveEnds { ended = $0 }
        f.runCron(until: { ended != nil }, "the save to end")
        #expect(ended == true)
        // The cron that reaped the save started the scheduled rewrite; BGSAVE waits behind it.
        #expect(f.persistence.child?.kind == .aofRewrite)
        #expect(f.persistence.infoLines().contains("aof_rewrite_in_progress:1"))
        guard case .failure(let other) = f.persistence.requestBackgroundSave(schedule: false) else {
            Issue.record("BGSAVE during a rewrite was accepted")
            return
        }
        #expect(other.reply.hasPrefix("ERR Another child process is active (AOF?)"))
        #expect(try f.persistence.requestBackgroundSave(schedule: true).get() == "Background saving scheduled")
        f.runCron(until: { f.persistence.child?.kind == .rdbToDisk }, "the scheduled save to start")
        f.waitForChild()
        #expect(f.persistence.rdb.lastBgsaveOK)
    }

    /// A diskless sync: the same framed stream reaches every live descriptor; one that fails is
    /// dropped, the others complete.
    @Test func snapshotToDescriptors() throws {
        let f = Fixture()
        for i in 0..<2000 { f.harness.run("SET", "key:\(i)", String(repeating: "v", count: i % 50)) }
        f.harness.run("RPUSH", "list", "a", "b", "c")
        f.harness.run("HSET", "hash", "f", "1")
        var pipes: [(read: Int32, write: Int32)] = []
        for _ in 0..<3 {
            var fds: [Int32] = [0, 0]
            #expect(pipe(&fds) == 0)
            _ = fcntl(fds[0], F_SETFL, fcntl(fds[0], F_GETFL) | O_NONBLOCK)
            pipes.append((fds[0], fds[1]))
        }
        // The third replica went away before the child writes.
        close(pipes[2].read)
        let prefix = Array("$EOF:0123456789012345678901234567890123456789\r\n".utf8)
        let suffix = Array("0123456789012345678901234567890123456789".utf8)
        var ended: Bool?
        f.persistence.whenBackgroundSaveEnds { ended = $0 }
        #expect(f.persistence.startSnapshot(toDescriptors: pipes.map(\.write), prefix: prefix, suffix: suffix))
        #expect(f.persistence.child?.kind == .rdbToDescriptors)
        #expect(f.persistence.infoLines().contains("rdb_bgsave_in_progress:1"))
        // The parent keeps no write end: a reader sees the end of the stream when the child exits.
        for p in pipes { close(p.write) }
        var received: [[UInt8]] = [[], []]
        var chunk = [UInt8](repeating: 0, count: 65536)
        var open = [true, true]
        for _ in 0..<20000 where open.contains(true) || f.persistence.child != nil {
            for i in 0..<2 where open[i] {
                let n = chunk.withUnsafeMutableBytes { read(pipes[i].read, $0.baseAddress, $0.count) }
                if n > 0 { received[i] += chunk[0..<n] } else if n == 0 { open[i] = false }
            }
            f.persistence.cron()
            usleep(500)
        }
        for i in 0..<2 { close(pipes[i].read) }
        #expect(ended == true)
        for stream in received {
            #expect(stream.starts(with: prefix))
            #expect(Array(stream.suffix(suffix.count)) == suffix)
            let rdb = Array(stream[prefix.count..<(stream.count - suffix.count)])
            let copy = Engine()
            _ = try RDBSnapshot.load(from: RDBReader(source: MemorySource(rdb)), into: copy, options: RDBLoadOptions())
            #expect(copy.totalKeys == f.harness.engine.totalKeys)
            #expect(DatasetDigest.dataset(copy) == DatasetDigest.dataset(f.harness.engine))
        }
    }

    /// One loader, one set of rules: a key already in memory is refused unless the load may
    /// replace it; keys already expired are skipped.
    @Test func oneLoaderWithItsRules() throws {
        let f = Fixture()
        f.harness.run("SET", "a", "file")
        f.harness.run("SET", "gone", "x", "PX", "100000")
        #expect(f.persistence.saveInForeground())
        f.harness.run("SET", "a", "memory")
        #expect(throws: RDBError.self) { try f.persistence.loadRDB(f.persistence.settings.dbfilename) }
        try f.persistence.loadRDB(f.persistence.settings.dbfilename, existingKeys: .replace)
        #expect(f.harness.run("GET", "a") == .bulk("file"))
        // DEBUG RELOAD: save, flush, load.
        f.harness.run("SET", "b", "2")
        #expect(f.persistence.debugReload(save: true, flush: true, merge: false) == nil)
        #expect(f.harness.run("DBSIZE") == .integer(3))
        #expect(f.persistence.rdb.lastLoadKeysLoaded == 3)
    }

    /// The AOF through the component: opened at start-up with a first base, fed by propagation,
    /// written at the end of each turn, loaded back.
    @Test func appendOnlyFileRoundTrip() throws {
        let f = Fixture { $0.appendonly = true; $0.appendfsync = .always }
        try f.persistence.loadDataFromDisk()
        #expect(f.persistence.aof.status == .on)
        var turnsWritten = 0
        f.persistence.onTurnWritten = { turnsWritten += 1 }
        f.harness.run("SET", "k", "v")
        f.harness.run("INCR", "n")
        #expect(f.persistence.holdsReplies)
        f.persistence.endAOFTurn()
        #expect(!f.persistence.holdsReplies && turnsWritten == 1)
        let copy = Engine()
        var options = AOFLoadOptions()
        options.loadTruncated = false
        _ = try AOFLoader.load(directory: f.persistence.aofDirectoryPath(), prefix: "appendonly.aof", into: copy, options: options,
                               logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() }))
        #expect(DatasetDigest.dataset(copy) == DatasetDigest.dataset(f.harness.engine))
    }
}

/// The component through the faulty file system: what it acknowledges under `always` survives a
/// crash, and a failed write turns into MISCONF rather than lost data.
@Suite struct PersistenceFaultTests {
    func component(_ fs: FaultyFileSystem, engine: Engine = Engine()) -> (Persistence, EngineHarness) {
        var settings = PersistenceSettings()
        settings.savePoints = []
        settings.appendonly = true
        settings.appendfsync = .always
        settings.dbfilename = fs.root + "/dump.rdb"
        settings.appenddirname = fs.root + "/appendonlydir"
        let harness = EngineHarness(engine: engine)
        let persistence = Persistence(engine: engine, settings: settings,
                                      logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() }), fileSystem: fs)
        persistence.install()
        return (persistence, harness)
    }

    @Test func acknowledgedWritesSurviveACrash() throws {
        let fs = FaultyFileSystem()
        let (persistence, h) = component(fs)
        try persistence.loadDataFromDisk()
        for i in 0..<50 {
            h.run("RPUSH", "log", String(i))
            persistence.endAOFTurn()  // the turn's replies may leave: written and fsynced
        }
        h.run("RPUSH", "log", "not-acknowledged")  // buffered, its turn never ended
        persistence.aof.fsyncThread.stop()
        fs.simulateCrash()
        fs.restart()
        let (reloaded, h2) = component(fs)
        defer { reloaded.shutdown() }
        try reloaded.loadDataFromDisk()
        #expect(h2.run("LLEN", "log") == .integer(50))
        #expect(h2.run("LINDEX", "log", "49") == .bulk("49"))
    }

    @Test func aFailedWriteBecomesMISCONFAndRecovers() throws {
        let fs = FaultyFileSystem()
        let (persistence, h) = component(fs)
        defer { persistence.shutdown() }
        var fatal: String?
        persistence.onFatalWriteError = { fatal = $0 }
        persistence.settings.appendfsync = .everysec
        try persistence.loadDataFromDisk()
        fs.fail(.write, with: ENOSPC, path: { $0.hasSuffix(".incr.aof") }, times: 1)
        h.run("SET", "k", "v")
        persistence.endAOFTurn()
        #expect(fatal == nil)
        #expect(h.run("SET", "k2", "v") == .err("MISCONF Errors writing to the AOF file: No space left on device"))
        #expect(h.run("GET", "k") == .bulk("v"))
        // The cron retries the write; writes are accepted again once it succeeded.
        persistence.cron()
        #expect(h.run("SET", "k2", "v") == .ok)
    }
}
