import Logging
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// The AOF's lifecycle in the node (docs/operations.md, "AOF"; Redis 7.0's loadAppendOnlyFiles,
// aofOpenIfNeededOnServerStart, startAppendOnly, stopAppendOnly and the AOF part of
// prepareForShutdown): loading and opening it at start-up, switching it on and off at run time,
// flushing it at shutdown, DEBUG LOADAOF. Log lines are Redis's.

extension Persistence {
    // MARK: start-up

    /// Loads the AOF named by the manifest (Redis's loadAppendOnlyFiles) and opens it for
    /// appending. Without a manifest, an existing RDB file is loaded instead and becomes the
    /// first base. Throws when the files cannot be read whole: the node must not start with
    /// part of its data.
    public func loadAppendOnlyFilesAtStart() throws {
        let directory = aofDirectoryPath()
        var options = AOFLoadOptions()
        options.loadTruncated = settings.aofLoadTruncated
        try upgradeSingleFileAOF(directory: directory)
        if let summary = try AOFLoader.load(directory: directory, prefix: settings.appendfilename, into: engine,
                                            options: options, logger: logger, fileSystem: fileSystem) {
            logger.notice("DB loaded from append only file: \(InfoFormat.fixed(summary.seconds, 3)) seconds")
            rdb.lastLoadKeysLoaded = engine.totalKeys
        } else if access(settings.dbfilename, F_OK) == 0 {
            // Redis 7.0 would start empty here and lose the snapshot; the AOF starts from it instead.
            logger.notice("No AOF manifest in \(directory): loading \(settings.dbfilename) to build the first AOF base from it")
            let summary = try loadRDB(settings.dbfilename)
            logger.notice("DB loaded from disk: \(InfoFormat.fixed(summary.seconds, 3)) seconds")
        }
        try openAppendOnlyFileAtStart(directory: directory)
    }

    /// Redis's aofUpgradePrepare: a Redis < 7 `appendonly.aof` in `dir` without a manifest becomes
    /// the base of a new multi-part AOF. The manifest naming it is persisted first, then the file
    /// moves into the AOF directory, so a crash in between leaves a manifest whose base is still
    /// outside (finished here on the next start), never a directory that silently lost it.
    func upgradeSingleFileAOF(directory: String) throws {
        let name = settings.appendfilename
        guard access(name, F_OK) == 0 else { return }
        let moved = directory + "/" + name
        if let manifest = try AOFManifest.load(directory: directory, prefix: name) {
            guard manifest.base?.name == name, access(moved, F_OK) != 0 else { return }
        } else {
            try createDirectory(directory)
            try AOFManifest(base: .init(name: name, seq: 1, type: .base)).write(directory: directory, prefix: name,
                                                                                fileSystem: fileSystem)
        }
        if let reason = renameFile(name, to: moved) {
            throw AOFError(.io, "cannot move \(name) into \(directory): \(reason)")
        }
        try AtomicFile.syncDirectory(of: moved, fileSystem: fileSystem)
        try AtomicFile.syncDirectory(of: name, fileSystem: fileSystem)
        logger.notice("Successfully migrated an old-style AOF into the AOF directory \(settings.appenddirname).")
    }

    /// Redis's aofOpenIfNeededOnServerStart: creates the directory, writes a first base of the
    /// dataset when there are no files yet, opens the last increment (creating one if needed),
    /// persists the manifest and removes history files.
    func openAppendOnlyFileAtStart(directory: String) throws {
        let prefix = settings.appendfilename
        try createDirectory(directory)
        var manifest = try AOFManifest.load(directory: directory, prefix: prefix) ?? AOFManifest()
        removeTemporaryFiles(in: directory, prefix: prefix)
        if manifest.base == nil && manifest.increments.isEmpty {
            let base = manifest.replaceBase(prefix: prefix, rdbPreamble: settings.aofUseRdbPreamble)
            let preamble = settings.aofUseRdbPreamble
            let options = rdbSaveOptions
            try AtomicFile.replace(directory + "/" + base.name, fileSystem: fileSystem) { [fileSystem] fd in
                try AOFBase.write(engine, to: fd, rdbPreamble: preamble, rdb: options, fileSystem: fileSystem)
            }
            logger.notice("Creating AOF base file \(base.name) on server start")
        }
        let creating = manifest.increments.isEmpty
        let increment = creating ? manifest.addIncrement(prefix: prefix) : manifest.increments[manifest.increments.count - 1]
        let path = directory + "/" + increment.name
        let fd: Int32
        switch openFile(path, flags: O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC) {
        case .success(let opened): fd = opened
        case .failure(let error): throw AOFError(.io, "Can't open the append-only file \(increment.name): \(error)")
        }
        do {
            try manifest.write(directory: directory, prefix: prefix, fileSystem: fileSystem)
        } catch {
            try? fileSystem.close(fd)
            throw error
        }
        logger.notice("\(creating ? "Creating" : "Opening") AOF incr file \(increment.name) on server start")
        let aof = self.aof
        aof.directory = directory
        aof.manifest = manifest
        let incrementBytes = fileSize(path)
        aof.writer = makeWriter(fd: fd, name: increment.name, existingBytes: incrementBytes)
        let baseBytes = manifest.base.map { fileSize(directory + "/" + $0.name) } ?? 0
        aof.otherFilesBytes = manifest.increments.dropLast().reduce(baseBytes) { $0 + fileSize(directory + "/" + $1.name) }
        aof.sizeAtLastRewrite = baseBytes
        aof.status = .on
        deleteHistoryFiles()
        installAOFSink()
        updateDiskErrorStage()
    }

