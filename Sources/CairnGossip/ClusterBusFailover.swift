import CairnCluster

// Redis 7.0's failure detection and failover (cluster.c): PFAIL from this node's own timeout,
// failure reports gossiped by masters, FAIL on a majority, the replica election (data age,
// rank delay, FAILOVER_AUTH_REQUEST/ACK, the voters' rules), the winner taking its master's
// slots, UPDATE for nodes with a stale slot table, manual failover (MFSTART, the paused
// master's offset) and replica migration to orphaned masters.

/// A replica's election in progress (Redis's failover_auth_* fields).
struct Election {
    /// When the election may start (Unix ms); 0 when none was scheduled.
    var startMs: Int64 = 0
    /// Votes received for `epoch`.
    var votes = 0
    /// Whether the vote request went out.
    var requested = false
    /// This replica's rank among its master's replicas (0: the most up to date).
    var rank = 0
    /// The epoch this replica asked votes for.
    var epoch: UInt64 = 0
}

/// A manual failover (Redis's mf_* fields): on the replica, the master's offset to reach; on
/// the master, the replica it paused writes for.
struct ManualFailover {
    /// When it is abandoned (Unix ms); 0 when none is in progress.
    var endMs: Int64 = 0
    /// The replica may start its election (it has its master's paused offset, or FORCE).
    var canStart = false
    /// On the master: the replica that asked.
    var replica: NodeName?
    /// On the replica: the offset the paused master announced, nil until it did.
    var masterOffset: Int64?

    var inProgress: Bool { endMs != 0 }
}

extension ClusterBus {
    /// Failure reports older than the node timeout times this no longer count
    /// (CLUSTER_FAIL_REPORT_VALIDITY_MULT).
    static let failReportValidityMult: Int64 = 2
    /// A master with slots that comes back is cleared of FAIL after the node timeout times this
    /// (CLUSTER_FAIL_UNDO_TIME_MULT), when nobody took its slots.
    static let failUndoTimeMult: Int64 = 2
    /// How long a manual failover may take (CLUSTER_MF_TIMEOUT), and how much longer the master
    /// keeps writes paused (CLUSTER_MF_PAUSE_MULT).
    static let manualFailoverTimeoutMillis: Int64 = 5000
    static let manualFailoverPauseMult: Int64 = 2

    // MARK: - Failure detection

    /// The masters serving at least one slot (Redis's cluster->size): the voters, and the
    /// population whose majority decides FAIL.
    var votingMasters: Int {
        state.nodes.values.reduce(0) { $0 + ($1.isMaster && !$1.slots.isEmpty ? 1 : 0) }
    }

    /// The cron's failure check (part of clusterCron): a node whose ping has been unanswered, with
    /// no data from it either, for longer than the node timeout becomes PFAIL. Returns whether
    /// a flag changed.
    func detectTimeouts(now: Int64) -> Bool {
        var changed = false
        for name in state.order where name != state.myself {
            guard let node = state[name], node.flags.isDisjoint(with: [.noaddr, .handshake]), node.pingSentMs != 0 else { continue }
            let pingDelay = now - node.pingSentMs
            let dataDelay = now - (nodeDataReceivedMs[name] ?? 0)
            guard min(pingDelay, dataDelay) > settings.nodeTimeoutMillis, node.flags.isDisjoint(with: [.pfail, .fail]) else { continue }
            logger.debug("*** NODE \(name) possibly failing")
            state.update(name) { $0.flags.insert(.pfail) }
            changed = true
        }
        return changed
    }

    /// A master's gossip says `node` is failing (or not): its report is recorded (or withdrawn),
    /// and the node may turn FAIL (clusterProcessGossipSection's first part).
    func gossipFailureReport(about node: NodeName, from sender: NodeName, failing: Bool, now: Int64) {
        guard node != state.myself, state[sender]?.isMaster == true else { return }
        if failing {
            if failureReports[node, default: [:]].updateValue(now, forKey: sender) == nil {
                logger.info("Node \(sender) reported node \(node) as not reachable.")
            }
            markFailingIfNeeded(node, now: now)
        } else if failureReports[node]?.removeValue(forKey: sender) != nil {
            logger.info("Node \(sender) reported node \(node) is back online.")
            if failureReports[node]?.isEmpty == true { failureReports[node] = nil }
        }
    }

