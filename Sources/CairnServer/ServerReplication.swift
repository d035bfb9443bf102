import CairnReplication
import CairnRESP
import CairnStorage
import Foundation

// The master side of replication, wired into the server (docs/replication.md): the SYNC, PSYNC
// and REPLCONF commands, the full sync (an RDB made by one forked child for every replica that
// waits, streamed to their sockets or saved to disk and sent), the stream that follows, and the
// periodic PING. The decisions and the stream itself are CairnReplication's (ReplicationMaster);
// this file gives it connections and the persistence component's child.

/// What a connection said with REPLCONF before it asked to sync.
struct ReplicaHandshake {
    var listeningPort = 0
    var ipAddress: String?
    var capabilities: Set<String> = []
}

enum ReplicationCommands {
    static func specs(_ server: Server) -> [CommandSpec] {
        [
            CommandSpec("sync", arity: 1, flags: [.admin, .noscript, .noMulti], categories: [.admin, .slow, .dangerous],
                        group: "server", summary: "An internal command used in replication.", handler: server.bind(sync)),
            CommandSpec("psync", arity: -3, flags: [.admin, .noscript, .noMulti], categories: [.admin, .slow, .dangerous],
                        group: "server", summary: "An internal command used in replication.", handler: server.bind(sync)),
            CommandSpec("replicaof", arity: 3, flags: [.admin, .noscript, .stale], categories: [.admin, .slow, .dangerous],
                        group: "server", summary: "Configures a server as replica of another, or promotes it to a master.",
                        handler: server.bind(replicaof)),
            CommandSpec("slaveof", arity: 3, flags: [.admin, .noscript, .stale], categories: [.admin, .slow, .dangerous],
                        group: "server", summary: "Sets a Redis server as a replica of another, or promotes it to being a master.",
                        handler: server.bind(replicaof)),
            CommandSpec("wait", arity: 3, flags: [.noscript], categories: [.slow, .connection], group: "generic",
                        summary: "Blocks until the asynchronous replication of all preceding write commands sent by the connection is completed.",
                        handler: server.bind(wait)),
            CommandSpec("failover", arity: -1, flags: [.admin, .noscript, .stale], categories: [.admin, .slow, .dangerous],
                        group: "server", summary: "Starts a coordinated failover from a server to one of its replicas.",
                        handler: server.bind(failover)),
            CommandSpec("role", arity: 1, flags: [.noscript, .loading, .stale, .fast], categories: [.admin, .fast, .dangerous],
                        group: "server", summary: "Returns the replication role.", handler: server.bind(role)),
            CommandSpec("replconf", arity: -1, flags: [.admin, .noscript, .loading, .stale, .allowBusy],
                        categories: [.admin, .slow, .dangerous], group: "server",
                        summary: "An internal command for configuring the replication stream.", handler: server.bind(replconf)),
        ]
    }

    /// REPLCONF <option> <value> [<option> <value> ...] (Redis's replconfCommand).
    static func replconf(_ s: Server, _ c: CommandContext) {
        guard c.args.count % 2 == 1 else { return c.replySyntaxError() }
        var handshake = s.replicaHandshakes[c.client.id] ?? ReplicaHandshake()
        var i = 1
        while i < c.args.count {
            let option = c.args.string(i).lowercased()
            let value = c.args.string(i + 1)
            switch option {
            case "listening-port":
                guard let port = Int(value), (0...65535).contains(port) else {
                    return c.reply.error("ERR value is not an integer or out of range")
                }
                handshake.listeningPort = port
            case "ip-address":
                handshake.ipAddress = value
            case "capa":
                handshake.capabilities.insert(value.lowercased())
            case "ack":
                // A replica's acknowledged offset: no reply (Redis answers nothing to ACK).
                if let link = s.replication.replica(id: c.client.id), let offset = Int64(value) {
                    s.replication.acknowledged(link, offset: offset, nowMillis: Clock.unixMillis())
                    s.serveAckWaiters()
                    s.updateFailover()
                }
                return
            case "getack":
                // From this node's master: answer with REPLCONF ACK at once (Redis's replicationSendAck).
                if c.client.origin == .master { s.masterLink?.requestAck() }
                return
            case "rdb-only", "rdb-filter-only":
                break  // options of tools that only want the RDB; the stream follows anyway
            default:
                return c.reply.error("ERR Unrecognized REPLCONF option: \(c.args.string(i))")
            }
            i += 2
        }
        s.replicaHandshakes[c.client.id] = handshake
        if let link = s.replication.replica(id: c.client.id) { apply(handshake, to: link) }
        c.reply.ok()
    }

