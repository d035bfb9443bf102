import CairnStorage

// The master side of replication (Redis's replicationFeedSlaves, syncCommand, the replica states
// of replication.c), as logic over links the server supplies: a link is a replica connection the
// server can send bytes to. Everything here runs on the thread that owns the engine.
//
// One stream: the engine's propagated commands are encoded once (CommandStreamEncoder, SELECT
// when the database changes) and the same bytes go to the backlog and to every online replica.
// A replica in a full sync gets the bytes produced after the RDB's fork in its pending buffer,
// sent once it has loaded the RDB.

/// A replica connection, as the master sees it.
public final class ReplicaLink {
    public enum State: String, Sendable {
        /// Asked for a full sync; waits for the next RDB child (Redis's wait_bgsave).
        case waitingForSync = "wait_bgsave"
        /// The RDB is being made and sent (send_bulk).
        case transferring = "send_bulk"
        /// Diskless: the RDB was sent; waits for the replica's first REPLCONF ACK, which says it has
        /// loaded it (Redis's repl_start_cmd_stream_on_ack).
        case waitingForAck = "wait_ack"
        /// Receives the command stream.
        case online = "online"
    }

    /// The connection's client id.
    public let id: Int64
    public internal(set) var state: State
    /// `REPLCONF listening-port` / `ip-address`, or the connection's address.
    public var listeningPort = 0
    public var announcedIP: String?
    public var address: String
    /// REPLCONF capa.
    public var capabilities: Set<String> = []
    /// Asked with SYNC (no +FULLRESYNC line, a disk-based transfer).
    public var legacySync = false
    /// The last REPLCONF ACK: offset and when (unix ms).
    public internal(set) var ackOffset: Int64 = 0
    public internal(set) var ackMillis: Int64 = 0
    /// Stream bytes made while the RDB was on its way.
    var pending: [UInt8] = []
    /// An ACK came while the transfer was still counted as running.
    var ackedDuringTransfer = false
    /// Sends bytes on the connection (the server's writer, which copies them).
    let send: (UnsafeRawBufferPointer) -> Void

    public init(id: Int64, address: String, state: State, send: @escaping (UnsafeRawBufferPointer) -> Void) {
        self.id = id
        self.address = address
        self.state = state
        self.send = send
    }

    /// Stream bytes queued for this replica (INFO, output-buffer accounting).
    public var pendingBytes: Int { pending.count }
}

public final class ReplicationMaster {
    public var ids = ReplicationIDs()
    /// Created with the first replica (Redis's createReplicationBacklog) and kept afterwards.
    public private(set) var backlog: ReplicationBacklog?
    /// `repl-backlog-size`.
    public var backlogSize: Int {
        didSet { backlog?.resize(backlogSize) }
    }
    /// master_repl_offset when there is no backlog yet.
    private var baseOffset: Int64 = 0
    private var encoder = CommandStreamEncoder()
    private var scratch: [UInt8] = []
    public private(set) var replicas: [ReplicaLink] = []
    /// PSYNCs answered with +CONTINUE / +FULLRESYNC, and refused partial ones (INFO stats).
    public private(set) var partialSyncs = 0
    public private(set) var fullSyncs = 0
    public private(set) var partialSyncErrors = 0

    public init(backlogSize: Int) {
        self.backlogSize = backlogSize
    }

    /// master_repl_offset.
    public var offset: Int64 { backlog?.offset ?? baseOffset }

    /// Whether the stream is being recorded (a replica has attached once).
    public var isFeeding: Bool { backlog != nil }

    /// Creates the backlog for the first replica. A master that had none starts a new history, as
    /// Redis does: nobody can continue the old one.
    public func createBacklogIfNeeded() {
        guard backlog == nil else { return }
        ids.renew()
        ids.clearSecond()
        ensureBacklog()
    }

    /// An empty backlog whose stream continues after `offset`, which becomes master_repl_offset.
    private func startBacklog(at offset: Int64) {
        baseOffset = offset
        backlog = ReplicationBacklog(capacity: backlogSize, offset: offset)
    }

    /// The backlog, created at the current offset if there is none yet.
    private func ensureBacklog() {
        if backlog == nil { backlog = ReplicationBacklog(capacity: backlogSize, offset: baseOffset) }
    }

    /// This node became the replica of a master whose stream continues after `offset` under
    /// `replid` (a full sync loaded its RDB): that is now this node's history too, so that its
    /// own replicas, and the node itself once promoted, continue from it (PSYNC2). The backlog
    /// starts empty at that offset.
    public func adoptMaster(replid: String, offset: Int64) {
        ids.replid = replid
        ids.clearSecond()
        startBacklog(at: offset)
        encoder.forgetSelectedDB()
    }

