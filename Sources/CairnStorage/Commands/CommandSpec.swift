import CairnRESP

// One command table records, for every command: name, arity, flags, ACL categories and key
// specs (KeySpec.swift). COMMAND (COUNT/INFO/DOCS/GETKEYS/LIST), ACL categories, cluster slot routing and the
// propagation path all read it, so a command is described in exactly one place.

public typealias CommandHandler = @Sendable (CommandContext) -> Void

public struct CommandFlags: OptionSet, Sendable, Hashable {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }

    public static let write = CommandFlags(rawValue: 1 << 0)
    public static let readonly = CommandFlags(rawValue: 1 << 1)
    public static let denyOOM = CommandFlags(rawValue: 1 << 2)
    public static let admin = CommandFlags(rawValue: 1 << 3)
    public static let pubsub = CommandFlags(rawValue: 1 << 4)
    public static let noscript = CommandFlags(rawValue: 1 << 5)
    public static let blocking = CommandFlags(rawValue: 1 << 6)
    public static let loading = CommandFlags(rawValue: 1 << 7)
    public static let stale = CommandFlags(rawValue: 1 << 8)
    public static let skipMonitor = CommandFlags(rawValue: 1 << 9)
    public static let skipSlowlog = CommandFlags(rawValue: 1 << 10)
    public static let fast = CommandFlags(rawValue: 1 << 11)
    public static let noAuth = CommandFlags(rawValue: 1 << 12)
    public static let mayReplicate = CommandFlags(rawValue: 1 << 13)
    public static let noMandatoryKeys = CommandFlags(rawValue: 1 << 14)
    public static let noMulti = CommandFlags(rawValue: 1 << 15)
    public static let movableKeys = CommandFlags(rawValue: 1 << 16)
    public static let allowBusy = CommandFlags(rawValue: 1 << 17)

    /// Names as COMMAND INFO prints them, in Redis's order.
    static let names: [(CommandFlags, String)] = [
        (.write, "write"), (.readonly, "readonly"), (.denyOOM, "denyoom"), (.admin, "admin"),
        (.pubsub, "pubsub"), (.noscript, "noscript"), (.blocking, "blocking"), (.loading, "loading"),
        (.stale, "stale"), (.skipMonitor, "skip_monitor"), (.skipSlowlog, "skip_slowlog"),
        (.fast, "fast"), (.noAuth, "no_auth"), (.mayReplicate, "may_replicate"),
        (.noMandatoryKeys, "no_mandatory_keys"), (.noMulti, "no_multi"), (.movableKeys, "movablekeys"),
        (.allowBusy, "allow_busy"),
    ]

    public var names: [String] { Self.names.filter { contains($0.0) }.map(\.1) }
}

public struct ACLCategories: OptionSet, Sendable, Hashable {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }

    public static let keyspace = ACLCategories(rawValue: 1 << 0)
    public static let read = ACLCategories(rawValue: 1 << 1)
    public static let write = ACLCategories(rawValue: 1 << 2)
    public static let set = ACLCategories(rawValue: 1 << 3)
    public static let sortedset = ACLCategories(rawValue: 1 << 4)
    public static let list = ACLCategories(rawValue: 1 << 5)
    public static let hash = ACLCategories(rawValue: 1 << 6)
    public static let string = ACLCategories(rawValue: 1 << 7)
    public static let bitmap = ACLCategories(rawValue: 1 << 8)
    public static let hyperloglog = ACLCategories(rawValue: 1 << 9)
    public static let geo = ACLCategories(rawValue: 1 << 10)
    public static let stream = ACLCategories(rawValue: 1 << 11)
    public static let pubsub = ACLCategories(rawValue: 1 << 12)
    public static let admin = ACLCategories(rawValue: 1 << 13)
    public static let fast = ACLCategories(rawValue: 1 << 14)
    public static let slow = ACLCategories(rawValue: 1 << 15)
    public static let blocking = ACLCategories(rawValue: 1 << 16)
    public static let dangerous = ACLCategories(rawValue: 1 << 17)
    public static let connection = ACLCategories(rawValue: 1 << 18)
    public static let transaction = ACLCategories(rawValue: 1 << 19)
    public static let scripting = ACLCategories(rawValue: 1 << 20)

    /// Names without the '@', in Redis's ACL CAT order.
    public static let names: [(ACLCategories, String)] = [
        (.keyspace, "keyspace"), (.read, "read"), (.write, "write"), (.set, "set"),
        (.sortedset, "sortedset"), (.list, "list"), (.hash, "hash"), (.string, "string"),
        (.bitmap, "bitmap"), (.hyperloglog, "hyperloglog"), (.geo, "geo"), (.stream, "stream"),
        (.pubsub, "pubsub"), (.admin, "admin"), (.fast, "fast"), (.slow, "slow"),
        (.blocking, "blocking"), (.dangerous, "dangerous"), (.connection, "connection"),
        (.transaction, "transaction"), (.scripting, "scripting"),
    ]

    public var names: [String] { Self.names.filter { contains($0.0) }.map { "@" + $0.1 } }
}