    /// REPLICAOF host port | REPLICAOF NO ONE (and SLAVEOF).
    static func replicaof(_ s: Server, _ c: CommandContext) {
        // In a cluster, replication follows CLUSTER REPLICATE (and failover), not this command.
        if s.clusterBus != nil { return c.reply.error("ERR REPLICAOF not allowed in cluster mode.") }
        let who = "user request from 'id=\(c.client.id) addr=\(c.client.address) laddr=\(c.client.localAddress) fd=\(c.client.fileDescriptor) name=\(String(decoding: c.client.name ?? [], as: UTF8.self)) age=\((c.engine.now - c.client.createdAtMillis) / 1000) idle=0'"
        if c.args.matches(1, "no") && c.args.matches(2, "one") {
            if s.masterLink != nil {
                s.becomeMaster()
                s.logger.notice("MASTER MODE enabled (\(who))")
            }
            return c.reply.ok()
        }
        guard let port = Int(c.args.string(2)), (0...65535).contains(port) else {
            return c.reply.error("ERR Invalid master port")
        }
        let host = c.args.string(1)
        if let link = s.masterLink, link.host.lowercased() == host.lowercased(), link.port == port {
            s.logger.notice("REPLICAOF would result into synchronization with the master we are already connected with. No operation performed.")
            return c.reply.simpleString("OK Already connected to specified master")
        }
        s.becomeReplica(of: host, port: port)
        s.logger.notice("REPLICAOF \(host):\(port) enabled (\(who))")
        c.reply.ok()
    }

    /// WAIT numreplicas timeout: blocks until that many replicas acknowledged the stream up to
    /// the calling client's last write, or the timeout (ms, 0 = none); replies how many did.
    static func wait(_ s: Server, _ c: CommandContext) {
        if s.masterLink != nil {
            return c.reply.error("ERR WAIT cannot be used with replica instances. Please also note that since Redis 4.0 if a replica is configured to be writable (which is not the default) writes to replicas are just local and are not propagated.")
        }
        guard let wanted = Int64(c.args.string(1)) else { return c.reply.error("ERR value is not an integer or out of range") }
        guard let timeout = Int64(c.args.string(2)) else { return c.reply.error("ERR timeout is not an integer or out of range") }
        guard timeout >= 0 else { return c.reply.error("ERR timeout is negative") }
        let offset = c.client.replicationWriteOffset
        let acked = s.replication.acknowledgedCount(atLeast: offset)
        if acked >= wanted || !c.client.origin.mayBlock || c.client.transaction != nil || c.engine.isExecutingTransaction {
            return c.reply.integer(Int64(acked))
        }
        let deadline: Int64? = timeout == 0 ? nil : Clock.unixMillis() + timeout
        let blocked = c.engine.blockExternally(c, name: "wait", deadline: deadline) { [unowned(unsafe) s] reply in
            reply.integer(Int64(s.replication.acknowledgedCount(atLeast: offset)))
        }
        guard blocked else { return c.reply.integer(Int64(acked)) }
        s.ackWaiters.append((c.client, offset, Int(clamping: wanted)))
        s.replication.feedGetAck()
    }

