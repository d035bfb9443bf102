import CairnCluster
import CairnGossip
import CairnStorage
import Glibc

// Cluster mode (`cluster-enabled yes`, docs/cluster.md): the node table lives in the bus
// (CairnGossip's ClusterBus, on the server's one event loop); nodes.conf records it; the
// admission pipeline's cluster stage sends each command with keys where its slot is served
// (CairnCluster's decision: MOVED, ASK, CROSSSLOT, TRYAGAIN, CLUSTERDOWN).

extension Server {
    /// nodes.conf, as `cluster-config-file` names it (relative to `dir`, where the process runs).
    var clusterConfigPath: String { settings.cluster.configFile }

    /// Loads nodes.conf or starts a new identity, then the bus. A nodes.conf that does not load
    /// stops the start (Redis exits too): a node never silently takes a new identity.
    func startCluster() throws {
        guard settings.cluster.enabled else { return }
        var state: ClusterState
        let bytes = ProcessMetrics.readBytes(clusterConfigPath)
        // Only a missing file means a new node; one that cannot be read must not reset the identity.
        if bytes == nil && errno != ENOENT {
            throw ConfigError("Unrecoverable error: can't read the cluster config file \"\(clusterConfigPath)\": \(String(cString: strerror(errno)))")
        }
        do {
            if let bytes, let loaded = try NodesConf.parse(bytes) {
                state = loaded.state
                state.startAfterLoad(nowMs: Clock.unixMillis())
                for warning in loaded.warnings { logger.warning("\(warning)") }
                logger.notice("Node configuration loaded, I'm \(state.myself.text)")
            } else {
                var generator = SystemRandomNumberGenerator()
                let me = ClusterNode(name: NodeName.random(using: &generator), ip: "", port: settings.port,
                                     busPort: settings.cluster.busPort(clientPort: settings.port), flags: [.master])
                state = ClusterState(myself: me)
                logger.notice("No cluster configuration found, I'm \(state.myself.text)")
            }
        } catch {
            throw ConfigError("Unrecoverable error: corrupted cluster config file \"\(clusterConfigPath)\": \(error)")
        }
        let bus = ClusterBus(state: state, settings: clusterBusSettings, clientPort: settings.port,
                             busPort: settings.cluster.busPort(clientPort: settings.port), loop: loop, logger: logger)
        bus.requireFullCoverage = settings.cluster.requireFullCoverage
        bus.onChange = { [unowned(unsafe) self] fsync in _ = saveClusterConfig(fsync: fsync) }
        // A master with a newer configEpoch took slots this node still has keys in.
        bus.onSlotsLost = { [unowned(unsafe) self] slots, owner in
            let deleted = slots.reduce(0) { $0 + engine.deleteKeys(inSlot: $1) }
            if deleted > 0 { logger.warning("Deleted \(deleted) keys in \(slots.count) slots now served by \(owner.text)") }
        }
        clusterBus = bus
        installFailoverHooks(bus)
        // Pub/sub across the cluster: what is published here goes over the bus, what comes
        // from the bus is delivered here.
        engine.onPublish = { [unowned(unsafe) bus] channel, message, shard in bus.publish(channel: channel, message: message, shard: shard) }
        bus.onPublish = { [unowned(unsafe) self] channel, message, shard in
            _ = shard ? engine.publishShard(channel: channel, message: message) : engine.publish(channel: channel, message: message)
        }
        // A replica (nodes.conf says so) replicates its master again, as Redis's clusterInit.
        if let masterName = state.myselfNode.replicaOf, let master = state[masterName], !master.ip.isEmpty, master.port > 0 {
            loop.execute { self.becomeReplica(of: master.ip, port: master.port) }
        }
        if let error = saveClusterConfig(fsync: true) {
            throw ConfigError("Can't write the cluster config file \(clusterConfigPath): \(error)")
        }
        let host = settings.bind.first.map { $0.hasPrefix("-") ? String($0.dropFirst()) : $0 } ?? "0.0.0.0"
        try loop.submit { try bus.start(host: host) }.wait()
        logger.notice("Cluster bus listening on \(host):\(settings.cluster.busPort(clientPort: settings.port))")
        clusterCommandKinds = Self.clusterCommandKinds(engine.commands)
        clusterRoutingSettings = clusterRedirectionSettings
        _ = engine.admission.install(.clusterRedirect) { [unowned(unsafe) self] request in clusterRefusal(request) }
        try loop.submit {
            self.clusterCron = self.loop.scheduleRepeatedTask(initialDelay: .milliseconds(100), delay: .milliseconds(100)) { [unowned(unsafe) self] _ in
                self.clusterBus?.cron(nowMillis: Clock.unixMillis())
            }
        }.wait()
    }

