import Logging
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// The AOF rewrite (docs/operations.md, "AOF"; Redis 7.0's rewriteAppendOnlyFileBackground and
// backgroundRewriteDoneHandler). Crash safety comes from the order of the steps:
//   1. the buffer is flushed and a new increment is opened; the manifest naming it is persisted
//      (temp, fsync, rename, fsync dir), so every write from now on lands in a file the manifest
//      lists after everything the new base will hold;
//   2. a forked child writes the new base (RDB preamble or commands) to a temporary file in the
//      AOF directory and fsyncs it;
//   3. the parent renames it to the next base name and persists a manifest in which the new base
//      replaces the old one, and the old base and the increments before the new one are history;
//   4. history files are deleted.
// A crash before 3 leaves the old manifest (old base + every increment, the new one included);
// after 3 the new one. A failed child changes nothing but a temporary file, which is removed.

extension Persistence {
    /// BGREWRITEAOF (Redis's bgrewriteaofCommand): the status reply, or the error. A rewrite
    /// asked for while another child runs, or inside MULTI, is left to the cron.
    public func requestRewrite() -> Result<String, PersistenceRefusal> {
        if child?.kind == .aofRewrite {
            return .failure(PersistenceRefusal("ERR Background append only file rewriting already in progress"))
        }
        if child != nil || engine.isExecutingTransaction {
            aof.rewriteScheduled = true
            // Asked for by hand: the back-off after failures does not apply.
            aof.consecutiveFailures = 0
            return .success("Background append only file rewriting scheduled")
        }
        guard startRewrite() else {
            return .failure(PersistenceRefusal("ERR Can't execute an AOF background rewriting. Please check the server logs for more information."))
        }
        return .success("Background append only file rewriting started")
    }

    /// Starts a background rewrite. False if it could not start (logged; Redis's C_ERR).
    @discardableResult
    public func startRewrite() -> Bool {
        guard child == nil else { return false }
        let prefix = settings.appendfilename
        let directory: String
        if aof.status == .off {
            // Not appending: the rewrite compacts whatever the directory holds.
            directory = aofDirectoryPath()
            do {
                aof.manifest = try AOFManifest.load(directory: directory, prefix: prefix) ?? AOFManifest()
            } catch {
                logger.warning("Can't load the AOF manifest in \(directory): \(error)")
                aof.lastRewriteOK = false
                return false
            }
            aof.directory = directory
        } else {
            directory = aof.directory
        }
        do {
            try createDirectory(directory)
        } catch {
            logger.warning("\(error)")
            aof.lastRewriteOK = false
            return false
        }
        flushAppendOnlyFile(force: true)
        // Buffered commands carried into the new increment would miss their SELECT.
        if let writer = aof.writer, !writer.buffer.isEmpty {
            logger.warning("Can't rewrite the AOF while its buffer can't be written: \(String(cString: strerror(writer.failureCode)))")
            aof.lastRewriteOK = false
            return false
        }
        guard openIncrementForRewrite() else {
            aof.lastRewriteOK = false
            return false
        }
        aof.rewrites += 1
        if !aof.warmedUp {
            // The child must not be the first to run the writer's code (see ForkedChild.swift).
            AOFBase.warmUp()
            _ = AOFState.temporaryBasePath(directory: directory, pid: getpid())
            aof.warmedUp = true
        }
        let preamble = settings.aofUseRdbPreamble
        let options = rdbSaveOptions
        let process: ForkedChild
        do {
            process = try ForkedChild.spawn { [engine] reporter in
                Self.writeRewrittenBase(engine, directory: directory, rdbPreamble: preamble, options: options, reporter: reporter)
            }
        } catch {
            aof.lastRewriteOK = false
            logger.warning("Can't rewrite append only file in background: fork: \(error)")
            return false
        }
        logger.notice("Background append only file rewriting started by pid \(process.pid)")
        occupy(ChildJob(kind: .aofRewrite, process: process,
                        temporaryPath: AOFState.temporaryBasePath(directory: directory, pid: process.pid),
                        startedSeconds: Self.unixSeconds(), directory: directory, rdbPreamble: preamble))
        aof.rewriteScheduled = false
        return true
    }