    /// The valid failure reports about `node` (older ones are dropped first); CLUSTER
    /// COUNT-FAILURE-REPORTS.
    public func failureReportCount(of node: NodeName) -> Int {
        let now = clock()
        guard var reports = failureReports[node] else { return 0 }
        let validity = settings.nodeTimeoutMillis * Self.failReportValidityMult
        reports = reports.filter { now - $0.value <= validity }
        failureReports[node] = reports.isEmpty ? nil : reports
        return reports.count
    }

    /// PFAIL here plus reports from a majority of the voting masters (this node counts itself
    /// when it is a master): the node is FAIL, and every reachable node is told
    /// (markNodeAsFailingIfNeeded).
    func markFailingIfNeeded(_ name: NodeName, now: Int64) {
        guard let node = state[name], node.flags.contains(.pfail), !node.flags.contains(.fail) else { return }
        var failures = failureReportCount(of: name)
        if state.myselfNode.isMaster { failures += 1 }
        guard failures >= votingMasters / 2 + 1 else { return }
        logger.notice("Marking node \(name) as failing (quorum reached).")
        state.update(name) {
            $0.flags.remove(.pfail)
            $0.flags.insert(.fail)
            $0.failTimeMs = now
        }
        broadcast(.fail(node: NodeNameField(unchecked: name.bytes)))
        markChanged(fsync: false)
        evaluateState(now: now)
    }

    /// A FAIL node answers again (clearNodeFailureIfNeeded): a replica or a master without slots
    /// is cleared at once; a master with slots only when its FAIL is old and nobody took them.
    func clearFailureIfNeeded(_ name: NodeName, now: Int64) {
        guard let node = state[name], node.flags.contains(.fail) else { return }
        if node.isReplica || node.slots.isEmpty {
            logger.notice("Clear FAIL state for node \(name): \(node.isReplica ? "replica" : "master without slots") is reachable again.")
        } else if now - node.failTimeMs > settings.nodeTimeoutMillis * Self.failUndoTimeMult {
            logger.notice("Clear FAIL state for node \(name): is reachable again and nobody is serving its slots after some time.")
        } else {
            return
        }
        state.update(name) { $0.flags.remove(.fail) }
        markChanged(fsync: false)
    }

    /// A FAIL message from a known node about a node we do not already hold FAIL.
    func processFail(about field: NodeNameField, sender: NodeName?, now: Int64) {
        guard let sender else {
            logger.info("Ignoring FAIL message from an unknown node about \(field)")
            return
        }
        guard let name = NodeName(bytes: field.bytes), let node = state[name],
              node.flags.isDisjoint(with: [.fail, .myself])
        else { return }
        logger.notice("FAIL message received from \(sender) about \(name)")
        state.update(name) {
            $0.flags.insert(.fail)
            $0.flags.remove(.pfail)
            $0.failTimeMs = now
        }
        markChanged(fsync: false)
        evaluateState(now: now)
    }

    /// Sends `body` to every node with a link, handshakes excepted (clusterBroadcastMessage).
    func broadcast(_ body: BusMessageBody, flags: MessageFlags = []) {
        var header = messageHeader()
        header.messageFlags.formUnion(flags)
        let message = BusMessage(header: header, body: body)
        for name in state.order where name != state.myself {
            guard let link = outboundLinks[name], state[name]?.flags.contains(.handshake) == false else { continue }
            send(message, on: link)
        }
    }

    // MARK: - Slot tables: UPDATE and taking the winner's side

