// The admission pipeline: the checks a user's command passes before it runs or is queued in a
// MULTI, in Redis 7.0's order (processCommand in server.c). The engine runs the built-in stages
// (authentication, MULTI context, pub/sub context) inline; subsystems install the others (ACL, the
// cluster redirect, maxmemory, persistence errors, the read-only replica). A stage left empty
// costs nothing.
//
// Who is checked: only commands from a `.user` origin, and only when they arrive (Redis does not
// run processCommand for the commands EXEC runs, nor for a blocked client's command when it is
// served). Stages that must also hold when EXEC finally runs a queued command say so
// (`recheckInsideExec`: ACL, as Redis's execCommand re-checks permissions).
//
// A refusal is an error reply. Refusing a command inside MULTI dooms the transaction; refusing
// EXEC itself discards the transaction and replies EXECABORT (Redis's rejectCommand and
// execCommandAbort), whichever stage refused it.

public enum AdmissionStage: Int, CaseIterable, Sendable {
    /// DEBUG behind enable-debug-command (Redis's CMD_PROTECTED).
    case protectedCommand
    /// NOAUTH until the client authenticates (built in).
    case authentication
    /// Commands that may not be queued in MULTI (built in).
    case transactionContext
    /// ACL permissions: NOPERM.
    case acl
    /// Cluster: MOVED, ASK, CROSSSLOT, TRYAGAIN, CLUSTERDOWN.
    case clusterRedirect
    /// maxmemory: evict, then refuse what may grow memory with OOM.
    case outOfMemory
    /// Writes refused while the node cannot persist (MISCONF, AOF write errors).
    case diskError
    /// min-replicas-to-write: NOREPLICAS.
    case minReplicas
    /// Writes refused on a read-only replica: READONLY.
    case readOnlyReplica
    /// RESP2 clients in subscribed mode may only (un)subscribe, PING, QUIT, RESET (built in).
    case pubsubContext
    /// Clients that may not touch the keyspace (a MONITOR client).
    case replicaKeyspace
}

/// One command arriving for admission.
public struct AdmissionRequest {
    public let client: ClientSession
    public let command: RegisteredCommand
    public let args: Arguments
    /// The command's flags, and for EXEC those of every command queued since MULTI (Redis's
    /// mstate.cmd_flags): EXEC of a queued SET is a write.
    public let flags: CommandFlags
    /// True when EXEC is now running this queued command (only `recheckInsideExec` stages run).
    public let insideExec: Bool

    public var isWrite: Bool { flags.contains(.write) }
}

/// A stage's check: the error reply that refuses the command, or nil.
public typealias AdmissionCheck = (borrowing AdmissionRequest) -> String?

/// Runs once per arriving command, so it is built for that: one flat array of the installed
/// checks in stage order, walked without copying, with the built-in stages inline at their
/// places. A check its owner has disarmed (nothing to refuse right now), or one meant for another
/// command, costs a flag or an identity comparison: no closure call, no reference counting.
public struct AdmissionPipeline {
    @usableFromInline struct Entry {
        let id: Int
        let stage: AdmissionStage
        let check: AdmissionCheck
        let insideExec: Bool
        var armed: Bool
        /// Runs only for this command (DEBUG's gate), when set.
        unowned(unsafe) let only: RegisteredCommand?
    }

    private var entries: [Entry] = []
    private var nextID = 0
    /// Armed checks meant for every command: while there are none (and the command has no check
    /// of its own), `execute` runs only the built-in stages and builds no AdmissionRequest.
    private(set) var armedGeneralChecks = 0

    public init() {}

    /// Stages the engine answers for itself; nothing can be installed there.
    public static let builtIn: Set<AdmissionStage> = [.authentication, .transactionContext, .pubsubContext]

    /// Adds `check` to `stage` (after any already there) and returns its handle.
    /// `recheckInsideExec`: the check also runs for each queued command when EXEC runs it.
    /// `armed`: whether it runs at first (see `arm`). `only`: the one command it applies to.
    @discardableResult
    public mutating func install(_ stage: AdmissionStage, recheckInsideExec: Bool = false, armed: Bool = true,
                                 only: RegisteredCommand? = nil, _ check: @escaping AdmissionCheck) -> HookHandle {
        precondition(!Self.builtIn.contains(stage), "\(stage) is built into the engine")
        nextID += 1
        let position = entries.firstIndex { $0.stage.rawValue > stage.rawValue } ?? entries.count
        entries.insert(Entry(id: nextID, stage: stage, check: check, insideExec: recheckInsideExec, armed: armed, only: only),
                       at: position)
        if let only { only.dedicatedAdmissionChecks += 1 } else if armed { armedGeneralChecks += 1 }
        return HookHandle(id: nextID)
    }

