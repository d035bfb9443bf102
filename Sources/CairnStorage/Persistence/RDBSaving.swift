import Logging
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// RDB snapshots (docs/operations.md, "Persistence"; Redis 7.0's rdb.c and the save parts of
// server.c): foreground saves, background saves in a forked child polled from the cron, save
// points, BGSAVE scheduling, stop-writes-on-bgsave-error. Log lines are Redis's.

/// What the node knows about its RDB snapshots (INFO persistence).
public final class RDBState {
    /// Unix seconds of the last successful save; at start-up the data counts as saved (Redis).
    public var lastSaveSeconds = Clock.unixMillis() / 1000
    public var lastBgsaveTrySeconds: Int64 = 0
    public var lastBgsaveOK = true
    public var lastBgsaveDurationSeconds: Int64 = -1
    /// BGSAVE inside MULTI or while another child runs (SCHEDULE): started by the cron.
    public var bgsaveScheduled = false
    /// The AUX fields of the last RDB file loaded (the replication id and offset a restarted
    /// node continues from).
    public internal(set) var lastLoadAux: [String: String] = [:]
    public var saves: Int64 = 0
    public var lastCowBytes: Int64 = 0
    public var lastLoadKeysLoaded = 0
    public var lastLoadKeysExpired = 0
    /// The save path has run once in this process (see ForkedChild.swift).
    var warmedUp = false
    /// Called once when the running RDB child ends, with whether it succeeded (a replica waiting
    /// for a disk-based full sync joins the save in progress this way).
    var whenSaveEnds: [(Bool) -> Void] = []

    /// Redis's CONFIG_BGSAVE_RETRY_DELAY: after a failed background save, save points wait this
    /// long before trying again.
    static let retryDelaySeconds: Int64 = 5

    public static let misconfError = "MISCONF Redis is configured to save RDB snapshots, but it's currently unable to persist to disk. Commands that may modify the data set are disabled, because this instance is configured to report errors during writes if RDB snapshotting fails (stop-writes-on-bgsave-error option). Please check the Redis logs for details about the RDB error."
}

extension Persistence {
    /// The directives as the RDB writer takes them, with the server's AUX fields.
    public var rdbSaveOptions: RDBSaveOptions {
        var options = RDBSaveOptions()
        options.compression = settings.rdbCompression
        options.compressionLevel = settings.rdbCompressionLevel
        options.checksum = settings.rdbChecksum
        options.keySaveDelayMicros = max(0, settings.rdbKeySaveDelayMicros)
        options.aux = auxFields()
        return options
    }

    // MARK: saving

    /// SAVE, SHUTDOWN, DEBUG RELOAD (Redis's rdbSave). Blocks the node for the whole save.
    @discardableResult
    public func saveInForeground() -> Bool {
        defer { updateDiskErrorStage() }
        let temporary = SnapshotSave.temporaryPath(beside: settings.dbfilename, pid: getpid())
        do {
            try SnapshotSave.save(engine, to: settings.dbfilename, temporary: temporary, options: rdbSaveOptions,
                                  fileSystem: fileSystem)
        } catch let error as FileError {
            logger.warning("\(saveFailure(SnapshotSave.Step(error.operation), code: error.code, temporary: temporary))")
            return false
        } catch {
            logger.warning("Write error saving DB on disk(rdbSaveRio): \(error)")
            return false
        }
        logger.notice("DB saved on disk")
        engine.dirty = 0
        rdb.lastSaveSeconds = Self.unixSeconds()
        rdb.lastBgsaveOK = true
        return true
    }

