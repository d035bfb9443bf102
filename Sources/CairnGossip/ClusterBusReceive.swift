import CairnCluster

// What a received message changes (Redis 7.0's clusterProcessPacket): who sent it, epochs and
// offsets, myself's address, new nodes from MEET, handshakes completed, addresses, roles, slot
// claims, and the gossip; FAIL, UPDATE, the failover messages go to ClusterBusFailover.swift. The order of the steps is Redis's: it matters (a node's
// role must be known before its slots are).

extension ClusterBus {
    /// Processes one decoded message received on `link`.
    func process(_ message: BusMessage, on link: ClusterLink) {
        countReceived(message.type)
        if Int(message.type.rawValue) == dropPacketFilter {
            logger.warning("Dropping packet that matches debug drop filter")
            return
        }
        let header = message.header, type = message.type, now = clock()
        if !link.inbound, let name = link.node, state[name] == nil { return free(link) }
        let senderName = NodeName(bytes: header.sender.bytes)
        let sender = knownSender(of: link, named: senderName)
        if let sender { nodeDataReceivedMs[sender] = now }
        // Every message from a known node (not in handshake) carries its epochs and offset.
        if let sender, state[sender]?.flags.contains(.handshake) == false {
            adoptEpochs(of: sender, header)
            noteMasterOffset(header, from: sender)
        }
        switch message.body {
        case .publish(let data), .publishShard(let data):
            // Only from a node this one knows (Redis's clusterProcessPacket).
            guard sender != nil else { return }
            onPublish?(data.channel, data.message, type == .publishShard)
            return
        case .fail(let node):
            return processFail(about: node, sender: sender, now: now)
        case .failoverAuthRequest:
            if let sender { processAuthRequest(from: sender, header: header, now: now) }
            return
        case .failoverAuthAck:
            if let sender { processAuthAck(from: sender, header: header, now: now) }
            return
        case .mfstart:
            if let sender { processManualFailoverStart(from: sender, on: link, now: now) }
            return
        case .update(let update):
            return processUpdate(update, sender: sender)
        case .module:
            return
        case .ping, .pong, .meet:
            break
        }
        guard let ping = message.body.pingData else { return }

        if type == .ping || type == .meet {
            learnMyAddress(from: link, isMeet: type == .meet)
            if sender == nil, type == .meet {
                addMeetingNode(header, on: link)
                processGossip(ping.gossip, sender: nil, now: now)
            }
            sendPing(on: link, type: .pong)
        }

        if !link.inbound, let linkNode = link.node, let node = state[linkNode] {
            if node.flags.contains(.handshake) {
                guard completeHandshake(of: linkNode, on: link, header: header, senderName: senderName, sender: sender) else { return }
            } else if linkNode != senderName {
                // Not the node we believed lives at that address: forget the address until gossip
                // tells where the node went.
                logger.info("PONG from \(header.sender) on the link to \(linkNode): the node at that address changed")
                state.update(linkNode) {
                    $0.flags.insert(.noaddr)
                    $0.ip = ""
                    $0.port = 0
                    $0.busPort = 0
                }
                free(link)
                markChanged(fsync: false)
                return
            }
        }

        if let sender {
            let noFailover = header.flags.contains(.noFailover)
            state.update(sender) { if noFailover { $0.flags.insert(.noFailover) } else { $0.flags.remove(.noFailover) } }
            if type == .ping, state[sender]?.flags.contains(.handshake) == false, updateAddress(of: sender, link: link, header: header) {
                markChanged(fsync: false)
            }
        }

        if !link.inbound, type == .pong, let name = link.node {
            var wasPFail = false
            state.update(name) {
                $0.pongReceivedMs = now
                $0.pingSentMs = 0
                wasPFail = $0.flags.contains(.pfail)
                $0.flags.remove(.pfail)
            }
            // PFAIL ends with any answer; FAIL only under clearNodeFailureIfNeeded's rules.
            if wasPFail { markChanged(fsync: false) } else { clearFailureIfNeeded(name, now: now) }
        }

        guard let sender else { return }
        updateRole(of: sender, header)
        // The slots the sender's shard claims, when they differ from what we have for it: a
        // master's claim may take slots; a stale claim gets an UPDATE back.
        let me = state[sender]
        let shard = me?.isMaster == true ? sender : me?.replicaOf
        if let shard, let shardNode = state[shard], shardNode.slots != header.slots {
            if me?.isMaster == true { applySlotClaims(of: sender, epoch: header.configEpoch, slots: header.slots) }
            sendUpdateIfStale(sender, epoch: header.configEpoch, slots: header.slots, on: link)
        }
        resolveConfigEpochCollision(with: sender)
        processGossip(ping.gossip, sender: sender, now: now)
        applyHostname(of: sender, ping.extensions)
    }

