@testable import CairnServer
import CairnRESP
@testable import CairnStorage
import Testing
#if canImport(Glibc)
import Glibc
#endif

// SAVE, BGSAVE (forking the test process), LASTSAVE, save points, MISCONF, SHUTDOWN's save,
// DEBUG RELOAD, start-up loading and INFO persistence, on a server that is built but not started:
// the tests run the cron's persistence step themselves.

@Suite struct PersistenceTests {
    /// A server whose dump file lives in a fresh directory (removed by `cleanUp`).
    final class Fixture {
        let dir: String
        let harness: ServerHarness
        var server: Server { harness.server }
        var dump: String { dir + "/dump.rdb" }

        init(savePoints: [SavePoint] = [], configure: (inout ServerSettings) -> Void = { _ in }) {
            var template = Array("/tmp/cairn-persist-XXXXXX".utf8CString)
            dir = mkdtemp(&template).map { String(cString: $0) } ?? "/tmp"
            var settings = ServerSettings()
            settings.persistence.dbfilename = dir + "/dump.rdb"
            settings.enableDebugCommand = "yes"
            configure(&settings)
            harness = ServerHarness(settings: settings)
            harness.server.settings.persistence.savePoints = savePoints
        }

        deinit {
            if let child = server.persistence.child {
                child.process.kill()
                _ = child.process.wait()
            }
            removeTree(dir)
        }

        @discardableResult
        func run(_ words: String...) -> RESPValue { harness.run(words.map { Array($0.utf8) }) }

        /// Runs the cron's persistence step until the background save has ended (bounded).
        func waitForBackgroundSave() {
            for _ in 0..<3000 where server.persistence.child != nil {
                server.persistence.cron()
                usleep(10_000)
            }
            #expect(server.persistence.child == nil, "the background save did not end")
        }

        func info() -> [String: String] { server.persistenceFields() }

        /// The keys the dump file holds, loaded into a fresh engine.
        func dumpedKeys(db: Int = 0) throws -> [String] {
            let engine = Engine()
            _ = try RDBSnapshot.load(path: dump, into: engine, options: RDBLoadOptions())
            let table = engine.databases[db].table
            return table.indices.map { String(decoding: table.key(at: $0), as: UTF8.self) }.sorted()
        }

        func exists(_ path: String) -> Bool { access(path, F_OK) == 0 }
    }

    static func removeTree(_ path: String) {
        if unlink(path) == 0 { return }
        for name in DirectoryEntries.names(in: path) ?? [] { removeTree(path + "/" + name) }
        rmdir(path)
    }

    // MARK: directives

    @Test func saveDirectiveParsesAsRedis() throws {
        #expect(try SavePoint.parse(["3600 1 300 100"]) == [SavePoint(seconds: 3600, changes: 1), SavePoint(seconds: 300, changes: 100)])
        #expect(try SavePoint.parse(["60", "5"]) == [SavePoint(seconds: 60, changes: 5)])
        #expect(try SavePoint.parse([""]) == [])
        #expect(try SavePoint.parse(["5 0"]) == [SavePoint(seconds: 5, changes: 0)])
        for bad in ["1 a", "0 1", "1", "5 -1", " 5  1 ", "5 1 7"] {
            #expect(throws: ConfigError.self, "\(bad)") { try SavePoint.parse([bad]) }
        }
    }

    @Test func saveConfigGetSetAndFileLines() throws {
        let h = ServerHarness()
        h.server.settings.persistence.savePoints = SavePoint.defaults
        #expect(h.run("CONFIG", "GET", "save") == .array([.bulk("save"), .bulk("3600 1 300 100 60 10000")]))
        #expect(h.run("CONFIG", "SET", "save", "5 1 5 1") == .ok)
        #expect(h.run("CONFIG", "GET", "save") == .array([.bulk("save"), .bulk("5 1 5 1")]))
        #expect(h.run("CONFIG", "SET", "save", "") == .ok)
        #expect(h.run("CONFIG", "GET", "save") == .array([.bulk("save"), .bulk("")]))
        #expect(h.run("CONFIG", "SET", "save", "1 a")
            == .err("ERR CONFIG SET failed (possibly related to argument 'save') - Invalid save parameters"))

