import CairnRESP

// Client-side caching (Redis 7.0's tracking.c). A client turns tracking on with CLIENT TRACKING;
// from then on:
// - default mode: every key a read-only command names is remembered as "this client may cache
//   it" (OPTIN: only after CLIENT CACHING YES; OPTOUT: unless CLIENT CACHING NO). When such a
//   key is modified (signalModifiedKey), each client remembered for it gets one invalidation and
//   the key is forgotten until read again;
// - BCAST mode: nothing is remembered per client; every modified key matching one of the
//   client's prefixes (all keys without PREFIX) is sent, batched per prefix.
// Invalidations are RESP3 push messages `>2 invalidate [keys]` on the client's own connection,
// or go to the client named by REDIRECT (RESP2: a `message` on `__redis__:invalidate` if that
// client is subscribed; RESP3: a push). FLUSHDB/FLUSHALL invalidate everything with a null.
//
// Keys are global, not per database, as in Redis. Messages for a key a command modified are
// written after the command's reply (Redis defers those of the current client the same way;
// for other clients the order is not observable). Redis sends BCAST batches once per event-loop
// iteration; Cairn sends them after each top-level command, so a pipeline gets several smaller
// batches where Redis may send one.

/// One client's tracking mode (CLIENT TRACKING ON ...); nil on the session when off.
public final class TrackingState {
    /// REDIRECT target's client id; 0 for the client itself.
    public internal(set) var redirect: Int64 = 0
    public internal(set) var bcast = false
    public internal(set) var optIn = false
    public internal(set) var optOut = false
    public internal(set) var noLoop = false
    /// CLIENT CACHING YES (optin) / NO (optout) was given for the next command.
    public internal(set) var caching = false
    /// The REDIRECT client went away (CLIENT LIST flag `R`, TRACKINGINFO `broken_redirect`).
    public internal(set) var brokenRedirect = false
    /// BCAST prefixes, sorted bytewise as Redis's radix tree lists them.
    public internal(set) var prefixes: [[UInt8]] = []

    init() {}
}

/// The engine's tracking tables.
public struct TrackingTable {
    /// Some client has tracking on: the check every modification makes first.
    public internal(set) var isActive = false
    /// Clients with tracking on, by id.
    var clients: [Int64: ClientSession] = [:]
    /// Key -> ids of the clients that may cache it (default mode).
    var keys: [[UInt8]: Set<Int64>] = [:]
    /// Ids summed over all keys (INFO tracking_total_items).
    public internal(set) var totalItems = 0
    /// BCAST prefix -> the clients subscribed to it and the keys modified since the last batch
    /// (with the id of the client that last modified each, for NOLOOP; 0 for none).
    var prefixes: [[UInt8]: BroadcastPrefix] = [:]
    var pendingBroadcast = false
    /// Invalidations to write once the running command has replied: (tracking client, key; nil
    /// for "everything", after a flush).
    var pending: [(client: ClientSession, key: [UInt8]?)] = []
    /// `tracking-table-max-keys` (0: no limit).
    public var maxKeys = 1_000_000
    /// The client whose top-level command is running (NOLOOP).
    unowned(unsafe) var currentClient: ClientSession?

    public var keyCount: Int { keys.count }
    public var prefixCount: Int { prefixes.count }
    public var clientCount: Int { clients.count }

    public init() {}
}

final class BroadcastPrefix {
    var clients: [Int64: ClientSession] = [:]
    var modified: [[UInt8]: Int64] = [:]
}

public enum TrackingError: Error, Equatable {
    case message(String)
}

extension Engine {
    // MARK: turning tracking on and off (CLIENT TRACKING)

    public struct TrackingOptions {
        public var redirect: Int64 = 0
        public var bcast = false, optIn = false, optOut = false, noLoop = false
        public var prefixes: [[UInt8]] = []
        public init() {}
    }

    /// CLIENT TRACKING ON with `options`, after Redis's checks (their error texts); nil on success.
    public func enableTracking(_ client: ClientSession, _ options: TrackingOptions) -> String? {
        if !options.bcast && !options.prefixes.isEmpty { return "ERR PREFIX option requires BCAST mode to be enabled" }
        if let t = client.tracking, t.bcast != options.bcast {
            return "ERR You can't switch BCAST mode on/off before disabling tracking for this client, and then re-enabling it with a different mode."
        }
        if options.bcast && (options.optIn || options.optOut) { return "ERR OPTIN and OPTOUT are not compatible with BCAST" }
        if options.optIn && options.optOut { return "ERR You can't specify both OPTIN mode and OPTOUT mode" }
        if let t = client.tracking, (options.optIn && t.optOut) || (options.optOut && t.optIn) {
            return "ERR You can't switch OPTIN/OPTOUT mode before disabling tracking for this client, and then re-enabling it with a different mode."
        }
        if options.bcast, let error = prefixCollision(client, options.prefixes) { return error }

        let state = client.tracking ?? TrackingState()
        state.redirect = options.redirect
        state.brokenRedirect = false
        state.bcast = options.bcast
        state.optIn = options.optIn
        state.optOut = options.optOut
        state.noLoop = options.noLoop
        client.tracking = state
        tracking.clients[client.id] = client
        tracking.isActive = true
        if options.bcast {
            for prefix in options.prefixes.isEmpty ? [[]] : options.prefixes {
                let entry = tracking.prefixes[prefix] ?? BroadcastPrefix()
                tracking.prefixes[prefix] = entry
                if entry.clients.updateValue(client, forKey: client.id) == nil {
                    state.prefixes.append(prefix)
                }
            }
            state.prefixes.sort { $0.lexicographicallyPrecedes($1) }
        }
        return nil
    }