    /// The child's job: write the base, fsync it, report. Exit code 0 on success.
    private static func writeRewrittenBase(_ engine: Engine, directory: String, rdbPreamble: Bool,
                                           options: RDBSaveOptions, reporter: ChildReporter) -> Int32 {
        reporter.progress(keys: 0, bytes: 0)
        let path = AOFState.temporaryBasePath(directory: directory, pid: getpid())
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            reporter.fail(step: SnapshotSave.Step.open.rawValue, code: Int64(errno))
            return 1
        }
        var step = SnapshotSave.Step.write
        var code: Int32 = 0
        do {
            try AOFBase.write(engine, to: fd, rdbPreamble: rdbPreamble, rdb: options)
            if fsync(fd) != 0 {
                step = .fsync
                code = errno
            }
        } catch let error as FileError {
            step = SnapshotSave.Step(error.operation)
            code = error.code
        } catch {
            code = EIO
        }
        let bytes = Int64(lseek(fd, 0, SEEK_CUR))
        if close(fd) != 0 && code == 0 {
            step = .fsync
            code = errno
        }
        guard code == 0 else {
            unlink(path)
            reporter.fail(step: step.rawValue, code: Int64(code))
            return 1
        }
        // An orphan's base would never be renamed by its (dead) parent: leave nothing behind.
        do { try reporter.requireParent() } catch {
            unlink(path)
            return ChildReporter.orphanedExitCode
        }
        reporter.finish(keys: Int64(engine.totalKeys), bytes: bytes)
        return 0
    }

    /// Redis's openNewIncrAofForAppend: the increment later writes go to. While the AOF is
    /// waiting for its first base this is a temporary file the manifest does not list yet.
    private func openIncrementForRewrite() -> Bool {
        guard aof.status != .off else { return true }
        let prefix = settings.appendfilename
        var manifest = aof.manifest
        let name = aof.status == .waitRewrite ? AOFState.temporaryIncrementName(prefix) : manifest.addIncrement(prefix: prefix).name
        let path = aof.directory + "/" + name
        let fd: Int32
        switch openFile(path, flags: O_WRONLY | O_TRUNC | O_CREAT | O_CLOEXEC) {
        case .success(let opened): fd = opened
        case .failure(let error):
            logger.warning("Can't open the append-only file \(name): \(error)")
            return false
        }
        if aof.status == .on {
            do {
                try manifest.write(directory: aof.directory, prefix: prefix, fileSystem: fileSystem)
            } catch {
                logger.warning("Can't persist the AOF manifest: \(error)")
                try? fileSystem.close(fd)
                removeFile(path)
                return false
            }
            aof.manifest = manifest
        }
        logger.notice("Creating AOF incr file \(name) on background rewrite")
        if let writer = aof.writer {
            aof.otherFilesBytes += writer.incrementBytes
            writer.switchTo(fd: fd, name: name, nowSeconds: Self.unixSeconds())
        } else {
            aof.writer = makeWriter(fd: fd, name: name, existingBytes: 0)
        }
        return true
    }

    /// A rewrite child ended (Redis's backgroundRewriteDoneHandler).
    func rewriteDone(_ job: ChildJob, _ exit: ChildExit) {
        let process = job.process
        var failed = true
        switch exit {
        case .exited(0) where process.finished:
            logger.notice("Background AOF rewrite terminated with success")
            failed = !installRewrittenBase(job)
            aof.lastCowBytes = max(0, process.cowBytes)
        case .exited:
            if let failure = process.failure {
                let reason = failure.code == 0 ? "error" : String(cString: strerror(Int32(clamping: failure.code)))
                logger.warning("Error writing the rewritten AOF base \(job.temporaryPath): \(reason)")
            }
            logger.warning("Background AOF rewrite terminated with error")
        case .signaled(let signal):
            logger.warning("Background AOF rewrite terminated by signal \(signal)")
            // SIGUSR1 is how the server itself stops a rewrite that became pointless.
            failed = signal != SIGUSR1
        case .vanished:
            logger.warning("Background AOF rewrite child \(process.pid) could not be waited for")
        }
        if failed {
            aof.lastRewriteOK = false
            aof.consecutiveFailures += 1
        }
        removeFile(job.temporaryPath)
        if aof.status == .waitRewrite {
            // The next try starts from the dataset in memory again.
            closeWriter()
            aof.rewriteScheduled = true
        }
        aof.lastRewriteDurationSeconds = Self.unixSeconds() - job.startedSeconds
    }

    /// Step 3: the new base and manifest. False (logged) if the swap could not be made; the
    /// old manifest then still describes the data.
    private func installRewrittenBase(_ job: ChildJob) -> Bool {
        let prefix = settings.appendfilename
        let directory = job.directory
        let temporary = job.temporaryPath
        var manifest = aof.manifest
        let base = manifest.replaceBase(prefix: prefix, rdbPreamble: job.rdbPreamble)
        let basePath = directory + "/" + base.name
        if let reason = renameFile(temporary, to: basePath) {
            logger.warning("Error trying to rename the temporary AOF file \(temporary) into \(base.name): \(reason)")
            return false
        }
        logger.notice("Successfully renamed the temporary AOF base file \(Self.lastComponent(temporary)) into \(base.name)")
        var renamedIncrement: (from: String, to: String)?
        if aof.status == .waitRewrite, let writer = aof.writer {
            let increment = manifest.addIncrement(prefix: prefix)
            let from = directory + "/" + AOFState.temporaryIncrementName(prefix)
            let to = directory + "/" + increment.name
            if let reason = renameFile(from, to: to) {
                logger.warning("Error trying to rename the temporary AOF incr file \(Self.lastComponent(from)) into \(increment.name): \(reason)")
                removeFile(basePath)
                return false
            }
            logger.notice("Successfully renamed the temporary AOF incr file \(Self.lastComponent(from)) into \(increment.name)")
            writer.name = increment.name
            renamedIncrement = (from, to)
        }
        manifest.markRewrittenIncrementsAsHistory(keepingLast: aof.writer != nil)
        do {
            try manifest.write(directory: directory, prefix: prefix, fileSystem: fileSystem)
        } catch {
            logger.warning("Can't persist the AOF manifest after a rewrite: \(error)")
            removeFile(basePath)
            if let renamedIncrement { _ = renameFile(renamedIncrement.to, to: renamedIncrement.from) }
            return false
        }
        aof.manifest = manifest
        if aof.writer != nil {
            aof.writer?.encoder.forgetSelectedDB()
            aof.otherFilesBytes = fileSize(basePath)
            aof.sizeAtLastRewrite = aof.currentSize
        }
        deleteHistoryFiles()
        aof.lastRewriteOK = true
        aof.consecutiveFailures = 0
        logger.notice("Background AOF rewrite finished successfully")
        if aof.status == .waitRewrite { aof.status = .on }
        return true
    }

    /// Stops a running rewrite and waits for it (Redis's killAppendOnlyChild): SIGUSR1, which
    /// does not count as a failure.
    func killRewriteChild() {
        guard let job = child, job.kind == .aofRewrite else { return }
        logger.notice("Killing running AOF rewrite child: \(job.process.pid)")
        job.process.kill(SIGUSR1)
        _ = job.process.wait()
        removeFile(job.temporaryPath)
        child = nil
    }

    static func lastComponent(_ path: String) -> String {
        path.split(separator: "/").last.map(String.init) ?? path
    }
}