    /// The bus settings from the cluster directives (CONFIG SET applies them again).
    var clusterBusSettings: ClusterBus.Settings {
        var bus = ClusterBus.Settings(nodeTimeoutMillis: settings.cluster.nodeTimeoutMillis, announceIP: settings.cluster.announceIP,
                                      announcePort: settings.cluster.announcePort, announceBusPort: settings.cluster.announceBusPort,
                                      announceHostname: settings.cluster.announceHostname)
        bus.replicaValidityFactor = Int64(settings.cluster.replicaValidityFactor)
        bus.replPingReplicaPeriodMillis = Int64(settings.replPingReplicaPeriodSeconds) * 1000
        bus.replicaNoFailover = settings.cluster.replicaNoFailover
        bus.allowReplicaMigration = settings.cluster.allowReplicaMigration
        bus.migrationBarrier = settings.cluster.migrationBarrier
        return bus
    }

    /// What failover needs of the server: the replication offset headers carry, the replica's
    /// data age, and the role changes and write pauses the bus decides.
    func installFailoverHooks(_ bus: ClusterBus) {
        bus.replicationOffset = { [unowned(unsafe) self] in replication.offset }
        bus.replicaDataAgeMillis = { [unowned(unsafe) self] in
            guard let link = masterLink else { return 0 }
            let now = Clock.unixMillis()
            return link.isUp ? now - link.lastIOMillis : now - link.downSinceMillis
        }
        bus.onPromoted = { [unowned(unsafe) self] in
            logger.notice("Cluster failover: this replica is now a master")
            becomeMaster()
        }
        bus.onFollow = { [unowned(unsafe) self] master in
            logger.notice("Cluster: replicating \(master.name.text) (\(master.ip):\(master.port))")
            becomeReplica(of: master.ip, port: master.port)
        }
        bus.onPauseWrites = { [unowned(unsafe) self] until in
            if let until { engine.pauseClients(.failover, untilMillis: until, type: .write) } else { engine.unpauseClients(.failover) }
        }
    }

    /// Writes nodes.conf atomically (temporary file, rename: AtomicFile), with the fsyncs of the
    /// file and its directory when `fsync` (epochs, votes, identity, shutdown: Redis's
    /// CLUSTER_TODO_FSYNC_CONFIG). Returns the error text, or nil.
    @discardableResult
    func saveClusterConfig(fsync: Bool) -> String? {
        guard let bus = clusterBus else { return nil }
        do {
            try AtomicFile.replace(clusterConfigPath, with: NodesConf.render(bus.state), durable: fsync)
            return nil
        } catch {
            logger.warning("Could not save the cluster config file \(clusterConfigPath): \(error)")
            return "\(error)"
        }
    }

    /// The commands the slot check treats apart, found once (no name comparison per command).
    enum ClusterCommandKind { case exec, asking, restoreAsking, migrate, shardedPubSub }

    static func clusterCommandKinds(_ table: CommandTable) -> [(command: ObjectIdentifier, kind: ClusterCommandKind)] {
        let named: [(String, ClusterCommandKind)] = [("exec", .exec), ("asking", .asking), ("restore-asking", .restoreAsking),
                                                     ("migrate", .migrate), ("spublish", .shardedPubSub),
                                                     ("ssubscribe", .shardedPubSub), ("sunsubscribe", .shardedPubSub)]
        return named.compactMap { name, kind in table.lookup(name).map { (ObjectIdentifier($0), kind) } }
    }

    /// What the slot check reads of a command, worked out once per command and kept by its dense
    /// id: an array index per request instead of reading the command's spec (a large struct in
    /// another module) and comparing identities.
    struct ClusterRoute {
        enum Keys { case none, plain(first: Int, last: Int, step: Int), movable }
        let kind: ClusterCommandKind?
        let keys: Keys
        let isWrite: Bool
    }

    @inline(__always)
    func clusterRoute(of command: RegisteredCommand) -> ClusterRoute {
        let id = command.id
        if id < clusterRoutes.count, let known = clusterRoutes[id] { return known }
        return learnClusterRoute(of: command)
    }

