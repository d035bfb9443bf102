import CairnRESP
import Logging

// The engine owns the keyspace and runs commands, one at a time, on the thread that owns it
// (the server's single event loop). Nothing here is thread safe by design: confinement to that
// thread is what gives every command Redis's atomicity and makes fork() safe.

public struct EngineStats: Sendable {
    public var commandsProcessed: Int64 = 0
    public var keyspaceHits: Int64 = 0
    public var keyspaceMisses: Int64 = 0
    public var expiredKeys: Int64 = 0
    public var expiredStalePercent: Double = 0
    public var expiredTimeCapReached: Int64 = 0
    public var expireCycleMicros: Int64 = 0
    public var totalErrorReplies: Int64 = 0
    public var unexpectedErrorReplies: Int64 = 0
    public var errorCounts: [String: Int64] = [:]
    public init() {}
}

public struct EngineSettings: Sendable {
    public var databases = 16
    /// Server cron frequency (`hz`): the active expiry cycle runs this often per second.
    public var hz = 10
    public var activeExpireEnabled = true
    public var protoMaxBulkLength = 512 * 1024 * 1024
    /// `active-expire-effort` 1...10.
    public var activeExpireEffort = 1
    /// Compact-encoding thresholds (redis.conf names). A collection converts to its large encoding
    /// when it grows past either limit, and never converts back (as in Redis).
    public var hashMaxListpackEntries = 512
    public var hashMaxListpackValue = 64
    public var setMaxIntsetEntries = 512
    public var zsetMaxListpackEntries = 128
    public var zsetMaxListpackValue = 64
    /// DUMP payloads LZF-compress long strings unless `rdbcompression no` (Redis follows its
    /// rdbcompression flag; payloads stay Redis-compatible whatever the file compression is).
    public var dumpCompressesStrings = true
    /// Cluster mode (`cluster-enabled`, set by the server): every database keeps a count and a
    /// list of its keys per hash slot (SlotIndex). Off, the key table pays nothing for it.
    public var clusterEnabled = false
    /// `notify-keyspace-events`: the classes of keyspace notifications published (KeyspaceEvents.swift).
    public var keyspaceEvents: KeyspaceEventClasses = []
    /// `lazyfree-lazy-user-del`, `-user-flush`, `-server-del`, `-expire`, `-eviction`: those
    /// deletions free large values on the lazy-free thread (LazyFree.swift).
    public var lazyFreeUserDel = false
    public var lazyFreeUserFlush = false
    public var lazyFreeServerDel = false
    public var lazyFreeExpire = false
    public var lazyFreeEviction = false
    public init() {}
}

public struct CommandContext {
    /// The engine and the command outlive every context (the engine runs the command; the command
    /// table is fixed at start-up), so the context does not retain them: building one per request
    /// would otherwise cost two retain/release pairs (callgrind: ~80 instructions of ~3,500).
    public unowned(unsafe) let engine: Engine
    public let client: ClientSession
    public let args: Arguments
    public unowned(unsafe) let command: RegisteredCommand
    /// The client's selected database when the command started (SELECT changes it for the
    /// commands after it). Not retained either: databases live as long as the engine.
    public unowned(unsafe) let db: Database

    @inlinable
    public var reply: ReplyWriter {
        get { client.reply }
        nonmutating _modify { yield &client.reply }
    }

    /// `ERR wrong number of arguments for '<name>' command`.
    public func replyArityError() { reply.error("ERR wrong number of arguments for '\(command.fullName)' command") }
    public func replySyntaxError() { reply.error("ERR syntax error") }
    public func replyNotInteger() { reply.error("ERR value is not an integer or out of range") }
    public func replyWrongType() { reply.error("WRONGTYPE Operation against a key holding the wrong kind of value") }
}

