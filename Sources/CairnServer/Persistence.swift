import CairnRESP
import CairnStorage
import Logging
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// RDB persistence of the node (docs/operations.md, "Persistence"; Redis 7.0's rdb.c and the save
// parts of server.c): foreground saves, background saves in a forked child polled from the cron,
// save points, stop-writes-on-bgsave-error, loading at start-up. Log lines are Redis's.

final class PersistenceState {
    /// The background save running now, the absolute path of its temporary file, and what the
    /// dataset looked like when it was forked.
    var child: ForkedChild?
    var childTemporaryPath = ""
    var childStartedSeconds: Int64 = 0
    var dirtyAtFork: Int64 = 0
    var keysAtFork: Int64 = 0
    /// Unix seconds of the last successful save; at start-up the data counts as saved (Redis).
    var lastSaveSeconds = Clock.unixMillis() / 1000
    var lastBgsaveTrySeconds: Int64 = 0
    var lastBgsaveOK = true
    var lastBgsaveDurationSeconds: Int64 = -1
    /// BGSAVE inside MULTI (or, later, while an AOF rewrite runs): started by the cron.
    var bgsaveScheduled = false
    var saves: Int64 = 0
    var lastCowBytes: Int64 = 0
    var latestForkMicros: Int64 = 0
    var totalForks: Int64 = 0
    var lastLoadKeysLoaded = 0
    var lastLoadKeysExpired = 0
    /// The save path has run once in this process (see ForkedChild.swift).
    var warmedUp = false

    /// Redis's CONFIG_BGSAVE_RETRY_DELAY: after a failed background save, save points wait this
    /// long before trying again.
    static let retryDelaySeconds: Int64 = 5

    static let misconfError = "MISCONF Redis is configured to save RDB snapshots, but it's currently unable to persist to disk. Commands that may modify the data set are disabled, because this instance is configured to report errors during writes if RDB snapshotting fails (stop-writes-on-bgsave-error option). Please check the Redis logs for details about the RDB error."
}

extension Server {
    static func unixSeconds() -> Int64 { Clock.unixMillis() / 1000 }

    /// The directives as the RDB writer takes them. The replication id and offset ride along for
    /// a future replica (Redis writes them as repl-id / repl-offset).
    var rdbSaveOptions: RDBSaveOptions {
        var options = RDBSaveOptions()
        options.compression = settings.rdbCompression
        options.compressionLevel = settings.rdbCompressionLevel
        options.checksum = settings.rdbChecksum
        options.keySaveDelayMicros = max(0, settings.rdbKeySaveDelayMicros)
        let usedMemory = ProcessMetrics.heapBytesInUse() ?? ProcessMetrics.residentBytes() ?? 0
        options.aux = [("used-mem", Array(String(usedMemory).utf8)),
                       ("repl-id", Array(replicationID.utf8)), ("repl-offset", Array("0".utf8))]
        return options
    }

    /// Installs the MISCONF refusal and FLUSHALL's save (both as Redis's processCommand and
    /// flushAllDataAndResetRDB).
    func installPersistence() {
        engine.admission.install(.diskError) { [unowned(unsafe) self] request in
            persistenceRefusal(request)
        }
        engine.commandObservers.append { [unowned(unsafe) self] _, command, _, _ in
            if command.spec.name == "flushall" { flushedAll() }
        }
        engine.commands.register(AOFCommands.specs(self))
    }

    /// Writes are refused while the last background save failed, save points are configured and
    /// stop-writes-on-bgsave-error is on. PING too, so that monitoring notices (Redis 7.0).
    func persistenceRefusal(_ request: AdmissionRequest) -> String? {
        guard !persistence.lastBgsaveOK, settings.stopWritesOnBgsaveError, !settings.savePoints.isEmpty else {
            return aofRefusal(request)
        }
        if request.isWrite || request.command.spec.name == "ping" { return PersistenceState.misconfError }
        return nil
    }

    /// After FLUSHALL a running save is stale; with save points the empty dataset is saved at
    /// once, so that a restart cannot bring the flushed keys back.
    private func flushedAll() {
        abortBackgroundSave()
        if !settings.savePoints.isEmpty {
            saveInForeground()
            engine.dirty += 1
        }
    }