/// Redis's legacy description of where a command's keys are, as COMMAND INFO's elements 4-6 show
/// it: positions first...last (negative counts from the end) every `step`; first 0 means none.
/// Derived from the key specs (`[KeySpec].legacyKeyPositions`), never given by hand.
public struct KeyPositions: Sendable, Equatable {
    public var first: Int
    public var last: Int
    public var step: Int
    public static let none = KeyPositions(first: 0, last: 0, step: 0)
    public init(first: Int, last: Int, step: Int) {
        self.first = first
        self.last = last
        self.step = step
    }
}

public typealias KeyFinder = @Sendable (Arguments) -> [Int]

public struct CommandSpec: Sendable {
    /// Lowercase name; subcommands are named by the subcommand word only (`get` under `config`).
    public var name: String
    /// Positive: exact argument count (incl. the name); negative: at least -arity.
    public var arity: Int
    /// As registered, plus `movableKeys` when the keys say so (see `init`).
    public var flags: CommandFlags
    public var categories: ACLCategories
    /// Redis's key specifications for the command: the one description of its keys.
    public private(set) var keySpecs: [KeySpec]
    /// The legacy (first, last, step) triple derived from `keySpecs`.
    public private(set) var keyPositions: KeyPositions
    public var summary: String
    public var since: String
    public var group: String
    public var handler: CommandHandler
    /// The command's own key finder, where Redis has one (a getkeys_proc): argument indices of the
    /// keys of a call whose key positions depend on its arguments (ZUNION's numkeys, LMPOP's).
    public private(set) var findKeys: KeyFinder?
    public var subcommands: [CommandSpec]

    public init(
        _ name: String, arity: Int, flags: CommandFlags, categories: ACLCategories,
        keys: [KeySpec] = [], group: String, since: String = "1.0.0", summary: String = "",
        findKeys: KeyFinder? = nil,
        subcommands: [CommandSpec] = [], handler: @escaping CommandHandler
    ) {
        self.name = name
        self.arity = arity
        self.flags = flags
        self.categories = categories
        self.keySpecs = keys
        self.keyPositions = keys.legacyKeyPositions
        self.group = group
        self.since = since
        self.summary = summary
        self.findKeys = findKeys
        self.subcommands = subcommands
        self.handler = handler
        // Redis's populateCommandMovableKeys: a key finder, or a spec the triple cannot describe.
        if findKeys != nil || keys.contains(where: { !$0.isPlainRange }) { self.flags.insert(.movableKeys) }
        // keyIndices reads the triple unless there is a finder: specs it cannot describe need one.
        assert(findKeys != nil || (keys.allSatisfy(\.isPlainRange) && (keys.isEmpty || keyPositions.first > 0)),
               "\(name): key specs need a key finder")
    }

    /// Whether `argc` (including the name) satisfies the arity.
    @inlinable
    public func acceptsArgumentCount(_ argc: Int) -> Bool {
        arity >= 0 ? argc == arity : argc >= -arity
    }

    /// Whether the command takes keys at all (COMMAND GETKEYS refuses those that do not).
    public var hasKeys: Bool { keyPositions.first > 0 || findKeys != nil }

    /// Indices of the key arguments of a concrete call: the command's finder if it has one, else
    /// the legacy triple, which spans the index-range specs (the only kind a command without a
    /// finder may have; the init checks so). Like the code before the specs moved here, it counts
    /// a `notKey` spec's argument (SPUBLISH's channel) as a key, where Redis leaves it out.
    public func keyIndices(_ args: Arguments) -> [Int] {
        if let findKeys { return findKeys(args) }
        let keys = keyPositions
        guard keys.first > 0 else { return [] }
        let last = keys.last < 0 ? args.count + keys.last : keys.last
        var out: [Int] = []
        var i = keys.first
        while i <= last && i < args.count {
            out.append(i)
            i += max(1, keys.step)
        }
        return out
    }

    /// Whether argument `index` of a call with `argc` arguments is a key the command only reads.
    public func isReadOnlyKey(at index: Int, argc: Int) -> Bool {
        keySpecs.isReadOnlyKey(at: index, argc: argc)
    }
}