public final class Engine {
    public var databases: [Database] = []
    public var settings: EngineSettings {
        didSet { KeyspaceEventClasses.enabledInSomeEngine |= settings.keyspaceEvents.rawValue }
    }
    public var stats = EngineStats()
    public let commands: CommandTable
    public var logger: Logger
    /// The time commands see, in unix ms: fixed for the duration of one command (as Redis's
    /// command time snapshot), so a key cannot expire half way through a command.
    public var now: Int64 = Clock.unixMillis()
    /// Writes since the last successful save (rdb_changes_since_last_save).
    public var dirty: Int64 = 0
    /// Clients watching each key, per database (WATCH).
    var watchedKeys: [Int: [[UInt8]: [ClientSession]]] = [:]
    /// Finds a connected client by id (set by the server): CLIENT TRACKING's REDIRECT target.
    public var clientLookup: ((Int64) -> ClientSession?)?
    /// Frees large values and flushed databases in the background (LazyFree.swift).
    public let lazyFreer = LazyFreer()
    /// Client-side caching: who tracks which keys (Tracking.swift).
    public var tracking = TrackingTable()
    /// True while EXEC runs its queued commands.
    var executingTransaction = false
    public var random = FastRandom()
    /// What writes to small hashes and sorted sets work on (PackedScratch.swift).
    var packedScratch = PackedScratch()
    /// True while a data file is replayed (AOF loading): as Redis's `server.loading`, no key
    /// counts as expired and commands setting a time already past keep the key, because the log
    /// records what happened when each command ran, not what the clock says now.
    public var loading = false
    /// Master or replica: a replica never deletes a key because its time ran out (it hides it
    /// from its own clients and waits for the master's DEL), and its active expiry does not run.
    public var role = NodeRole.master
    /// The origin of the command running now (Redis's server.current_client): the master link
    /// still sees keys a replica hides as expired.
    public internal(set) var currentOrigin = ClientOrigin.user
    /// CLIENT PAUSE and the server's own pauses (ClientPause.swift).
    var pause = ClientPauseState()
    /// Clients whose pause ended, to run again later (ClientPause.swift); unset, they run at once
    /// through `onClientUnblocked`.
    public var onPostponedResume: (([ClientSession]) -> Void)?
    /// Set in cluster mode: PUBLISH (shard false) and SPUBLISH (true) also go to the other nodes.
    public var onPublish: ((_ channel: [UInt8], _ message: [UInt8], _ shard: Bool) -> Void)?
    /// Checks a user's command passes before it runs (Admission.swift).
    public var admission = AdmissionPipeline()
    /// EXEC, looked up once: refusing it aborts the transaction, and its admission looks at the
    /// flags of what was queued.
    let execCommand: RegisteredCommand?

    public init(settings: EngineSettings = EngineSettings(), logger: Logger = Logger(label: "cairn.engine")) {
        self.settings = settings
        KeyspaceEventClasses.enabledInSomeEngine |= settings.keyspaceEvents.rawValue
        self.logger = logger
        self.commands = CommandTable(StorageCommands.all)
        self.execCommand = commands.lookup("exec")
        self.databases = (0..<settings.databases).map { Database(id: $0, engine: self) }
    }

    /// Whether a time already in the past deletes a key at once (Redis's checkAlreadyExpired):
    /// not while loading (the log holds what happened then), not on a replica (the master's DEL
    /// will come).
    public var deletesPastTimes: Bool { !loading && role == .master }

    /// Seconds clock for LRU idle times (Redis's 24-bit LRU clock, in seconds).
    @inlinable public var lruClock: UInt32 { UInt32(truncatingIfNeeded: now / 1000) & 0xFF_FFFF }

    // MARK: dispatch