    /// ROLE: ["master", offset, [[ip, port, ack offset], ...]] or ["slave", host, port, state, offset].
    static func role(_ s: Server, _ c: CommandContext) {
        if let link = s.masterLink {
            c.reply.arrayHeader(5)
            c.reply.bulk("slave")
            c.reply.bulk(link.host)
            c.reply.integer(link.port)
            c.reply.bulk(link.roleState)
            c.reply.integer(link.isUp ? s.replication.offset : -1)
            return
        }
        c.reply.arrayHeader(3)
        c.reply.bulk("master")
        c.reply.integer(s.replication.offset)
        let online = s.replication.replicas.filter { $0.state == .online || $0.state == .waitingForAck }
        c.reply.arrayHeader(online.count)
        for link in online {
            c.reply.arrayHeader(3)
            c.reply.bulk(s.replicaIP(link))
            c.reply.bulk(String(link.listeningPort))
            c.reply.bulk(String(link.ackOffset))
        }
    }

    static func apply(_ handshake: ReplicaHandshake, to link: ReplicaLink) {
        link.listeningPort = handshake.listeningPort
        link.announcedIP = handshake.ipAddress
        link.capabilities = handshake.capabilities
    }

    /// SYNC and PSYNC <replid> <offset> (Redis's syncCommand): continue from the backlog when it
    /// can, else queue the replica for the next full sync.
    static func sync(_ s: Server, _ c: CommandContext) {
        // A connection that already is a replica asks again only by reconnecting.
        guard s.replication.replica(id: c.client.id) == nil, let handler = s.connection(id: c.client.id) else { return }
        // PSYNC <my replid> <offset> FAILOVER: my master hands over to me (its FAILOVER): I
        // become the master, then serve it as a replica, partially (Redis's syncCommand).
        if c.args.count > 3 && c.args.matches(0, "psync") && c.args.matches(3, "failover") {
            guard s.masterLink != nil, c.args.string(1).lowercased() == s.replicationID.lowercased() else {
                return c.reply.error("ERR PSYNC FAILOVER replid must match my replid.")
            }
            s.becomeMaster()
            s.logger.notice("MASTER MODE enabled (failover request from 'id=\(c.client.id) addr=\(c.client.address)')")
        }
        // A replica serves replicas of its own only while it follows its master (this also stops
        // a node told to replicate itself).
        if let link = s.masterLink, !link.isUp {
            return c.reply.error("NOMASTERLINK Can't SYNC while not connected with my master")
        }
        // Replies to earlier commands must not mix with the sync's bytes (Redis's rule).
        if c.client.reply.buffer.readableBytes > 0 || handler.queuedOutputBytes > 0 {
            return c.reply.error("ERR SYNC and PSYNC are invalid with pending output")
        }
        let legacy = c.args.matches(0, "sync")
        let address = c.client.address
        if !s.replication.isFeeding {
            s.replication.createBacklogIfNeeded()
            s.logger.notice("Replication backlog created, my new replication IDs are '\(s.replication.ids.replid)' and '\(s.replication.ids.replid2)'")
        }
        s.feedReplicasFromPropagation()
        // Unretained: the link is detached (replicaClosed) before the connection's handler goes.
        let link = ReplicaLink(id: c.client.id, address: address, state: .waitingForSync) { [unowned(unsafe) handler] bytes in
            handler.sendStream(bytes)
        }
        apply(s.replicaHandshakes[c.client.id] ?? ReplicaHandshake(), to: link)
        link.legacySync = legacy
        handler.isReplica = true
        c.client.isReplicaLink = true
        s.logger.notice("Replica \(s.replicaName(link)) asks for synchronization")
        if !legacy {
            let offset = Int64(c.args.string(2))
            switch s.replication.decide(requestedID: c.args.string(1), requestedOffset: offset) {
            case .partial(let from):
                let missed = s.replication.attachPartial(link, from: from)
                let line = link.capabilities.contains("psync2") ? "+CONTINUE \(s.replicationID)\r\n" : "+CONTINUE\r\n"
                handler.sendStream(Array(line.utf8) + missed)
                s.logger.notice("Partial resynchronization request from \(s.replicaName(link)) accepted. Sending \(missed.count) bytes of backlog starting from offset \(from).")
                return
            case .full(let reason):
                if c.args.string(1) != "?" { s.logger.notice("Partial resynchronization not accepted: \(reason)") } else {
                    s.logger.notice("Full resync requested by replica \(s.replicaName(link))")
                }
            }
        }
        // repl-disable-tcp-nodelay: fewer, larger packets to a replica that syncs in full (Redis
        // turns TCP_NODELAY off there, and not for a partial resync).
        if s.settings.parity.replDisableTCPNoDelay { handler.setTCPNoDelay(false) }
        s.replication.attachFull(link)
        if s.fullSyncWaitSinceMillis == nil { s.fullSyncWaitSinceMillis = Clock.unixMillis() }
        s.startFullSyncIfDue()
    }
}