    func learnClusterRoute(of command: RegisteredCommand) -> ClusterRoute {
        let id = command.id
        let identity = ObjectIdentifier(command)
        let kind = clusterCommandKinds.first { $0.command == identity }?.kind
        let spec = command.spec
        let keys: ClusterRoute.Keys = spec.findKeys != nil ? .movable
            : spec.keyPositions.first > 0 ? .plain(first: spec.keyPositions.first, last: spec.keyPositions.last,
                                                   step: max(1, spec.keyPositions.step))
            : .none
        let route = ClusterRoute(kind: kind, keys: keys, isWrite: spec.flags.contains(.write))
        if id >= clusterRoutes.count { clusterRoutes += Array(repeating: nil, count: id + 1 - clusterRoutes.count) }
        clusterRoutes[id] = route
        return route
    }

    /// The redirection rules' settings (cluster-allow-reads-when-down and friends).
    var clusterRedirectionSettings: RedirectionSettings {
        RedirectionSettings(allowReadsWhenDown: settings.cluster.allowReadsWhenDown,
                            allowPubSubShardWhenDown: settings.cluster.allowPubsubshardWhenDown,
                            preferredEndpoint: EndpointType(rawValue: settings.cluster.preferredEndpointType) ?? .ip)
    }

    /// The cluster stage of admission (Redis's processCommand → getNodeByQuery): nil to run the
    /// command here, or the redirection error. The master link and AOF replay never reach it
    /// (admission checks only clients' commands).
    func clusterRefusal(_ request: borrowing AdmissionRequest) -> String? {
        guard let bus = clusterBus else { return nil }
        let client = request.client
        let route = clusterRoute(of: request.command)
        let isExec = route.kind == .exec
        defer {
            // ASKING covers the next command only (Redis's resetClient), or a whole transaction.
            if client.clusterAsking && route.kind != .asking && (client.transaction == nil || isExec) {
                client.clusterAsking = false
            }
        }
        // Redis checks EXEC's queued commands only when the transaction is there, and a command
        // without key arguments needs no slot.
        if isExec && client.transaction == nil { return nil }
        if case .none = route.keys, !isExec { return nil }
        var queuedWrite = false
        var queuedKeys: [[UInt8]] = []
        if isExec {
            client.transaction?.forEachQueued { queued, args in
                if queued.spec.flags.contains(.write) { queuedWrite = true }
                for i in queued.spec.keyIndices(args) where i > 0 && i < args.count { queuedKeys.append(args.bytes(i)) }
            }
        }
        let routed = RoutedCommand(asking: client.clusterAsking, impliesAsking: route.kind == .restoreAsking,
                                   readOnlyClient: client.clusterReadOnly, isWrite: route.isWrite, queuedWrite: queuedWrite,
                                   isMigrate: route.kind == .migrate, isShardedPubSub: route.kind == .shardedPubSub)
        let settings = clusterRoutingSettings
        // Present or not, as Redis's LOOKUP_NOEXPIRE|NOTOUCH lookup: no expiry, no access clock.
        // Asked only while the slot migrates.
        func keyIsHere(_ key: UnsafeRawBufferPointer) -> Bool { engine.databases[0].table.find(key) != nil }
        let args = request.args
        let decision: Redirection = bus.withState { state in
            switch route.keys {
            case _ where isExec:
                return state.route(keys: queuedKeys, command: routed, settings: settings) { key in key.withUnsafeBytes(keyIsHere) }
            case .plain(let first, let last, let step):
                // GET, SET, MSET ...: the request's own argument bytes by position, nothing built
                // per command.
                let end = min(last < 0 ? args.count + last : last, args.count - 1)
                let count = end >= first ? (end - first) / step + 1 : 0
                return state.route(keyCount: count, key: { args[first + $0 * step] }, command: routed, settings: settings,
                                   keyIsHere: keyIsHere)
            case .movable, .none:
                let indices = request.command.spec.keyIndices(args).filter { $0 > 0 && $0 < args.count }
                return state.route(keyCount: indices.count, key: { args[indices[$0]] }, command: routed,
                                   settings: settings, keyIsHere: keyIsHere)
            }
        }
        if case .serve = decision { return nil }
        return decision.errorMessage(in: bus.state, endpoint: settings.preferredEndpoint)
    }

}
