import Logging
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// The append-only file while the node runs (docs/operations.md, "AOF"; Redis 7.0's
// feedAppendOnlyFile, beforeSleep and the AOF parts of serverCron): feeding it every propagated
// write, writing it once per event-loop turn before that turn's replies leave (group commit), the
// cron's retries and automatic rewrites, MISCONF. Start-up, switching on and off and shutdown are
// in AOFLifecycle.swift, rewrites in AOFRewrite.swift. Log lines are Redis's.

extension Persistence {
    /// The AOF directory as an absolute path, under the current working directory. (An absolute
    /// appenddirname cannot come from a directive, which refuses paths; tests set one.)
    public func aofDirectoryPath() -> String {
        if settings.appenddirname.hasPrefix("/") { return settings.appenddirname }
        let cwd = WorkingDirectory.current() ?? "."
        return (cwd.hasSuffix("/") ? cwd : cwd + "/") + settings.appenddirname
    }

    // MARK: feeding and writing

    /// Installs the propagation sink that feeds the AOF buffer (Redis's feedAppendOnlyFile).
    func installAOFSink() {
        guard !aof.sinkInstalled else { return }
        aof.sinkInstalled = true
        engine.addPropagationSink(PropagationSink(.aof) { [unowned(unsafe) self] batch in feedAppendOnlyFile(batch.commands) })
    }

    private func feedAppendOnlyFile(_ batch: PropagatedCommands) {
        let rewriting = child?.kind == .aofRewrite
        guard let writer = aof.writer, aof.status == .on || (aof.status == .waitRewrite && rewriting) else { return }
        writer.append(batch, nowMillis: engine.now)
        if !aof.turnPending {
            aof.turnPending = true
            // Without an event loop (unit tests drive the engine directly) the caller ends the turn.
            scheduleTurnEnd?()
        }
    }

    /// DEBUG AOF-FLUSH-SLEEP <microsec>: a sleep before each AOF write that has bytes to write
    /// (0: none). Process-wide, as Redis's server.aof_flush_sleep.
    nonisolated(unsafe) public static var aofFlushSleepMicros: Int = 0

    /// Replies may not leave before the AOF write of this turn.
    public var holdsReplies: Bool { aof.turnPending }

    /// The end of a turn that wrote (Redis's beforeSleep): write the buffer (and fsync it under
    /// `always`), then let every reply that waited for it go.
    public func endAOFTurn() {
        aof.turnPending = false
        flushAppendOnlyFile(force: false)
        onTurnWritten()
    }

    /// Writes the buffer under the fsync policy. A failure `always` cannot recover from is fatal
    /// (`onFatalWriteError`), as in Redis: the turn's replies were never sent, but the dataset
    /// changed.
    public func flushAppendOnlyFile(force: Bool) {
        guard let writer = aof.writer else { return }
        // DEBUG AOF-FLUSH-SLEEP (Redis's aof_flush_sleep): tests widen the window before a write.
        if Self.aofFlushSleepMicros > 0 && !writer.buffer.isEmpty { usleep(UInt32(clamping: Self.aofFlushSleepMicros)) }
        let skipFsync = settings.noAppendfsyncOnRewrite && hasActiveChild
        if case .fatal(let message) = writer.flush(force: force, nowSeconds: Self.unixSeconds(), skipFsync: skipFsync) {
            logger.critical("\(message)")
            onFatalWriteError(message)
        }
    }

    /// The cron's AOF part: start a scheduled or automatic rewrite once the slot is free, write
    /// what a turn left (retries of failed writes, owed fsyncs).
    func aofCron() {
        if child == nil && aof.rewriteScheduled && !rewriteLimited() {
            startRewrite()
        }
        if aof.status == .on && child == nil && settings.autoAofRewritePercentage > 0
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
    func aofRefusal(_ request: AdmissionRequest) -> String? {
        guard aof.status != .off, let writer = aof.writer, !writer.healthy else { return nil }
        guard request.isWrite || request.command.spec.name == "ping" else { return nil }
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

    /// INFO persistence's AOF lines (Redis 7.0's order); the size lines only while the AOF is on.
    func aofInfoLines(nowSeconds: Int64) -> [String] {
        let rewrite = child.flatMap { $0.kind == .aofRewrite ? $0 : nil }
        var lines = [
            "aof_enabled:\(aof.status == .off ? 0 : 1)",
            "aof_rewrite_in_progress:\(rewrite == nil ? 0 : 1)",
            "aof_rewrite_scheduled:\(aof.rewriteScheduled ? 1 : 0)",
            "aof_last_rewrite_time_sec:\(aof.lastRewriteDurationSeconds)",
            "aof_current_rewrite_time_sec:\(rewrite.map { nowSeconds - $0.startedSeconds } ?? -1)",
            "aof_last_bgrewrite_status:\(aof.lastRewriteOK ? "ok" : "err")",
            "aof_rewrites:\(aof.rewrites)",
            "aof_rewrites_consecutive_failures:\(aof.consecutiveFailures)",
            "aof_last_write_status:\(aof.writer?.healthy ?? true ? "ok" : "err")",
            "aof_last_cow_size:\(aof.lastCowBytes)",
            "module_fork_in_progress:0",
            "module_fork_last_cow_size:0",
        ]
        if aof.status != .off {
            lines += [
                "aof_current_size:\(aof.currentSize)",
                "aof_base_size:\(aof.sizeAtLastRewrite)",
                "aof_pending_rewrite:\(aof.rewriteScheduled ? 1 : 0)",
                "aof_buffer_length:\(aof.writer?.buffer.count ?? 0)",
                "aof_pending_bio_fsync:\(aof.fsyncThread.pendingFsyncs)",
                "aof_delayed_fsync:\(aof.writer?.delayedFsyncs ?? 0)",
            ]
        }
        return lines
    }
}