extension Server {
    /// Installs what replication adds to command execution: the READONLY stage of a replica.
    func installReplication() {
        // The stream's bytes for online replicas are written once per turn.
        replication.turnStarted = { [unowned(unsafe) self] in scheduleStreamFlush() }
        // On a replica: READONLY for writes (replica-read-only), and MASTERDOWN for commands
        // without the stale flag while the link is down and replica-serve-stale-data is no.
        readOnlyReplicaStage = engine.admission.install(.readOnlyReplica, armed: false) { [unowned(unsafe) self] request in
            if request.isWrite && settings.replicaReadOnly && engine.role == .replica {
                return "READONLY You can't write against a read only replica."
            }
            if !settings.replicaServeStaleData, let link = masterLink, !link.isUp, !request.command.spec.flags.contains(.stale) {
                return "MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'."
            }
            return nil
        }
        // Redis's repl_good_slaves_count check: online replicas that acknowledged recently enough.
        minReplicasStage = engine.admission.install(.minReplicas, armed: false) { [unowned(unsafe) self] request in
            guard request.isWrite else { return nil }
            let good = replication.goodReplicas(nowMillis: Clock.unixMillis(), maxLagSeconds: settings.minReplicasMaxLagSeconds)
            return good < settings.minReplicasToWrite ? "NOREPLICAS Not enough good replicas to write." : nil
        }
    }

    /// Starts replicating `host:port` (REPLICAOF, or `replicaof` in the config): this node's own
    /// replicas are dropped (they reconnect and resync from the new history), its keys stop
    /// expiring on their own, and writes are refused while `replica-read-only`.
    /// `failover`: the old master's side of FAILOVER (its PSYNC says FAILOVER).
    func becomeReplica(of host: String, port: Int, failover: Bool = false) {
        masterLink?.close()
        for link in replication.detachAll() { connection(id: link.id)?.kill() }
        fullSyncWaitSinceMillis = nil
        engine.role = .replica
        settings.replicaof = (host, port)
        applySettings()
        let link = MasterLink(server: self, host: host, port: port)
        link.failoverPSYNC = failover
        masterLink = link
        link.connectIfDown()
    }

    /// REPLICAOF NO ONE: the link is closed and this node serves its own history under a new
    /// id, the old one kept as the second id so that the other replicas of its old master can
    /// continue from it (PSYNC2).
    func becomeMaster() {
        masterLink?.close()
        masterLink = nil
        engine.role = .master
        settings.replicaof = nil
        applySettings()
        replication.promoted()
        for link in replication.detachAll() { connection(id: link.id)?.kill() }
        if replication.isFeeding { feedReplicasFromPropagation() }
    }

    /// The engine's `.replicas` sink, added once: local writes extend the stream. Only a
    /// master's: on a replica (`replica-read-only no`) local writes stay local, as in Redis, and
    /// its own replicas get its master's stream unchanged.
    func feedReplicasFromPropagation() {
        guard !engine.propagationSinks.contains(where: { $0.target == .replicas }) else { return }
        engine.addPropagationSink(PropagationSink(.replicas) { [unowned(unsafe) self] batch in
            guard engine.role == .master else { return }
            replication.feed(batch.commands)
            batch.client?.replicationWriteOffset = replication.offset
        })
    }

    /// Schedules `flushStream` of `handler` once the current turn has handled its I/O events.
    func flushStreamAtEndOfTurn(_ handler: ConnectionHandler) {
        streamFlushQueue.append(handler)
        scheduleStreamFlush()
    }

