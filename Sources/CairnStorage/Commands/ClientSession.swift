import CairnRESP
import NIOCore

// The per-connection state commands can see and change. The server owns the connection; this
// object is what the engine knows of it.

/// Where a client's commands come from (docs/architecture.md, "Who may do what"). The origin
/// decides which admission checks run, whether the client may block, whether its replies are
/// sent and what its commands propagate.
public enum ClientOrigin: Sendable, Equatable {
    /// A connection: every check runs, blocking commands may wait, replies are sent, and the
    /// effects of its writes are propagated to the AOF and the replicas.
    case user
    /// A replica's link to its master: the master already checked and decided, so nothing is
    /// refused (Redis's mustObeyClient), blocking commands answer at once, replies are dropped;
    /// the writes go to this node's AOF, while sub-replicas get the master's stream unchanged.
    case master
    /// AOF loading: as `master`, but nothing is propagated and no statistics or observers
    /// (SLOWLOG, MONITOR) see the commands (Redis runs them without call()).
    case replay

    /// Runs commands without admission checks (Redis's mustObeyClient).
    public var obeysWithoutChecks: Bool { self != .user }
    /// May wait in a blocking command (Redis's CLIENT_DENY_BLOCKING is set for the others).
    public var mayBlock: Bool { self == .user }
}

public final class ClientSession {
    public let id: Int64
    public let origin: ClientOrigin
    public var db = 0
    /// The replication offset just after this client's last write reached the stream (Redis's
    /// c->woff): what its WAIT waits for.
    public var replicationWriteOffset: Int64 = 0
    public var reply: ReplyWriter
    public var name: [UInt8]? = nil
    public var libraryName: [UInt8]? = nil
    public var libraryVersion: [UInt8]? = nil
    public var authenticated: Bool
    public var user = "default"
    /// Set by QUIT, protocol errors and CLIENT KILL: close once pending replies are written.
    public var closeAfterReply = false
    public let createdAtMillis: Int64
    public var lastInteractionMillis: Int64
    /// The last command run (CLIENT LIST `cmd=`). Commands live as long as the command table,
    /// so this holds no reference: setting it per request costs a store, not a retain/release.
    public unowned(unsafe) var lastCommandRun: RegisteredCommand?
    /// Full name of the last command run, "NULL" before the first.
    public var lastCommand: String { lastCommandRun?.fullName ?? "NULL" }
    public var address = ""
    public var localAddress = ""
    /// Set by the server: sockets or other transport the client came from.
    public var fileDescriptor: Int32 = -1
    /// The connection is a replica's link to this node (after SYNC/PSYNC): CLIENT LIST flag `S`,
    /// CLIENT KILL TYPE replica.
    public var isReplicaLink = false
    /// CLIENT NO-EVICT: never closed by client eviction (`maxmemory-clients`); flag `e` in CLIENT LIST.
    public var noEvict = false
    /// Cluster: ASKING was sent (the next command may touch an importing slot), and READONLY
    /// (reads may be served by this replica of the slot's master).
    public var clusterAsking = false
    public var clusterReadOnly = false
    /// Channels, patterns and shard channels this client is subscribed to.
    public internal(set) var subscriptions = Subscriptions()
    /// Non-nil between MULTI and EXEC/DISCARD.
    public var transaction: Transaction? = nil
    /// Keys this client WATCHes, and whether each was already expired when watched.
    var watching: [(db: Int, key: [UInt8], expiredWhenWatched: Bool)] = []
    /// Set when a watched key is modified: the next EXEC fails.
    var watchInvalidated = false
    /// CLIENT TRACKING state; nil while tracking is off (Tracking.swift).
    public internal(set) var tracking: TrackingState? = nil
    /// CLIENT REPLY: whether replies are written (Engine.finishTopLevel).
    public var replyMode = ReplyMode.on
    /// Non-nil while the client waits in a blocking command; it runs no other request meanwhile.
    public internal(set) var blocked: BlockedState? = nil
    /// Its next command waits for a client pause to end (ClientPause.swift); it is still in the
    /// input, unconsumed.
    public internal(set) var postponed = false

    public init(id: Int64, authenticated: Bool, buffer: ByteBuffer, origin: ClientOrigin = .user,
                nowMillis: Int64 = Clock.unixMillis()) {
        self.id = id
        self.origin = origin
        self.authenticated = authenticated
        self.reply = ReplyWriter(buffer: buffer)
        self.createdAtMillis = nowMillis
        self.lastInteractionMillis = nowMillis
    }

    public var resp3: Bool {
        get { reply.resp3 }
        set { reply.resp3 = newValue }
    }
}

/// CLIENT REPLY ON|OFF|SKIP. `skipNext` is set by SKIP itself and becomes `skip` once that
/// command is done: the reply of the command after it is dropped.
public enum ReplyMode: Sendable {
    case on, off, skipNext, skip
}