    /// Runs one command from `client`. The reply goes to `client.reply`.
    public func execute(_ client: ClientSession, _ args: Arguments) {
        guard args.count > 0 else { return }
        // Inside EXEC every command sees the time EXEC started (Redis's command time snapshot).
        // One clock read gives the command time and the start of its duration (Redis's ustime()).
        let start = Clock.unixMicros()
        if !executingTransaction { now = start / 1000 }
        client.lastInteractionMillis = now
        let outerOrigin = currentOrigin
        currentOrigin = client.origin
        let errorMark = client.reply.buffer.writerIndex
        defer {
            currentOrigin = outerOrigin
            // CLIENT REPLY OFF|SKIP, and the invalidations client-side caching owes after a reply.
            if executionDepth == 0 && (client.replyMode != .on || tracking.isActive) { finishTopLevel(client, replyStart: errorMark) }
        }
        guard var command = commands.lookup(args[0]) else {
            replyUnknownCommand(client, args)
            client.transaction?.aborted = true
            noteErrors(client, from: errorMark)
            return
        }
        // As Redis's lookupCommand: a container called alone runs itself (bare COMMAND lists
        // everything; CLIENT or CONFIG alone then fail their own arity check).
        if let subs = command.subcommands, args.count >= 2 {
            guard let sub = subs.lookup(args[1]) else {
                var text = Array("ERR unknown subcommand '".utf8)
                text += ClientBytes.cString(args[1]).prefix(128)
                text += Array("'. Try \(command.spec.name.uppercased()) HELP.".utf8)
                reject(command, client, bytes: text, errorMark)
                return
            }
            command = sub
        }
        client.lastCommandRun = command
        guard command.spec.acceptsArgumentCount(args.count) else {
            reject(command, client, "ERR wrong number of arguments for '\(command.fullName)' command", errorMark)
            return
        }
        if client.origin == .user {
            if executionDepth == 0 {
                // Arriving: every admission stage, in Redis's order.
                if !admission.hasChecks(for: command) {
                    // Only the built-in stages apply: no request to build.
                    if let refusal = AdmissionPipeline.builtInRefusal(client, command) {
                        reject(command, client, refusal, errorMark)
                        return
                    }
                } else {
                    var flags = command.spec.flags
                    if command === execCommand, let queued = client.transaction?.flags { flags.formUnion(queued) }
                    let request = AdmissionRequest(client: client, command: command, args: args, flags: flags, insideExec: false)
                    if let refusal = admission.refusal(request) {
                        reject(command, client, refusal, errorMark)
                        return
                    }
                }
            } else if executingTransaction && requeueing == nil {
                // EXEC running what was queued: the stages that must still hold (ACL).
                let request = AdmissionRequest(client: client, command: command, args: args, flags: command.spec.flags, insideExec: true)
                if let refusal = admission.refusalInsideExec(request) {
                    client.reply.error(refusal)
                    noteErrors(client, from: errorMark)
                    return
                }
            }
        }
        if client.origin == .user && executionDepth == 0 && pause.type != .off {
            var flags = command.spec.flags
            if command === execCommand, let queued = client.transaction?.flags { flags.formUnion(queued) }
            if postpones(client, flags) { return postpone(client) }
        }
        if client.transaction != nil && !Transactions.runsInsideMulti(command) {
            client.transaction?.queue(QueuedCommand(command: command, arguments: args.copyAll()))
            client.reply.simpleString("QUEUED")
            return
        }
        let observed = client.origin != .replay
        if observed { preExecutionHooks.forEachArmed { $0(client, command, args) } }
        let dirtyBefore = dirty
        let outerOverride = propagationOverride
        propagationOverride = nil
        if tracking.isActive && executionDepth == 0 { tracking.currentClient = client }
        executionDepth += 1
        command.spec.handler(CommandContext(engine: self, client: client, args: args, command: command,
                                            db: databases[client.db]))
        executionDepth -= 1
        if propagating {
            recordPropagation(command, client, args, dirtyBefore: dirtyBefore, override: propagationOverride)
        }
        propagationOverride = outerOverride
        if dirty != dirtyBefore && observesKeys && command.spec.flags.contains(.write) {
            touchWrittenKeys(command, args, db: client.db, by: client)
        }
        if client.tracking != nil { rememberTrackedKeys(client, command, args) }
        if observed {
            let elapsed = max(0, Clock.unixMicros() - start)
            command.stats.calls += 1
            command.stats.microseconds += elapsed
            commandObservers.forEachArmed { $0(client, command, args, elapsed) }
            stats.commandsProcessed += 1
            if client.reply.buffer.writerIndex > errorMark,
               client.reply.buffer.getInteger(at: errorMark, as: UInt8.self) == UInt8(ascii: "-") {
                command.stats.failedCalls += 1
                noteErrors(client, from: errorMark)
            }
        }
        if executionDepth == 0 && !readyKeys.isEmpty { serveReadyKeys() }
        if executionDepth == 0 && !pendingPropagation.isEmpty { flushPropagation(from: client) }
    }

