import CairnCluster
import Foundation
import Logging
import NIOCore
import NIOPosix

// The runtime of Redis 7.0's cluster bus for one node: the listener, the links, the cron and
// what PING, PONG and MEET change in the node table. The split across files:
//   ClusterBus.swift         the object, its settings, start/stop, MEET, FORGET, the node table
//   ClusterBusLinks.swift    connections: accept, connect, read, send, drop
//   ClusterBusCron.swift     clusterCron: reconnects, handshake timeouts, the ping schedule, state
//   ClusterBusReceive.swift  clusterProcessPacket for PING/PONG/MEET, slot claims, epochs
//   ClusterBusGossip.swift   the gossip section (received) and clusterSendPing (sent)
// Wire format: docs/format-cluster-bus.md. Failure detection (PFAIL/FAIL), failover, UPDATE and
// PUBLISH handling are the next issue: those messages are decoded and counted, nothing more.

/// The bus side of one cluster node: its listener on the bus port, a link to every known node,
/// the cron, and what PING/PONG/MEET change in the node table. Everything runs on `loop`
/// (the server's single event loop, which also owns the keyspace): every method must be called
/// on it, and every callback is made on it. (`@unchecked Sendable` so that it can be captured by
/// closures that run on that loop; it is not safe to touch from anywhere else.)
public final class ClusterBus: @unchecked Sendable {
    public struct Settings: Sendable {
        /// cluster-node-timeout.
        public var nodeTimeoutMillis: Int64
        /// cluster-announce-ip (nil: peers learn our address from the connection, as Redis).
        public var announceIP: String?
        /// cluster-announce-port; 0 = the client port.
        public var announcePort: Int
        /// cluster-announce-bus-port; 0 = the bus port.
        public var announceBusPort: Int
        /// cluster-announce-hostname, sent as the hostname ping extension.
        public var announceHostname: String?
        /// cluster-replica-validity-factor (0: a replica fails over however old its data).
        public var replicaValidityFactor: Int64 = 10
        /// repl-ping-replica-period, in ms (part of the data-age limit).
        public var replPingReplicaPeriodMillis: Int64 = 10_000
        /// cluster-replica-no-failover.
        public var replicaNoFailover = false
        /// cluster-allow-replica-migration.
        public var allowReplicaMigration = true
        /// cluster-migration-barrier.
        public var migrationBarrier = 1

        public init(nodeTimeoutMillis: Int64 = 15000, announceIP: String? = nil, announcePort: Int = 0,
                    announceBusPort: Int = 0, announceHostname: String? = nil) {
            self.nodeTimeoutMillis = nodeTimeoutMillis
            self.announceIP = announceIP
            self.announcePort = announcePort
            self.announceBusPort = announceBusPort
            self.announceHostname = announceHostname
        }
    }

    /// How long a FORGET keeps a node from being re-added by gossip (Redis's
    /// CLUSTER_BLACKLIST_TTL).
    public static let forgetBlacklistMillis: Int64 = 60_000
    /// The shortest handshake timeout, whatever the node timeout (Redis uses node_timeout, at
    /// least one second).
    static let handshakeTimeoutMillisMin: Int64 = 1000
    /// A master waits this long after its first state evaluation before turning `ok`
    /// (Redis's CLUSTER_WRITABLE_DELAY).
    static let writableDelayMillis: Int64 = 2000
    /// Bounds of the wait before a master that was in a minority partition turns `ok` again
    /// (node_timeout clamped to these; Redis's CLUSTER_MIN/MAX_REJOIN_DELAY).
    static let rejoinDelayMillisMin: Int64 = 500
    static let rejoinDelayMillisMax: Int64 = 5000
    /// The longest hostname accepted in a hostname ping extension (Redis's NET_HOST_STR_LEN
    /// less the terminator).
    static let hostnameBytesMax = 255

    /// The node table. The server reads it for redirections and CLUSTER commands and changes it
    /// for CLUSTER ADDSLOTS etc. (then calls `stateChanged(save:)`).
    public var state: ClusterState
    public var settings: Settings