    /// A master's claim for slots (from its PING/PONG header or an UPDATE about it)
    /// (clusterUpdateSlotsConfigWith): each claimed slot whose owner has an older configEpoch,
    /// or none, becomes the claimer's; when that empties this node's shard (it was failed over
    /// while away, or its master was), this node becomes a replica of the claimer; otherwise the
    /// keys of slots this master lost are deleted.
    func applySlotClaims(of sender: NodeName, epoch: UInt64, slots claimed: SlotBitmap) {
        guard sender != state.myself else {
            logger.warning("Discarding UPDATE message about myself.")
            return
        }
        let me = state.myselfNode
        let shard = me.isMaster ? state.myself : me.replicaOf
        var lost: [Int] = []
        var changed = false, tookOurs = 0
        let claimedCount = claimed.count
        // Only the claimed slots the sender is not already known to serve can change owner.
        let newClaims = state[sender].map { claimed.subtracting($0.slots) } ?? claimed
        for slot in newClaims.slots {
            let owner = state.owner(of: slot)
            if owner == sender || state.importingFrom[slot] != nil { continue }
            if let owner, let current = state[owner], current.configEpoch >= epoch { continue }
            if owner == state.myself { lost.append(slot) }
            if let owner, owner == shard { tookOurs += 1 }
            state.assign(slot, to: sender)
            changed = true
        }
        guard changed else { return }
        markChanged(fsync: true)
        let shardEmpty = shard.flatMap { state[$0] }?.slots.isEmpty ?? false
        if tookOurs > 0, shardEmpty, settings.allowReplicaMigration || claimedCount == tookOurs, let master = state[sender] {
            logger.warning("Configuration change detected. Reconfiguring myself as a replica of \(sender)")
            follow(master)
        } else if let master = me.replicaOf.flatMap({ state[$0] }), let grand = master.replicaOf, grand != state.myself,
                  let grandmaster = state[grand] {
            logger.warning("I'm a sub-replica! Reconfiguring myself as a replica of grandmaster \(grand)")
            follow(grandmaster)
        } else if !lost.isEmpty {
            logger.info("Node \(sender) took \(lost.count) of this node's slots with configEpoch \(epoch)")
            onSlotsLost?(lost, sender)
        }
    }

    /// The sender claims slots that a master with a newer configEpoch serves: tell it with an
    /// UPDATE about that master (only the first one found, as Redis).
    func sendUpdateIfStale(_ sender: NodeName, epoch: UInt64, slots claimed: SlotBitmap, on link: ClusterLink) {
        let others = state[sender].map { claimed.subtracting($0.slots) } ?? claimed
        for slot in others.slots {
            guard let owner = state.owner(of: slot), owner != sender, let current = state[owner], current.configEpoch > epoch else { continue }
            logger.info("Node \(sender) has old slots configuration, sending an UPDATE message about \(owner)")
            // Redis answers on the sender's own outbound link.
            guard let out = outboundLinks[sender] ?? (link.inbound ? nil : link) else { return }
            let update = UpdateData(configEpoch: current.configEpoch, node: NodeNameField(unchecked: owner.bytes), slots: current.slots)
            send(BusMessage(header: messageHeader(), body: .update(update)), on: out)
            return
        }
    }

    /// An UPDATE from a known node: the node it names takes the slots it lists when the epoch
    /// is newer than the one we know for it (turning master if we had it as a replica).
    func processUpdate(_ update: UpdateData, sender: NodeName?) {
        guard sender != nil, let name = NodeName(bytes: update.node.bytes), let node = state[name],
              node.configEpoch < update.configEpoch
        else { return }
        if node.isReplica { setAsMaster(name) }
        state.update(name) { $0.configEpoch = update.configEpoch }
        markChanged(fsync: true)
        applySlotClaims(of: name, epoch: update.configEpoch, slots: update.slots)
    }