    /// Refuses a command: an error reply that dooms an open MULTI; refusing EXEC itself
    /// discards the transaction and replies EXECABORT with the reason (Redis's rejectCommand).
    private func reject(_ command: RegisteredCommand, _ client: ClientSession, _ message: String, _ mark: Int) {
        reject(command, client, bytes: Array(message.utf8), mark)
    }

    private func reject(_ command: RegisteredCommand, _ client: ClientSession, bytes message: [UInt8], _ mark: Int) {
        command.stats.rejectedCalls += 1
        if command === execCommand {
            client.transaction = nil
            unwatchAll(client)
            if Self.isClusterRedirection(message) {
                // The cluster stage answers EXEC with the redirection itself, so that the
                // client follows it (Redis's processCommand: discardTransaction, then
                // clusterRedirectClient), not with EXECABORT.
                client.reply.error(bytes: message)
            } else {
                client.reply.error(bytes: Array("EXECABORT Transaction discarded because of: ".utf8) + message)
            }
        } else {
            client.transaction?.aborted = true  // a command refused while queueing dooms the EXEC
            client.reply.error(bytes: message)
        }
        noteErrors(client, from: mark)
    }

    /// Errors only the cluster stage of admission gives.
    static func isClusterRedirection(_ message: [UInt8]) -> Bool {
        clusterErrorCodes.contains { message.starts(with: $0) }
    }

    private static let clusterErrorCodes: [[UInt8]] = ["MOVED ", "ASK ", "CROSSSLOT ", "TRYAGAIN ", "CLUSTERDOWN "].map { Array($0.utf8) }

    private func replyUnknownCommand(_ client: ClientSession, _ args: Arguments) {
        // Redis: "unknown command '%.128s', with args beginning with: " + "'%.*s' " per argument
        // while fewer than 128 bytes of them have been written.
        // %s ends at a NUL byte: each quoted argument is cut there.
        var text = Array("ERR unknown command '".utf8)
        text.append(contentsOf: ClientBytes.cString(args[0]).prefix(128))
        text.append(contentsOf: Array("', with args beginning with: ".utf8))
        var listed = 0
        var i = 1
        while i < args.count && listed < 128 {
            let piece = ClientBytes.cString(args[i]).prefix(128 - listed)
            text.append(UInt8(ascii: "'"))
            text.append(contentsOf: piece)
            text.append(contentsOf: [UInt8(ascii: "'"), UInt8(ascii: " ")])
            listed += piece.count + 3
            i += 1
        }
        client.reply.error(bytes: text)
    }

    /// Counts the error reply written at `mark` (INFO errorstats, total_error_replies).
    private func noteErrors(_ client: ClientSession, from mark: Int) {
        guard client.origin != .replay else { return }
        let buffer = client.reply.buffer
        guard buffer.writerIndex > mark, buffer.getInteger(at: mark, as: UInt8.self) == UInt8(ascii: "-") else { return }
        stats.totalErrorReplies += 1
        var end = mark + 1
        while end < buffer.writerIndex, let b = buffer.getInteger(at: end, as: UInt8.self),
              b != UInt8(ascii: " "), b != 13, end - mark < 64 { end += 1 }
        let code = buffer.getString(at: mark + 1, length: end - mark - 1) ?? "ERR"
        stats.errorCounts[code, default: 0] += 1
    }

    // MARK: blocking hooks