        // In a config file the first `save` line replaces the defaults and later lines add to it;
        // `--save` overrides continue the same reading, as redis-server's do.
        var settings = ServerSettings()
        try ConfigFile.apply("save 900 1\nsave 300 10\n", to: &settings)
        #expect(settings.persistence.savePoints == [SavePoint(seconds: 900, changes: 1), SavePoint(seconds: 300, changes: 10)])
        try ConfigFile.apply(ConfigFile.text(fromOverrides: ["--save", "60 5"]), to: &settings)
        #expect(settings.persistence.savePoints.count == 3)
        var none = ServerSettings()
        try ConfigFile.apply(ConfigFile.text(fromOverrides: ["--save", ""]), to: &none)
        #expect(none.persistence.savePoints == [])
        var untouched = ServerSettings()
        try ConfigFile.apply("port 7000\n", to: &untouched)
        #expect(untouched.persistence.savePoints == SavePoint.defaults)
    }

    @Test func otherPersistenceDirectives() {
        let h = ServerHarness()
        #expect(h.run("CONFIG", "GET", "rdbcompression") == .array([.bulk("rdbcompression"), .bulk("lz4")]))
        #expect(h.run("CONFIG", "SET", "rdbcompression", "yes") == .ok)
        #expect(h.run("CONFIG", "GET", "rdbcompression") == .array([.bulk("rdbcompression"), .bulk("lzf")]))
        #expect(h.run("CONFIG", "SET", "rdbcompression", "zlib", "rdb-compression-level", "9") == .ok)
        #expect(h.server.persistence.rdbSaveOptions.compression == .zlib)
        #expect(h.server.persistence.rdbSaveOptions.compressionLevel == 9)
        #expect(h.run("CONFIG", "SET", "rdbcompression", "brotli")
            == .err("ERR CONFIG SET failed (possibly related to argument 'rdbcompression') - argument(s) must be one of the following: lz4, zlib, lzf, yes, no"))
        #expect(h.run("CONFIG", "SET", "rdbchecksum", "no")
            == .err("ERR CONFIG SET failed (possibly related to argument 'rdbchecksum') - can't set immutable config"))
        #expect(h.run("CONFIG", "GET", "stop-writes-on-bgsave-error") == .array([.bulk("stop-writes-on-bgsave-error"), .bulk("yes")]))
        #expect(h.run("CONFIG", "SET", "rdb-key-save-delay", "100", "rdb-child-watchdog-seconds", "5") == .ok)
        #expect(h.server.persistence.rdbSaveOptions.keySaveDelayMicros == 100)
        #expect(h.server.settings.persistence.rdbChildWatchdogSeconds == 5)
        let aux = h.server.persistence.rdbSaveOptions.aux
        #expect(aux.first { $0.key == "repl-id" }?.value.count == 40)
        #expect(aux.first { $0.key == "repl-offset" }?.value == Array("0".utf8))
    }

    // MARK: SAVE, BGSAVE, LASTSAVE

    @Test func saveWritesTheFile() throws {
        let f = Fixture()
        f.run("SET", "a", "1")
        f.run("RPUSH", "list", "x", "y")
        #expect(f.info()["rdb_changes_since_last_save"] == "3")
        f.server.persistence.rdb.lastSaveSeconds = 1000
        #expect(f.run("SAVE") == .ok)
        #expect(try f.dumpedKeys() == ["a", "list"])
        #expect(f.info()["rdb_changes_since_last_save"] == "0")
        #expect(f.info()["rdb_saves"] == "1")
        guard case .integer(let last) = f.run("LASTSAVE") else { Issue.record("LASTSAVE"); return }
        #expect(last >= (Clock.unixMillis() / 1000) - 5)
        #expect(f.run("SAVE", "x") == .err("ERR wrong number of arguments for 'save' command"))
        #expect(f.run("LASTSAVE", "x") == .err("ERR wrong number of arguments for 'lastsave' command"))
        #expect(!f.exists(f.dir + "/temp-\(getpid()).rdb"))
    }

    @Test func bgsaveInAChild() throws {
        let f = Fixture()
        for i in 0..<50 { f.run("SET", "k\(i)", "v") }
        f.server.settings.persistence.rdbKeySaveDelayMicros = 2000
        #expect(f.run("BGSAVE") == .simple("Background saving started"))
        #expect(f.run("BGSAVE") == .err("ERR Background save already in progress"))
        #expect(f.run("BGSAVE", "SCHEDULE") == .err("ERR Background save already in progress"))
        #expect(f.run("SAVE") == .err("ERR Background save already in progress"))
        #expect(f.run("BGSAVE", "NOW") == .err("ERR syntax error"))
        var info = f.info()
        #expect(info["rdb_bgsave_in_progress"] == "1")
        #expect(info["current_save_keys_total"] == "50")
        #expect(info["rdb_current_bgsave_time_sec"] != "-1")
        // Writes after the fork stay counted as unsaved.
        f.run("SET", "after", "1")
        f.waitForBackgroundSave()
        info = f.info()
        #expect(info["rdb_bgsave_in_progress"] == "0")
        #expect(info["rdb_last_bgsave_status"] == "ok")
        #expect(info["rdb_changes_since_last_save"] == "1")
        #expect(info["rdb_last_bgsave_time_sec"] != "-1")
        #expect(info["current_save_keys_total"] == "0")
        #expect(f.server.persistence.totalForks == 1)
        #expect(try f.dumpedKeys().count == 50, "the child saved the data as it was at the fork")
        #expect(Self.entries(f.dir) == ["dump.rdb"])
    }

    @Test func bgsaveInsideMultiIsScheduled() throws {
        let f = Fixture()
        f.run("SET", "a", "1")
        f.run("MULTI")
        f.run("BGSAVE")
        #expect(f.run("EXEC") == .array([.simple("Background saving scheduled")]))
        #expect(f.server.persistence.rdb.bgsaveScheduled)
        f.server.persistence.cron()
        #expect(!f.server.persistence.rdb.bgsaveScheduled)
        f.waitForBackgroundSave()
        #expect(try f.dumpedKeys() == ["a"])
    }

    // MARK: failures

    /// A non-empty directory where the dump should go: the rename fails, even for root.
    static func blockDump(_ f: Fixture) {
        mkdir(f.dump, 0o755)
        mkdir(f.dump + "/x", 0o755)
    }

    static func unblockDump(_ f: Fixture) {
        rmdir(f.dump + "/x")
        rmdir(f.dump)
    }

    @Test func failedBackgroundSaveStopsWritesWithSavePoints() {
        let f = Fixture()
        Self.blockDump(f)
        f.run("SET", "a", "1")
        #expect(f.run("BGSAVE") == .simple("Background saving started"))
        f.waitForBackgroundSave()
        #expect(f.info()["rdb_last_bgsave_status"] == "err")
        #expect(f.server.persistence.child == nil)
        // Without save points writes go on.
        #expect(f.run("SET", "b", "1") == .ok)
        f.server.settings.persistence.savePoints = [SavePoint(seconds: 3600, changes: 1)]
        let misconf = RESPValue.err(RDBState.misconfError)
        #expect(f.run("SET", "c", "1") == misconf)
        #expect(f.run("PING") == misconf)
        #expect(f.run("GET", "a") == .bulk("1"))
        f.run("MULTI")
        #expect(f.run("SET", "c", "1") == misconf)
        #expect(f.run("EXEC") == .err("EXECABORT Transaction discarded because of previous errors."))
        f.server.settings.persistence.stopWritesOnBgsaveError = false
        #expect(f.run("SET", "d", "1") == .ok)
        f.server.settings.persistence.stopWritesOnBgsaveError = true
        // Save points wait 5 seconds after a failure before trying again.
        f.server.persistence.rdb.lastSaveSeconds -= 10_000
        f.server.persistence.cron()
        #expect(f.server.persistence.child == nil)
        Self.unblockDump(f)
        #expect(f.run("BGSAVE") == .simple("Background saving started"))
        f.waitForBackgroundSave()
        #expect(f.info()["rdb_last_bgsave_status"] == "ok")
        #expect(f.run("SET", "e", "1") == .ok)
        #expect(f.run("PING") == .simple("PONG"))
    }

    @Test func failedSaveReplies() {
        let f = Fixture()
        Self.blockDump(f)
        #expect(f.run("SAVE") == .err("ERR"))
        #expect(f.run("DEBUG", "RELOAD") == .err("ERR"))
        let entries = Self.entries(f.dir)
        #expect(entries == ["dump.rdb"], "no temporary file is left behind")
        Self.unblockDump(f)
    }

    static func entries(_ dir: String) -> [String] {
        DirectoryEntries.names(in: dir) ?? []
    }

    @Test func watchdogKillsAStalledChild() {
        let f = Fixture()
        for i in 0..<20 { f.run("SET", "k\(i)", "v") }
        // One key every 2 s and no report in between: the 1 s watchdog fires first.
        f.server.settings.persistence.rdbKeySaveDelayMicros = 2_000_000
        f.server.settings.persistence.rdbChildWatchdogSeconds = 1
        #expect(f.run("BGSAVE") == .simple("Background saving started"))
        let pid = f.server.persistence.child?.process.pid ?? 0
        f.waitForBackgroundSave()
        #expect(f.info()["rdb_last_bgsave_status"] == "err")
        #expect(!f.exists(f.dir + "/temp-\(pid).rdb"), "the killed child's temporary file is removed")
        #expect(!f.exists(f.dump))
    }

    // MARK: save points

    @Test func savePointStartsABackgroundSave() throws {
        let f = Fixture(savePoints: [SavePoint(seconds: 1, changes: 2)])
        f.run("SET", "a", "1")
        f.server.persistence.rdb.lastSaveSeconds -= 10
        f.server.persistence.cron()
        #expect(f.server.persistence.child == nil, "one change is not enough")
        f.run("SET", "b", "1")
        f.server.persistence.rdb.lastSaveSeconds = (Clock.unixMillis() / 1000)
        f.server.persistence.cron()
        #expect(f.server.persistence.child == nil, "too soon")
        f.server.persistence.rdb.lastSaveSeconds -= 2
        f.server.persistence.cron()
        #expect(f.server.persistence.child != nil)
        f.waitForBackgroundSave()
        #expect(try f.dumpedKeys() == ["a", "b"])
        #expect(f.info()["rdb_changes_since_last_save"] == "0")
    }

    @Test func flushallSavesWithSavePoints() throws {
        let f = Fixture(savePoints: [SavePoint(seconds: 3600, changes: 1)])
        f.run("SET", "a", "1")
        #expect(f.run("SAVE") == .ok)
        #expect(try f.dumpedKeys() == ["a"])
        #expect(f.run("FLUSHALL") == .ok)
        #expect(try f.dumpedKeys() == [])
    }

    // MARK: SHUTDOWN

    @Test func shutdownArguments() {
        let f = Fixture()
        #expect(f.run("SHUTDOWN", "NOSAVE", "SAVE") == .err("ERR syntax error"))
        #expect(f.run("SHUTDOWN", "ABORT", "NOW") == .err("ERR syntax error"))
        #expect(f.run("SHUTDOWN", "SOON") == .err("ERR syntax error"))
        #expect(f.run("SHUTDOWN", "ABORT") == .err("ERR No shutdown in progress."))
    }

    @Test func shutdownSavesOrRefuses() throws {
        let f = Fixture(savePoints: [SavePoint(seconds: 3600, changes: 1)])
        f.run("SET", "a", "1")
        Self.blockDump(f)
        #expect(f.run("SHUTDOWN") == .err("ERR Errors trying to SHUTDOWN. Check logs."))
        #expect(f.run("SHUTDOWN", "SAVE") == .err("ERR Errors trying to SHUTDOWN. Check logs."))
        #expect(!f.harness.client.closeAfterReply)
        #expect(f.server.persistence.prepareForShutdown(nosave: true))
        #expect(f.server.persistence.prepareForShutdown(force: true))
        Self.unblockDump(f)
        #expect(f.server.persistence.prepareForShutdown())
        #expect(try f.dumpedKeys() == ["a"])
    }

    @Test func shutdownStopsABackgroundSave() {
        let f = Fixture()
        for i in 0..<20 { f.run("SET", "k\(i)", "v") }
        f.server.settings.persistence.rdbKeySaveDelayMicros = 1_000_000
        #expect(f.run("BGSAVE") == .simple("Background saving started"))
        let pid = f.server.persistence.child?.process.pid ?? 0
        #expect(f.server.persistence.prepareForShutdown(nosave: true))
        #expect(f.server.persistence.child == nil)
        #expect(!f.exists(f.dir + "/temp-\(pid).rdb"))
        // Stopped on purpose: not a failed save.
        #expect(f.info()["rdb_last_bgsave_status"] == "ok")
    }

    // MARK: DEBUG RELOAD and loading

    @Test func debugReloadKeepsTheData() throws {
        let f = Fixture()
        f.run("SET", "a", "1")
        f.run("HSET", "h", "f", "v")
        f.run("SET", "gone", "x", "PX", "100000")
        f.run("SELECT", "2")
        f.run("SADD", "s", "m")
        f.run("SELECT", "0")
        #expect(f.run("DEBUG", "RELOAD") == .ok)
        #expect(f.run("GET", "a") == .bulk("1"))
        #expect(f.run("HGET", "h", "f") == .bulk("v"))
        #expect(f.run("DBSIZE") == .integer(3))
        #expect(f.info()["rdb_last_load_keys_loaded"] == "4")
        f.run("SET", "a", "2")
        #expect(f.run("DEBUG", "RELOAD", "NOSAVE") == .ok)
        #expect(f.run("GET", "a") == .bulk("1"), "NOSAVE loads the file as it is")
        f.run("SET", "a", "3")
        f.run("SET", "extra", "1")
        #expect(f.run("DEBUG", "RELOAD", "NOSAVE", "NOFLUSH") == .err("ERR Error trying to load the RDB dump"))
        f.run("FLUSHALL")
        f.run("SET", "a", "3")
        f.run("SET", "extra", "1")
        #expect(f.run("DEBUG", "RELOAD", "NOSAVE", "NOFLUSH", "MERGE") == .ok)
        #expect(f.run("GET", "a") == .bulk("1"), "MERGE takes the file's value")
        #expect(f.run("GET", "extra") == .bulk("1"))
        #expect(f.run("DEBUG", "RELOAD", "FAST")
            == .err("ERR DEBUG RELOAD only supports the MERGE, NOFLUSH and NOSAVE options."))
        unlink(f.dump)
        #expect(f.run("DEBUG", "RELOAD", "NOSAVE") == .err("ERR Error trying to load the RDB dump"))
    }

    @Test func startUpLoadAndItsErrors() throws {
        let f = Fixture { $0.persistence.rdbCompression = .none }
        f.run("SET", "a", "1")
        f.run("SET", "soon", "1", "PX", "60000")
        #expect(f.run("SAVE") == .ok)
        // A second server on the same file.
        var settings = ServerSettings()
        settings.persistence.dbfilename = f.dump
        let second = ServerHarness(settings: settings)
        try second.server.loadDataFromDisk()
        #expect(second.run("GET", "a") == .bulk("1"))
        #expect(second.server.persistence.rdb.lastLoadKeysLoaded == 2)
        #expect(second.server.engine.dirty == 0)

        // A damaged file: refused, with the offset named.
        let fd = open(f.dump, O_RDWR)
        var info = stat()
        fstat(fd, &info)
        ftruncate(fd, off_t(info.st_size) - 5)
        close(fd)
        let third = ServerHarness(settings: settings)
        do {
            try third.server.loadDataFromDisk()
            Issue.record("a truncated file loaded")
        } catch let error as RDBError {
            #expect(error.offset != nil)
        }

        // No file at all: nothing to load.
        unlink(f.dump)
        let fourth = ServerHarness(settings: settings)
        try fourth.server.loadDataFromDisk()
        #expect(fourth.run("DBSIZE") == .integer(0))
    }

    // MARK: INFO

    @Test func infoFields() {
        let f = Fixture()
        let lines = f.server.persistence.infoLines()
        #expect(lines.first == "# Persistence")
        let names = lines.dropFirst().compactMap { $0.split(separator: ":").first.map(String.init) }
        #expect(names == [
            "loading", "async_loading", "current_cow_peak", "current_cow_size", "current_cow_size_age",
            "current_fork_perc", "current_save_keys_processed", "current_save_keys_total",
            "rdb_changes_since_last_save", "rdb_bgsave_in_progress", "rdb_last_save_time", "rdb_last_bgsave_status",
            "rdb_last_bgsave_time_sec", "rdb_current_bgsave_time_sec", "rdb_saves", "rdb_last_cow_size",
            "rdb_last_load_keys_expired", "rdb_last_load_keys_loaded", "aof_enabled", "aof_rewrite_in_progress",
            "aof_rewrite_scheduled", "aof_last_rewrite_time_sec", "aof_current_rewrite_time_sec",
            "aof_last_bgrewrite_status", "aof_rewrites", "aof_rewrites_consecutive_failures", "aof_last_write_status",
            "aof_last_cow_size", "module_fork_in_progress", "module_fork_last_cow_size",
        ])
        let stats = InfoSections.stats(f.server)
        #expect(stats.contains("latest_fork_usec:0"))
        #expect(stats.contains("total_forks:0"))
    }
}

extension PersistenceTests {
    @Test func configRewriteKeepsSavePoints() throws {
        var settings = ServerSettings()
        settings.persistence.savePoints = []
        let none = ConfigRewrite.rewrittenText("", settings: settings)
        #expect(none.contains("save \"\"\n"))
        var back = ServerSettings()
        try ConfigFile.apply(none, to: &back)
        #expect(back.persistence.savePoints == [])
        settings.persistence.savePoints = [SavePoint(seconds: 900, changes: 1), SavePoint(seconds: 60, changes: 5)]
        let two = ConfigRewrite.rewrittenText("save 1 1\nsave 2 2\n", settings: settings)
        #expect(two.contains("save \"900 1 60 5\"\n"))
        #expect(!two.contains("save 2 2"))
        try ConfigFile.apply(two, to: &back)
        #expect(back.persistence.savePoints == settings.persistence.savePoints)
    }
}