    /// Another node turned master (clusterSetNodeAsMaster): from its own header, or an UPDATE.
    func setAsMaster(_ name: NodeName) {
        guard let node = state[name], !node.isMaster else { return }
        let markMigrateTo = node.replicaOf != nil && name != state.myself
        state.update(name) {
            if markMigrateTo { $0.flags.insert(.migrateTo) }
            $0.flags.remove(.replica)
            $0.flags.insert(.master)
            $0.replicaOf = nil
        }
        markChanged(fsync: false)
    }

    /// This node becomes a replica of `master` (clusterSetMaster; also CLUSTER REPLICATE and a
    /// SETSLOT that takes a master's last slot): open slot moves close, the server starts
    /// replicating (`onFollow`), a manual failover in progress ends.
    public func follow(_ master: ClusterNode) {
        guard master.name != state.myself else { return }
        if state.myselfNode.isMaster {
            for slot in Array(state.migratingTo.keys) { state.setMigrating(slot, to: nil) }
            for slot in Array(state.importingFrom.keys) { state.setImporting(slot, from: nil) }
        }
        state.update(state.myself) {
            $0.flags.subtract([.master, .migrateTo])
            $0.flags.insert(.replica)
            $0.replicaOf = master.name
        }
        state.update(master.name) { $0.flags.insert(.migrateTo) }
        resetManualFailover()
        markChanged(fsync: true)
        onFollow?(master)
    }

    // MARK: - The replica's election

    /// The replication offset `name` last announced in a bus header (0 before any; Redis's
    /// node->repl_offset, CLUSTER SHARDS' replication-offset).
    public func announcedOffset(of name: NodeName) -> Int64 { announcedOffsets[name] ?? 0 }

    /// How many other replicas of our master that may fail over announced a larger offset
    /// (clusterGetSlaveRank).
    func replicaRank() -> Int {
        guard let master = state.myselfNode.replicaOf else { return 0 }
        let mine = replicationOffset()
        return state.replicas(of: master).reduce(0) { rank, replica in
            replica.name != state.myself && !replica.flags.contains(.noFailover)
                && (announcedOffsets[replica.name] ?? 0) > mine ? rank + 1 : rank
        }
    }

    /// clusterHandleSlaveFailover: called from the cron (and when a vote arrives) on a replica.
    func handleReplicaFailover(now: Int64) {
        let me = state.myselfNode
        let manual = manualFailover.inProgress && manualFailover.canStart
        guard me.isReplica, let masterName = me.replicaOf, let master = state[masterName],
              master.flags.contains(.fail) || manual, !settings.replicaNoFailover || manual, !master.slots.isEmpty
        else { return }
        let authTimeout = max(settings.nodeTimeoutMillis * 2, 2000)
        let authRetry = authTimeout * 2
        let authAge = now - election.startMs
        var dataAge = replicaDataAgeMillis()
        if dataAge > settings.nodeTimeoutMillis { dataAge -= settings.nodeTimeoutMillis }
        if settings.replicaValidityFactor != 0,
           dataAge > settings.replPingReplicaPeriodMillis + settings.nodeTimeoutMillis * settings.replicaValidityFactor, !manual {
            logCantFailover("Disconnected from master for longer than allowed. Please check the 'cluster-replica-validity-factor' configuration option.", now: now)
            return
        }
        if authAge > authRetry {
            election = Election()
            election.rank = replicaRank()
            election.startMs = now + 500 + Int64.random(in: 0..<500, using: &random) + Int64(election.rank) * 1000
            if manualFailover.inProgress {
                election.startMs = now
                election.rank = 0
            }
            logger.warning("Start of election delayed for \(election.startMs - now) milliseconds (rank #\(election.rank), offset \(replicationOffset())).")
            // Tell the other replicas of our master our offset, so that their ranks are right.
            for replica in state.replicas(of: masterName) where replica.name != state.myself {
                if let link = outboundLinks[replica.name] { sendPing(on: link, type: .pong) }
            }
            if !manualFailover.inProgress { return }
        }
        if !election.requested, !manualFailover.inProgress {
            let rank = replicaRank()
            if rank > election.rank {
                election.startMs += Int64(rank - election.rank) * 1000
                logger.warning("Replica rank updated to #\(rank), added \(Int64(rank - election.rank) * 1000) milliseconds of delay.")
                election.rank = rank
            }
        }
        if now < election.startMs { return }
        if now - election.startMs > authTimeout {
            logCantFailover("Failover attempt expired.", now: now)
            return
        }
        if !election.requested {
            state.currentEpoch += 1
            election.epoch = state.currentEpoch
            election.requested = true
            logger.warning("Starting a failover election for epoch \(election.epoch).")
            broadcast(.failoverAuthRequest, flags: manualFailover.inProgress ? .forceAck : [])
            markChanged(fsync: true)
            return
        }
        guard election.votes >= votingMasters / 2 + 1 else { return }
        logger.warning("Failover election won: I'm the new master.")
        if state.myselfNode.configEpoch < election.epoch {
            let epoch = election.epoch
            state.update(state.myself) { $0.configEpoch = epoch }
            logger.warning("configEpoch set to \(epoch) after successful failover")
        }
        replaceMyMaster(now: now)
    }