    // MARK: saving

    /// SAVE, SHUTDOWN, DEBUG RELOAD (Redis's rdbSave). Blocks the node for the whole save.
    @discardableResult
    func saveInForeground() -> Bool {
        let temporary = SnapshotSave.temporaryPath(beside: settings.dbfilename, pid: getpid())
        do {
            try SnapshotSave.save(engine, to: settings.dbfilename, temporary: temporary, options: rdbSaveOptions)
        } catch let error as FileError {
            logger.warning("\(saveFailure(SnapshotSave.Step(error.operation), code: error.code, temporary: temporary))")
            return false
        } catch {
            logger.warning("Write error saving DB on disk(rdbSaveRio): \(error)")
            return false
        }
        logger.notice("DB saved on disk")
        engine.dirty = 0
        persistence.lastSaveSeconds = Self.unixSeconds()
        persistence.lastBgsaveOK = true
        return true
    }

    /// Redis 7.0's log line for a save that failed at `step` (rdbSave: the failing operation in
    /// parentheses, then the system's text for the errno).
    func saveFailure(_ step: SnapshotSave.Step?, code: Int32, temporary: String) -> String {
        let reason = code == 0 ? "error" : String(cString: strerror(code))
        let root = ConfigValue.workingDirectory() ?? settings.dir
        switch step {
        case .open:
            return "Failed opening the temp RDB file \(temporary) (in server root dir \(root)) for saving: \(reason)"
        case .rename:
            return "Error moving temp DB file \(temporary) on the final destination \(settings.dbfilename) (in server root dir \(root)): \(reason)"
        case .syncDirectory:
            return "Write error saving DB on disk(fsyncFileDir): \(reason)"
        case .fsync:
            return "Write error saving DB on disk(fsync): \(reason)"
        default:
            return "Write error saving DB on disk(rdbSaveRio): \(reason)"
        }
    }

    /// BGSAVE and save points (Redis's rdbSaveBackground). False if no child could be forked.
    @discardableResult
    func startBackgroundSave() -> Bool {
        let p = persistence
        guard !hasActiveChild else { return false }
        p.dirtyAtFork = engine.dirty
        p.lastBgsaveTrySeconds = Self.unixSeconds()
        p.saves += 1
        if !p.warmedUp {
            // The child must not be the first to run the writer's code (see ForkedChild.swift).
            RDBSnapshot.warmUp()
            _ = SnapshotSave.temporaryPath(beside: settings.dbfilename, pid: getpid())
            _ = FileError(.open, "", code: 0).detail
            p.warmedUp = true
        }
        let child: ForkedChild
        do {
            child = try SnapshotSave.startInBackground(engine, to: settings.dbfilename, options: rdbSaveOptions)
        } catch {
            p.lastBgsaveOK = false
            logger.warning("Can't save in background: fork: \(error)")
            return false
        }
        p.child = child
        // Absolute: CONFIG SET dir may change the working directory before the child is reaped.
        let temporary = SnapshotSave.temporaryPath(beside: settings.dbfilename, pid: child.pid)
        p.childTemporaryPath = temporary.hasPrefix("/") ? temporary : (ConfigValue.workingDirectory() ?? ".") + "/" + temporary
        p.childStartedSeconds = Self.unixSeconds()
        p.keysAtFork = Int64(engine.totalKeys)
        p.latestForkMicros = child.forkMicros
        p.totalForks += 1
        logger.notice("Background saving started by pid \(child.pid)")
        return true
    }

