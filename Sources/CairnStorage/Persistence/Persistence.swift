import Logging
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// The persistence component (docs/architecture.md, "Persistence and children"; docs/operations.md,
// "Persistence" and "AOF"): RDB snapshots in the foreground and in a forked child, save points,
// loading the dataset at start-up (one loader with one set of rules), the append-only file (its
// lifecycle, the per-turn writes, rewrites), and the one child slot all of them share: at most one
// forked child runs, whatever its job (RDB to disk, RDB to the sockets of replicas doing a
// diskless sync, AOF rewrite), as in Redis.
//
// The server wires it: it hands over the directives, asks for saves and loads, runs `cron()` from
// its cron, and supplies the few things only it knows (AUX fields such as the replication id, how
// to end an event-loop turn, what to do when the AOF cannot be written under `always`). Everything
// here runs on the thread that owns the engine.

/// What a forked child is doing.
public enum ChildKind: Sendable, Equatable {
    /// BGSAVE or a save point: the RDB file.
    case rdbToDisk
    /// A diskless full sync: the RDB stream to the descriptors of waiting replicas.
    case rdbToDescriptors
    /// BGREWRITEAOF, an automatic rewrite, or the first base of an AOF switched on at run time.
    case aofRewrite

    /// Counted as `rdb_bgsave_in_progress` (Redis's CHILD_TYPE_RDB covers both).
    public var isRDB: Bool { self != .aofRewrite }
}

/// The running child and what its parent must remember about it.
public final class ChildJob {
    public let kind: ChildKind
    public let process: ForkedChild
    /// Absolute path of the file the child writes (removed if the job fails), or "".
    let temporaryPath: String
    let startedSeconds: Int64
    /// RDB jobs: the dataset when forked (`rdb_changes_since_last_save` afterwards, INFO).
    let dirtyAtFork: Int64
    let keysAtFork: Int64
    /// AOF rewrites: where the new base goes and its format.
    let directory: String
    let rdbPreamble: Bool

    init(kind: ChildKind, process: ForkedChild, temporaryPath: String, startedSeconds: Int64, dirtyAtFork: Int64 = 0,
         keysAtFork: Int64 = 0, directory: String = "", rdbPreamble: Bool = false) {
        self.kind = kind
        self.process = process
        self.temporaryPath = temporaryPath
        self.startedSeconds = startedSeconds
        self.dirtyAtFork = dirtyAtFork
        self.keysAtFork = keysAtFork
        self.directory = directory
        self.rdbPreamble = rdbPreamble
    }
}

public final class Persistence {
    public let engine: Engine
    public var settings: PersistenceSettings {
        didSet {
            applyAOFSettings()
            updateDiskErrorStage()
        }
    }
    public var logger: Logger
    /// Every file operation of the parent goes through it (tests inject faults). Forked children
    /// use the real file system: a double's bookkeeping would stay in the child.
    public let fileSystem: any FileSystem
    /// RDB saves and loads (RDBSaving.swift, DatasetLoading.swift).
    public let rdb = RDBState()
    /// The append-only file (AOF*.swift).
    public let aof = AOFState()
    /// The one forked child, whatever its job.
    public internal(set) var child: ChildJob?
    /// fork() and copy-on-write figures of the last child (INFO persistence and stats).
    public internal(set) var latestForkMicros: Int64 = 0
    public internal(set) var totalForks: Int64 = 0
    /// The MISCONF admission stage, armed only when it may refuse.
    var diskErrorStage: HookHandle?

    // What the server supplies.
    /// AUX fields every RDB carries besides Cairn's own (used-mem, repl-id, repl-offset).
    public var auxFields: () -> [(key: String, value: [UInt8])] = { [] }
    /// Runs `endAOFTurn()` once the current event-loop turn has read what it will (the group
    /// commit); nil outside an event loop (tests end turns themselves).
    public var scheduleTurnEnd: (() -> Void)?
    /// The AOF write of the turn is done: replies held for it may leave.
    public var onTurnWritten: () -> Void = {}
    /// An AOF write failed under `appendfsync always` (or the fsync did): acknowledged writes can
    /// no longer be made durable, so the process must stop, as Redis does.
    public var onFatalWriteError: (String) -> Void = { _ in }

    public init(engine: Engine, settings: PersistenceSettings, logger: Logger, fileSystem: any FileSystem = POSIXFileSystem()) {
        self.engine = engine
        self.settings = settings
        self.logger = logger
        self.fileSystem = fileSystem
        aof.fsyncThread = AOFFsyncThread(fileSystem: fileSystem)
    }

    /// Renames through the file system; the system's text when it fails.
    func renameFile(_ from: String, to: String) -> String? {
        do { try fileSystem.rename(from, to: to) } catch { return error.description }
        return nil
    }

    /// Opens through the file system.
    func openFile(_ path: String, flags: Int32) -> Result<Int32, Errno> {
        do { return .success(try fileSystem.open(path, flags: flags, mode: 0o644)) } catch { return .failure(error) }
    }

    /// Removes a file if it is there (leftovers, history).
    func removeFile(_ path: String) {
        try? fileSystem.unlink(path)
    }

    /// Installs what persistence adds to command execution: the disk-error admission stage
    /// (MISCONF), armed while there is an error to report or an AOF whose writes may fail, and
    /// FLUSHALL's save.
    public func install() {
        diskErrorStage = engine.admission.install(.diskError, armed: false) { [unowned(unsafe) self] request in
            refusal(request)
        }
        engine.flushAllHooks.append { [unowned(unsafe) self] in flushedAll() }
    }

