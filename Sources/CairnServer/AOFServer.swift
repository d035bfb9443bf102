import CairnRESP
import CairnStorage
import Logging
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// The append-only file in the node (docs/operations.md, "AOF"; Redis 7.0's feedAppendOnlyFile,
// beforeSleep and the AOF parts of serverCron): feeding it every propagated write, writing it
// once per event-loop turn before that turn's replies leave (group commit), the cron's retries
// and automatic rewrites, MISCONF. Start-up, switching on and off and shutdown are in
// AOFLifecycle.swift, rewrites in AOFRewrite.swift. Log lines are Redis's.

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

    // MARK: feeding and writing

    /// Installs the propagation sink that feeds the AOF buffer (Redis's feedAppendOnlyFile).
    func installAOFSink() {
        guard !aof.sinkInstalled else { return }
        aof.sinkInstalled = true
        engine.addPropagationSink(PropagationSink(.aof) { [unowned(unsafe) self] batch in feedAppendOnlyFile(batch.commands) })
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

}