    /// At the end of this turn: the stream gathered for the online replicas goes to their
    /// connections, and each connection with stream bytes writes them in one system call.
    func scheduleStreamFlush() {
        guard !streamFlushScheduled else { return }
        streamFlushScheduled = true
        loop.execute { [self] in
            // A replica in a full sync accumulates the stream meanwhile: that counts toward its
            // output buffer limit, as Redis counts it (client-output-buffer-limit replica).
            for link in replication.replicas where link.pendingBytes > 0 {
                connection(id: link.id)?.checkStreamLimit(extraBytes: link.pendingBytes)
            }
            replication.flushTurn()  // queues the online replicas' connections
            let queued = streamFlushQueue
            streamFlushQueue = []
            streamFlushScheduled = false
            for h in queued { h.flushStream() }
        }
    }

    /// A replica acknowledged: WAITs that now have their count answer it.
    func serveAckWaiters() {
        ackWaiters.removeAll { waiter in
            guard let state = waiter.client.blocked, case .external = state.wait else { return true }  // timed out or gone
            let acked = replication.acknowledgedCount(atLeast: waiter.offset)
            guard acked >= waiter.replicas else { return false }
            engine.completeExternalWait(waiter.client) { $0.integer(Int64(acked)) }
            return true
        }
    }

    /// The replica's announced address, else the one it connected from.
    func replicaIP(_ link: ReplicaLink) -> String {
        link.announcedIP ?? String(link.address.split(separator: ":").dropLast().joined(separator: ":"))
    }

    /// `ip:port` of a replica as the log names it.
    func replicaName(_ link: ReplicaLink) -> String { "\(replicaIP(link)):\(link.listeningPort)" }

    /// A connection closed: if it was a replica, it is one no longer.
    func replicaClosed(_ id: Int64) {
        replicaHandshakes[id] = nil
        guard let link = replication.replica(id: id) else { return }
        replication.detach(id: id)
        logger.notice("Connection with replica \(replicaName(link)) lost.")
        if replication.waitingForSync.isEmpty { fullSyncWaitSinceMillis = nil }
    }

    /// From the cron: start a full sync that is due, and PING the replicas every
    /// repl-ping-replica-period seconds.
    func replicationCron() {
        masterLink?.cron()
        updateFailover()
        guard replication.isFeeding else { return }
        startFullSyncIfDue()
        let now = Clock.unixMillis()
        // No PING into the stream while a manual failover waits for a replica to reach our
        // offset (Redis's replicationCron): it would move the offset the replica must match.
        if now - lastReplicaPingMillis >= Int64(settings.replPingReplicaPeriodSeconds) * 1000,
           clusterBus?.pausedForManualFailover != true {
            lastReplicaPingMillis = now
            replication.feedPing()
        }
        // Once a second, a newline to replicas waiting for their RDB (before it, or while a
        // disk-based one is saved), so that their repl-timeout does not fire (Redis does the same).
        if now - lastKeepAliveMillis >= 1000 {
            lastKeepAliveMillis = now
            let diskSave = persistence.child?.kind == .rdbToDisk
            for link in replication.replicas where link.state == .waitingForSync || (link.state == .transferring && diskSave) {
                connection(id: link.id)?.sendStream(Self.keepAlive)
            }
        }
        // repl-backlog-ttl: a master without replicas for that long frees its backlog.
        if replication.replicas.isEmpty && masterLink == nil && settings.replBacklogTTLSeconds > 0 {
            let since = noReplicasSinceMillis ?? now
            noReplicasSinceMillis = since
            if now - since > Int64(settings.replBacklogTTLSeconds) * 1000 {
                replication.freeBacklog()
                noReplicasSinceMillis = nil
                logger.notice("Replication backlog freed after \(settings.replBacklogTTLSeconds) seconds without connected replicas.")
                return
            }
        } else {
            noReplicasSinceMillis = nil
        }
        // An online replica silent for repl-timeout is gone (Redis's replicationCron), so that
        // WAIT and min-replicas-to-write stop counting it.
        let timeout = Int64(settings.replTimeoutSeconds) * 1000
        for link in replication.replicas
        where (link.state == .online || link.state == .waitingForAck) && link.ackMillis > 0 && now - link.ackMillis > timeout {
            logger.warning("Disconnecting timedout replica (streaming sync): \(replicaName(link))")
            connection(id: link.id)?.kill()
        }
    }

