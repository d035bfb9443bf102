import CairnRESP
import CairnReplication
import CairnStorage
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// The shutdown sequence of Redis 7.0 (server.c prepareForShutdown / finishShutdown /
// abortShutdown), shared by SHUTDOWN and by SIGTERM / SIGINT: unless NOW is given or
// `shutdown-timeout` is 0, lagging replicas get up to `shutdown-timeout` seconds to catch up
// (writes paused, a GETACK sent), then the final save (or not) and the exit.

/// A shutdown waiting for lagging replicas; the cron finishes it.
final class ShutdownInProgress {
    let flags: ShutdownSignalFlags
    let deadlineMillis: Int64
    /// SHUTDOWN callers blocked until the shutdown ends (they get an error if it fails).
    var waiters: [ClientSession] = []

    init(flags: ShutdownSignalFlags, deadlineMillis: Int64) {
        self.flags = flags
        self.deadlineMillis = deadlineMillis
    }
}

extension Server {
    enum ShutdownOutcome { case finished, waiting, failed }

    /// Redis's prepareForShutdown.
    func prepareForShutdown(_ flags: ShutdownSignalFlags) -> ShutdownOutcome {
        guard shutdownInProgress == nil, !isShutDown else { return .failed }
        logger.warning("User requested shutdown...")
        ProcessControl.notifyIfSystemd("STOPPING=1\n", logger: logger)
        let timeout = settings.process.shutdownTimeoutSeconds
        if !flags.contains(.now) && timeout != 0 && !isReadyToShutdown() {
            shutdownInProgress = ShutdownInProgress(flags: flags, deadlineMillis: Clock.unixMillis() + Int64(timeout) * 1000)
            if engine.clientPauseType() == .off { replication.feedGetAck() }
            engine.pauseClients(.shutdown, untilMillis: Int64.max, type: .write)
            logger.notice("Waiting for replicas before shutting down.")
            return .waiting
        }
        return finishShutdown(flags) ? .finished : .failed
    }

    /// Every replica has acknowledged the whole stream (isReadyToShutdown).
    func isReadyToShutdown() -> Bool {
        let offset = replication.offset
        return replication.replicas.allSatisfy { $0.ackOffset == offset }
    }

    /// Redis's finishShutdown: report lagging replicas, save (or not), stop. False when the final
    /// save failed without FORCE: the node keeps running.
    func finishShutdown(_ flags: ShutdownSignalFlags) -> Bool {
        let offset = replication.offset
        let replicas = replication.replicas
        var lagging = 0
        let now = Clock.unixMillis()
        for link in replicas where link.ackOffset != offset {
            lagging += 1
            let state: String
            switch link.state {
            case .waitingForSync: state = "wait_bgsave"
            case .transferring: state = "send_bulk"
            case .waitingForAck, .online: state = "online"
            }
            let lag = state == "online" ? (now - link.ackMillis) / 1000 : 0
            logger.warning("Lagging replica \(replicaName(link)) reported offset \(offset - link.ackOffset) behind master, lag=\(lag), state=\(state).")
        }
        if !replicas.isEmpty {
            logger.notice("\(replicas.count - lagging) of \(replicas.count) replicas are in sync when shutting down.")
        }
        if flags.contains(.save) || (!flags.contains(.nosave) && !persistence.settings.savePoints.isEmpty) {
            ProcessControl.notifyIfSystemd("STATUS=Saving the final RDB snapshot\n", logger: logger)
        }
        guard persistence.prepareForShutdown(save: flags.contains(.save), nosave: flags.contains(.nosave),
                                             force: flags.contains(.force)) else {
            ProcessControl.notifyIfSystemd("STATUS=Error trying to save the DB, can't exit.\n", logger: logger)
            cancelShutdown()
            return false
        }
        // The caller's reply (none for SHUTDOWN) goes first; then the node stops.
        loop.execute { self.shutdown() }
        return true
    }

    /// cancelShutdown: blocked SHUTDOWN callers get an error, writes resume.
    func cancelShutdown() {
        ProcessControl.shutdownPending.clear()
        guard let pending = shutdownInProgress else { return }
        shutdownInProgress = nil
        for client in pending.waiters {
            engine.completeExternalWait(client) { $0.error("ERR Errors trying to SHUTDOWN. Check logs.") }
        }
        engine.unpauseClients(.shutdown)
    }

    /// SHUTDOWN ABORT (abortShutdown): false when no shutdown is in progress.
    func abortShutdown() -> Bool {
        if shutdownInProgress != nil {
            cancelShutdown()
        } else if ProcessControl.shutdownPending.isSet {
            ProcessControl.shutdownPending.clear()
        } else {
            return false
        }
        logger.notice("Shutdown manually aborted.")
        return true
    }

    /// From the cron: the replicas caught up, or the time is up.
    func shutdownCron() {
        guard let pending = shutdownInProgress else { return }
        if Clock.unixMillis() >= pending.deadlineMillis || isReadyToShutdown() {
            _ = finishShutdown(pending.flags)
        }
    }

    /// SIGTERM / SIGINT (serverCron's shutdown_asap branch), with `shutdown-on-sigterm` /
    /// `shutdown-on-sigint` as the flags.
    func shutdownOnSignal(_ name: String) {
        guard !isShutDown, shutdownInProgress == nil else { return }
        let flags = name == "SIGINT" ? settings.process.shutdownOnSigint : settings.process.shutdownOnSigterm
        if prepareForShutdown(flags) == .failed {
            ProcessControl.shutdownPending.clear()
            logger.warning("\(name) received but errors trying to shut down the server, check the logs for more information")
        }
    }

    /// SHUTDOWN [NOSAVE|SAVE] [NOW] [FORCE] [ABORT] (db.c shutdownCommand).
    static func shutdownCommand(_ s: Server, _ c: CommandContext) {
        var flags: ShutdownSignalFlags = []
        var abort = false
        for i in 1..<c.args.count {
            if c.args.matches(i, "nosave") {
                flags.insert(.nosave)
            } else if c.args.matches(i, "save") {
                flags.insert(.save)
            } else if c.args.matches(i, "now") {
                flags.insert(.now)
            } else if c.args.matches(i, "force") {
                flags.insert(.force)
            } else if c.args.matches(i, "abort") {
                abort = true
            } else {
                return c.replySyntaxError()
            }
        }
        if (abort && !flags.isEmpty) || (flags.contains(.save) && flags.contains(.nosave)) { return c.replySyntaxError() }
        if abort {
            return s.abortShutdown() ? c.reply.ok() : c.reply.error("ERR No shutdown in progress.")
        }
        let denyBlocking = !c.client.origin.mayBlock || c.client.transaction != nil || c.engine.isExecutingTransaction
        if !flags.contains(.now) && denyBlocking {
            return c.reply.error("ERR SHUTDOWN without NOW or ABORT isn't allowed for DENY BLOCKING client")
        }
        switch s.prepareForShutdown(flags) {
        case .finished:
            // Redis closes the connection without a reply when the shutdown succeeds.
            c.client.closeAfterReply = true
        case .waiting:
            let blocked = c.engine.blockExternally(c, name: "shutdown", deadline: nil) { _ in }
            if blocked {
                s.shutdownInProgress?.waiters.append(c.client)
            }
        case .failed:
            c.reply.error("ERR Errors trying to SHUTDOWN. Check logs.")
        }
    }
}
