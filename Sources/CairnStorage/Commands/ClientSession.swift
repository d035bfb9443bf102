import CairnRESP
import NIOCore

// The per-connection state commands can see and change. The server owns the connection; this
// object is what the engine knows of it.

public final class ClientSession {
    public let id: Int64
    public var db = 0
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
    /// Full name of the last command run (CLIENT LIST `cmd=`).
    public var lastCommand = "NULL"
    public var address = ""
    public var localAddress = ""
    /// Set by the server: sockets or other transport the client came from.
    public var fileDescriptor: Int32 = -1
    /// CLIENT NO-EVICT: exempt from client eviction (Cairn has no client eviction yet, so this is
    /// only recorded and shown as flag `e` in CLIENT LIST, as Redis shows it).
    public var noEvict = false
    /// Channels, patterns and shard channels this client is subscribed to.
    public internal(set) var subscriptions = Subscriptions()
    /// Non-nil between MULTI and EXEC/DISCARD.
    public var transaction: Transaction? = nil
    /// Keys this client WATCHes, and whether each was already expired when watched.
    var watching: [(db: Int, key: [UInt8], expiredWhenWatched: Bool)] = []
    /// Set when a watched key is modified: the next EXEC fails.
    var watchInvalidated = false
    /// Non-nil while the client waits in a blocking command; it runs no other request meanwhile.
    public internal(set) var blocked: BlockedState? = nil

    public init(id: Int64, authenticated: Bool, buffer: ByteBuffer, nowMillis: Int64 = Clock.unixMillis()) {
        self.id = id
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
