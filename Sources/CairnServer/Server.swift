import CairnRESP
import CairnCluster
import CairnGossip
import CairnReplication
import CairnStorage
import Logging
import NIOCore
import NIOPosix
#if canImport(Glibc)
import Glibc
#endif

// The node: one event loop that owns the engine and every client connection (Redis's model, and
// the fastest on small machines: no thread hop per command). Server-level commands (INFO, CONFIG,
// CLIENT, HELLO, ...) live in this target; their handlers are bound to the server when it
// registers them (ServerCommands.swift), so they reach it typed.
//
// Thread confinement: every mutable property is touched only on `loop`. That is what the
// @unchecked Sendable below asserts; closures from other threads hop onto `loop` first.

public final class Server: @unchecked Sendable {
    public let loop: EventLoop
    let group: MultiThreadedEventLoopGroup
    public let engine: Engine
    public var settings: ServerSettings {
        // The persistence component follows its directives as soon as they change.
        didSet {
            if settings.persistence != oldValue.persistence { persistence.settings = settings.persistence }
            tlsSettingsChanged(from: oldValue)  // tls-* (TLSServer.swift)
        }
    }
    public var logger: Logger
    var respLimits: RESPLimits
    private var listeners: [Channel] = []
    private(set) var connections: [Int64: ConnectionHandler] = [:]
    private var lastClientID: Int64 = 0
    private var cron: RepeatedTask?
    private(set) var isShutDown = false
    public let startedAtMillis = Clock.unixMillis()
    let runID: String
    /// The master side of replication: ids, backlog, replica links (ServerReplication.swift).
    let replication: ReplicationMaster
    /// REPLCONF options a connection sent before its SYNC/PSYNC.
    var replicaHandshakes: [Int64: ReplicaHandshake] = [:]
    /// When the oldest replica waiting for a full sync started waiting (repl-diskless-sync-delay).
    var fullSyncWaitSinceMillis: Int64? = nil
    var lastReplicaPingMillis: Int64 = 0
    var lastKeepAliveMillis: Int64 = 0
    /// A FAILOVER in progress on this master (ServerFailover.swift).
    var failover: FailoverState? = nil
    /// Since when a master with a backlog has had no replica (repl-backlog-ttl).
    var noReplicasSinceMillis: Int64? = nil
    /// This node's link to its master, while it is a replica (MasterLink.swift).
    var masterLink: MasterLink? {
        didSet { ProcessControl.isReplica.set(masterLink != nil) }  // the log's role letter
    }
    /// The database the master's stream is in when a link starts streaming after a PSYNC (from
    /// the RDB a replica restarted with; afterwards the link's client keeps it).
    var masterLinkStreamDB = 0
    /// The READONLY admission stage, armed on a read-only replica.
    var readOnlyReplicaStage: HookHandle?
    /// The NOREPLICAS stage, armed with min-replicas-to-write.
    var minReplicasStage: HookHandle?
    /// Replica links with stream bytes to write at the end of this event-loop turn.
    var streamFlushQueue: [ConnectionHandler] = []
    var streamFlushScheduled = false
    /// Cluster mode: the bus and its node table (ServerCluster.swift), and its 100 ms cron.
    var clusterBus: ClusterBus?
    var clusterCron: RepeatedTask?
    /// MIGRATE's connections, by "host:port" (MigrateCommand.swift).
    var migrateConnections: [String: MigrateConnection] = [:]
    /// The slot check's view of the commands and settings, kept ready (ServerCluster.swift).
    var clusterCommandKinds: [(command: ObjectIdentifier, kind: ClusterCommandKind)] = []
    /// What the slot check needs of each command, by `RegisteredCommand.id` (filled on first use).
    var clusterRoutes: [ClusterRoute?] = []
    var clusterRoutingSettings = RedirectionSettings()
    /// TLS: the contexts and the tls-port listeners (TLSServer.swift).
    let tls = TLSState()