    /// Redis's checkPrefixCollisionsOrReply: no prefix may be a prefix of another of the client's.
    private func prefixCollision(_ client: ClientSession, _ prefixes: [[UInt8]]) -> String? {
        func overlap(_ a: [UInt8], _ b: [UInt8]) -> Bool { a.count < b.count ? b.starts(with: a) : a.starts(with: b) }
        func text(_ p: [UInt8]) -> String { String(decoding: ClientBytes.cString(p), as: UTF8.self) }
        for (i, p) in prefixes.enumerated() {
            for existing in client.tracking?.prefixes ?? [] where overlap(existing, p) {
                return "ERR Prefix '\(text(p))' overlaps with an existing prefix '\(text(existing))'. Prefixes for a single client must not overlap."
            }
            for q in prefixes[(i + 1)...] where overlap(p, q) {
                return "ERR Prefix '\(text(p))' overlaps with another provided prefix '\(text(q))'. Prefixes for a single client must not overlap."
            }
        }
        return nil
    }

    /// CLIENT TRACKING OFF, RESET, disconnect. The key table keeps the client's id; it is
    /// skipped when found (Redis removes it lazily too).
    public func disableTracking(_ client: ClientSession) {
        guard let state = client.tracking else { return }
        for prefix in state.prefixes {
            guard let entry = tracking.prefixes[prefix] else { continue }
            entry.clients[client.id] = nil
            if entry.clients.isEmpty { tracking.prefixes[prefix] = nil }
        }
        client.tracking = nil
        tracking.clients[client.id] = nil
        tracking.isActive = !tracking.clients.isEmpty
        if !tracking.isActive {
            tracking.keys = [:]
            tracking.totalItems = 0
            tracking.pendingBroadcast = false
        }
    }

    /// CLIENT CACHING YES|NO.
    public func setTrackingCaching(_ client: ClientSession, yes: Bool) -> String? {
        guard let t = client.tracking else {
            return "ERR CLIENT CACHING can be called only when the client is in tracking mode with OPTIN or OPTOUT mode enabled"
        }
        if yes {
            guard t.optIn else { return "ERR CLIENT CACHING YES is only valid when tracking is enabled in OPTIN mode." }
        } else {
            guard t.optOut else { return "ERR CLIENT CACHING NO is only valid when tracking is enabled in OPTOUT mode." }
        }
        t.caching = true
        return nil
    }

    // MARK: after each command (Engine.execute)

    /// After a command of a tracking client (any depth: also each command EXEC runs): a read-only
    /// command's keys are remembered for it (Redis's trackingRememberKeys).
    func rememberTrackedKeys(_ client: ClientSession, _ command: RegisteredCommand, _ args: Arguments) {
        guard let t = client.tracking, !t.bcast, command.spec.flags.contains(.readonly),
              !command.spec.flags.contains(.pubsub), !(t.optIn && !t.caching), !(t.optOut && t.caching) else { return }
        for i in command.spec.keyIndices(args) {
            let key = args.bytes(i)
            if tracking.keys[key, default: []].insert(client.id).inserted { tracking.totalItems += 1 }
        }
    }

    /// The end of a top-level command whose client has a CLIENT REPLY mode or while some client
    /// tracks: the reply is dropped under REPLY OFF/SKIP (what was written since `replyStart`),
    /// then the invalidations the command caused are written (Redis's afterCommand), and CACHING
    /// expires as ASKING does.
    func finishTopLevel(_ client: ClientSession, replyStart: Int) {
        switch client.replyMode {
        case .on: break
        case .off: client.reply.buffer.moveWriterIndex(to: replyStart)
        case .skipNext: client.replyMode = .skip
        case .skip:
            client.reply.buffer.moveWriterIndex(to: replyStart)
            client.replyMode = .on
        }
        guard tracking.isActive else { return }
        if let t = client.tracking, t.caching, client.transaction == nil, client.lastCommandRun?.fullName.hasPrefix("client|") != true {
            t.caching = false
        }
        tracking.currentClient = nil
        flushTrackingMessages()
        limitTrackingTable()
    }

