import CairnRESP

// Publish/subscribe (pubsub.c in Redis): SUBSCRIBE/UNSUBSCRIBE, PSUBSCRIBE/PUNSUBSCRIBE, sharded
// SSUBSCRIBE/SUNSUBSCRIBE/SPUBLISH, PUBLISH and PUBSUB introspection. Messages are written into
// each receiver's output buffer (arrays in RESP2, push frames in RESP3); the server is told which
// clients have new output through `onClientOutput` and flushes them after the current read.

public struct Subscriptions {
    public var channels: Set<[UInt8]> = []
    public var patterns: Set<[UInt8]> = []
    public var shardChannels: Set<[UInt8]> = []
    /// Count reported in (un)subscribe replies: channels + patterns (shard channels apart).
    var count: Int { channels.count + patterns.count }
    public var isEmpty: Bool { channels.isEmpty && patterns.isEmpty && shardChannels.isEmpty }

    subscript(kind: PubSubCommands.Kind) -> Set<[UInt8]> {
        get { switch kind { case .channel: channels; case .pattern: patterns; case .shard: shardChannels } }
        _modify {
            // Yield the stored collection itself: a get/set pair would copy it on every change.
            switch kind {
            case .channel: yield &channels
            case .pattern: yield &patterns
            case .shard: yield &shardChannels
            }
        }
    }
}

/// The engine's registries: who listens to what.
public struct PubSubRegistry {
    var channels: [[UInt8]: [ClientSession]] = [:]
    var patterns: [[UInt8]: [ClientSession]] = [:]
    var shardChannels: [[UInt8]: [ClientSession]] = [:]
    public var patternCount: Int { patterns.count }
    public var channelCount: Int { channels.count }
    public var shardChannelCount: Int { shardChannels.count }

    subscript(kind: PubSubCommands.Kind) -> [[UInt8]: [ClientSession]] {
        get { switch kind { case .channel: channels; case .pattern: patterns; case .shard: shardChannels } }
        _modify {
            // Yield the stored collection itself: a get/set pair would copy it on every change.
            switch kind {
            case .channel: yield &channels
            case .pattern: yield &patterns
            case .shard: yield &shardChannels
            }
        }
    }
}

enum PubSubCommands {
    static let specs: [CommandSpec] = [
        spec("subscribe", -2, since: "2.0.0", "Listens for messages published to channels.", subscribe),
        spec("unsubscribe", -1, since: "2.0.0", "Stops listening to messages posted to channels.", unsubscribe),
        spec("psubscribe", -2, since: "2.0.0", "Listens for messages published to channels that match one or more patterns.", psubscribe),
        spec("punsubscribe", -1, since: "2.0.0", "Stops listening to messages published to channels that match one or more patterns.", punsubscribe),
        CommandSpec("ssubscribe", arity: -2, flags: [.pubsub, .noscript, .loading, .stale], categories: [.pubsub, .slow],
                    keys: [.from(1, lastKey: -1, [.notKey])], group: "pubsub", since: "7.0.0",
                    summary: "Listens for messages published to shard channels.", handler: ssubscribe),
        CommandSpec("sunsubscribe", arity: -1, flags: [.pubsub, .noscript, .loading, .stale], categories: [.pubsub, .slow],
                    keys: [.from(1, lastKey: -1, [.notKey])], group: "pubsub", since: "7.0.0",
                    summary: "Stops listening to messages posted to shard channels.", handler: sunsubscribe),
        CommandSpec("publish", arity: 3, flags: [.pubsub, .loading, .stale, .fast, .mayReplicate], categories: [.pubsub, .fast],
                    group: "pubsub", since: "2.0.0", summary: "Posts a message to a channel.", handler: publish),
        CommandSpec("spublish", arity: 3, flags: [.pubsub, .loading, .stale, .fast, .mayReplicate], categories: [.pubsub, .fast],
                    keys: [.at(1, [.notKey])],
                    group: "pubsub", since: "7.0.0", summary: "Post a message to a shard channel", handler: spublish),
        CommandSpec("pubsub", arity: -2, flags: [], categories: [.slow], group: "pubsub", since: "2.8.0",
                    summary: "A container for Pub/Sub commands",
                    subcommands: [
                        introspection("channels", -2, "List active channels", channels),
                        introspection("numsub", -2, "Get the count of subscribers for channels", numsub),
                        introspection("numpat", 2, "Get the count of unique patterns pattern subscriptions", numpat),
                        introspection("shardchannels", -2, "List active shard channels", shardChannels),
                        introspection("shardnumsub", -2, "Get the count of subscribers for shard channels", shardNumsub),
                        // As Redis 7.0: not a pub/sub command itself (no `pubsub` flag or category).
                        CommandSpec("help", arity: 2, flags: [.loading, .stale], categories: [.slow], group: "pubsub",
                                    since: "6.2.0", summary: "Show helpful text about the different subcommands", handler: help),
                    ],
                    handler: { $0.replySyntaxError() }),
    ]