    /// Clients in WAIT: the offset their replicas must acknowledge, and how many.
    var ackWaiters: [(client: ClientSession, offset: Int64, replicas: Int)] = []
    /// A shutdown waiting for lagging replicas (ServerShutdown.swift).
    var shutdownInProgress: ShutdownInProgress? = nil
    /// Replication id of this node's history (INFO replication `master_replid`).
    var replicationID: String { replication.ids.replid }
    let shutdownPromise: EventLoopPromise<Void>
    var totalConnectionsReceived: Int64 = 0
    /// Clients that received output from another client's command (pub/sub): flushed once the
    /// current read has been processed, so one PUBLISH to many subscribers costs one write each.
    var pendingOutput: Set<Int64> = []
    /// Bytes read from and written to clients (INFO total_net_input_bytes / _output_bytes).
    var netInputBytes: Int64 = 0
    var netOutputBytes: Int64 = 0
    /// The other network counters of INFO stats (NetworkStats.swift).
    var net = NetworkStats()
    /// `maxmemory-clients` in bytes (0: off) and the clients closed for it (ClientEviction.swift).
    var clientEvictionLimit = 0
    var evictedClients: Int64 = 0
    var rejectedConnections: Int64 = 0
    /// The config file the server was started with, as an absolute path (CONFIG REWRITE, INFO).
    var configFile: String?
    /// Heap bytes in use once the server was set up (INFO `used_memory_startup`).
    var startupMemory: Int = 0
    /// Commands-per-second samples (INFO `instantaneous_ops_per_sec`), as Redis's
    /// trackInstantaneousMetric: one sample every 100 ms, averaged over the last 16.
    var opsSamples = OpsSampler()
    /// SLOWLOG, LATENCY, MONITOR, maxmemory (AdminHooks.swift).
    let admin = AdminState()
    // [security] ACL users, log and permission filter; requirepass last applied to `default`;
    // a `user` line that failed to load (start() refuses to run, as Redis exits).
    let acl = ACLState()
    /// RDB saves, save points, loading, the AOF and the one forked child (CairnStorage's
    /// persistence component, wired in ServerPersistence.swift).
    public let persistence: Persistence
    /// Connections whose replies wait for this turn's AOF write (and fsync under `always`).
    var heldReplies: [ConnectionHandler] = []
    private var appliedRequirepass: String?? = .none
    /// [security] Why the ACL configuration stops the server from starting (logged as Redis exits).
    private var aclStartupFailure: String? = nil
    static let criticalACLError = "Critical error while loading ACLs. Exiting."

    public init(settings: ServerSettings, logger: Logger, configFile: String? = nil) {
        self.settings = settings
        self.logger = logger
        self.configFile = configFile.map(Self.absolutePath)
        group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        loop = group.next()
        var engineSettings = EngineSettings()
        engineSettings.databases = settings.databases
        engineSettings.clusterEnabled = settings.cluster.enabled
        engine = Engine(settings: engineSettings, logger: logger)
        persistence = Persistence(engine: engine, settings: settings.persistence, logger: logger)
        respLimits = .redisDefault
        runID = ReplicationIDs.random()  // 40 random hex digits, as Redis's run_id
        replication = ReplicationMaster(backlogSize: settings.replBacklogSize)
        shutdownPromise = loop.makePromise()
        engine.onClientUnblocked = { [unowned(unsafe) self] client in connection(id: client.id)?.resume() }
        engine.onPostponedResume = { [unowned(unsafe) self] clients in
            let ids = clients.map(\.id)
            loop.execute { for id in ids { self.connection(id: id)?.resume() } }
        }
        engine.onClientOutput = { [unowned(unsafe) self] client in pendingOutput.insert(client.id) }
        engine.clientLookup = { [unowned(unsafe) self] id in connection(id: id)?.session }
        engine.commands.register(ServerCommands.specs(self))
        admin.install(on: self)
        engine.commands.register(ACLCommand.spec(self))  // [security]
        applySettings()
        loadConfiguredUsers()  // [security]
        loadACLFileAtStart()  // [security]
        acl.install(on: self)  // [security]
        installPersistence()
        installReplication()
        startupMemory = ProcessMetrics.heapBytesInUse() ?? 0
    }