    /// Keys that gained elements during the current command while some client is blocked on
    /// them (BLPOP, BZPOPMIN, ...): served after the command, in order.
    public var readyKeys: [(db: Int, key: [UInt8])] = []
    /// Per database and key, the clients blocked on it, first come first served.
    var blockedClients: [Int: [[UInt8]: [ClientSession]]] = [:]
    /// Clients in an external wait (WAIT, MIGRATE), in the order they blocked.
    var externallyBlocked: [ClientSession] = []
    public internal(set) var blockedClientCount = 0
    /// Called when a blocked client got its reply (served, timed out, unblocked): the server
    /// flushes it and resumes reading its requests.
    public var onClientUnblocked: ((ClientSession) -> Void)?
    /// Called when a command wrote to another client's output (pub/sub messages): the server
    /// flushes that client after the current read.
    public var onClientOutput: ((ClientSession) -> Void)?
    /// Channel, pattern and shard-channel subscribers.
    public var pubsub = PubSubRegistry()
    /// While a served client's command runs again: that client, and whether it blocked again.
    var requeueing: ClientSession?
    var servedClientBlockedAgain = false
    /// Nesting of `execute` (EXEC and served clients run commands inside a command).
    var executionDepth = 0
    /// Run right before a command's handler, for every origin but replay (the evictor's LFU
    /// bookkeeping).
    public var preExecutionHooks = ArmableList<(ClientSession, RegisteredCommand, Arguments) -> Void>()
    /// Receivers of propagated writes (the AOF, replicas): one call per top-level command with
    /// every command it propagates (Propagation.swift). Added with `addPropagationSink`.
    public internal(set) var propagationSinks: [PropagationSink] = []
    /// Some sink feeds the AOF (what a master link's commands need).
    @usableFromInline var propagatesToAOF = false
    /// Set by a replica's master link before it runs the master's commands: the master's
    /// replication offset once they are applied (PropagationBatch.masterOffset).
    public var masterStreamOffset: Int64 = 0
    var pendingPropagation = PropagationBuffer()
    var flushingPropagation = PropagationBuffer()
    /// What the running handler asked to propagate instead of its own call (nil: the call).
    var propagationOverride: [PropagatedCommand]? = nil
    /// Observers of every executed command, with its duration in µs (SLOWLOG, MONITOR, LATENCY).
    public var commandObservers = ArmableList<(ClientSession, RegisteredCommand, Arguments, Int64) -> Void>()
    /// Run by FLUSHALL once the databases are empty (the persistence component saves then).
    public var flushAllHooks: [() -> Void] = []

    /// Every command that adds elements to a list or sorted set (or creates one) calls this, so
    /// clients blocked on the key can be served once the command has finished.
    public func signalKeyReady(_ db: Database, _ key: UnsafeRawBufferPointer) {
        guard blockedClientCount > 0, let waiting = blockedClients[db.id] else { return }
        let k = Array(key)
        if waiting[k] != nil && !readyKeys.contains(where: { $0.db == db.id && $0.key == k }) {
            readyKeys.append((db.id, k))
        }
    }

    // MARK: databases

    /// Empties every database; `async` hands the entries to the lazy-free thread (Redis's
    /// emptyDbAsync) instead of freeing them here.
    public func flushAll(async: Bool = false) {
        for db in databases { flush(db, async: async) }
    }

    public func flush(_ db: Database, async: Bool) {
        if async { lazyFreer.free(db.table.detachAll()) } else { db.removeAll() }
    }

    /// Moves every database's keys into new databases kept aside and leaves the engine's empty
    /// (a replica loading its master's RDB with `repl-diskless-load swapdb`); `restore` puts them
    /// back, dropping the result leaves them to be freed.
    public func setDatabasesAside() -> [Database] {
        let aside = (0..<databases.count).map { Database(id: $0, engine: self) }
        for (db, spare) in zip(databases, aside) { KeyTable.swapContents(db.table, spare.table) }
        return aside
    }

    /// Replaces the databases' keys with those set aside (the loaded ones are dropped).
    public func restoreDatabases(_ aside: [Database]) {
        flushAll()
        for (db, spare) in zip(databases, aside) { KeyTable.swapContents(db.table, spare.table) }
    }

    /// Keys across every database.
    public var totalKeys: Int { databases.reduce(0) { $0 + $1.count } }
}
