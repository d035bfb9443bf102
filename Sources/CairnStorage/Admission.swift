// The admission pipeline: the checks a user's command passes before it runs or is queued in a
// MULTI, in Redis 7.0's order (processCommand in server.c). The engine runs the built-in stages
// (authentication, MULTI context, pub/sub context); subsystems install the others (ACL, the
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
public typealias AdmissionCheck = (AdmissionRequest) -> String?

public struct AdmissionPipeline {
    private var checks: [[AdmissionCheck]] = Array(repeating: [], count: AdmissionStage.allCases.count)
    private var insideExec: [AdmissionCheck] = []

    public init() {}

    /// Adds `check` to `stage` (after any already there). `recheckInsideExec`: the check also
    /// runs for each queued command when EXEC runs it.
    public mutating func install(_ stage: AdmissionStage, recheckInsideExec: Bool = false, _ check: @escaping AdmissionCheck) {
        checks[stage.rawValue].append(check)
        if recheckInsideExec { insideExec.append(check) }
    }

    /// The first refusal, stage by stage in order.
    func refusal(_ request: AdmissionRequest) -> String? {
        for stage in checks {
            for check in stage {
                if let refusal = check(request) { return refusal }
            }
        }
        return nil
    }

    /// The first refusal among the checks that hold inside EXEC.
    func refusalInsideExec(_ request: AdmissionRequest) -> String? {
        for check in insideExec {
            if let refusal = check(request) { return refusal }
        }
        return nil
    }
}

/// The node's part in replication (INFO replication `role`).
public enum NodeRole: Sendable, Equatable {
    case master, replica
}

extension Engine {
    /// The stages the engine itself answers for (Redis's processCommand texts).
    func installBuiltInAdmission() {
        admission.install(.authentication) { r in
            !r.client.authenticated && !r.command.spec.flags.contains(.noAuth) ? "NOAUTH Authentication required." : nil
        }
        admission.install(.transactionContext) { r in
            r.client.transaction != nil && r.command.spec.flags.contains(.noMulti) ? "ERR Command not allowed inside a transaction" : nil
        }
        admission.install(.pubsubContext) { r in
            guard !r.client.resp3, !r.client.subscriptions.isEmpty,
                  !PubSubCommands.allowedWhileSubscribed(r.command.spec.name) else { return nil }
            return "ERR Can't execute '\(r.command.fullName)': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context"
        }
    }
}