    /// Arms the MISCONF stage exactly when it may refuse something (a failed background save
    /// with save points and stop-writes-on-bgsave-error, or an AOF, whose writer may turn
    /// unhealthy between two commands).
    func updateDiskErrorStage() {
        guard let diskErrorStage else { return }
        let rdbFailing = !rdb.lastBgsaveOK && settings.stopWritesOnBgsaveError && !settings.savePoints.isEmpty
        engine.admission.arm(diskErrorStage, rdbFailing || aof.status != .off)
    }

    /// A forked child of any kind is running (Redis's hasActiveChildProcess).
    public var hasActiveChild: Bool { child != nil }

    /// Seconds since the epoch (the clock Redis's persistence fields use).
    static func unixSeconds() -> Int64 { Clock.unixMillis() / 1000 }

    // MARK: the cron

    /// The cron's part (Redis's serverCron): reap a finished child or enforce its watchdog, start
    /// due saves and rewrites, retry postponed AOF writes and owed fsyncs.
    public func cron() {
        defer { updateDiskErrorStage() }
        if let job = child {
            let watchdog = job.kind.isRDB ? Int64(settings.rdbChildWatchdogSeconds) * 1_000_000 : 0
            let wasKilled = job.process.killedByWatchdog
            let exit = job.process.poll(watchdogMicros: watchdog)
            if job.process.killedByWatchdog && !wasKilled {
                logger.warning("Background saving child \(job.process.pid) made no progress for \(settings.rdbChildWatchdogSeconds) seconds: killing it")
            }
            if let exit { childEnded(job, exit) }
        }
        if child == nil { startDueSaves() }
        aofCron()
    }

    /// Routes the end of a child to its job's handler and frees the slot.
    func childEnded(_ job: ChildJob, _ exit: ChildExit) {
        child = nil
        switch job.kind {
        case .rdbToDisk, .rdbToDescriptors: backgroundSaveDone(job, exit)
        case .aofRewrite: rewriteDone(job, exit)
        }
    }

    /// Takes the slot for a new child (the caller checked it was free).
    func occupy(_ job: ChildJob) {
        child = job
        latestForkMicros = job.process.forkMicros
        totalForks += 1
    }

    // MARK: admission

    /// Writes are refused while the last background save failed (save points configured and
    /// stop-writes-on-bgsave-error on), or while the AOF cannot be written: PING too, so that
    /// monitoring notices (Redis 7.0's writeCommandsDeniedByDiskError).
    func refusal(_ request: AdmissionRequest) -> String? {
        guard !rdb.lastBgsaveOK, settings.stopWritesOnBgsaveError, !settings.savePoints.isEmpty else {
            return aofRefusal(request)
        }
        if request.isWrite || request.command.spec.name == "ping" { return RDBState.misconfError }
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

    // MARK: shutdown

    /// SHUTDOWN and SIGTERM (Redis's prepareForShutdown): stop a background save, flush the AOF,
    /// then save when asked to or when save points are configured. False if that save failed and
    /// the node must keep running (unless `force`).
    public func prepareForShutdown(save: Bool = false, nosave: Bool = false, force: Bool = false) -> Bool {
        if let job = child, job.kind.isRDB {
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

    /// The node stops: no child outlives it, the AOF is closed and its fsync thread stopped.
    public func shutdown() {
        abortBackgroundSave()
        killRewriteChild()
        closeWriter()
        aof.fsyncThread.stop()
    }

    // MARK: INFO

    /// INFO persistence, Redis 7.0's fields. The current_* fields describe whichever child runs;
    /// module forks do not exist (their lines say so).
    public func infoLines() -> [String] {
        let now = Self.unixSeconds()
        let process = child?.process
        var cowAge: Int64 = 0
        if let process, process.cowUpdatedMillis > 0 { cowAge = (Clock.unixMillis() - process.cowUpdatedMillis) / 1000 }
        let processed = process?.keys ?? 0
        let total = child.map { $0.kind.isRDB ? $0.keysAtFork : Int64(engine.totalKeys) } ?? 0
        let percent = total > 0 ? Double(processed) / Double(total) * 100 : 0
        let rdbChild = child.flatMap { $0.kind.isRDB ? $0 : nil }
        return [
            "# Persistence",
            "loading:0",
            "async_loading:0",
            "current_cow_peak:\(process?.cowPeakBytes ?? 0)",
            "current_cow_size:\(max(0, process?.cowBytes ?? 0))",
            "current_cow_size_age:\(cowAge)",
            "current_fork_perc:\(InfoFormat.fixed(percent, 2))",
            "current_save_keys_processed:\(processed)",
            "current_save_keys_total:\(total)",
            "rdb_changes_since_last_save:\(engine.dirty)",
            "rdb_bgsave_in_progress:\(rdbChild == nil ? 0 : 1)",
            "rdb_last_save_time:\(rdb.lastSaveSeconds)",
            "rdb_last_bgsave_status:\(rdb.lastBgsaveOK ? "ok" : "err")",
            "rdb_last_bgsave_time_sec:\(rdb.lastBgsaveDurationSeconds)",
            "rdb_current_bgsave_time_sec:\(rdbChild.map { now - $0.startedSeconds } ?? -1)",
            "rdb_saves:\(rdb.saves)",
            "rdb_last_cow_size:\(rdb.lastCowBytes)",
            "rdb_last_load_keys_expired:\(rdb.lastLoadKeysExpired)",
            "rdb_last_load_keys_loaded:\(rdb.lastLoadKeysLoaded)",
        ] + aofInfoLines(nowSeconds: now)
    }
}