    /// The cron's part: reap a finished child, enforce its watchdog, start due saves.
    func persistenceCron() {
        let p = persistence
        if let child = p.child {
            let watchdog = Int64(settings.rdbChildWatchdogSeconds) * 1_000_000
            let wasKilled = child.killedByWatchdog
            let exit = child.poll(watchdogMicros: watchdog)
            if child.killedByWatchdog && !wasKilled {
                logger.warning("Background saving child \(child.pid) made no progress for \(settings.rdbChildWatchdogSeconds) seconds: killing it")
            }
            if let exit { backgroundSaveDone(child, exit) }
            return
        }
        // One child at a time: save points wait for an AOF rewrite to end.
        guard aof.child == nil else { return }
        let now = Self.unixSeconds()
        let mayRetry = p.lastBgsaveOK || now - p.lastBgsaveTrySeconds > PersistenceState.retryDelaySeconds
        guard mayRetry else { return }
        for point in settings.savePoints
        where engine.dirty >= Int64(point.changes) && now - p.lastSaveSeconds > Int64(point.seconds) {
            logger.notice("\(point.changes) changes in \(point.seconds) seconds. Saving...")
            startBackgroundSave()
            return
        }
        if p.bgsaveScheduled && startBackgroundSave() { p.bgsaveScheduled = false }
    }

    /// A background save ended (Redis's backgroundSaveDoneHandlerDisk).
    func backgroundSaveDone(_ child: ForkedChild, _ exit: ChildExit) {
        let p = persistence
        switch exit {
        case .exited(0) where child.finished:
            logger.notice("DB saved on disk")
            let mb = { (bytes: Int64) in bytes / (1024 * 1024) }
            logger.notice("Fork CoW for RDB: current \(mb(child.cowBytes)) MB, peak \(mb(child.cowPeakBytes)) MB")
            logger.notice("Background saving terminated with success")
            engine.dirty = max(0, engine.dirty - p.dirtyAtFork)
            p.lastSaveSeconds = Self.unixSeconds()
            p.lastBgsaveOK = true
            p.lastCowBytes = max(0, child.cowBytes)
        case .exited:
            if let failure = child.failure {
                let temporary = SnapshotSave.temporaryPath(beside: settings.dbfilename, pid: child.pid)
                logger.warning("\(saveFailure(SnapshotSave.Step(rawValue: failure.step), code: Int32(clamping: failure.code), temporary: temporary))")
            }
            logger.warning("Background saving error")
            p.lastBgsaveOK = false
        case .signaled(let signal):
            logger.warning("Background saving terminated by signal \(signal)")
            unlink(p.childTemporaryPath)
            // SIGUSR1 is how the server itself stops a save that became pointless.
            if signal != SIGUSR1 { p.lastBgsaveOK = false }
        case .vanished:
            logger.warning("Background saving child \(child.pid) could not be waited for")
            unlink(p.childTemporaryPath)
            p.lastBgsaveOK = false
        }
        p.lastBgsaveDurationSeconds = Self.unixSeconds() - p.childStartedSeconds
        p.child = nil
    }

    /// Stops a running background save and waits for it (FLUSHALL, SHUTDOWN): SIGUSR1, which
    /// does not count as a failed save.
    func abortBackgroundSave() {
        guard let child = persistence.child else { return }
        child.kill(SIGUSR1)
        backgroundSaveDone(child, child.wait())
    }

    // MARK: shutdown

    /// SHUTDOWN and SIGTERM (Redis's prepareForShutdown): stop a background save, then save when
    /// asked to or when save points are configured. False if that save failed and the node must
    /// keep running (unless `force`).
    func prepareForShutdown(save: Bool = false, nosave: Bool = false, force: Bool = false) -> Bool {
        if persistence.child != nil {
            logger.warning("There is a child saving an .rdb. Killing it!")
            abortBackgroundSave()
        }
        guard prepareAOFForShutdown(force: force) else {
            logger.warning("Errors trying to shut down the server. Check the logs for more information.")
            return false
        }
        guard save || (!nosave && !settings.savePoints.isEmpty) else { return true }
        logger.notice("Saving the final RDB snapshot before exiting.")
        if saveInForeground() { return true }
        if force {
            logger.warning("Error trying to save the DB. Exit anyway.")
            return true
        }
        logger.warning("Error trying to save the DB, can't exit.")
        logger.warning("Errors trying to shut down the server. Check the logs for more information.")
        return false
    }

    /// SIGTERM / SIGINT: shut down as SHUTDOWN without arguments would; keep running if the final
    /// save fails.
    func shutdownOnSignal(_ name: String) {
        guard !isShutDown else { return }
        logger.warning("Received \(name) scheduling shutdown...")
        guard prepareForShutdown() else {
            logger.warning("\(name) received but errors trying to shut down the server, check the logs for more information")
            return
        }
        shutdown()
    }