    /// The last step of every failover (clusterFailoverReplaceYourMaster): master now, with the
    /// old master's slots, saved, and every node told at once.
    func replaceMyMaster(now: Int64) {
        let me = state.myselfNode
        guard me.isReplica, let oldName = me.replicaOf, let old = state[oldName] else { return }
        state.update(state.myself) {
            $0.flags.remove(.replica)
            $0.flags.insert(.master)
            $0.replicaOf = nil
        }
        for slot in old.slots.slots { state.assign(slot, to: state.myself) }
        onPromoted?()
        evaluateState(now: now)
        saveNow(fsync: true)
        broadcastPong()
        resetManualFailover()
    }

    /// Says why an election cannot go on, at most every 10 s for the same reason, and not in the
    /// first node_timeout + 5 s after the master failed (clusterLogCantFailover).
    func logCantFailover(_ reason: String, now: Int64) {
        if reason == cantFailoverReason && now - cantFailoverLoggedMs < 10_000 { return }
        cantFailoverReason = reason
        if let master = state.myselfNode.replicaOf.flatMap({ state[$0] }), master.flags.contains(.fail),
           now - master.failTimeMs < settings.nodeTimeoutMillis + 5000 { return }
        cantFailoverLoggedMs = now
        logger.warning("Currently unable to failover: \(reason)")
    }

    /// A replica asks for our vote (clusterSendFailoverAuthIfNeeded). The vote is saved and
    /// fsynced before the ACK leaves, so a restarted master never votes twice in an epoch.
    func processAuthRequest(from sender: NodeName, header: BusHeader, now: Int64) {
        let me = state.myselfNode
        guard me.isMaster, !me.slots.isEmpty, let node = state[sender] else { return }
        if header.currentEpoch < state.currentEpoch {
            logger.warning("Failover auth denied to \(sender): reqEpoch (\(header.currentEpoch)) < curEpoch(\(state.currentEpoch))")
            return
        }
        if state.lastVoteEpoch == state.currentEpoch {
            logger.warning("Failover auth denied to \(sender): already voted for epoch \(state.currentEpoch)")
            return
        }
        let forceAck = header.messageFlags.contains(.forceAck)
        guard !node.isMaster, let masterName = node.replicaOf, let master = state[masterName],
              master.flags.contains(.fail) || forceAck
        else {
            let why = node.isMaster ? "it is a master node" : node.replicaOf.flatMap({ state[$0] }) == nil
                ? "I don't know its master" : "its master is up"
            logger.warning("Failover auth denied to \(sender): \(why)")
            return
        }
        let votedAgo = now - (votedTimeMs[masterName] ?? 0)
        if votedAgo < settings.nodeTimeoutMillis * 2 {
            logger.warning("Failover auth denied to \(sender): can't vote about this master before \(settings.nodeTimeoutMillis * 2 - votedAgo) milliseconds")
            return
        }
        for slot in header.slots.slots {
            guard let owner = state.owner(of: slot), let current = state[owner], current.configEpoch > header.configEpoch else { continue }
            logger.warning("Failover auth denied to \(sender): slot \(slot) epoch (\(current.configEpoch)) > reqEpoch (\(header.configEpoch))")
            return
        }
        state.lastVoteEpoch = state.currentEpoch
        votedTimeMs[masterName] = now
        saveNow(fsync: true)
        if let link = outboundLinks[sender] { send(BusMessage(header: messageHeader(), body: .failoverAuthAck), on: link) }
        logger.warning("Failover auth granted to \(sender) for epoch \(state.currentEpoch)")
    }

