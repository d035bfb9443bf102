import CairnCluster
import NIOCore
import NIOPosix

// The bus's connections (Redis's clusterLink handling): accepted and opened links, reading whole
// messages off them, sending, and dropping them. The cron reopens outbound links that dropped.

extension ClusterBus {
    /// A connection accepted on the bus port: an inbound link whose node is not known yet.
    func accepted(_ channel: Channel) -> ClusterLink {
        let link = ClusterLink(inbound: true, node: nil, createdMs: clock(), messageBytesMax: BusDecoder.messageBytesMaxDefault, bus: self)
        link.attach(channel)
        unboundLinks[ObjectIdentifier(link)] = link
        logger.debug("Accepting cluster node connection from \(link.peerIP ?? "?")")
        return link
    }

    /// Opens the link to `name` (the cron's reconnect); the first message goes out once connected.
    func connect(to name: NodeName, _ node: ClusterNode) {
        let link = ClusterLink(inbound: false, node: name, createdMs: clock(), messageBytesMax: BusDecoder.messageBytesMaxDefault, bus: self)
        outboundLinks[name] = link
        let address: SocketAddress
        do {
            address = try SocketAddress(ipAddress: node.ip, port: node.busPort)
        } catch {
            logger.debug("Unable to connect to cluster node \(name) at \(node.ip):\(node.busPort): not an IP address")
            free(link)
            return
        }
        let timeout = TimeAmount.milliseconds(max(settings.nodeTimeoutMillis, Self.handshakeTimeoutMillisMin))
        ClientBootstrap(group: loop)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelOption(.socketOption(.so_keepalive), value: 1)
            .connectTimeout(timeout)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(BusLinkHandler(link: link))
                }
            }
            .connect(to: address)
            .whenComplete { [self] result in
                switch result {
                case .success(let channel):
                    if link.closed { channel.close(promise: nil) } else { linkEstablished(link, channel) }
                case .failure(let error):
                    logger.debug("Connection with cluster node \(name) at \(node.ip):\(node.busPort) failed: \(error)")
                    // As Redis on a failed connect: with no ping outstanding, claim one was sent
                    // now, so that failure detection works for a node that cannot be reached.
                    if state[name]?.pingSentMs == 0 { state.update(name) { $0.pingSentMs = clock() } }
                    free(link)
                }
            }
    }

    /// An outbound link is up: send a MEET or PING at once (clusterLinkConnectHandler).
    func linkEstablished(_ link: ClusterLink, _ channel: Channel) {
        link.attach(channel)
        guard let name = link.node, let node = state[name] else { return free(link) }
        state.update(name) { $0.linkConnected = true }
        let pingSentBefore = node.pingSentMs
        sendPing(on: link, type: node.flags.contains(.meet) ? .meet : .ping)
        state.update(name) {
            // A ping outstanding from before the reconnect keeps its time, for failure detection.
            if pingSentBefore != 0 { $0.pingSentMs = pingSentBefore }
            // The MEET is sent; from now on the node gets PINGs.
            $0.flags.remove(.meet)
        }
    }

    /// Attaches an inbound link to the node its messages come from (setClusterNodeToInboundClusterLink):
    /// a newer connection from the same node replaces the older one.
    func bindInbound(_ link: ClusterLink, to name: NodeName) {
        unboundLinks[ObjectIdentifier(link)] = nil
        if let old = inboundLinks[name], old !== link { free(old) }
        link.node = name
        inboundLinks[name] = link
    }

    /// Drops a link (freeClusterLink); the cron reconnects outbound links.
    func free(_ link: ClusterLink) {
        guard !link.closed else { return }
        link.closed = true
        link.channel?.close(promise: nil)
        unboundLinks[ObjectIdentifier(link)] = nil
        guard let name = link.node else { return }
        if link.inbound {
            if inboundLinks[name] === link { inboundLinks[name] = nil }
        } else if outboundLinks[name] === link {
            outboundLinks[name] = nil
            state.update(name) { $0.linkConnected = false }
        }
    }

    /// DEBUG CLUSTERLINK KILL: drops the link to `name` (`outbound`), the link from it
    /// (`inbound`), or both; the cron reconnects as after any drop. False for an unknown node.
    public func killLinks(of name: NodeName, outbound: Bool, inbound: Bool) -> Bool {
        guard state[name] != nil else { return false }
        if outbound, let link = outboundLinks[name] { free(link) }
        if inbound, let link = inboundLinks[name] { free(link) }
        return true
    }

    /// The peer closed the connection, or it failed.
    func connectionEnded(_ link: ClusterLink) {
        if !link.closed { logger.debug("Cluster bus link \(link.inbound ? "from" : "to") \(link.node?.text ?? "unknown node") closed") }
        free(link)
    }

    /// Bytes arrived on `link`: decode every whole message and process it. A message the decoder
    /// skipped (wrong version, wrong length for its type) is ignored as Redis ignores it; a lost
    /// framing (bad signature, impossible length) drops the link.
    func received(_ bytes: ByteBuffer, on link: ClusterLink) {
        guard !link.closed else { return }
        var bytes = bytes
        link.inbox.writeBuffer(&bytes)
        let now = clock()
        link.lastReceivedMs = now
        if let name = link.node { nodeDataReceivedMs[name] = now }
        while !link.closed {
            do {
                guard let message = try link.decoder.next(from: &link.inbox) else { break }
                process(message, on: link)
            } catch let error where error.messageSkipped {
                logger.debug("Ignoring a cluster bus message from \(link.peerIP ?? "?"): \(error)")
            } catch {
                logger.info("Dropping the cluster bus link \(link.inbound ? "from" : "to") \(link.peerIP ?? "?"): \(error)")
                free(link)
            }
        }
        link.inbox.discardReadBytes()
    }

    /// Encodes and sends `message` on `link` if it is connected, and counts it.
    func send(_ message: BusMessage, on link: ClusterLink) {
        guard !link.closed, let channel = link.channel else { return }
        var buffer = channel.allocator.buffer(capacity: BusEncoder.encodedBytes(of: message))
        do {
            try BusEncoder.encode(message, into: &buffer)
        } catch {
            logger.warning("Cannot encode a cluster bus \(message.type): \(error)")
            return
        }
        messagesSent[message.type] += 1
        let bytes = buffer.readableBytes
        link.pendingSendBytes += bytes
        channel.writeAndFlush(buffer).whenComplete { _ in link.pendingSendBytes -= bytes }
    }

    /// Counts a received message (the receive path's single place for it).
    func countReceived(_ type: BusMessageType) { messagesReceived[type] += 1 }
}