    /// Starts the RDB child for the replicas waiting for a full sync, once the child slot is free
    /// and, for a diskless sync, the delay has passed (or enough replicas wait).
    func startFullSyncIfDue() {
        let waiting = replication.waitingForSync
        guard !waiting.isEmpty, !persistence.hasActiveChild, let since = fullSyncWaitSinceMillis else { return }
        // A replica on TLS gets a disk-based sync: a diskless one has the forked child write the
        // RDB to the socket itself, which would bypass TLS.
        let diskless = settings.replDisklessSync
            && waiting.allSatisfy { $0.capabilities.contains("eof") && !$0.legacySync && !tls.clientIDs.contains($0.id) }
        if diskless {
            let enough = settings.replDisklessSyncMaxReplicas > 0 && waiting.count >= settings.replDisklessSyncMaxReplicas
            let delayed = Clock.unixMillis() - since >= Int64(settings.replDisklessSyncDelaySeconds) * 1000
            guard enough || delayed else { return }
        }
        // Nothing may still be queued on a socket the child is about to write to.
        let handlers = waiting.compactMap { connection(id: $0.id) }
        guard handlers.count == waiting.count, handlers.allSatisfy({ $0.queuedOutputBytes == 0 && !$0.hasQueuedStream }) else { return }
        // Redis replicas read only plain RDB files; Cairn replicas may ask for the LZ4 frame.
        let compression: RDBCompression = waiting.allSatisfy { $0.capabilities.contains(Self.cairnLZ4Capability) }
            ? persistence.settings.rdbCompression : .lzf
        let offset = replication.offset
        let fullResync = Array("+FULLRESYNC \(replicationID) \(offset)\r\n".utf8)
        if diskless {
            let descriptors = handlers.compactMap(\.socketDescriptor)
            guard descriptors.count == handlers.count else { return }
            let mark = Array(ReplicationIDs.random().utf8)
            let prefix = fullResync + Array("$EOF:".utf8) + mark + Array("\r\n".utf8)
            let stall = Int32(clamping: settings.replTimeoutSeconds * 1000)
            guard persistence.startSnapshot(toDescriptors: descriptors, prefix: prefix, suffix: mark, compression: compression,
                                            stallLimitMillis: stall) else {
                return  // the cron tries again
            }
            _ = replication.syncStarted(waiting)
            fullSyncWaitSinceMillis = nil
            for link in waiting {
                logger.notice("Starting BGSAVE for SYNC with target: replicas sockets (\(replicaName(link)))")
            }
            persistence.whenBackgroundSaveEnds { [unowned(unsafe) self] ok in
                self.fullSyncTransferEnded(waiting, ok: ok)
            }
        } else {
            guard persistence.startBackgroundSave(compression: compression) else { return }
            _ = replication.syncStarted(waiting)
            fullSyncWaitSinceMillis = nil
            for (link, handler) in zip(waiting, handlers) {
                logger.notice("Starting BGSAVE for SYNC with target: disk (\(replicaName(link)))")
                if !link.legacySync { handler.sendStream(fullResync) }
            }
            persistence.whenBackgroundSaveEnds { [unowned(unsafe) self] ok in
                self.diskSyncSaved(waiting, ok: ok)
            }
        }
    }

    static let cairnLZ4Capability = "cairn-lz4"
    static let keepAlive: [UInt8] = [UInt8(ascii: "\n")]

