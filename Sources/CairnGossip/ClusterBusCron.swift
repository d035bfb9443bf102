import CairnCluster

// Redis 7.0's clusterCron: links for nodes without one, handshake timeouts, the ping schedule,
// dead links, failure detection, the replica's election and manual failover, replica migration,
// and the cluster state (the failover parts are in ClusterBusFailover.swift).

extension ClusterBus {
    /// How many cron calls make one round of the "one random node per second" ping (the cron
    /// runs every 100 ms).
    static let cronCallsPerRandomPing: UInt64 = 10
    /// How many random nodes are sampled for that ping; the one with the oldest pong wins.
    static let randomPingSamples = 5

    /// Every 100 ms from the server (Redis's clusterCron): connect links for nodes without one,
    /// handshake timeouts, the ping schedule (a few random nodes each second, preferring the
    /// oldest pong; any node whose pong is older than node_timeout/2), PFAIL for nodes silent
    /// past the node timeout, on a replica the manual failover, election and replica migration
    /// steps, then re-evaluate `state.status` with `evaluatedStatus(requireFullCoverage:)`.
    public func cron(nowMillis now: Int64) {
        guard running else { return }
        cronIterations += 1
        updateMyselfAnnouncement()
        dropLinksOfRemovedNodes()
        reconnect(now: now)
        if cronIterations % Self.cronCallsPerRandomPing == 0 { pingRandomNode() }
        pingAndExpire(now: now)
        _ = detectTimeouts(now: now)
        checkManualFailoverTimeout(now: now)
        if state.myselfNode.isReplica {
            handleManualFailover()
            handleReplicaFailover(now: now)
            considerReplicaMigration(now: now)
        }
        evaluateState(now: now)
    }

    /// The orphaned-master part of clusterCron: only a replica of a master with the most working
    /// replicas (two or more) looks further.
    func considerReplicaMigration(now: Int64) {
        guard settings.allowReplicaMigration, let mine = state.myselfNode.replicaOf else { return }
        var orphaned = 0, maxReplicas = 0, myMasterReplicas = 0
        for name in state.order where name != state.myself {
            guard let node = state[name], node.isMaster, !node.flags.contains(.fail),
                  node.flags.isDisjoint(with: [.noaddr, .handshake])
            else { continue }
            let ok = nonFailingReplicas(of: name)
            if ok == 0 && !node.slots.isEmpty && node.flags.contains(.migrateTo) { orphaned += 1 }
            maxReplicas = max(maxReplicas, ok)
            if name == mine { myMasterReplicas = ok }
        }
        if orphaned > 0 && maxReplicas >= 2 && myMasterReplicas == maxReplicas {
            migrateToOrphanedMaster(maxReplicas: maxReplicas, now: now)
        }
    }

    /// The server may remove nodes from `state` itself (CLUSTER RESET, a reloaded table): their
    /// links go too, and links are re-read into `linkConnected`.
    func dropLinksOfRemovedNodes() {
        for (name, link) in outboundLinks where state[name] == nil { free(link) }
        for (name, link) in inboundLinks where state[name] == nil { free(link) }
        for name in Array(nodeCreatedMs.keys) where state[name] == nil {
            nodeCreatedMs[name] = nil
            nodeDataReceivedMs[name] = nil
        }
        for name in state.order where name != state.myself {
            let up = outboundLinks[name]?.channel != nil
            if state[name]?.linkConnected != up { state.update(name) { $0.linkConnected = up } }
        }
    }

    /// Handshakes that took too long are dropped; every other node with an address gets a link
    /// (clusterNodeCronHandleReconnect).
    func reconnect(now: Int64) {
        let handshakeTimeout = max(settings.nodeTimeoutMillis, Self.handshakeTimeoutMillisMin)
        for name in state.order where name != state.myself {
            guard let node = state[name], !node.flags.contains(.noaddr) else { continue }
            if nodeCreatedMs[name] == nil { nodeCreatedMs[name] = now }
            if node.flags.contains(.handshake), now - (nodeCreatedMs[name] ?? now) > handshakeTimeout {
                logger.debug("Handshake with \(node.ip):\(node.port)@\(node.busPort) timed out")
                deleteNode(name)
                continue
            }
            if outboundLinks[name] == nil { connect(to: name, node) }
        }
    }