    /// Redis 7.0's log line for a save that failed at `step` (rdbSave: the failing operation in
    /// parentheses, then the system's text for the errno).
    func saveFailure(_ step: SnapshotSave.Step?, code: Int32, temporary: String) -> String {
        let reason = code == 0 ? "error" : String(cString: strerror(code))
        let root = WorkingDirectory.current() ?? "unknown"
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
    public func startBackgroundSave(compression: RDBCompression? = nil) -> Bool {
        guard child == nil else { return false }
        rdb.lastBgsaveTrySeconds = Self.unixSeconds()
        rdb.saves += 1
        warmUpRDBChild()
        let process: ForkedChild
        do {
            var options = rdbSaveOptions
            // A disk-based full sync for replicas that read only plain RDB files.
            if let compression { options.compression = compression }
            process = try SnapshotSave.startInBackground(engine, to: settings.dbfilename, options: options)
        } catch {
            rdb.lastBgsaveOK = false
            logger.warning("Can't save in background: fork: \(error)")
            return false
        }
        // Absolute: CONFIG SET dir may change the working directory before the child is reaped.
        let temporary = SnapshotSave.temporaryPath(beside: settings.dbfilename, pid: process.pid)
        let absolute = temporary.hasPrefix("/") ? temporary : (WorkingDirectory.current() ?? ".") + "/" + temporary
        occupy(ChildJob(kind: .rdbToDisk, process: process, temporaryPath: absolute, startedSeconds: Self.unixSeconds(),
                        dirtyAtFork: engine.dirty, keysAtFork: Int64(engine.totalKeys)))
        logger.notice("Background saving started by pid \(process.pid)")
        return true
    }

    /// The child must not be the first to run the writer's code (see ForkedChild.swift).
    func warmUpRDBChild() {
        guard !rdb.warmedUp else { return }
        RDBSnapshot.warmUp()
        _ = SnapshotSave.temporaryPath(beside: settings.dbfilename, pid: getpid())
        _ = FileError(.open, "", code: 0).detail
        rdb.warmedUp = true
    }

    /// BGSAVE [SCHEDULE] (Redis's bgsaveCommand). The reply text, or an error starting with ERR.
    /// Inside MULTI, or while another child runs with SCHEDULE, the save is left to the cron.
    public func requestBackgroundSave(schedule: Bool) -> Result<String, PersistenceRefusal> {
        if let job = child, job.kind.isRDB { return .failure(PersistenceRefusal(Self.saveInProgress)) }
        if child != nil || engine.isExecutingTransaction {
            guard schedule || engine.isExecutingTransaction else {
                return .failure(PersistenceRefusal("ERR Another child process is active (AOF?): can't BGSAVE right now. Use BGSAVE SCHEDULE in order to schedule a BGSAVE whenever possible."))
            }
            rdb.bgsaveScheduled = true
            return .success("Background saving scheduled")
        }
        return startBackgroundSave() ? .success("Background saving started") : .failure(PersistenceRefusal("ERR"))
    }

    public static let saveInProgress = "ERR Background save already in progress"

    /// Calls `done` with the outcome of the RDB save now running, or of the next one to start
    /// (a disk-based full sync joins the save in progress instead of forking again).
    public func whenBackgroundSaveEnds(_ done: @escaping (Bool) -> Void) {
        rdb.whenSaveEnds.append(done)
    }

    /// Save points and a scheduled BGSAVE, once no child runs.
    func startDueSaves() {
        let now = Self.unixSeconds()
        let mayRetry = rdb.lastBgsaveOK || now - rdb.lastBgsaveTrySeconds > RDBState.retryDelaySeconds
        guard mayRetry else { return }
        for point in settings.savePoints
        where engine.dirty >= Int64(point.changes) && now - rdb.lastSaveSeconds > Int64(point.seconds) {
            logger.notice("\(point.changes) changes in \(point.seconds) seconds. Saving...")
            startBackgroundSave()
            return
        }
        if rdb.bgsaveScheduled && startBackgroundSave() { rdb.bgsaveScheduled = false }
    }

    /// A background save ended (Redis's backgroundSaveDoneHandlerDisk).
    func backgroundSaveDone(_ job: ChildJob, _ exit: ChildExit) {
        let process = job.process
        var succeeded = false
        switch exit {
        case .exited(0) where process.finished:
            logger.notice(job.kind == .rdbToDisk ? "DB saved on disk" : "Background RDB transfer terminated with success")
            let mb = { (bytes: Int64) in bytes / (1024 * 1024) }
            logger.notice("Fork CoW for RDB: current \(mb(process.cowBytes)) MB, peak \(mb(process.cowPeakBytes)) MB")
            if job.kind == .rdbToDisk {
                logger.notice("Background saving terminated with success")
                engine.dirty = max(0, engine.dirty - job.dirtyAtFork)
                rdb.lastSaveSeconds = Self.unixSeconds()
                rdb.lastBgsaveOK = true
            }
            rdb.lastCowBytes = max(0, process.cowBytes)
            succeeded = true
        case .exited:
            if let failure = process.failure, job.kind == .rdbToDisk {
                let temporary = SnapshotSave.temporaryPath(beside: settings.dbfilename, pid: process.pid)
                logger.warning("\(saveFailure(SnapshotSave.Step(rawValue: failure.step), code: Int32(clamping: failure.code), temporary: temporary))")
            }
            logger.warning(job.kind == .rdbToDisk ? "Background saving error" : "Background transfer error")
            if job.kind == .rdbToDisk { rdb.lastBgsaveOK = false }
        case .signaled(let signal):
            logger.warning(job.kind == .rdbToDisk ? "Background saving terminated by signal \(signal)" : "Background transfer terminated by signal \(signal)")
            if !job.temporaryPath.isEmpty { removeFile(job.temporaryPath) }
            // SIGUSR1 is how the server itself stops a save that became pointless.
            if signal != SIGUSR1 && job.kind == .rdbToDisk { rdb.lastBgsaveOK = false }
        case .vanished:
            logger.warning("Background saving child \(process.pid) could not be waited for")
            if !job.temporaryPath.isEmpty { removeFile(job.temporaryPath) }
            if job.kind == .rdbToDisk { rdb.lastBgsaveOK = false }
        }
        if job.kind == .rdbToDisk { rdb.lastBgsaveDurationSeconds = Self.unixSeconds() - job.startedSeconds }
        let waiting = rdb.whenSaveEnds
        rdb.whenSaveEnds = []
        for done in waiting { done(succeeded) }
    }

    /// Stops a running RDB child and waits for it (FLUSHALL, SHUTDOWN): SIGUSR1, which does not
    /// count as a failed save.
    public func abortBackgroundSave() {
        guard let job = child, job.kind.isRDB else { return }
        defer { updateDiskErrorStage() }
        job.process.kill(SIGUSR1)
        let exit = job.process.wait()
        childEnded(job, exit)
    }
}

/// A persistence request refused, with the error reply Redis sends.
public struct PersistenceRefusal: Error, Sendable {
    public let reply: String
    public init(_ reply: String) { self.reply = reply }
}