    /// Runs `body` on the node table in place. Calling a method on `bus.state` from outside
    /// copies the whole table (every node, retained) first; the per-command slot check uses this.
    @inlinable
    public func withState<Result>(_ body: (inout ClusterState) throws -> Result) rethrows -> Result {
        try body(&state)
    }
    /// Called when the table changed in a way nodes.conf must record (new node, handshake done,
    /// address change, slot ownership, epochs): the server saves nodes.conf then. `fsync` true when
    /// Redis would fsync (epoch/vote changes); saving at all is the server's job.
    public var onChange: ((_ fsync: Bool) -> Void)?
    /// Called when a PING/PONG took slots away from this node (a master claimed them with a
    /// higher configEpoch): the slots, and their new owner. Redis deletes the keys it still holds
    /// in such slots (its "dirty slots"); that is the server's job.
    public var onSlotsLost: ((_ slots: [Int], _ newOwner: NodeName) -> Void)?
    /// `cluster-require-full-coverage`, read by the cron's state evaluation.
    public var requireFullCoverage: Bool = true
    /// A PUBLISH (shard false) or PUBLISHSHARD (shard true) from another node: the server
    /// delivers it to its own subscribers.
    public var onPublish: ((_ channel: [UInt8], _ message: [UInt8], _ shard: Bool) -> Void)?
    /// The replication offset headers carry: a master's master_repl_offset, a replica's processed
    /// offset (read when each message is built, so a paused master announces the exact one).
    public var replicationOffset: () -> Int64 = { 0 }
    /// How long (ms) a replica's data has been without news from its master: since the last
    /// byte from it when the link is up, since the link went down otherwise (the election's
    /// data-age gate).
    public var replicaDataAgeMillis: () -> Int64 = { 0 }
    /// This replica won an election (or took over): the server stops replicating and serves its
    /// data as a master under a new replication id (PSYNC2 keeps the old one as the second).
    public var onPromoted: (() -> Void)?
    /// This node is now a replica of `master` (failed over while away, replica migration, a
    /// master that lost its slots): the server replicates it.
    public var onFollow: ((_ master: ClusterNode) -> Void)?
    /// A manual failover asked this master to stop writes until the given Unix ms (nil: resume).
    public var onPauseWrites: ((_ untilMillis: Int64?) -> Void)?

    /// Failure reports: for each node, the masters that said it is failing, and when.
    var failureReports: [NodeName: [NodeName: Int64]] = [:]
    /// When this node last voted for a replica of each master (Redis's voted_time).
    var votedTimeMs: [NodeName: Int64] = [:]
    /// The replication offset each node last announced.
    var announcedOffsets: [NodeName: Int64] = [:]
    /// The running election, when this replica's master failed (or a manual failover started).
    var election = Election()
    /// The manual failover in progress (CLUSTER FAILOVER), on the replica or on its master.
    var manualFailover = ManualFailover()
    /// The last reason an election could not go on, and when it was logged.
    var cantFailoverReason = ""
    var cantFailoverLoggedMs: Int64 = 0
    /// Masters left without a working replica, since when (replica migration).
    var orphanedSinceMs: [NodeName: Int64] = [:]
    /// Messages sent, per type (CLUSTER INFO's cluster_stats_messages_*_sent). A message is
    /// counted when it is handed to a connected link.
    public internal(set) var messagesSent = BusMessageCounts()
    /// Messages received, per type (cluster_stats_messages_*_received), counted for every
    /// message that decodes, from known nodes or not.
    public internal(set) var messagesReceived = BusMessageCounts()
    /// DEBUG DROP-CLUSTER-PACKET-FILTER: received messages of this type are counted, then
    /// dropped unprocessed (-1: none; Redis's cluster_drop_packet_filter).
    public var dropPacketFilter: Int = -1
    /// The wall clock in Unix ms, for what happens outside `cron` (pong times, link times).
    /// Tests may replace it.
    public var clock: @Sendable () -> Int64 = { Int64(Date().timeIntervalSince1970 * 1000) }

    /// The client port, announced when `settings.announcePort` is 0.
    public let clientPort: Int
    /// The port the bus listens on, announced when `settings.announceBusPort` is 0.
    public let busPort: Int
    public let loop: EventLoop
    let logger: Logger

    /// The link each node has from us (Redis's node->link), by node name.
    var outboundLinks: [NodeName: ClusterLink] = [:]
    /// The link each node has to us (node->inbound_link), once a message named its sender.
    var inboundLinks: [NodeName: ClusterLink] = [:]
    /// Inbound links whose sender is not known yet.
    var unboundLinks: [ObjectIdentifier: ClusterLink] = [:]
    /// When each node entered the table (Redis's node->ctime), for the handshake timeout.
    var nodeCreatedMs: [NodeName: Int64] = [:]
    /// When data last came from each node (node->data_received).
    var nodeDataReceivedMs: [NodeName: Int64] = [:]
    /// Forgotten nodes and when gossip may add them again (Unix ms).
    var forgotten: [NodeName: Int64] = [:]
    var listener: Channel?
    /// Between `start` and `stop`: the cron does nothing outside it.
    var running = false
    /// A save `markChanged` asked for and not yet reported through `onChange` (its fsync wish).
    var pendingChange: Bool?
    var cronIterations: UInt64 = 0
    var firstStateEvaluationMs: Int64 = 0
    var amongMinorityMs: Int64 = 0
    var random = SystemRandomNumberGenerator()

