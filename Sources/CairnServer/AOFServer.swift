import CairnRESP
import CairnStorage
import Logging
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// The append-only file in the node (docs/operations.md, "AOF"; Redis 7.0's aof.c and the AOF
// parts of server.c): loading and opening it at start-up, feeding it every propagated write,
// writing it once per event-loop turn before that turn's replies leave (group commit), the
// cron's retries, switching it on and off at run time, and flushing it at shutdown. Rewrites
// are in AOFRewrite.swift. Log lines are Redis's.

extension Server {
    /// A forked child of either kind is running (Redis's hasActiveChildProcess).
    var hasActiveChild: Bool { persistence.child != nil || aof.child != nil }

    /// The AOF directory as an absolute path, under the current working directory. (An absolute
    /// appenddirname cannot come from a directive, which refuses paths; tests set one.)
    func aofDirectoryPath() -> String {
        if settings.appenddirname.hasPrefix("/") { return settings.appenddirname }
        let cwd = ConfigValue.workingDirectory() ?? settings.dir
        return (cwd.hasSuffix("/") ? cwd : cwd + "/") + settings.appenddirname
    }

    // MARK: start-up

    /// Loads the AOF named by the manifest (Redis's loadAppendOnlyFiles) and opens it for
    /// appending. Without a manifest, an existing RDB file is loaded instead and becomes the
    /// first base. Throws when the files cannot be read whole: the node must not start with
    /// part of its data.
    func loadAppendOnlyFilesAtStart() throws {
        let directory = aofDirectoryPath()
        var options = AOFLoadOptions()
        options.loadTruncated = settings.aofLoadTruncated
        if let summary = try AOFLoader.load(directory: directory, prefix: settings.appendfilename, into: engine,
                                            options: options, logger: logger) {
            logger.notice("DB loaded from append only file: \(InfoFormat.fixed(summary.seconds, 3)) seconds")
            persistence.lastLoadKeysLoaded = engine.totalKeys
        } else if access(settings.dbfilename, F_OK) == 0 {
            // Redis 7.0 would start empty here and lose the snapshot; the AOF starts from it instead.
            logger.notice("No AOF manifest in \(directory): loading \(settings.dbfilename) to build the first AOF base from it")
            let summary = try loadRDB(settings.dbfilename)
            logger.notice("DB loaded from disk: \(InfoFormat.fixed(summary.seconds, 3)) seconds")
        }
        try openAppendOnlyFileAtStart(directory: directory)
    }