    func makeWriter(fd: Int32, name: String, existingBytes: Int64) -> AOFWriter {
        AOFWriter(fd: fd, name: name, existingBytes: existingBytes, policy: settings.appendfsync,
                  timestamps: settings.aofTimestampEnabled, fsyncThread: aof.fsyncThread, logger: logger,
                  nowSeconds: Self.unixSeconds())
    }

    func createDirectory(_ path: String) throws {
        do { try fileSystem.mkdir(path, mode: 0o755) } catch {
            if error.code == EEXIST { return }
            throw AOFError(.io, "Can't open or create append-only dir \(path): \(error)")
        }
        // A new directory exists after a crash only once its parent is synced: otherwise every
        // file in it, the manifest included, could vanish with it.
        do { try AtomicFile.syncDirectory(of: path, fileSystem: fileSystem) } catch {
            throw AOFError(.io, "Can't fsync the directory holding \(path): \(error)")
        }
    }

    func fileSize(_ path: String) -> Int64 {
        (try? fileSystem.status(path).size) ?? 0
    }

    /// Leftovers of a rewrite or a first base that a crash interrupted: never in the manifest.
    func removeTemporaryFiles(in directory: String, prefix: String) {
        let temporaryIncrement = AOFState.temporaryIncrementName(prefix)
        for name in DirectoryEntries.names(in: directory) ?? [] {
            if name.hasPrefix("temp-rewriteaof-") || name == temporaryIncrement || (name.hasPrefix(prefix + ".") && name.contains(".tmp-")) {
                removeFile(directory + "/" + name)
            }
        }
    }

    /// Removes the history files and drops them from the manifest (Redis's aofDelHistoryFiles).
    func deleteHistoryFiles() {
        let aof = self.aof
        guard !aof.manifest.history.isEmpty else { return }
        for entry in aof.manifest.history {
            logger.notice("Removing the history file \(entry.name)")
            removeFile(aof.directory + "/" + entry.name)
        }
        aof.manifest.history = []
        do {
            try aof.manifest.write(directory: aof.directory, prefix: settings.appendfilename, fileSystem: fileSystem)
        } catch {
            logger.warning("Can't persist the AOF manifest after removing history files: \(error)")
        }
    }

    // MARK: switching on and off

    /// CONFIG SET appendonly changed: start or stop the AOF. The error text for CONFIG SET when
    /// it cannot be started.
    public func appendOnlyChanged(to enabled: Bool) -> String? {
        defer { updateDiskErrorStage() }
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
        if let job = child, job.kind.isRDB {
            aof.rewriteScheduled = true
            logger.warning("AOF was enabled but there is already another background operation. An AOF background was scheduled to start when possible.")
        } else if engine.isExecutingTransaction {
            aof.rewriteScheduled = true
            logger.warning("AOF was enabled during a transaction. An AOF background was scheduled to start when possible.")
        } else {
            if child?.kind == .aofRewrite {
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
        aof.turnPending = false
        onTurnWritten()
    }

    /// Flushes, fsyncs and closes the current increment (a temporary one is removed).
    public func closeWriter() {
        let aof = self.aof
        guard let writer = aof.writer else { return }
        let code = writer.close(nowSeconds: Self.unixSeconds())
        if code != 0 { logger.warning("Fail to fsync the AOF file: \(String(cString: strerror(code)))") }
        if aof.status == .waitRewrite { removeFile(aof.directory + "/" + AOFState.temporaryIncrementName(settings.appendfilename)) }
        aof.writer = nil
    }

    /// SHUTDOWN (Redis's prepareForShutdown): stop a rewrite, then write and fsync the AOF.
    /// False if the first base is still being written and the node must not exit (unless `force`).
    func prepareAOFForShutdown(force: Bool) -> Bool {
        let aof = self.aof
        if child?.kind == .aofRewrite {
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
    /// replay is fed back into the AOF (a replay propagates nothing).
    public func reloadAppendOnlyFile() throws {
        if aof.status == .on { flushAppendOnlyFile(force: true) }
        engine.flushAll()
        var options = AOFLoadOptions()
        options.loadTruncated = settings.aofLoadTruncated
        let directory = aof.status == .off ? aofDirectoryPath() : aof.directory
        _ = try AOFLoader.load(directory: directory, prefix: settings.appendfilename, into: engine, options: options, logger: logger,
                               fileSystem: fileSystem)
        engine.dirty = 0
        logger.warning("Append Only File loaded by DEBUG LOADAOF")
    }
}