    /// A diskless transfer ended: the replicas that got it go online at their first ACK; on a
    /// failure they are dropped and will ask again.
    func fullSyncTransferEnded(_ links: [ReplicaLink], ok: Bool) {
        let current = links.filter { replication.replica(id: $0.id) === $0 }
        if ok {
            replication.transferSent(current, nowMillis: Clock.unixMillis())
            for link in current { logger.notice("Streamed RDB transfer with replica \(replicaName(link)) succeeded (socket). Waiting for REPLCONF ACK from replica to enable streaming") }
        } else {
            for link in current {
                logger.warning("SYNC failed. BGSAVE child returned an error (replica \(replicaName(link)))")
                connection(id: link.id)?.kill()
            }
        }
    }

    /// A disk-based sync's RDB is saved: send it as one bulk (`$<length>\r\n` + the file), then
    /// the stream made meanwhile.
    func diskSyncSaved(_ links: [ReplicaLink], ok: Bool) {
        let current = links.filter { replication.replica(id: $0.id) === $0 }
        guard ok, let file = FileManager.default.contents(atPath: persistence.settings.dbfilename) else {
            for link in current {
                logger.warning("SYNC failed. BGSAVE child returned an error (replica \(replicaName(link)))")
                connection(id: link.id)?.kill()
            }
            return
        }
        let bytes = [UInt8](file)
        for link in current {
            guard let handler = connection(id: link.id) else { continue }
            handler.sendStream(Array("$\(bytes.count)\r\n".utf8) + bytes, limited: false)
            replication.putOnline(link)
            logger.notice("Synchronization with replica \(replicaName(link)) succeeded")
        }
    }

    /// INFO replication (Redis 7.0's fields, in its order).
    func replicationInfo() -> [String] {
        let now = Clock.unixMillis()
        var lines = ["# Replication"]
        if let link = masterLink {
            lines += [
                "role:slave",
                "master_host:\(link.host)",
                "master_port:\(link.port)",
                "master_link_status:\(link.isUp ? "up" : "down")",
                "master_last_io_seconds_ago:\(link.lastIOMillis == 0 ? -1 : (now - link.lastIOMillis) / 1000)",
                "master_sync_in_progress:\(link.syncInProgress ? 1 : 0)",
                "slave_read_repl_offset:\(replication.offset)",
                "slave_repl_offset:\(replication.offset)",
            ]
            if link.syncInProgress {
                lines += ["master_sync_total_bytes:\(link.transferSize)", "master_sync_read_bytes:\(link.transferRead)",
                          "master_sync_left_bytes:\(link.transferSize < 0 ? -1 : link.transferSize - link.transferRead)"]
            }
            if !link.isUp {
                lines.append("master_link_down_since_seconds:\(link.downSinceMillis == 0 ? -1 : (now - link.downSinceMillis) / 1000)")
            }
            lines += ["slave_priority:\(settings.replicaPriority)", "slave_read_only:\(settings.replicaReadOnly ? 1 : 0)",
                      "replica_announced:\(settings.replicaAnnounced ? 1 : 0)"]
        } else {
            lines.append("role:master")
        }
        lines.append("connected_slaves:\(replication.replicas.count)")
        for (i, link) in replication.replicas.enumerated() {
            let state: String
            switch link.state {
            case .waitingForSync: state = "wait_bgsave"
            case .transferring: state = "send_bulk"
            case .waitingForAck, .online: state = "online"
            }
            let ip = replicaIP(link)
            let lag = link.ackMillis == 0 ? 0 : (now - link.ackMillis) / 1000
            lines.append("slave\(i):ip=\(ip),port=\(link.listeningPort),state=\(state),offset=\(link.ackOffset),lag=\(lag)")
        }
        let backlog = replication.backlog
        lines += [
            "master_failover_state:\(failover?.phase.rawValue ?? "no-failover")",
            "master_replid:\(replication.ids.replid)",
            "master_replid2:\(replication.ids.replid2)",
            "master_repl_offset:\(replication.offset)",
            "second_repl_offset:\(replication.ids.secondOffset)",
            "repl_backlog_active:\(backlog == nil ? 0 : 1)",
            "repl_backlog_size:\(replication.backlogSize)",
            "repl_backlog_first_byte_offset:\(backlog?.firstByteOffset ?? 0)",
            "repl_backlog_histlen:\(backlog?.histlen ?? 0)",
        ]
        return lines
    }
}