    /// A master restarted from an RDB that recorded `replid` at `offset`: its replicas may
    /// continue under that id (as the second one) from exactly there (Redis's loadDataFromDisk).
    public func restoreAsSecondary(replid: String, offset: Int64) {
        ids.replid2 = replid
        ids.secondOffset = offset + 1
        startBacklog(at: offset)
    }

    /// The database the stream is in (RDB aux `repl-stream-db`), nil before any SELECT.
    public var streamDB: Int? { encoder.selectedDB }

    /// A master answered +CONTINUE with another id (it was promoted since): the old id stays
    /// valid up to here, as on the master (Redis's replid2 rule on the replica side).
    public func masterChangedID(to replid: String) {
        guard replid != ids.replid else { return }
        ids.shift(at: offset)
        ids.replid = replid
    }

    /// Bytes of this node's master's stream, applied: they extend this node's history and go to
    /// its own replicas unchanged (chained replication).
    public func appendFromMaster(_ bytes: [UInt8]) {
        ensureBacklog()
        emit(bytes)
    }

    /// REPLICAOF NO ONE: the history so far becomes the second id, a new one starts here.
    public func promoted() {
        ensureBacklog()
        ids.shift(at: offset)
        encoder.forgetSelectedDB()
    }

    /// Drops every replica link (a node that becomes a replica makes its replicas sync again).
    public func detachAll() -> [ReplicaLink] {
        let all = replicas
        replicas = []
        return all
    }

    /// repl-backlog-ttl ran out with no replica (Redis's replicationCron): the backlog goes, and
    /// with it the history (nobody can continue it any more); the offset stays.
    public func freeBacklog() {
        guard backlog != nil else { return }
        baseOffset = offset
        backlog = nil
        ids.renew()
        ids.clearSecond()
    }

    /// Decides a PSYNC and counts it. `offset` nil: unparsable.
    public func decide(requestedID: String, requestedOffset: Int64?) -> PSYNCDecision {
        let decision = PSYNCDecision.decide(requestedID: requestedID, requestedOffset: requestedOffset, ids: ids, backlog: backlog)
        switch decision {
        case .partial: partialSyncs += 1
        case .full: if requestedID != "?" { partialSyncErrors += 1 }
        }
        return decision
    }

    /// A replica that continues from `from` (+CONTINUE): the bytes it missed, and it is online.
    public func attachPartial(_ link: ReplicaLink, from: Int64) -> [UInt8] {
        flushTurn()
        link.state = .online
        link.ackOffset = from - 1
        replicas.append(link)
        return backlog?.bytes(from: from) ?? []
    }

    /// A replica that needs the whole dataset: it waits for the next RDB child.
    public func attachFull(_ link: ReplicaLink) {
        link.state = .waitingForSync
        replicas.append(link)
    }

    public func detach(id: Int64) {
        replicas.removeAll { $0.id == id }
    }

    public func replica(id: Int64) -> ReplicaLink? { replicas.first { $0.id == id } }

    public var waitingForSync: [ReplicaLink] { replicas.filter { $0.state == .waitingForSync } }

    /// The RDB child for `links` was forked now: they get `+FULLRESYNC <replid> <offset>` with this
    /// offset, and the stream from here on waits in their pending buffers. The next command
    /// selects its database again (the replicas start with none selected).
    public func syncStarted(_ links: [ReplicaLink]) -> Int64 {
        encoder.forgetSelectedDB()
        for link in links {
            link.state = .transferring
            link.ackedDuringTransfer = false
            link.pending.removeAll()
            link.ackOffset = offset
        }
        fullSyncs += links.count
        return offset
    }

    /// The RDB reached the replicas of a diskless sync: they go online at their first ACK, or
    /// now if it came already (a replica ACKs once it has loaded the RDB, which may be before
    /// this node has reaped the child that sent it).
    public func transferSent(_ links: [ReplicaLink], nowMillis: Int64) {
        for link in links where link.state == .transferring {
            link.state = .waitingForAck
            if link.ackedDuringTransfer {
                putOnline(link)
            } else {
                link.ackMillis = nowMillis  // repl-timeout counts from here
            }
        }
    }