    public init(state: ClusterState, settings: Settings, clientPort: Int, busPort: Int, loop: EventLoop, logger: Logger) {
        self.state = state
        self.settings = settings
        // Masters with replicas in the loaded table may receive migrated replicas
        // (clusterNodeAddSlave while Redis loads nodes.conf).
        for node in state.nodes.values {
            if let master = node.replicaOf { self.state.update(master) { $0.flags.insert(.migrateTo) } }
        }
        self.clientPort = clientPort
        self.busPort = busPort
        self.loop = loop
        self.logger = logger
    }

    /// Listens on `host`:busPort. Throws if it cannot bind.
    public func start(host: String) throws {
        loop.assertInEventLoop()
        let socket = try BusListenerSocket.bound(host: host, port: busPort)
        let bootstrap = ServerBootstrap(group: loop)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelOption(.socketOption(.so_keepalive), value: 1)
            .childChannelInitializer { [self] channel in
                channel.eventLoop.makeCompletedFuture {
                    let link = accepted(channel)
                    try channel.pipeline.syncOperations.addHandler(BusLinkHandler(link: link))
                }
            }
        bootstrap.withBoundSocket(socket).whenComplete { [self] result in
            switch result {
            case .success(let channel): listener = channel
            case .failure(let error): logger.warning("Cluster bus listener on \(host):\(busPort) failed: \(error)")
            }
        }
        running = true
        updateMyselfAnnouncement()
    }

    /// Closes the listener and every link.
    public func stop() {
        running = false
        listener?.close(promise: nil)
        listener = nil
        for link in Array(outboundLinks.values) + Array(inboundLinks.values) + Array(unboundLinks.values) { free(link) }
    }

    /// CLUSTER MEET ip port [busport]: starts a handshake with that address (false if the address is
    /// invalid — the caller replies Redis's error). Redis's clusterStartHandshake rules.
    public func meet(ip: String, port: Int, busPort: Int) -> Bool {
        guard (1...65535).contains(port), (1...65535).contains(busPort),
              let normalized = try? SocketAddress(ipAddress: ip, port: port).ipAddress
        else { return false }
        // Already meeting that address: nothing more to do, and not an error.
        if handshakeInProgress(ip: normalized, port: port, busPort: busPort) { return true }
        var name = NodeName.random(using: &random)
        while state[name] != nil { name = NodeName.random(using: &random) }
        addNode(ClusterNode(name: name, ip: normalized, port: port, busPort: busPort, flags: [.handshake, .meet]))
        return true
    }

    /// CLUSTER FORGET: removes the node, closes its links and keeps gossip from adding it back
    /// for `forgetBlacklistMillis` (Redis's blacklist). Returns false for myself or an unknown node.
    @discardableResult
    public func forget(_ name: NodeName) -> Bool {
        guard name != state.myself, state[name] != nil else { return false }
        let now = clock()
        forgotten = forgotten.filter { $0.value > now }
        forgotten[name] = now + Self.forgetBlacklistMillis
        deleteNode(name)
        return true
    }

    /// The server changed `state` (ADDSLOTS, SETSLOT, epochs...): saves through `onChange` when
    /// `save`, and tells the other nodes at once (a PONG to each, as Redis does after such
    /// commands, so that slot changes spread without waiting for the ping schedule).
    public func stateChanged(save: Bool, fsync: Bool = false) {
        if save { markChanged(fsync: fsync) }
        broadcastPong()
    }

    /// Pings this node should send right now to everyone (after a slot change, as Redis's clusterBroadcastPong).
    public func broadcastPong() {
        for name in state.order where name != state.myself {
            guard let link = outboundLinks[name], let node = state[name], !node.flags.contains(.handshake) else { continue }
            sendPing(on: link, type: .pong)
        }
    }