    /// The node that sent a message on `link` (getNodeFromLinkAndMsg): the link's node once the
    /// handshake is over, else the node the header names if we know it, which then owns the
    /// inbound link. Never myself: a peer claiming our name is an unknown sender.
    func knownSender(of link: ClusterLink, named name: NodeName?) -> NodeName? {
        if let node = link.node, let known = state[node], !known.flags.contains(.handshake) { return node }
        guard let name, name != state.myself, state[name] != nil else { return nil }
        if link.inbound, link.node == nil { bindInbound(link, to: name) }
        return name
    }

    /// A higher currentEpoch is adopted, and a sender's higher configEpoch recorded.
    func adoptEpochs(of sender: NodeName, _ header: BusHeader) {
        if header.currentEpoch > state.currentEpoch {
            state.currentEpoch = header.currentEpoch
            markChanged(fsync: false)
        }
        if let node = state[sender], header.configEpoch > node.configEpoch {
            let epoch = header.configEpoch
            state.update(sender) { $0.configEpoch = epoch }
            markChanged(fsync: true)
        }
    }

    /// Without cluster-announce-ip, myself's address is the one peers reach us at: the local end
    /// of a MEET's connection (or of any PING while we know no address at all).
    func learnMyAddress(from link: ClusterLink, isMeet: Bool) {
        guard settings.announceIP == nil, isMeet || state.myselfNode.ip.isEmpty,
              let ip = link.localIP, ip != state.myselfNode.ip
        else { return }
        state.update(state.myself) { $0.ip = ip }
        logger.notice("IP address for this node updated to \(ip)")
        markChanged(fsync: false)
    }

    /// A MEET from a node we do not know: add it in handshake under a random name, at the address
    /// the message gives (or the connection's), with the header's ports. Our own PING to it then
    /// learns the real name.
    func addMeetingNode(_ header: BusHeader, on link: ClusterLink) {
        guard let ip = address(announced: header.ip, link: link) else { return }
        var name = NodeName.random(using: &random)
        while state[name] != nil { name = NodeName.random(using: &random) }
        addNode(ClusterNode(name: name, ip: ip, port: Int(header.port), busPort: Int(header.busPort), flags: .handshake))
        markChanged(fsync: false)
    }

    /// The first PONG on the link to a handshake node (from its real sender): the node takes the
    /// sender's name and role. When that name is already known, the handshake node was a second
    /// entry for a known node: the known one takes the address and the handshake node goes.
    /// Returns false when processing stops here (the link is gone).
    func completeHandshake(of handshakeName: NodeName, on link: ClusterLink, header: BusHeader, senderName: NodeName?,
                           sender: NodeName?) -> Bool {
        if let sender {
            logger.debug("Handshake: we already know node \(sender), updating the address if needed")
            if updateAddress(of: sender, link: link, header: header) { markChanged(fsync: false) }
            deleteNode(handshakeName)
            return false
        }
        guard let senderName, senderName != state.myself, renameNode(handshakeName, to: senderName) else {
            // Ourselves (a MEET to our own address) or a name that is no name: nothing to meet.
            logger.debug("Handshake with \(header.sender) abandoned: not a node we can add")
            deleteNode(handshakeName)
            return false
        }
        let role = header.flags.intersection([.master, .replica])
        state.update(senderName) {
            $0.flags.remove(.handshake)
            $0.flags.formUnion(role)
        }
        logger.notice("Handshake with node \(senderName) completed: it is now part of the cluster")
        markChanged(fsync: false)
        return true
    }

    /// The address a peer is at: the one its header announces, or the connection's
    /// (nodeIp2String); nil when neither is usable.
    func address(announced: IPAddressField, link: ClusterLink) -> String? {
        if !announced.isEmpty {
            let text = announced.string
            if ClusterBus.isPrintableToken(text, bytesMax: ClusterNode.ipBytesMax) { return text }
        }
        return link.peerIP
    }