    /// `path` made absolute (CONFIG REWRITE must find the file later). ServerMain has already
    /// entered `dir` by now, so the directory the process started in is recovered from $PWD when
    /// the file is there, else the current directory is used.
    static func absolutePath(_ path: String) -> String {
        if path.hasPrefix("/") || path == "-" { return path }
        func join(_ base: String) -> String { base.hasSuffix("/") ? base + path : base + "/" + path }
        let candidates = [ProcessMetrics.startDirectory(), ConfigValue.workingDirectory()].compactMap { $0 }.map(join)
        return candidates.first { access($0, F_OK) == 0 } ?? candidates.first ?? path
    }

    /// Pushes settings into the engine and decoders after start-up or CONFIG SET.
    func applySettings() {
        engine.settings.hz = settings.hz
        engine.settings.activeExpireEffort = settings.activeExpireEffort
        engine.settings.hashMaxListpackEntries = settings.hashMaxListpackEntries
        engine.settings.hashMaxListpackValue = settings.hashMaxListpackValue
        engine.settings.setMaxIntsetEntries = settings.setMaxIntsetEntries
        engine.settings.zsetMaxListpackEntries = settings.zsetMaxListpackEntries
        engine.settings.zsetMaxListpackValue = settings.zsetMaxListpackValue
        engine.settings.activeExpireEnabled = settings.activeExpireEnabled
        engine.settings.protoMaxBulkLength = settings.protoMaxBulkLength
        engine.tracking.maxKeys = Int(settings.parity.value("tracking-table-max-keys")) ?? 1_000_000
        clientEvictionLimit = Self.clientEvictionLimit(settings.parity.value("maxmemory-clients"), maxmemory: settings.maxmemory)
        engine.settings.lazyFreeUserDel = settings.parity.value("lazyfree-lazy-user-del") == "yes"
        engine.settings.lazyFreeUserFlush = settings.parity.value("lazyfree-lazy-user-flush") == "yes"
        engine.settings.lazyFreeServerDel = settings.parity.value("lazyfree-lazy-server-del") == "yes"
        engine.settings.lazyFreeExpire = settings.parity.value("lazyfree-lazy-expire") == "yes"
        engine.settings.lazyFreeEviction = settings.parity.value("lazyfree-lazy-eviction") == "yes"
        QuickList.setFill(Int(settings.parity.value("list-max-listpack-size")) ?? -2)
        engine.settings.keyspaceEvents = KeyspaceEventClasses(configText: settings.parity.value("notify-keyspace-events")) ?? []
        respLimits.bulkLengthBytesMax = settings.protoMaxBulkLength
        respLimits.queryBufferBytesMax = settings.clientQueryBufferLimit
        // [security] requirepass sets the default user's password only when it changes (Redis's
        // ACLUpdateDefaultUserPassword), so ACL SETUSER default survives other CONFIG SETs.
        if appliedRequirepass != .some(settings.requirepass) {
            acl.setDefaultPassword(settings.requirepass)
            appliedRequirepass = .some(settings.requirepass)
        }
        acl.logMaxLength = settings.acllogMaxLength
        logger.logLevel = Self.logLevel(settings.loglevel)
        admin.apply(settings, engine: engine)
        replication.backlogSize = settings.replBacklogSize
        if let readOnlyReplicaStage {
            engine.admission.arm(readOnlyReplicaStage,
                                 engine.role == .replica && (settings.replicaReadOnly || !settings.replicaServeStaleData))
        }
        if let minReplicasStage {
            engine.admission.arm(minReplicasStage, engine.role == .master && settings.minReplicasToWrite > 0 && settings.minReplicasMaxLagSeconds > 0)
        }
        persistence.logger = logger
        if let clusterBus {
            // CONFIG SET of cluster-node-timeout, the announce-* settings, full coverage.
            clusterBus.settings = clusterBusSettings
            clusterBus.requireFullCoverage = settings.cluster.requireFullCoverage
            clusterRoutingSettings = clusterRedirectionSettings
        }
        if cron != nil { scheduleCron() }
    }