    /// The links CLUSTER LINKS lists: for each node in listing order, the link to it then the
    /// link from it, when they exist.
    public var links: [ClusterLinkInfo] {
        var rows: [ClusterLinkInfo] = []
        for name in state.order {
            for link in [outboundLinks[name], inboundLinks[name]].compactMap({ $0 }) {
                let events = link.channel == nil ? "" : link.pendingSendBytes > 0 ? "rw" : "r"
                rows.append(ClusterLinkInfo(direction: link.inbound ? "from" : "to", node: name, createTimeMs: link.createdMs,
                                            events: events, sendBufferAllocatedBytes: link.pendingSendBytes,
                                            sendBufferUsedBytes: link.pendingSendBytes))
            }
        }
        return rows
    }

    /// The address the listener is bound to, once it is up.
    public var listeningAddress: SocketAddress? { listener?.localAddress }

    /// Records that nodes.conf must be saved. Like Redis's clusterDoBeforeSleep, the save is
    /// reported once, after the events being handled (one `onChange` for a whole PING however
    /// many nodes it adds), from a task queued on the loop.
    func markChanged(fsync: Bool) {
        if let pending = pendingChange {
            pendingChange = pending || fsync
            return
        }
        pendingChange = fsync
        loop.execute { [self] in
            guard let fsync = pendingChange else { return }
            pendingChange = nil
            onChange?(fsync)
        }
    }

    // MARK: - The node table

    /// Adds a node the bus learned about, with its creation time.
    func addNode(_ node: ClusterNode) {
        guard state.add(node) else { return }
        nodeCreatedMs[node.name] = clock()
    }

    /// Removes a node and its links (Redis's clusterDelNode).
    func deleteNode(_ name: NodeName) {
        if let link = outboundLinks[name] { free(link) }
        if let link = inboundLinks[name] { free(link) }
        state.remove(name)
        nodeCreatedMs[name] = nil
        nodeDataReceivedMs[name] = nil
        // Its reports about others go with it (clusterDelNode), and so do reports about it.
        failureReports[name] = nil
        for other in Array(failureReports.keys) {
            failureReports[other]?[name] = nil
            if failureReports[other]?.isEmpty == true { failureReports[other] = nil }
        }
        votedTimeMs[name] = nil
        announcedOffsets[name] = nil
        orphanedSinceMs[name] = nil
    }

    /// Gives a handshake node its real name, and its links and times with it.
    func renameNode(_ old: NodeName, to new: NodeName) -> Bool {
        guard state.rename(old, to: new) else { return false }
        if let link = outboundLinks.removeValue(forKey: old) {
            link.node = new
            outboundLinks[new] = link
        }
        if let link = inboundLinks.removeValue(forKey: old) {
            link.node = new
            inboundLinks[new] = link
        }
        nodeCreatedMs[new] = nodeCreatedMs.removeValue(forKey: old)
        nodeDataReceivedMs[new] = nodeDataReceivedMs.removeValue(forKey: old)
        return true
    }

    /// Whether a handshake with that address is already under way (clusterHandshakeInProgress).
    func handshakeInProgress(ip: String, port: Int, busPort: Int) -> Bool {
        state.nodes.values.contains {
            $0.flags.contains(.handshake) && $0.ip.lowercased() == ip.lowercased() && $0.port == port && $0.busPort == busPort
        }
    }

    /// Whether gossip must not add `name` now (forgotten less than a minute ago).
    func isForgotten(_ name: NodeName, now: Int64) -> Bool {
        guard let until = forgotten[name] else { return false }
        if until > now { return true }
        forgotten[name] = nil
        return false
    }

    /// Keeps myself's announced ports and hostname in step with the settings (Redis's
    /// clusterUpdateMyselfAnnouncedPorts/Hostname/Flags), its address with cluster-announce-ip
    /// and its `nofailover` flag with cluster-replica-no-failover.
    func updateMyselfAnnouncement() {
        let me = state.myselfNode
        let port = settings.announcePort != 0 ? settings.announcePort : clientPort
        let bus = settings.announceBusPort != 0 ? settings.announceBusPort : busPort
        let hostname = settings.announceHostname ?? ""
        var ip = me.ip
        if let announced = settings.announceIP { ip = String(decoding: announced.utf8.prefix(ClusterNode.ipBytesMax), as: UTF8.self) }
        let noFailover = settings.replicaNoFailover
        guard me.port != port || me.busPort != bus || me.hostname != hostname || me.ip != ip
            || me.flags.contains(.noFailover) != noFailover
        else { return }
        state.update(state.myself) {
            $0.port = port
            $0.busPort = bus
            $0.hostname = hostname
            $0.ip = ip
            // cluster-replica-no-failover shows in our flags (clusterUpdateMyselfFlags).
            if noFailover { $0.flags.insert(.noFailover) } else { $0.flags.remove(.noFailover) }
        }
        markChanged(fsync: false)
    }
}