    // MARK: loading

    /// Loads `dbfilename` when it exists (Redis's loadDataFromDisk), skipping keys already
    /// expired. Throws when the file cannot be read whole: the node must not start with part of
    /// its data.
    public func loadDataFromDisk() throws {
        if settings.appendonly { return try loadAppendOnlyFilesAtStart() }
        let path = settings.dbfilename
        guard access(path, F_OK) == 0 else { return }
        let summary = try loadRDB(path)
        logger.notice("DB loaded from disk: \(InfoFormat.fixed(summary.seconds, 3)) seconds")
    }

    /// Loads `path` into the (empty) databases and logs what Redis logs about it.
    @discardableResult
    func loadRDB(_ path: String) throws -> RDBLoadSummary {
        var options = RDBLoadOptions()
        options.verifyChecksum = settings.rdbChecksum
        options.skipExpiredBefore = Clock.unixMillis()
        let summary = try RDBSnapshot.load(path: path, into: engine, options: options)
        let aux = Dictionary(summary.aux.map { ($0.key, String(decoding: $0.value, as: UTF8.self)) }) { a, _ in a }
        if let version = aux["redis-ver"] { logger.notice("Loading RDB produced by version \(version)") }
        if let created = aux["ctime"].flatMap({ Int64($0) }) {
            logger.notice("RDB age \(Self.unixSeconds() - created) seconds")
        }
        if let used = aux["used-mem"].flatMap({ Double($0) }) {
            logger.notice("RDB memory usage when created \(InfoFormat.fixed(used / 1024 / 1024, 2)) Mb")
        }
        logger.notice("Done loading RDB, keys loaded: \(summary.keys), keys expired: \(summary.expiredSkipped).")
        persistence.lastLoadKeysLoaded = summary.keys
        persistence.lastLoadKeysExpired = summary.expiredSkipped
        return summary
    }

    // MARK: INFO

    /// INFO persistence, Redis 7.0's fields. The current_* fields describe whichever child runs;
    /// module forks do not exist (their lines say so).
    func persistenceInfo() -> [String] {
        let p = persistence
        let child = p.child ?? aof.child
        let now = Self.unixSeconds()
        var cowAge: Int64 = 0
        if let child, child.cowUpdatedMillis > 0 { cowAge = (Clock.unixMillis() - child.cowUpdatedMillis) / 1000 }
        let processed = child?.keys ?? 0
        let total = child == nil ? 0 : (p.child != nil ? p.keysAtFork : Int64(engine.totalKeys))
        let percent = total > 0 ? Double(processed) / Double(total) * 100 : 0
        return [
            "# Persistence",
            "loading:0",
            "async_loading:0",
            "current_cow_peak:\(child?.cowPeakBytes ?? 0)",
            "current_cow_size:\(max(0, child?.cowBytes ?? 0))",
            "current_cow_size_age:\(cowAge)",
            "current_fork_perc:\(InfoFormat.fixed(percent, 2))",
            "current_save_keys_processed:\(processed)",
            "current_save_keys_total:\(total)",
            "rdb_changes_since_last_save:\(engine.dirty)",
            "rdb_bgsave_in_progress:\(p.child == nil ? 0 : 1)",
            "rdb_last_save_time:\(p.lastSaveSeconds)",
            "rdb_last_bgsave_status:\(p.lastBgsaveOK ? "ok" : "err")",
            "rdb_last_bgsave_time_sec:\(p.lastBgsaveDurationSeconds)",
            "rdb_current_bgsave_time_sec:\(p.child == nil ? -1 : now - p.childStartedSeconds)",
            "rdb_saves:\(p.saves)",
            "rdb_last_cow_size:\(p.lastCowBytes)",
            "rdb_last_load_keys_expired:\(p.lastLoadKeysExpired)",
            "rdb_last_load_keys_loaded:\(p.lastLoadKeysLoaded)",
        ] + aof.infoLines(nowSeconds: now)
    }
}