    private static func spec(_ name: String, _ arity: Int, since: String, _ summary: String,
                             _ handler: @escaping CommandHandler) -> CommandSpec {
        CommandSpec(name, arity: arity, flags: [.pubsub, .noscript, .loading, .stale], categories: [.pubsub, .slow],
                    group: "pubsub", since: since, summary: summary, handler: handler)
    }

    private static func introspection(_ name: String, _ arity: Int, _ summary: String,
                                      _ handler: @escaping CommandHandler) -> CommandSpec {
        CommandSpec(name, arity: arity, flags: [.pubsub, .loading, .stale], categories: [.pubsub, .slow],
                    group: "pubsub", since: name.hasPrefix("shard") ? "7.0.0" : "2.8.0", summary: summary, handler: handler)
    }

    /// Commands a RESP2 client may run while subscribed.
    static func allowedWhileSubscribed(_ name: String) -> Bool {
        switch name {
        case "subscribe", "unsubscribe", "psubscribe", "punsubscribe", "ssubscribe", "sunsubscribe",
             "ping", "quit", "reset": return true
        default: return false
        }
    }

    // MARK: replies

    /// `[kind, name, count]` as a push (RESP3) or array (RESP2). A nil name is a null bulk.
    static func confirm(_ client: ClientSession, _ kind: StaticString, _ name: [UInt8]?, _ count: Int) {
        client.reply.pushHeader(3)
        kind.withUTF8Buffer { client.reply.bulk(UnsafeRawBufferPointer($0)) }
        if let name { client.reply.bulk(name) } else { client.reply.null() }
        client.reply.integer(count)
    }

    // MARK: subscribe / unsubscribe

    /// The three kinds of subscription: they differ only in their registry and reply words, and
    /// in that shard channels are counted apart.
    enum Kind {
        case channel, pattern, shard

        var subscribed: StaticString {
            switch self { case .channel: "subscribe"; case .pattern: "psubscribe"; case .shard: "ssubscribe" }
        }
        var unsubscribed: StaticString {
            switch self { case .channel: "unsubscribe"; case .pattern: "punsubscribe"; case .shard: "sunsubscribe" }
        }
        /// The count an (un)subscribe reply carries.
        func count(_ s: Subscriptions) -> Int { self == .shard ? s.shardChannels.count : s.count }
    }

    static func subscribe(_ c: CommandContext) { subscribe(c, .channel) }
    static func psubscribe(_ c: CommandContext) { subscribe(c, .pattern) }
    static func ssubscribe(_ c: CommandContext) { subscribe(c, .shard) }
    static func unsubscribe(_ c: CommandContext) { unsubscribe(c, .channel) }
    static func punsubscribe(_ c: CommandContext) { unsubscribe(c, .pattern) }
    static func sunsubscribe(_ c: CommandContext) { unsubscribe(c, .shard) }

    static func subscribe(_ c: CommandContext, _ kind: Kind) {
        for i in 1..<c.args.count {
            let name = c.args.bytes(i)
            if c.client.subscriptions[kind].insert(name).inserted {
                c.engine.pubsub[kind][name, default: []].append(c.client)
            }
            confirm(c.client, kind.subscribed, name, kind.count(c.client.subscriptions))
        }
    }

    /// Named ones, or every subscription of the kind (sorted) when none is named.
    static func unsubscribe(_ c: CommandContext, _ kind: Kind) {
        let names = c.args.count > 1 ? (1..<c.args.count).map { c.args.bytes($0) }
            : c.client.subscriptions[kind].sorted { $0.lexicographicallyPrecedes($1) }
        if names.isEmpty { return confirm(c.client, kind.unsubscribed, nil, kind.count(c.client.subscriptions)) }
        for name in names {
            if c.client.subscriptions[kind].remove(name) != nil { detach(c.client, from: &c.engine.pubsub[kind], name) }
            confirm(c.client, kind.unsubscribed, name, kind.count(c.client.subscriptions))
        }
    }

    static func detach(_ client: ClientSession, from registry: inout [[UInt8]: [ClientSession]], _ name: [UInt8]) {
        registry[name]?.removeAll { $0 === client }
        if registry[name]?.isEmpty == true { registry[name] = nil }
    }

    // MARK: publish

