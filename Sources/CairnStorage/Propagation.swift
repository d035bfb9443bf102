import CairnRESP

// The one propagation path shared by the AOF and (later) replicas: every change to the dataset
// leaves the engine as commands that replay deterministically (Redis's call() / alsoPropagate /
// propagatePendingCommands). A write command is propagated as it was called unless its handler
// rewrote it (relative TTLs become absolute ones, SPOP becomes SREM, INCRBYFLOAT a SET, blocking
// pops their effect, ...); keys deleted by expiry or eviction become DELs. The commands of one
// top-level call (an EXEC's, or a command plus the expired keys it deleted) are handed over
// together, wrapped in MULTI/EXEC when there is more than one.
//
// Sinks say what they feed (the AOF, the replicas) and batches say where they came from: the
// effects of this node's own clients, expiry and eviction (`local`, for every sink), or the
// commands of a replica's master (`masterStream`: this node's AOF records them, while its own
// replicas are fed the master's stream unchanged by the replication link, not from here).
// Commands replayed from the AOF are propagated nowhere.

/// What a propagation sink feeds.
public enum PropagationTarget: Sendable, Equatable {
    case aof, replicas
}

/// Where a batch of propagated commands came from.
public enum PropagationSource: Sendable, Equatable {
    /// This node's clients, its expiry and its evictions.
    case local
    /// The replication stream of this node's master.
    case masterStream
}

/// The commands of one top-level call, handed to each sink that takes them.
public struct PropagationBatch {
    public let source: PropagationSource
    /// In order; wrapped in MULTI/EXEC when there are several. Valid only during the sink call.
    public let commands: PropagatedCommands
    /// For `masterStream`: the master's replication offset once these commands are applied
    /// (set by the master link before it runs them); nil for local batches, whose offsets the
    /// replication backlog assigns as it appends them.
    public let masterOffset: Int64?
    /// The client whose command made the batch (nil for expiry, eviction and the cron):
    /// unretained, valid during the sink call (WAIT's write offset is noted on it).
    public unowned(unsafe) let client: ClientSession?
}

public struct PropagationSink {
    public let target: PropagationTarget
    public let receive: (PropagationBatch) -> Void

    public init(_ target: PropagationTarget, _ receive: @escaping (PropagationBatch) -> Void) {
        self.target = target
        self.receive = receive
    }
}

/// One command to apply in database `db`, kept as its RESP encoding (what the AOF and the
/// replication stream carry), in an array of its own: what a handler's `propagate` builds and
/// what tests keep. The running command itself is encoded into the engine's PropagationBuffer.
public struct PropagatedCommand: Sendable, Equatable {
    public var db: Int
    /// `*<n>\r\n` then `$<len>\r\n<bytes>\r\n` per argument.
    public var resp: [UInt8]

    public init(db: Int, args: [[UInt8]]) {
        self.db = db
        resp = CommandEncoder.encode(args)
    }

    /// A command already encoded.
    public init(db: Int, resp: [UInt8]) {
        self.db = db
        self.resp = resp
    }

    /// Encodes each word straight into the command's array (no copy of a word on the way).
    init(db: Int, words: [PropagationWord]) {
        self.db = db
        var size = CommandEncoder.arrayHeaderBytes(words.count)
        for word in words { size += word.encodedBytes }
        resp = CommandEncoder.encode(size: size) { w in
            w.arrayHeader(words.count)
            for word in words { word.write(to: &w) }
        }
    }

    /// The arguments, parsed back from `resp` (tests; not on the hot path).
    public var args: [[UInt8]] {
        var parser = CommandParser()
        return resp.withUnsafeBytes { raw in
            guard case .multibulk = parser.parse(raw) else { return [] }
            return parser.arguments.map { Array(raw[Int($0.start)..<Int($0.start + $0.count)]) }
        }
    }
}

extension Engine {
    /// Whether anything takes what the running command would propagate: when not, the engine
    /// skips all propagation work (replays propagate nothing; a master link's commands only
    /// reach the AOF).
    @inlinable public var propagating: Bool {
        switch currentOrigin {
        case .user: return !propagationSinks.isEmpty
        case .master: return propagatesToAOF
        case .replay: return false
        }
    }

    /// Adds a sink.
    public func addPropagationSink(_ sink: PropagationSink) {
        propagationSinks.append(sink)
        propagatesToAOF = propagationSinks.contains { $0.target == .aof }
    }

    /// Queues `args` for database `db` as part of the current call.
    public func alsoPropagate(db: Int, _ args: [[UInt8]]) {
        guard propagating else { return }
        var size = CommandEncoder.arrayHeaderBytes(args.count)
        for a in args { size += CommandEncoder.bulkBytes(a.count) }
        pendingPropagation.write(db: db, size: size) { w in
            w.arrayHeader(args.count)
            for a in args { a.withUnsafeBytes { w.bulk($0) } }
        }
        if executionDepth == 0 { flushPropagation() }
    }