    /// A vote for this replica: counted when it comes from a voting master in the election's
    /// epoch or later.
    func processAuthAck(from sender: NodeName, header: BusHeader, now: Int64) {
        guard let node = state[sender], node.isMaster, !node.slots.isEmpty, header.currentEpoch >= election.epoch,
              election.requested
        else { return }
        election.votes += 1
        handleReplicaFailover(now: now)
    }

    // MARK: - Manual failover

    /// CLUSTER FAILOVER [FORCE|TAKEOVER] on this node: nil when accepted, else Redis's error text.
    public func startManualFailover(force: Bool, takeover: Bool) -> String? {
        let me = state.myselfNode
        if me.isMaster { return "ERR You should send CLUSTER FAILOVER to a replica" }
        guard let masterName = me.replicaOf, let master = state[masterName] else {
            return "ERR I'm a replica but my master is unknown to me"
        }
        if !force && (master.flags.contains(.fail) || outboundLinks[masterName]?.channel == nil) {
            return "ERR Master is down or failed, please use CLUSTER FAILOVER FORCE"
        }
        resetManualFailover()
        let now = clock()
        manualFailover.endMs = now + Self.manualFailoverTimeoutMillis
        if takeover {
            logger.warning("Taking over the master (user request).")
            bumpConfigEpochWithoutConsensus()
            replaceMyMaster(now: now)
        } else if force {
            logger.warning("Forced failover user request accepted.")
            manualFailover.canStart = true
            election = Election()
            handleReplicaFailover(now: now)
        } else {
            logger.warning("Manual failover user request accepted.")
            election = Election()
            if let link = outboundLinks[masterName] { send(BusMessage(header: messageHeader(), body: .mfstart), on: link) }
        }
        return nil
    }

    /// A new configEpoch without an election, unless ours is already the highest
    /// (clusterBumpConfigEpochWithoutConsensus; CLUSTER BUMPEPOCH, SETSLOT NODE and TAKEOVER).
    /// Returns whether it changed; saving is the caller's.
    @discardableResult
    public func bumpConfigEpochWithoutConsensus() -> Bool {
        let maxEpoch = state.maxEpoch
        let mine = state.myselfNode.configEpoch
        guard mine == 0 || mine != maxEpoch else { return false }
        state.currentEpoch += 1
        let epoch = state.currentEpoch
        state.update(state.myself) { $0.configEpoch = epoch }
        logger.warning("New configEpoch set to \(epoch)")
        return true
    }

    /// Whether this master paused writes for a replica's manual failover.
    public var pausedForManualFailover: Bool { manualFailover.replica != nil }

    /// MFSTART from one of our replicas: pause writes and send it our offset at once.
    func processManualFailoverStart(from sender: NodeName, on link: ClusterLink, now: Int64) {
        guard state[sender]?.replicaOf == state.myself else { return }
        resetManualFailover()
        manualFailover.endMs = now + Self.manualFailoverTimeoutMillis
        manualFailover.replica = sender
        onPauseWrites?(now + Self.manualFailoverTimeoutMillis * Self.manualFailoverPauseMult)
        logger.warning("Manual failover requested by replica \(sender).")
        if let out = outboundLinks[sender] { sendPing(on: out, type: .ping) } else { sendPing(on: link, type: .ping) }
    }

