import CairnReplication
import CairnRESP
import CairnStorage

// FAILOVER [TO <host> <port> [FORCE]] [ABORT] [TIMEOUT <ms>] (Redis 7.0's failoverCommand and
// updateFailoverStatus): a master hands its role to one of its replicas without losing an
// acknowledged write. It stops taking writes, waits until the target (or, without TO, any online
// replica) has acknowledged its whole stream, then becomes a replica of it and sends
// `PSYNC <replid> <offset+1> FAILOVER`: the target promotes itself and serves the old master
// partially. A timeout aborts (or, with FORCE, fails over anyway); so does a refused PSYNC.
// Meanwhile writes are paused (ClientPause.swift, as Redis's PAUSE_DURING_FAILOVER): once the
// node is a replica they run and fail with READONLY; after an abort they run on the master.

struct FailoverState {
    enum Phase: String {
        case waitingForSync = "waiting-for-sync"
        case inProgress = "failover-in-progress"
    }

    var phase = Phase.waitingForSync
    var target: (host: String, port: Int)?
    var force = false
    /// Unix ms when waiting for the sync gives up (TIMEOUT), or nil.
    var deadline: Int64?
}

extension ReplicationCommands {
    static func failover(_ s: Server, _ c: CommandContext) {
        if s.clusterBus != nil {
            return c.reply.error("ERR FAILOVER not allowed in cluster mode. Use CLUSTER FAILOVER command instead.")
        }
        var target: (host: String, port: Int)?
        var force = false, abort = false
        var timeout: Int64? = nil
        var i = 1
        while i < c.args.count {
            if c.args.matches(i, "to") && i + 2 < c.args.count {
                guard let port = Int(c.args.string(i + 2)), (0...65535).contains(port) else {
                    return c.reply.error("ERR value is not an integer or out of range")
                }
                target = (c.args.string(i + 1), port)
                i += 3
            } else if c.args.matches(i, "force") {
                force = true
                i += 1
            } else if c.args.matches(i, "timeout") && i + 1 < c.args.count {
                guard let ms = Int64(c.args.string(i + 1)) else { return c.reply.error("ERR value is not an integer or out of range") }
                guard ms > 0 else { return c.reply.error("ERR FAILOVER timeout must be greater than 0") }
                timeout = ms
                i += 2
            } else if c.args.matches(i, "abort") {
                abort = true
                i += 1
            } else {
                return c.replySyntaxError()
            }
        }
        if abort {
            guard s.failover != nil, target == nil, !force, timeout == nil else {
                return c.reply.error(s.failover == nil ? "ERR No failover in progress." : "ERR syntax error")
            }
            s.abortFailover("Failover manually aborted")
            return c.reply.ok()
        }
        if force && (timeout == nil || target == nil) {
            return c.reply.error("ERR FAILOVER with force option requires both a timeout and target HOST and IP.")
        }
        if s.masterLink != nil { return c.reply.error("ERR FAILOVER is not valid when server is a replica.") }
        if s.replication.replicas.isEmpty { return c.reply.error("ERR FAILOVER requires connected replicas.") }
        if s.failover != nil { return c.reply.error("ERR FAILOVER already in progress.") }
        if let target {
            guard let link = s.failoverCandidate(target) else {
                return c.reply.error("ERR FAILOVER target HOST and PORT is not a replica.")
            }
            guard link.state == .online else { return c.reply.error("ERR FAILOVER target replica is not online.") }
        }
        s.failover = FailoverState(target: target, force: force, deadline: timeout.map { Clock.unixMillis() + $0 })
        s.engine.pauseClients(.failover, untilMillis: Int64.max, type: .write)
        s.logger.notice("FAILOVER requested to \(target.map { "\($0.host):\($0.port)" } ?? "any replica").")
        c.reply.ok()
        s.updateFailover()
    }
}

extension Server {
    /// The replica `target` names (its announced address and listening port).
    func failoverCandidate(_ target: (host: String, port: Int)) -> ReplicaLink? {
        replication.replicas.first { replicaIP($0) == target.host && $0.listeningPort == target.port }
    }

    /// From the cron and each REPLCONF ACK: once the chosen replica has the whole stream, hand
    /// over to it; at the deadline, abort (or, with FORCE, hand over anyway).
    func updateFailover() {
        guard let state = failover, state.phase == .waitingForSync else { return }
        let offset = replication.offset
        var chosen: (host: String, port: Int)?
        if let target = state.target {
            if let link = failoverCandidate(target), link.state == .online, link.ackOffset >= offset { chosen = target }
        } else if let link = replication.replicas.first(where: { $0.state == .online && $0.ackOffset >= offset }) {
            chosen = (replicaIP(link), link.listeningPort)
        }
        if chosen == nil, let deadline = state.deadline, Clock.unixMillis() >= deadline {
            guard state.force, let target = state.target else { return abortFailover("Replica never caught up before timeout") }
            chosen = target
        }
        guard let chosen else { return }
        failover?.phase = .inProgress
        logger.notice("Failover target \(chosen.host):\(chosen.port) is synced, failing over.")
        becomeReplica(of: chosen.host, port: chosen.port, failover: true)
    }

    /// The old master now follows the target (its PSYNC FAILOVER was accepted).
    func failoverSucceeded() {
        guard failover != nil else { return }
        failover = nil
        applySettings()
        engine.unpauseClients(.failover)  // the paused writes now meet READONLY
        logger.notice("Failover successful: this node is now a replica of \(masterLink.map { "\($0.host):\($0.port)" } ?? "?").")
    }

    /// Gives up the failover: writes are taken again; a node that already turned to the target
    /// becomes a master again (under a new id, as Redis's replicationUnsetMaster).
    func abortFailover(_ reason: String) {
        guard let state = failover else { return }
        failover = nil
        logger.warning("FAILOVER aborted: \(reason)")
        if state.phase == .inProgress { becomeMaster() } else { applySettings() }
        engine.unpauseClients(.failover)
    }
}