    static func logLevel(_ name: String) -> Logger.Level {
        switch name {
        case "debug": return .debug
        case "verbose": return .info
        case "warning": return .warning
        default: return .notice
        }
    }

    /// [security] New connections must AUTH unless the default user is enabled and nopass.
    var authRequired: Bool { !acl.defaultUserNeedsNoPassword }

    /// [security] `user` lines of the config file (Redis's ACLLoadConfiguredUsers): `default` is
    /// reset first, other users are created; a rule that cannot apply stops the server at start.
    private func loadConfiguredUsers() {
        for line in settings.aclUsers {
            guard let name = line.first else { continue }
            // The config file check already refused unmatched parentheses.
            guard case .success(let rules) = ACLState.mergeSelectorArguments(line.dropFirst().map { Array($0.utf8) }) else { continue }
            let user = name == "default" ? acl.defaultUser.copy() : ACLUser(name: name)
            do {
                if name == "default" { try user.apply(Array("reset".utf8), engine.commands) }
                for rule in rules {
                    do {
                        try user.apply(rule, engine.commands)
                    } catch {
                        let text = "Error loading ACL rule '\(String(decoding: rule, as: UTF8.self))' for the user named '\(name)': \(error.message)"
                        logger.warning("\(text)")
                        aclStartupFailure = Self.criticalACLError
                        return
                    }
                }
            } catch {
                logger.warning("\(error.message)")
                aclStartupFailure = Self.criticalACLError
                return
            }
            acl.store(user)
        }
    }

    /// [security] Redis's ACLLoadUsersAtStartup: users come from the config file or from
    /// `aclfile`, never both; a file that does not load stops the server.
    private func loadACLFileAtStart() {
        guard aclStartupFailure == nil, !settings.aclfile.isEmpty else { return }
        if !settings.aclUsers.isEmpty {
            let text = "Configuring Redis with users defined in redis.conf and at the same setting an ACL file path is invalid. This setup is very likely to lead to configuration errors and security holes, please define either an ACL file or declare users directly in your redis.conf, but not both."
            logger.warning("\(text)")
            aclStartupFailure = text
            return
        }
        if let errors = loadACLFile() {
            let text = "Aborting Redis startup because of ACL errors: \(errors)"
            logger.warning("\(text)")
            aclStartupFailure = text
        }
    }

    // MARK: lifecycle

    /// Binds every configured address and starts the cron. Fails if none could be bound.
    public func start() throws {
        do {
            if let aclStartupFailure { throw ConfigError(aclStartupFailure) }  // [security]
            try startCluster()
            try bind()
            if let master = settings.replicaof {
                loop.execute { self.becomeReplica(of: master.host, port: master.port) }
            }
        } catch {
            for l in listeners { l.close(promise: nil) }
            listeners = []
            discard()
            throw error
        }
    }

    /// Releases the loop and completes the shutdown promise of a server that will not run
    /// (start-up failed).
    public func discard() {
        shutdownPromise.succeed(())
        try? group.syncShutdownGracefully()
    }