    /// Once a second: ping the node with the oldest pong among a few random ones that have a link
    /// and no ping outstanding.
    func pingRandomNode() {
        var chosen: (name: NodeName, pong: Int64)? = nil
        for _ in 0..<Self.randomPingSamples {
            guard let name = state.order.randomElement(using: &random), let node = state[name],
                  node.flags.isDisjoint(with: [.myself, .handshake]), node.pingSentMs == 0,
                  outboundLinks[name]?.channel != nil
            else { continue }
            if chosen == nil || node.pongReceivedMs < (chosen?.pong ?? 0) { chosen = (name, node.pongReceivedMs) }
        }
        if let chosen, let link = outboundLinks[chosen.name] { sendPing(on: link, type: .ping) }
    }

    /// For every known node: drop a link that went silent with a ping outstanding, ping a node
    /// whose pong is older than half the node timeout, and close inbound links that stay silent
    /// (a live peer pings at least every half node timeout).
    func pingAndExpire(now: Int64) {
        let timeout = settings.nodeTimeoutMillis
        for name in state.order {
            guard let node = state[name], node.flags.isDisjoint(with: [.myself, .noaddr, .handshake]) else { continue }
            let dataDelay = now - (nodeDataReceivedMs[name] ?? 0)
            if let link = outboundLinks[name], link.channel != nil, now - link.createdMs > timeout, node.pingSentMs != 0,
               now - node.pingSentMs > timeout / 2, dataDelay > timeout / 2 {
                logger.debug("Cluster bus link to \(name) silent for \(dataDelay) ms with a ping outstanding: reconnecting")
                free(link)
            }
            // A link still connecting counts: Redis queues the PING on it, so the ping time is
            // set and a node that never answers is found out even when it cannot be reached.
            if let link = outboundLinks[name], node.pingSentMs == 0, now - node.pongReceivedMs > timeout / 2 {
                if link.channel != nil { sendPing(on: link, type: .ping) } else { state.update(name) { $0.pingSentMs = now } }
                continue
            }
            // A master whose replica asked for a manual failover pings it continuously.
            if manualFailover.inProgress, manualFailover.replica == name, state.myselfNode.isMaster,
               let link = outboundLinks[name], link.channel != nil {
                sendPing(on: link, type: .ping)
            }
        }
        let silence = 2 * max(timeout, Self.handshakeTimeoutMillisMin)
        for link in Array(inboundLinks.values) + Array(unboundLinks.values) where now - link.lastReceivedMs > silence {
            logger.debug("Closing the cluster bus link from \(link.peerIP ?? "?"): nothing received for \(now - link.lastReceivedMs) ms")
            free(link)
        }
    }

    /// Redis's clusterUpdateState: the state `evaluatedStatus` gives, except that a master waits
    /// a little before turning `ok` after its start or after being in a minority partition.
    func evaluateState(now: Int64) {
        if firstStateEvaluationMs == 0 { firstStateEvaluationMs = now }
        let isMaster = state.myselfNode.isMaster
        if isMaster, state.status == .fail, now - firstStateEvaluationMs < Self.writableDelayMillis { return }
        var size = 0, reachable = 0
        for node in state.nodes.values where node.isMaster && !node.slots.isEmpty {
            size += 1
            if node.flags.isDisjoint(with: [.fail, .pfail]) { reachable += 1 }
        }
        if reachable < size / 2 + 1 { amongMinorityMs = now }
        let status = state.evaluatedStatus(requireFullCoverage: requireFullCoverage)
        guard status != state.status else { return }
        let rejoinDelay = min(max(settings.nodeTimeoutMillis, Self.rejoinDelayMillisMin), Self.rejoinDelayMillisMax)
        if status == .ok, isMaster, now - amongMinorityMs < rejoinDelay { return }
        logger.info("Cluster state changed: \(status.rawValue)")
        state.status = status
    }
}