    /// Moves a known node to the address a message on `link` shows (nodeUpdateAddressIfNeeded),
    /// dropping the old outbound link so that the cron reconnects there. Not done from the
    /// node's own outbound link. Returns true when the address changed.
    func updateAddress(of name: NodeName, link: ClusterLink, header: BusHeader) -> Bool {
        guard outboundLinks[name] !== link, let node = state[name], let ip = address(announced: header.ip, link: link) else { return false }
        let port = Int(header.port), busPort = Int(header.busPort)
        guard node.ip != ip || node.port != port || node.busPort != busPort else { return false }
        state.update(name) {
            $0.ip = ip
            $0.port = port
            $0.busPort = busPort
            $0.flags.remove(.noaddr)
        }
        if let old = outboundLinks[name] { free(old) }
        logger.info("Address updated for node \(name), now \(ip):\(port)")
        return true
    }

    /// A master or a replica now (the header's `slaveof`): clusterSetNodeAsMaster, or a master
    /// turned replica (its slots unassigned), or a replica with a new master.
    func updateRole(of sender: NodeName, _ header: BusHeader) {
        guard let node = state[sender] else { return }
        if header.replicaOf.isNone { return setAsMaster(sender) }
        let master = NodeName(bytes: header.replicaOf.bytes).flatMap { state[$0] != nil ? $0 : nil }
        if node.isMaster {
            for slot in node.slots.slots { state.unassign(slot) }
            state.update(sender) {
                $0.flags.subtract([.master, .migrateTo])
                $0.flags.insert(.replica)
            }
            markChanged(fsync: false)
        }
        if let master, master != sender, state[sender]?.replicaOf != master {
            state.update(sender) { $0.replicaOf = master }
            // A master that has had a replica may receive migrated ones (clusterNodeAddSlave).
            state.update(master) { $0.flags.insert(.migrateTo) }
            markChanged(fsync: false)
        }
    }

    /// Two masters with the same configEpoch: the one with the smaller name takes a new epoch
    /// (clusterHandleConfigEpochCollision), so that epochs end up unique.
    func resolveConfigEpochCollision(with sender: NodeName) {
        guard let node = state[sender], node.isMaster, state.myselfNode.isMaster,
              node.configEpoch == state.myselfNode.configEpoch, sender > state.myself
        else { return }
        state.currentEpoch += 1
        let epoch = state.currentEpoch
        state.update(state.myself) { $0.configEpoch = epoch }
        logger.info("configEpoch collision with node \(sender): configEpoch set to \(epoch)")
        markChanged(fsync: true)
    }

    /// The hostname extension: a sender without one has no hostname (clusterProcessPingExtensions).
    func applyHostname(of sender: NodeName, _ extensions: [PingExtension]) {
        var hostname = ""
        for ext in extensions {
            guard let text = ext.hostnameText else { continue }
            // A hostname outside Redis's character set is ignored rather than let into nodes.conf.
            guard ClusterBus.isValidHostname(text) else { return }
            hostname = text
        }
        guard state[sender]?.hostname != hostname else { return }
        state.update(sender) { $0.hostname = hostname }
        markChanged(fsync: false)
    }

    /// Text that can stand in nodes.conf and CLUSTER NODES: printable ASCII, no spaces, no
    /// separators of those formats, not empty and at most `bytesMax` bytes.
    static func isPrintableToken(_ text: String, bytesMax: Int) -> Bool {
        let bytes = text.utf8
        return !bytes.isEmpty && bytes.count <= bytesMax
            && bytes.allSatisfy { $0 > 0x20 && $0 < 0x7F && $0 != UInt8(ascii: ",") && $0 != UInt8(ascii: "@") }
    }

    /// Redis's rule for cluster-announce-hostname: letters, digits, `-` and `.`.
    static func isValidHostname(_ text: String) -> Bool {
        let bytes = text.utf8
        return bytes.count <= hostnameBytesMax && bytes.allSatisfy {
            ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x41 && $0 <= 0x5A) || ($0 >= 0x61 && $0 <= 0x7A) || $0 == 0x2D || $0 == 0x2E
        }
    }
}