    static func publish(_ c: CommandContext) {
        let ch = c.args.bytes(1), msg = c.args.bytes(2)
        c.reply.integer(c.engine.publish(channel: ch, message: msg))
        // In a cluster, every other node delivers it too (the count stays this node's, as Redis).
        c.engine.onPublish?(ch, msg, false)
    }

    static func spublish(_ c: CommandContext) {
        let ch = c.args.bytes(1), msg = c.args.bytes(2)
        c.reply.integer(c.engine.publishShard(channel: ch, message: msg))
        c.engine.onPublish?(ch, msg, true)
    }

    // MARK: PUBSUB

    static func channels(_ c: CommandContext) { listNames(c, c.engine.pubsub.channels) }
    static func shardChannels(_ c: CommandContext) { listNames(c, c.engine.pubsub.shardChannels) }

    static func listNames(_ c: CommandContext, _ registry: [[UInt8]: [ClientSession]]) {
        guard c.args.count <= 3 else { return c.replyArityError() }
        let pattern = c.args.count == 3 ? c.args.bytes(2) : nil
        let names = registry.keys.filter { name in pattern.map { GlobPattern.matches($0, name) } ?? true }
        c.reply.arrayHeader(names.count)
        for n in names { c.reply.bulk(n) }
    }

    static func numsub(_ c: CommandContext) { countSubscribers(c, c.engine.pubsub.channels) }
    static func shardNumsub(_ c: CommandContext) { countSubscribers(c, c.engine.pubsub.shardChannels) }

    /// Channel, count, channel, count ...: a flat array in RESP3 too, as Redis 7.0 answers
    /// (addReplyArrayLen, not a map).
    static func countSubscribers(_ c: CommandContext, _ registry: [[UInt8]: [ClientSession]]) {
        c.reply.arrayHeader((c.args.count - 2) * 2)
        for i in 2..<c.args.count {
            c.reply.bulk(c.args[i])
            c.reply.integer(registry[c.args.bytes(i)]?.count ?? 0)
        }
    }

    static func numpat(_ c: CommandContext) { c.reply.integer(c.engine.pubsub.patternCount) }

    static func help(_ c: CommandContext) {
        let lines = [
            "PUBSUB <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
            "CHANNELS [<pattern>]",
            "    Return the currently active channels matching a <pattern> (default: '*').",
            "NUMPAT",
            "    Return number of subscriptions to patterns.",
            "NUMSUB [<channel> ...]",
            "    Return the number of subscribers for the specified channels, excluding",
            "    pattern subscriptions(default: no channels).",
            "SHARDCHANNELS [<pattern>]",
            "    Return the currently active shard level channels matching a <pattern> (default: '*').",
            "SHARDNUMSUB [<shardchannel> ...]",
            "    Return the number of subscribers for the specified shard level channel(s)",
            "HELP",
            "    Prints this help.",
        ]
        c.reply.arrayHeader(lines.count)
        for l in lines { c.reply.simpleString(l) }
    }
}

extension Engine {
    /// Delivers a sharded message to this node's SSUBSCRIBE clients; returns how many.
    public func publishShard(channel: [UInt8], message: [UInt8]) -> Int {
        var receivers = 0
        for client in pubsub.shardChannels[channel] ?? [] {
            deliver(to: client, "smessage", [channel, message])
            receivers += 1
        }
        return receivers
    }

    /// Sends `message` to subscribers of `channel` and of patterns matching it; returns how many
    /// deliveries were made (Redis's PUBLISH reply).
    @discardableResult
    public func publish(channel: [UInt8], message: [UInt8]) -> Int {
        var receivers = 0
        for client in pubsub.channels[channel] ?? [] {
            deliver(to: client, "message", [channel, message])
            receivers += 1
        }
        for (pattern, clients) in pubsub.patterns where GlobPattern.matches(pattern, channel) {
            for client in clients {
                deliver(to: client, "pmessage", [pattern, channel, message])
                receivers += 1
            }
        }
        return receivers
    }

    /// Writes one push message `[kind, parts...]` to `client` and tells the server.
    func deliver(to client: ClientSession, _ kind: StaticString, _ parts: [[UInt8]]) {
        client.reply.pushHeader(parts.count + 1)
        kind.withUTF8Buffer { client.reply.bulk(UnsafeRawBufferPointer($0)) }
        for p in parts { client.reply.bulk(p) }
        onClientOutput?(client)
    }

    /// Drops every subscription of `client` (disconnect, RESET).
    public func unsubscribeAll(_ client: ClientSession) {
        for kind in [PubSubCommands.Kind.channel, .pattern, .shard] {
            for name in client.subscriptions[kind] { PubSubCommands.detach(client, from: &pubsub[kind], name) }
        }
        client.subscriptions = Subscriptions()
    }
}