    /// Redis's aofOpenIfNeededOnServerStart: creates the directory, writes a first base of the
    /// dataset when there are no files yet, opens the last increment (creating one if needed),
    /// persists the manifest and removes history files.
    func openAppendOnlyFileAtStart(directory: String) throws {
        let prefix = settings.appendfilename
        try Self.createDirectory(directory)
        var manifest = try AOFManifest.load(directory: directory, prefix: prefix) ?? AOFManifest()
        Self.removeTemporaryFiles(in: directory, prefix: prefix)
        if manifest.base == nil && manifest.increments.isEmpty {
            let base = manifest.replaceBase(prefix: prefix, rdbPreamble: settings.aofUseRdbPreamble)
            let preamble = settings.aofUseRdbPreamble
            let options = rdbSaveOptions
            try AtomicFile.replace(directory + "/" + base.name) { fd in
                try AOFBase.write(engine, to: fd, rdbPreamble: preamble, rdb: options)
            }
            logger.notice("Creating AOF base file \(base.name) on server start")
        }
        let creating = manifest.increments.isEmpty
        let increment = creating ? manifest.addIncrement(prefix: prefix) : manifest.increments[manifest.increments.count - 1]
        let path = directory + "/" + increment.name
        let fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            throw AOFError(.io, "Can't open the append-only file \(increment.name): \(String(cString: strerror(errno)))")
        }
        do {
            try manifest.write(directory: directory, prefix: prefix)
        } catch {
            close(fd)
            throw error
        }
        logger.notice("\(creating ? "Creating" : "Opening") AOF incr file \(increment.name) on server start")
        let aof = self.aof
        aof.directory = directory
        aof.manifest = manifest
        let incrementBytes = Self.fileSize(path)
        aof.writer = makeWriter(fd: fd, name: increment.name, existingBytes: incrementBytes)
        let baseBytes = manifest.base.map { Self.fileSize(directory + "/" + $0.name) } ?? 0
        aof.otherFilesBytes = manifest.increments.dropLast().reduce(baseBytes) { $0 + Self.fileSize(directory + "/" + $1.name) }
        aof.sizeAtLastRewrite = baseBytes
        aof.status = .on
        deleteHistoryFiles()
        installAOFSink()
    }

    func makeWriter(fd: Int32, name: String, existingBytes: Int64) -> AOFWriter {
        AOFWriter(fd: fd, name: name, existingBytes: existingBytes, policy: settings.appendfsync,
                  timestamps: settings.aofTimestampEnabled, fsyncThread: aof.fsyncThread, logger: logger,
                  nowSeconds: Self.unixSeconds())
    }

    static func createDirectory(_ path: String) throws {
        if mkdir(path, 0o755) != 0 && errno != EEXIST {
            throw AOFError(.io, "Can't open or create append-only dir \(path): \(String(cString: strerror(errno)))")
        }
    }

    static func fileSize(_ path: String) -> Int64 {
        var info = stat()
        return stat(path, &info) == 0 ? Int64(info.st_size) : 0
    }

    /// Leftovers of a rewrite or a first base that a crash interrupted: never in the manifest.
    static func removeTemporaryFiles(in directory: String, prefix: String) {
        guard let dir = opendir(directory) else { return }
        defer { closedir(dir) }
        let temporaryIncrement = AOFState.temporaryIncrementName(prefix)
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            if name.hasPrefix("temp-rewriteaof-") || name == temporaryIncrement || (name.hasPrefix(prefix + ".") && name.contains(".tmp-")) {
                unlink(directory + "/" + name)
            }
        }
    }

    /// Removes the history files and drops them from the manifest (Redis's aofDelHistoryFiles).
    func deleteHistoryFiles() {
        let aof = self.aof
        guard !aof.manifest.history.isEmpty else { return }
        for entry in aof.manifest.history {
            logger.notice("Removing the history file \(entry.name)")
            unlink(aof.directory + "/" + entry.name)
        }
        aof.manifest.history = []
        do {
            try aof.manifest.write(directory: aof.directory, prefix: settings.appendfilename)
        } catch {
            logger.warning("Can't persist the AOF manifest after removing history files: \(error)")
        }
    }

    // MARK: feeding and writing

    /// Installs the propagation sink that feeds the AOF buffer (Redis's feedAppendOnlyFile).
    func installAOFSink() {
        guard !aof.sinkInstalled else { return }
        aof.sinkInstalled = true
        engine.propagationSinks.append { [unowned(unsafe) self] batch in feedAppendOnlyFile(batch) }
    }

    private func feedAppendOnlyFile(_ batch: [PropagatedCommand]) {
        let aof = self.aof
        guard let writer = aof.writer, aof.status == .on || (aof.status == .waitRewrite && aof.child != nil) else { return }
        writer.append(batch, nowMillis: engine.now)
        if !aof.turnPending {
            aof.turnPending = true
            // Outside the loop (unit tests drive the engine directly) the caller ends the turn.
            if loop.inEventLoop { loop.execute { self.endAOFTurn() } }
        }
    }

    /// Replies may not leave before the AOF write of this turn (ConnectionHandler.flush).
    var aofHoldsReplies: Bool { aof.turnPending }

    func holdReplies(_ handler: ConnectionHandler) {
        aof.heldReplies.append(handler)
    }

    /// The end of a turn that wrote (Redis's beforeSleep): write the buffer (and fsync it under
    /// `always`), then send every reply that waited for it.
    func endAOFTurn() {
        aof.turnPending = false
        flushAppendOnlyFile(force: false)
        guard !aof.heldReplies.isEmpty else { return }
        let held = aof.heldReplies
        aof.heldReplies.removeAll(keepingCapacity: true)
        for handler in held { handler.releaseHeldReplies() }
    }

    /// Writes the buffer under the fsync policy. A failure `always` cannot recover from ends the
    /// process, as in Redis: the turn's replies were never sent, but the dataset changed.
    func flushAppendOnlyFile(force: Bool) {
        guard let writer = aof.writer else { return }
        let skipFsync = settings.noAppendfsyncOnRewrite && hasActiveChild
        if case .fatal(let message) = writer.flush(force: force, nowSeconds: Self.unixSeconds(), skipFsync: skipFsync) {
            logger.critical("\(message)")
            exit(1)
        }
    }

    /// The cron's part (Redis's serverCron): reap a finished rewrite, start a scheduled or
    /// automatic one, retry postponed or failed writes and owed fsyncs.
    func aofCron() {
        let aof = self.aof
        if let child = aof.child, let exit = child.poll(watchdogMicros: 0) {
            rewriteDone(child, exit)
        }
        if !hasActiveChild && aof.rewriteScheduled && !rewriteLimited() {
            startRewrite()
        }
        if aof.status == .on && !hasActiveChild && settings.autoAofRewritePercentage > 0
            && aof.currentSize > Int64(settings.autoAofRewriteMinSize) {
            let base = max(1, aof.sizeAtLastRewrite)
            let growth = aof.currentSize * 100 / base - 100
            if growth >= Int64(settings.autoAofRewritePercentage) && !rewriteLimited() {
                logger.notice("Starting automatic rewriting of AOF on \(growth)% growth")
                startRewrite()
            }
        }
        if aof.writer != nil && !aof.turnPending { flushAppendOnlyFile(force: false) }
    }

    /// After `failuresBeforeBackOff` failed rewrites in a row, automatic and scheduled ones wait
    /// 1, 2, 4, ... up to 60 minutes between tries (Redis's aofRewriteLimited).
    func rewriteLimited() -> Bool {
        let aof = self.aof
        guard aof.consecutiveFailures >= AOFState.failuresBeforeBackOff else {
            aof.retryDelayMinutes = 0
            aof.nextRetrySeconds = 0
            return false
        }
        let now = Self.unixSeconds()
        if aof.nextRetrySeconds != 0 {
            if now < aof.nextRetrySeconds { return true }
            aof.nextRetrySeconds = 0
            return false
        }
        aof.retryDelayMinutes = min(AOFState.backOffMinutesMax, aof.retryDelayMinutes == 0 ? 1 : aof.retryDelayMinutes * 2)
        aof.nextRetrySeconds = now + Int64(aof.retryDelayMinutes) * 60
        logger.warning("Background AOF rewrite has repeatedly failed and triggered the limit, will retry in \(aof.retryDelayMinutes) minutes")
        return true
    }

    /// Writes are refused while the last AOF write or background fsync failed (Redis's
    /// writeCommandsDeniedByDiskError, after the RDB's reason).
    func aofRefusal(_ command: RegisteredCommand) -> String? {
        guard aof.status != .off, let writer = aof.writer, !writer.healthy else { return nil }
        guard command.spec.flags.contains(.write) || command.spec.name == "ping" else { return nil }
        return "MISCONF Errors writing to the AOF file: \(String(cString: strerror(writer.failureCode)))"
    }

    /// Pushes the AOF directives into a running writer (CONFIG SET).
    func applyAOFSettings() {
        guard let writer = aof.writer else { return }
        if writer.policy != settings.appendfsync {
            // A policy change must not leave an fsync of the old policy owed.
            writer.policy = settings.appendfsync
        }
        writer.encoder.timestamps = settings.aofTimestampEnabled
    }

    // MARK: switching on and off

    /// CONFIG SET appendonly changed: start or stop the AOF. The error text for CONFIG SET when
    /// it cannot be started.
    func appendOnlyChanged(to enabled: Bool) -> String? {
        if enabled && aof.status == .off {
            return startAppendOnly() ? nil : "Unable to turn on AOF. Check server logs."
        }
        if !enabled && aof.status != .off { stopAppendOnly() }
        return nil
    }

    /// Redis's startAppendOnly: the first base is written by a rewrite; until it succeeds the
    /// AOF waits (writes go to a temporary increment).
    func startAppendOnly() -> Bool {
        let aof = self.aof
        let directory = aofDirectoryPath()
        do {
            aof.manifest = try AOFManifest.load(directory: directory, prefix: settings.appendfilename) ?? AOFManifest()
        } catch {
            logger.warning("Can't load the AOF manifest in \(directory): \(error)")
            return false
        }
        aof.directory = directory
        aof.status = .waitRewrite
        installAOFSink()
        if persistence.child != nil {
            aof.rewriteScheduled = true
            logger.warning("AOF was enabled but there is already another background operation. An AOF background was scheduled to start when possible.")
        } else if engine.isExecutingTransaction {
            aof.rewriteScheduled = true
            logger.warning("AOF was enabled during a transaction. An AOF background was scheduled to start when possible.")
        } else {
            if aof.child != nil {
                logger.warning("AOF was enabled but there is already an AOF rewriting in background. Stopping background AOF and starting a rewrite now.")
                killRewriteChild()
            }
            if !startRewrite() {
                aof.status = .off
                logger.warning("Redis needs to enable the AOF but can't trigger a background AOF rewrite operation. Check the above logs for more info about the error.")
                return false
            }
        }
        return true
    }

    /// Redis's stopAppendOnly: flush, fsync and close the increment, stop a rewrite.
    func stopAppendOnly() {
        let aof = self.aof
        closeWriter()
        aof.status = .off
        aof.rewriteScheduled = false
        killRewriteChild()
        releaseAllHeldReplies()
    }

    /// Flushes, fsyncs and closes the current increment (a temporary one is removed).
    func closeWriter() {
        let aof = self.aof
        guard let writer = aof.writer else { return }
        let code = writer.close(nowSeconds: Self.unixSeconds())
        if code != 0 { logger.warning("Fail to fsync the AOF file: \(String(cString: strerror(code)))") }
        if aof.status == .waitRewrite { unlink(aof.directory + "/" + AOFState.temporaryIncrementName(settings.appendfilename)) }
        aof.writer = nil
    }

    func releaseAllHeldReplies() {
        aof.turnPending = false
        let held = aof.heldReplies
        aof.heldReplies = []
        for handler in held { handler.releaseHeldReplies() }
    }

    /// SHUTDOWN (Redis's prepareForShutdown): stop a rewrite, then write and fsync the AOF.
    /// False if the first base is still being written and the node must not exit (unless `force`).
    func prepareAOFForShutdown(force: Bool) -> Bool {
        let aof = self.aof
        if aof.child != nil {
            if aof.status == .waitRewrite {
                if !force {
                    logger.warning("Writing initial AOF, can't exit.")
                    return false
                }
                logger.warning("Writing initial AOF. Exit anyway.")
            }
            logger.warning("There is a child rewriting the AOF. Killing it!")
            killRewriteChild()
        }
        if aof.status != .off, let writer = aof.writer {
            logger.notice("Calling fsync() on the AOF file.")
            let code = writer.flushAndSync(nowSeconds: Self.unixSeconds())
            if code != 0 { logger.warning("Fail to fsync the AOF file: \(String(cString: strerror(code))).") }
        }
        return true
    }

    // MARK: DEBUG LOADAOF

    /// Empties the databases and loads the AOF again (Redis's DEBUG LOADAOF). Nothing of the
    /// replay is fed back into the AOF.
    func reloadAppendOnlyFile() throws {
        if aof.status == .on { flushAppendOnlyFile(force: true) }
        engine.flushAll()
        let sinks = engine.propagationSinks
        engine.propagationSinks = []
        defer { engine.propagationSinks = sinks }
        var options = AOFLoadOptions()
        options.loadTruncated = settings.aofLoadTruncated
        let directory = aof.status == .off ? aofDirectoryPath() : aof.directory
        _ = try AOFLoader.load(directory: directory, prefix: settings.appendfilename, into: engine, options: options, logger: logger)
        engine.dirty = 0
        logger.warning("Append Only File loaded by DEBUG LOADAOF")
    }
}