    /// Writes the invalidations the command caused and the BCAST batches.
    func flushTrackingMessages() {
        if !tracking.pending.isEmpty {
            let pending = tracking.pending
            tracking.pending = []
            for (client, key) in pending { sendInvalidation(client, keys: key.map { [$0] }) }
        }
        if tracking.pendingBroadcast { broadcastInvalidations() }
    }

    // MARK: invalidation

    /// A key was modified (signalModifiedKey; `by` is the client whose command did it, nil for
    /// expiry and eviction). Redis's trackingInvalidateKey.
    func invalidateTrackedKey(_ key: [UInt8], by modifier: ClientSession? = nil) {
        if !tracking.prefixes.isEmpty {
            for (prefix, entry) in tracking.prefixes where key.starts(with: prefix) {
                entry.modified[key] = modifier?.id ?? 0
                tracking.pendingBroadcast = true
            }
        }
        if let ids = tracking.keys.removeValue(forKey: key) {
            tracking.totalItems -= ids.count
            for id in ids.sorted() {
                guard let target = tracking.clients[id], let t = target.tracking, !t.bcast else { continue }
                if t.noLoop && target === tracking.currentClient { continue }
                tracking.pending.append((target, key))
            }
        }
        // Outside a command (active expiry, eviction): at once.
        if tracking.currentClient == nil && executionDepth == 0 { flushTrackingMessages() }
    }

    /// FLUSHDB / FLUSHALL: every tracking client is told that everything is invalid (a null),
    /// and the key table is emptied (Redis's trackingInvalidateKeysOnFlush).
    public func invalidateAllTrackedKeys() {
        guard tracking.isActive else { return }
        for id in tracking.clients.keys.sorted() { tracking.pending.append((tracking.clients[id]!, nil)) }
        tracking.keys = [:]
        tracking.totalItems = 0
        if tracking.currentClient == nil && executionDepth == 0 { flushTrackingMessages() }
    }

    /// Redis's trackingLimitUsedSlots: over `tracking-table-max-keys`, keys are dropped (their
    /// clients invalidated as if the key changed) until the table fits again.
    func limitTrackingTable() {
        guard tracking.maxKeys > 0, tracking.keys.count > tracking.maxKeys else { return }
        while tracking.keys.count > tracking.maxKeys, let key = tracking.keys.first?.key {
            // Hash order: an arbitrary key, as Redis's random walk picks one.
            invalidateTrackedKey(key)
        }
        flushTrackingMessages()
    }

    /// Redis's trackingBroadcastInvalidationMessages: per prefix, the keys modified since the last
    /// batch, bytewise sorted, to each client of the prefix (without its own changes under NOLOOP).
    private func broadcastInvalidations() {
        tracking.pendingBroadcast = false
        for prefix in tracking.prefixes.keys.sorted(by: { $0.lexicographicallyPrecedes($1) }) {
            guard let entry = tracking.prefixes[prefix], !entry.modified.isEmpty else { continue }
            let modified = entry.modified.sorted { $0.key.lexicographicallyPrecedes($1.key) }
            entry.modified = [:]
            for (_, client) in entry.clients.sorted(by: { $0.key < $1.key }) {
                let noLoop = client.tracking?.noLoop == true
                let keys = modified.filter { !noLoop || $0.value != client.id }.map(\.key)
                if !keys.isEmpty { sendInvalidation(client, keys: keys) }
            }
        }
    }

    /// Redis's sendTrackingMessage: `keys` nil means "everything" (a null).
    func sendInvalidation(_ client: ClientSession, keys: [[UInt8]]?) {
        guard let state = client.tracking else { return }
        var target = client
        var redirected = false
        if state.redirect != 0 {
            guard let other = clientLookup?(state.redirect) else {
                state.brokenRedirect = true
                if client.resp3 {
                    client.reply.pushHeader(2)
                    client.reply.bulk("tracking-redir-broken")
                    client.reply.integer(state.redirect)
                    onClientOutput?(client)
                }
                return
            }
            target = other
            redirected = true
        }
        if target.resp3 {
            target.reply.pushHeader(2)
            target.reply.bulk("invalidate")
        } else if redirected && !target.subscriptions.isEmpty {
            target.reply.pushHeader(3)
            target.reply.bulk("message")
            target.reply.bulk("__redis__:invalidate")
        } else {
            return  // RESP2 without redirection: no way to push on this connection
        }
        if let keys {
            target.reply.arrayHeader(keys.count)
            for key in keys { target.reply.bulk(key) }
        } else if client.resp3 {
            target.reply.buffer.writeStaticString("_\r\n")  // the tracking client's null, as Redis
        } else {
            target.reply.buffer.writeStaticString("$-1\r\n")
        }
        onClientOutput?(target)
    }
}