    /// The paused master's header gives the offset to reach (on the replica).
    func noteMasterOffset(_ header: BusHeader, from sender: NodeName) {
        announcedOffsets[sender] = Int64(clamping: header.replicationOffset)
        guard manualFailover.inProgress, state.myselfNode.replicaOf == sender, header.messageFlags.contains(.paused),
              manualFailover.masterOffset == nil
        else { return }
        manualFailover.masterOffset = Int64(clamping: header.replicationOffset)
        logger.warning("Received replication offset for paused master manual failover: \(header.replicationOffset)")
    }

    /// The replica's side each cron (clusterHandleManualFailover): start once it has processed the
    /// paused master's whole stream.
    func handleManualFailover() {
        guard manualFailover.inProgress, !manualFailover.canStart, let target = manualFailover.masterOffset else { return }
        if target == replicationOffset() {
            manualFailover.canStart = true
            logger.warning("All master replication stream processed, manual failover can start.")
        }
    }

    /// A manual failover that ran out of time ends (manualFailoverCheckTimeout).
    func checkManualFailoverTimeout(now: Int64) {
        guard manualFailover.inProgress, manualFailover.endMs < now else { return }
        logger.warning("Manual failover timed out.")
        resetManualFailover()
    }

    /// No manual failover in progress; a master that paused writes for one resumes them.
    func resetManualFailover() {
        if manualFailover.replica != nil { onPauseWrites?(nil) }
        manualFailover = ManualFailover()
    }

    // MARK: - Replica migration

    /// clusterHandleSlaveMigration, on a replica whose master has the most working replicas
    /// (`maxReplicas`, at least two): when its master keeps more than cluster-migration-barrier
    /// working replicas and this node has the smallest name among the replicas of the
    /// best-served masters, it moves to a master left without working replicas for 5 s.
    func migrateToOrphanedMaster(maxReplicas: Int, now: Int64) {
        guard state.status == .ok, let masterName = state.myselfNode.replicaOf, state[masterName] != nil else { return }
        let working = state.replicas(of: masterName).filter { $0.flags.isDisjoint(with: [.fail, .pfail]) }.count
        guard working > settings.migrationBarrier else { return }
        var candidate = state.myself
        var target: ClusterNode?
        for name in state.order {
            guard let node = state[name] else { continue }
            let ok = node.isMaster ? nonFailingReplicas(of: name) : 0
            if node.isMaster && !node.flags.contains(.fail) && node.flags.contains(.migrateTo) && ok == 0 {
                if target == nil && !node.slots.isEmpty { target = node }
                if orphanedSinceMs[name] == nil { orphanedSinceMs[name] = now }
            } else {
                orphanedSinceMs[name] = nil
            }
            if ok == maxReplicas {
                for replica in state.replicas(of: name) where replica.name < candidate { candidate = replica.name }
            }
        }
        guard let target, candidate == state.myself,
              now - (orphanedSinceMs[target.name] ?? now) > Self.replicaMigrationDelayMillis
        else { return }
        logger.warning("Migrating to orphaned master \(target.name)")
        follow(target)
    }

    /// The replicas of `master` not flagged FAIL (clusterCountNonFailingSlaves).
    func nonFailingReplicas(of master: NodeName) -> Int {
        state.replicas(of: master).reduce(0) { $0 + ($1.flags.contains(.fail) ? 0 : 1) }
    }

    /// How long a master must stay orphaned before a replica migrates to it
    /// (CLUSTER_SLAVE_MIGRATION_DELAY).
    static let replicaMigrationDelayMillis: Int64 = 5000

    // MARK: - Saving

    /// Saves nodes.conf now rather than after the current events (a vote must be on disk
    /// before its ACK leaves).
    func saveNow(fsync: Bool) {
        pendingChange = nil
        onChange?(fsync)
    }
}
