// The slot check made before a command runs (Redis 7.0's getNodeByQuery and
// clusterRedirectClient): serve here, or the redirection or error to reply with.

/// What a command is, for the slot check.
public struct RoutedCommand: Hashable, Sendable {
    /// The client sent ASKING before this command.
    public var asking: Bool
    /// The command itself implies ASKING (RESTORE-ASKING).
    public var impliesAsking: Bool
    /// The client sent READONLY (reads may be served by a replica of the slot's master).
    public var readOnlyClient: Bool
    /// The command has the `write` flag. For EXEC this is EXEC's own flags (not a write), as
    /// Redis checks them when the cluster is down.
    public var isWrite: Bool
    /// For EXEC: some queued command is a write (a READONLY client's transaction with a write is
    /// redirected to the master).
    public var queuedWrite: Bool
    /// The command is MIGRATE, which runs here whenever its slot is moving.
    public var isMigrate: Bool
    /// SSUBSCRIBE, SUNSUBSCRIBE or SPUBLISH: channels instead of keys.
    public var isShardedPubSub: Bool

    public init(asking: Bool = false, impliesAsking: Bool = false, readOnlyClient: Bool = false, isWrite: Bool = false,
                queuedWrite: Bool = false, isMigrate: Bool = false, isShardedPubSub: Bool = false) {
        self.asking = asking
        self.impliesAsking = impliesAsking
        self.readOnlyClient = readOnlyClient
        self.isWrite = isWrite
        self.queuedWrite = queuedWrite
        self.isMigrate = isMigrate
        self.isShardedPubSub = isShardedPubSub
    }
}

/// The settings the slot check reads.
public struct RedirectionSettings: Hashable, Sendable {
    /// `cluster-allow-reads-when-down`.
    public var allowReadsWhenDown: Bool
    /// `cluster-allow-pubsubshard-when-down`.
    public var allowPubSubShardWhenDown: Bool
    /// `cluster-preferred-endpoint-type`: what MOVED and ASK name.
    public var preferredEndpoint: EndpointType

    public init(allowReadsWhenDown: Bool = false, allowPubSubShardWhenDown: Bool = true, preferredEndpoint: EndpointType = .ip) {
        self.allowReadsWhenDown = allowReadsWhenDown
        self.allowPubSubShardWhenDown = allowPubSubShardWhenDown
        self.preferredEndpoint = preferredEndpoint
    }
}

/// `cluster-preferred-endpoint-type`.
public enum EndpointType: String, Hashable, Sendable {
    /// `ip`: the node's IP address.
    case ip
    /// `hostname`: the announced hostname, `?` when the node has none.
    case hostname
    /// `unknown-endpoint`: nothing (`-MOVED 3999 :6381`): the client reuses the address it used.
    case unknownEndpoint = "unknown-endpoint"

    /// The endpoint of `node` that redirections and CLUSTER SLOTS give.
    public func endpoint(of node: ClusterNode) -> String {
        switch self {
        case .ip: node.ip
        case .hostname: node.hostname.isEmpty ? "?" : node.hostname
        case .unknownEndpoint: ""
        }
    }
}

/// The verdict of the slot check.
public enum Redirection: Hashable, Sendable {
    /// Run the command here; `slot` is the keys' slot (nil for a command without keys).
    case serve(slot: Int?)
    /// The slot is served by another node: `-MOVED`.
    case moved(slot: Int, to: NodeName)
    /// The slot is migrating and the keys are not here: `-ASK`, once, to the target.
    case ask(slot: Int, to: NodeName)
    /// Keys in different slots: `-CROSSSLOT`.
    case crossSlot
    /// Several keys of a moving slot, some here and some not: `-TRYAGAIN`.
    case tryAgain
    /// The cluster is down: `-CLUSTERDOWN The cluster is down`.
    case clusterDown
    /// The cluster is down and takes reads only: `-CLUSTERDOWN ... only accepts read commands`.
    case clusterDownReadOnly
    /// No node serves the slot: `-CLUSTERDOWN Hash slot not served`.
    case slotNotServed

    /// The error message to reply with (without the leading `-` of the reply line), nil for
    /// `.serve`. MOVED and ASK name the node's endpoint by `endpoint` and its client port.
    public func errorMessage(in state: ClusterState, endpoint: EndpointType) -> String? {
        switch self {
        case .serve: return nil
        case .moved(let slot, let name), .ask(let slot, let name):
            let kind = if case .ask = self { "ASK" } else { "MOVED" }
            guard let node = state[name] else { return "\(kind) \(slot) :0" }
            return "\(kind) \(slot) \(endpoint.endpoint(of: node)):\(node.port)"
        case .crossSlot: return "CROSSSLOT Keys in request don't hash to the same slot"
        case .tryAgain: return "TRYAGAIN Multiple keys request during rehashing of slot"
        case .clusterDown: return "CLUSTERDOWN The cluster is down"
        case .clusterDownReadOnly: return "CLUSTERDOWN The cluster is down and only accepts read commands"
        case .slotNotServed: return "CLUSTERDOWN Hash slot not served"
        }
    }
}