    /// DEBUG REPLICATE: `args` as one command of database `db`, fed at once to the replicas
    /// (and the replication backlog) only, not to the AOF, whatever the running call queued
    /// (Redis's replicationFeedSlaves; it lets tests make a replica diverge).
    public func feedReplicasOnly(db: Int, _ args: [[UInt8]]) {
        guard currentOrigin == .user, propagationSinks.contains(where: { $0.target == .replicas }) else { return }
        PropagatedCommands.with([PropagatedCommand(db: db, args: args)]) { commands in
            let batch = PropagationBatch(source: .local, commands: commands, masterOffset: nil, client: nil)
            for sink in propagationSinks where sink.target == .replicas { sink.receive(batch) }
        }
    }

    /// A key that expired or was evicted: replicas and the AOF see a DEL.
    func propagateDeletion(db: Int, key: [UInt8]) {
        alsoPropagate(db: db, [Self.delWord, key])
    }

    /// Hands the queued commands to the sinks, wrapped in MULTI/EXEC if there are several;
    /// `client` is the one whose command made them, if any.
    public func flushPropagation(from client: ClientSession? = nil) {
        guard !pendingPropagation.isEmpty else { return }
        // Two buffers swapped, so that a sink that makes the engine propagate again (none does
        // today) cannot write into the batch it is reading.
        swap(&pendingPropagation, &flushingPropagation)
        if flushingPropagation.entries.count > 1 { flushingPropagation.wrapInTransaction() }
        let fromMaster = currentOrigin == .master
        let batch = PropagationBatch(source: fromMaster ? .masterStream : .local, commands: flushingPropagation.commands,
                                     masterOffset: fromMaster ? masterStreamOffset : nil, client: client)
        for sink in propagationSinks where !fromMaster || sink.target == .aof { sink.receive(batch) }
        flushingPropagation.clear()
    }

    /// Called after a handler: records what the command propagates, if it changed the dataset.
    @inline(__always)
    func recordPropagation(_ command: RegisteredCommand, _ client: ClientSession, _ args: Arguments,
                           dirtyBefore: Int64, override: [PropagatedCommand]?) {
        guard dirty != dirtyBefore, command.spec.flags.contains(.write) else { return }
        if let override {
            for c in override { c.resp.withUnsafeBytes { pendingPropagation.append(db: c.db, resp: $0) } }
        } else if let request = args.canonicalEncoding {
            // The command as called, as the client sent it: already its encoding.
            pendingPropagation.append(db: client.db, resp: request)
        } else {
            // The command as called, encoded straight into the pending buffer.
            var size = CommandEncoder.arrayHeaderBytes(args.count)
            for i in 0..<args.count { size += CommandEncoder.bulkBytes(args[i].count) }
            pendingPropagation.write(db: client.db, size: size) { w in
                w.arrayHeader(args.count)
                for i in 0..<args.count { w.bulk(args[i]) }
            }
        }
    }

    static let delWord = Array("DEL".utf8)
}

extension CommandContext {
    /// Propagates `args` (in the client's database) instead of the command as called. Several
    /// calls queue several commands; they replace the original only if the command wrote.
    public func propagate(_ args: [[UInt8]]) {
        guard engine.propagating else { return }
        addOverride(PropagatedCommand(db: client.db, args: args))
    }

    /// As `propagate`, building the arguments from text words and byte strings.
    public func propagate(_ words: PropagationWord...) {
        guard engine.propagating else { return }
        addOverride(PropagatedCommand(db: client.db, words: words))
    }

    private func addOverride(_ command: PropagatedCommand) {
        engine.propagationOverride = (engine.propagationOverride ?? []) + [command]
    }
}

/// A propagated argument: a command word, raw bytes, or an integer (in decimal).
public enum PropagationWord {
    case word(StaticString)
    case bytes([UInt8])
    case raw(UnsafeRawBufferPointer)
    case int(Int64)

    /// Bytes of the word as a bulk string.
    var encodedBytes: Int {
        switch self {
        case .word(let s): return CommandEncoder.bulkBytes(s.utf8CodeUnitCount)
        case .bytes(let b): return CommandEncoder.bulkBytes(b.count)
        case .raw(let p): return CommandEncoder.bulkBytes(p.count)
        case .int(let v): return CommandEncoder.bulkBytes(decimal: v)
        }
    }

    func write(to w: inout CommandEncoder.Writer) {
        switch self {
        case .word(let s): w.bulk(s)
        case .bytes(let b): b.withUnsafeBytes { w.bulk($0) }
        case .raw(let p): w.bulk(p)
        case .int(let v): w.bulk(decimal: v)
        }
    }
}