    /// A TCP listener for clients (the plain and the TLS ports): Redis's socket options, and
    /// `pipeline` to set up each accepted connection.
    func clientListenerBootstrap(_ pipeline: @escaping @Sendable (Channel) throws -> Void) -> ServerBootstrap {
        ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: Int32(clamping: settings.tcpBacklog))
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelOption(.socketOption(.so_keepalive), value: settings.tcpKeepaliveSeconds > 0 ? 1 : 0)
            .childChannelOption(.maxMessagesPerRead, value: 16)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture { try pipeline(channel) }
            }
    }

    private func bind() throws {
        let bootstrap = clientListenerBootstrap { [self] channel in
            try channel.pipeline.syncOperations.addHandler(ConnectionHandler(server: self))
        }
        // Port 0 in cairn-server: no TCP listener at all (Redis's rule; a unix socket may be the
        // only one). An embedded server (tests) gets a free port instead.
        for entry in settings.port == 0 && settings.process.portZeroMeansNoTCP ? [] : settings.bind {
            let optional = entry.hasPrefix("-")
            let host = optional ? String(entry.dropFirst()) : entry
            do {
                let channel = try bootstrap.bind(host: host, port: settings.port).wait()
                listeners.append(channel)
                logger.notice("Listening on \(host):\(settings.port)")
            } catch {
                if optional { continue }
                throw ConfigError("Could not create server TCP listening socket \(host):\(settings.port): \(error)")
            }
        }
        listeners += try bindTLSListeners()  // tls-port, side by side (TLSServer.swift)
        if let unix = try bindUnixSocket(ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: Int32(clamping: settings.tcpBacklog))
            .childChannelOption(.maxMessagesPerRead, value: 16)
            .childChannelInitializer { [self] channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(ConnectionHandler(server: self))
                }
            }) { listeners.append(unix) }
        guard !listeners.isEmpty else {
            throw ConfigError(settings.port == 0 ? "Configured to not listen anywhere, exiting."
                              : "Failed listening on port \(settings.port), aborting.")
        }
        try loop.submit { self.scheduleCron() }.wait()
        logger.notice("Ready to accept connections tcp")
    }

    private func scheduleCron() {
        cron?.cancel()
        let period = TimeAmount.microseconds(Int64(1_000_000 / max(1, settings.hz)))
        cron = loop.scheduleRepeatedTask(initialDelay: period, delay: period) { [self] _ in
            serverCron()
        }
    }

    /// Ends a client pause on time rather than at the next cron tick.
    func schedulePauseCheck() {
        guard engine.clientPauseType() != .off else { return }
        // Capped (the cron checks too): a failover's pause has no end, and TimeAmount would overflow.
        let delay = min(max(0, engine.clientPauseEndMillis - Clock.unixMillis()) + 1, Self.pauseCheckDelayMillisMax)
        loop.scheduleTask(in: .milliseconds(delay)) { [self] in _ = engine.clientPauseType() }
    }

    static let pauseCheckDelayMillisMax: Int64 = 3_600_000

    /// Periodic work (Redis's serverCron): active expiry, idle client timeouts, ops/sec samples.
    private func serverCron() {
        guard !DebugState.cronPaused else { return }  // DEBUG PAUSE-CRON 1 (Redis's pause_cron)
        opsSamples.sample(commands: engine.stats.commandsProcessed, nowMillis: Clock.unixMillis())
        net.sample(input: netInputBytes, output: netOutputBytes, nowMillis: Clock.unixMillis())
        evictClientsIfNeeded()
        persistence.cron()
        _ = engine.clientPauseType()  // a pause that ended lets its postponed clients go
        engine.activeExpireCycle()
        engine.expireBlockedClients()
        replicationCron()
        shutdownCron()
        closeIdleMigrateConnections(nowMillis: Clock.unixMillis())
        flushPendingOutput()
        closeIdleClients()
    }

    /// `timeout` (Redis's clientsCronHandleTimeout): a client idle for longer is closed, unless
    /// it waits in a blocking command (that wait has its own timeout), is subscribed to pub/sub
    /// or is a monitor (they are expected to sit silent).
    private func closeIdleClients() {
        guard settings.timeoutSeconds > 0 else { return }
        let limit = Int64(settings.timeoutSeconds) * 1000
        let now = Clock.unixMillis()
        for handler in connections.values {
            guard let s = handler.session, s.blocked == nil, !s.postponed, s.subscriptions.isEmpty,
                  !admin.monitors.contains(where: { $0 === s }),
                  now - s.lastInteractionMillis > limit else { continue }
            logger.info("Closing idle client")
            handler.kill()
        }
    }

    /// Blocks the calling thread until the server has shut down.
    public func waitUntilShutdown() {
        try? shutdownPromise.futureResult.wait()
        try? group.syncShutdownGracefully()
    }

    /// Stops accepting, closes every client and completes the shutdown. Runs on the loop. Saving
    /// first, when wanted, is `prepareForShutdown`'s job; a background save still running is
    /// stopped here, as a child must not outlive its server.
    func shutdown(reason: String? = nil) {
        loop.preconditionInEventLoop()
        // A second SIGTERM (or SHUTDOWN) queued behind the first finds nothing left to do.
        guard !isShutDown else { return }
        isShutDown = true
        if let reason { logger.warning("\(reason)") }
        persistence.shutdown()
        cron?.cancel()
        clusterCron?.cancel()
        if let clusterBus {
            // Redis saves nodes.conf on the way out too.
            saveClusterConfig(fsync: true)
            clusterBus.stop()
        }
        for l in listeners { l.close(promise: nil) }
        listeners = []
        closeTLSListeners()
        removeUnixSocket()
        for handler in connections.values { handler.kill() }
        logger.notice("Cairn is now ready to exit, bye bye...")
        shutdownPromise.succeed(())
    }

    // MARK: clients

    func nextClientID() -> Int64 {
        lastClientID += 1
        return lastClientID
    }

    /// Why a new connection must be refused, as the error text Redis sends, or nil.
    func admissionError(for channel: Channel) -> String? {
        totalConnectionsReceived += 1
        if connections.count >= settings.maxclients {
            rejectedConnections += 1
            return "ERR max number of clients reached"
        }
        // [security] Protected mode.
        if ProtectedMode.refuses(protectedMode: settings.protectedMode, defaultUserIsNoPass: acl.defaultUser.nopass,
                                 remote: channel.remoteAddress) {
            rejectedConnections += 1
            return ProtectedMode.deniedMessage
        }
        return nil
    }

    func register(_ handler: ConnectionHandler) {
        guard let id = handler.session?.id else { return }
        connections[id] = handler
    }

    func unregister(_ id: Int64) {
        connections[id] = nil
        adminClientClosed(id)
        replicaClosed(id)
    }

    /// Writes the output other clients' commands left for these connections.
    func flushPendingOutput() {
        guard !pendingOutput.isEmpty else { return }
        let ids = pendingOutput
        pendingOutput = []
        for id in ids { connections[id]?.flushNow() }
    }

    var clients: [ConnectionHandler] { connections.values.sorted { ($0.session?.id ?? 0) < ($1.session?.id ?? 0) } }

    func connection(id: Int64) -> ConnectionHandler? { connections[id] }

    var connectedClients: Int { connections.count }

    /// The TCP port actually bound (differs from `settings.port` when that is 0 in an embedded
    /// server; nil without a TCP listener).
    var boundPort: Int? { listeners.lazy.compactMap { $0.localAddress?.port }.first }
    /// Started: some listener (TCP or unix socket) is open.
    var isListening: Bool { !listeners.isEmpty }

    /// CONFIG RESETSTAT: zeroes the counters INFO reports (Redis's resetServerStats plus the
    /// command and error tables).
    func resetStats() {
        engine.stats = EngineStats()
        for command in engine.commands.allIncludingSubcommands { command.stats = CommandStats() }
        totalConnectionsReceived = 0
        rejectedConnections = 0
        netInputBytes = 0
        netOutputBytes = 0
        opsSamples = OpsSampler()
        net = NetworkStats()
        evictedClients = 0
        engine.lazyFreer.resetStats()
        admin.resetStats()
    }

    func logProtocolError(_ session: ClientSession, _ message: ProtocolError) {
        logger.info("Protocol error (\(message)) from client: id=\(session.id) addr=\(session.address)")
    }
}
