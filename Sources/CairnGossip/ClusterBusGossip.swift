import CairnCluster

// The gossip section both ways: what entries about other nodes change here
// (clusterProcessGossipSection), and the PING/PONG/MEET this node sends (clusterBuildMessageHdr,
// clusterSendPing).

extension ClusterBus {
    /// A gossiped pong time may be ahead of our clock by this much (clock skew between nodes).
    static let gossipPongFutureToleranceMillis: Int64 = 500
    /// Gossip entries per message: a tenth of the known nodes, at least this many.
    static let gossipEntriesMin = 3
    /// Flags a node added from gossip keeps: its role and role details. PFAIL/FAIL are failure
    /// reports (the next issue); myself, handshake and meet describe the sender's own table.
    static let gossipAdoptedFlags: NodeFlags = [.master, .replica, .noFailover, .migrateTo]

    /// Applies the entries of a PING, PONG or MEET (clusterProcessGossipSection). `sender` is the
    /// known node that sent them, nil for a MEET from a stranger (which still refreshes pong times).
    func processGossip(_ entries: [GossipEntry], sender: NodeName?, now: Int64) {
        for entry in entries {
            guard let name = NodeName(bytes: entry.nodeName.bytes), name != state.myself else { continue }
            if let node = state[name] {
                // Failure reports count only from masters (clusterProcessGossipSection).
                if let sender { gossipFailureReport(about: name, from: sender, failing: !entry.flags.isDisjoint(with: [.fail, .pfail]), now: now) }
                refresh(node, from: entry, now: now)
            } else if sender != nil, !entry.flags.contains(.noaddr), !isForgotten(name, now: now),
                      ClusterBus.isPrintableToken(entry.ip.string, bytesMax: ClusterNode.ipBytesMax) {
                // A node the sender knows and we do not: added under its own name (Redis 7.0 no
                // longer meets it first); the cron connects to it.
                addNode(ClusterNode(name: name, ip: entry.ip.string, port: Int(entry.port), busPort: Int(entry.busPort),
                                    flags: entry.flags.intersection(Self.gossipAdoptedFlags)))
                logger.debug("Gossip from \(sender?.text ?? "?") added node \(name) at \(entry.ip.string):\(entry.port)")
                markChanged(fsync: false)
            }
        }
    }

    /// What an entry about a known node changes: a fresher pong time when the node looks healthy
    /// to both sides and we wait for nothing from it; a new address for a node we cannot reach
    /// but the sender can.
    func refresh(_ node: ClusterNode, from entry: GossipEntry, now: Int64) {
        let failing: NodeFlags = [.fail, .pfail]
        if entry.flags.isDisjoint(with: failing), node.pingSentMs == 0, failureReportCount(of: node.name) == 0 {
            let pong = Int64(entry.pongReceived) * 1000
            if pong <= now + Self.gossipPongFutureToleranceMillis, pong > node.pongReceivedMs {
                state.update(node.name) { $0.pongReceivedMs = pong }
            }
        }
        let ip = entry.ip.string, port = Int(entry.port), busPort = Int(entry.busPort)
        if !node.flags.isDisjoint(with: failing), !entry.flags.contains(.noaddr), entry.flags.isDisjoint(with: failing),
           node.ip.lowercased() != ip.lowercased() || node.port != port || node.busPort != busPort,
           ClusterBus.isPrintableToken(ip, bytesMax: ClusterNode.ipBytesMax) {
            if let link = outboundLinks[node.name] { free(link) }
            state.update(node.name) {
                $0.ip = ip
                $0.port = port
                $0.busPort = busPort
                $0.flags.remove(.noaddr)
            }
            markChanged(fsync: false)
        }
    }

    // MARK: - Sending

    /// The header of every message this node sends (clusterBuildMessageHdr): a replica sends its
    /// master's slots and configEpoch.
    func messageHeader() -> BusHeader {
        let me = state.myselfNode
        let master = me.isReplica ? me.replicaOf.flatMap { state[$0] } ?? me : me
        return BusHeader(
            sender: NodeNameField(unchecked: me.name.bytes),
            port: UInt16(clamping: settings.announcePort != 0 ? settings.announcePort : clientPort),
            busPort: UInt16(clamping: settings.announceBusPort != 0 ? settings.announceBusPort : busPort),
            currentEpoch: state.currentEpoch,
            configEpoch: master.configEpoch,
            replicationOffset: UInt64(clamping: replicationOffset()),
            slots: master.slots,
            replicaOf: me.replicaOf.map { NodeNameField(unchecked: $0.bytes) } ?? .none,
            ip: settings.announceIP.map { IPAddressField($0) } ?? .empty,
            plaintextPort: 0,
            flags: me.flags,
            state: state.status == .ok ? .ok : .fail,
            // A master pausing writes for its replica's manual failover says so with its offset.
            messageFlags: me.isMaster && manualFailover.inProgress ? .paused : [])
    }

    /// Sends a PING, PONG or MEET with gossip about a few other nodes (clusterSendPing). A PING on
    /// an outbound link marks a ping outstanding for that node.
    func sendPing(on link: ClusterLink, type: BusMessageType) {
        guard !link.closed, link.channel != nil else { return }
        if !link.inbound, type == .ping, let name = link.node {
            let now = clock()
            state.update(name) { $0.pingSentMs = now }
        }
        let data = PingData(gossip: gossipEntries(excluding: link.node), hostname: settings.announceHostname)
        let body: BusMessageBody = type == .pong ? .pong(data) : type == .meet ? .meet(data) : .ping(data)
        send(BusMessage(header: messageHeader(), body: body), on: link)
    }

    /// The nodes to tell `receiver` about: a tenth of the table (at least three) picked at
    /// random among the other nodes with an address, not in handshake, and either linked or serving slots;
    /// then every node flagged PFAIL.
    func gossipEntries(excluding receiver: NodeName?) -> [GossipEntry] {
        let fresh = state.order.count - 2
        let wanted = min(max(state.order.count / 10, Self.gossipEntriesMin), fresh)
        var chosen: [NodeName] = []
        if wanted > 0 {
            let candidates = state.order.filter { name in
                guard name != state.myself, name != receiver, let node = state[name] else { return false }
                return node.flags.isDisjoint(with: [.pfail, .handshake, .noaddr])
                    && (outboundLinks[name] != nil || !node.slots.isEmpty)
            }
            chosen = Array(candidates.shuffled(using: &random).prefix(wanted))
        }
        chosen += state.order.filter { name in
            guard let node = state[name] else { return false }
            return node.flags.contains(.pfail) && node.flags.isDisjoint(with: [.handshake, .noaddr])
        }
        return chosen.compactMap { state[$0] }.map { node in
            GossipEntry(nodeName: NodeNameField(unchecked: node.name.bytes),
                        pingSent: UInt32(clamping: node.pingSentMs / 1000),
                        pongReceived: UInt32(clamping: node.pongReceivedMs / 1000),
                        ip: IPAddressField(node.ip), port: UInt16(clamping: node.port), busPort: UInt16(clamping: node.busPort),
                        flags: node.flags, plaintextPort: 0)
        }
    }
}