    /// Arms or disarms a check: its owner knows when it may refuse anything.
    public mutating func arm(_ handle: HookHandle, _ armed: Bool) {
        guard let i = entries.firstIndex(where: { $0.id == handle.id }), entries[i].armed != armed else { return }
        entries[i].armed = armed
        if entries[i].only == nil { armedGeneralChecks += armed ? 1 : -1 }
    }

    /// Whether admitting `command` runs any installed check (else only the built-in stages).
    @inline(__always)
    func hasChecks(for command: RegisteredCommand) -> Bool {
        armedGeneralChecks > 0 || command.dedicatedAdmissionChecks > 0
    }

    /// The built-in stages alone, in order (no installed check applies): authentication,
    /// transaction context, pub/sub context.
    @inline(__always)
    static func builtInRefusal(_ client: ClientSession, _ command: RegisteredCommand) -> String? {
        if !client.authenticated && !command.spec.flags.contains(.noAuth) { return noAuth }
        if client.transaction != nil && command.spec.flags.contains(.noMulti) { return notInMulti }
        if !client.resp3 && !client.subscriptions.isEmpty { return subscribedRefusal(command) }
        return nil
    }

    @inline(__always)
    private static func run(_ entry: UnsafePointer<Entry>, _ request: borrowing AdmissionRequest) -> String? {
        guard entry.pointee.armed else { return nil }
        if let only = entry.pointee.only, only !== request.command { return nil }
        return entry.pointee.check(request)
    }

    /// The first refusal, stage by stage in order.
    func refusal(_ request: borrowing AdmissionRequest) -> String? {
        entries.withUnsafeBufferPointer { e in
            guard let base = e.baseAddress else {
                return Self.authentication(request) ?? Self.transactionContext(request) ?? Self.pubsubContext(request)
            }
            var i = 0
            while i < e.count && e[i].stage.rawValue < AdmissionStage.authentication.rawValue {
                if let refusal = Self.run(base + i, request) { return refusal }
                i += 1
            }
            if let refusal = Self.authentication(request) ?? Self.transactionContext(request) { return refusal }
            while i < e.count && e[i].stage.rawValue < AdmissionStage.pubsubContext.rawValue {
                if let refusal = Self.run(base + i, request) { return refusal }
                i += 1
            }
            if let refusal = Self.pubsubContext(request) { return refusal }
            while i < e.count {
                if let refusal = Self.run(base + i, request) { return refusal }
                i += 1
            }
            return nil
        }
    }

    /// The first refusal among the checks that hold inside EXEC.
    func refusalInsideExec(_ request: borrowing AdmissionRequest) -> String? {
        entries.withUnsafeBufferPointer { e in
            guard let base = e.baseAddress else { return nil }
            for i in 0..<e.count where e[i].insideExec {
                if let refusal = Self.run(base + i, request) { return refusal }
            }
            return nil
        }
    }

    // The built-in stages (Redis's processCommand texts).

    static let noAuth = "NOAUTH Authentication required."
    static let notInMulti = "ERR Command not allowed inside a transaction"

    /// A RESP2 client in subscribed mode may run only the pub/sub commands, PING, QUIT and RESET.
    static func subscribedRefusal(_ command: RegisteredCommand) -> String? {
        guard !PubSubCommands.allowedWhileSubscribed(command.spec.name) else { return nil }
        return "ERR Can't execute '\(command.fullName)': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context"
    }

    @inline(__always)
    static func authentication(_ r: borrowing AdmissionRequest) -> String? {
        !r.client.authenticated && !r.command.spec.flags.contains(.noAuth) ? noAuth : nil
    }

    @inline(__always)
    static func transactionContext(_ r: borrowing AdmissionRequest) -> String? {
        r.client.transaction != nil && r.command.spec.flags.contains(.noMulti) ? notInMulti : nil
    }

    @inline(__always)
    static func pubsubContext(_ r: borrowing AdmissionRequest) -> String? {
        guard !r.client.resp3, !r.client.subscriptions.isEmpty else { return nil }
        return subscribedRefusal(r.command)
    }
}

/// The node's part in replication (INFO replication `role`).
public enum NodeRole: Sendable, Equatable {
    case master, replica
}