    /// Puts a replica online: what was made meanwhile goes out first.
    public func putOnline(_ link: ReplicaLink) {
        flushTurn()
        link.state = .online
        if !link.pending.isEmpty {
            link.pending.withUnsafeBytes { link.send($0) }
            link.pending = []
        }
    }

    /// REPLCONF ACK <offset>.
    public func acknowledged(_ link: ReplicaLink, offset ack: Int64, nowMillis: Int64) {
        if ack > link.ackOffset { link.ackOffset = ack }
        link.ackMillis = nowMillis
        switch link.state {
        case .waitingForAck: putOnline(link)
        case .transferring: link.ackedDuringTransfer = true
        case .online, .waitingForSync: break
        }
    }

    /// Appends propagated commands to the stream (the engine's `.replicas` sink).
    public func feed(_ commands: PropagatedCommands) {
        guard backlog != nil else { return }
        if commands.count == 1 && commands.db(0) == encoder.selectedDB {
            emit(commands.resp(0))  // the common case: its bytes as they are, no SELECT, no copy
        } else {
            scratch.removeAll(keepingCapacity: true)
            encoder.append(commands, nowMillis: 0, to: &scratch)
            emit(scratch)
        }
    }

    /// As above, for commands kept in arrays of their own (tests).
    public func feed(_ commands: [PropagatedCommand]) {
        PropagatedCommands.with(commands) { feed($0) }
    }

    /// The periodic PING (repl-ping-replica-period), which keeps idle links alive; like Redis it
    /// selects no database.
    public func feedPing() {
        guard backlog != nil, !replicas.isEmpty else { return }
        emit(Self.ping)
    }

    /// Online replicas that acknowledged `offset` (WAIT's count; Redis's replicationCountAcksByOffset).
    public func acknowledgedCount(atLeast offset: Int64) -> Int {
        replicas.reduce(0) { $0 + ($1.state == .online && $1.ackOffset >= offset ? 1 : 0) }
    }

    /// Online replicas whose last ACK is at most `maxLagSeconds` old (min-replicas-to-write).
    public func goodReplicas(nowMillis: Int64, maxLagSeconds: Int) -> Int {
        replicas.reduce(0) { $0 + ($1.state == .online && (nowMillis - $1.ackMillis) / 1000 <= Int64(maxLagSeconds) ? 1 : 0) }
    }

    /// REPLCONF GETACK * in the stream: every replica answers with its offset (WAIT asks this).
    public func feedGetAck() {
        guard backlog != nil, !replicas.isEmpty else { return }
        emit(Self.getAck)
    }

    static let getAck = Array("*3\r\n$8\r\nREPLCONF\r\n$6\r\nGETACK\r\n$1\r\n*\r\n".utf8)

    private func emit(_ bytes: [UInt8]) { bytes.withUnsafeBytes { emit($0) } }

    private func emit(_ bytes: UnsafeRawBufferPointer) {
        backlog?.append(bytes)
        var online = false
        var buffered = false
        for link in replicas {
            switch link.state {
            case .online: online = true
            case .transferring, .waitingForAck:
                link.pending.append(contentsOf: bytes)
                buffered = true
            case .waitingForSync: break  // its RDB will hold all of this
            }
        }
        if (online || buffered) && !turnNoted {
            turnNoted = true
            turnStarted?()
        }
        if online { turn.append(contentsOf: bytes) }
    }

    /// Sends the online replicas what the stream gathered since the last call. The server calls
    /// it once per event-loop turn (`turnStarted` asks for that), so that a pipelined burst of
    /// writes reaches each replica as one write of one buffer, not one per command (Redis 7
    /// likewise shares one replication buffer between its replicas and writes it from
    /// beforeSleep). Called too before any replica changes state, so that each gets exactly the
    /// bytes after the offset it is at.
    public func flushTurn() {
        turnNoted = false
        guard !turn.isEmpty else { return }
        turn.withUnsafeBytes { bytes in
            for link in replicas where link.state == .online { link.send(bytes) }
        }
        turn.removeAll(keepingCapacity: turn.capacity <= Self.turnCapacityKept)
    }

    /// Stream bytes gathered for the online replicas in this turn.
    private var turn: [UInt8] = []
    /// Called when a turn's first stream bytes for a replica are gathered (for the online ones,
    /// or in the pending buffer of one in a full sync, whose size the server then checks against
    /// the replica output buffer limit).
    public var turnStarted: (() -> Void)?
    private var turnNoted = false
    static let turnCapacityKept = 1 << 20

    static let ping = Array("*1\r\n$4\r\nPING\r\n".utf8)
}
