import CairnRESP

// Blocked clients (blocked.c in Redis). A blocked client stops executing further requests until
// its wait ends; the wait ends by being served, by its deadline (the server cron calls
// `expireBlockedClients`), or by CLIENT UNBLOCK.
//
// Two kinds of wait:
// - on keys (BLPOP, BLMOVE, BZPOPMIN, ...): a command that finds nothing to pop calls `block`
//   and the client is queued, FIFO, on each key. Commands that add elements call
//   `signalKeyReady`; after each top-level command the engine serves ready keys: the first client
//   queued on the key (whose awaited type matches the value there) has its command run again,
//   which now finds data.
// - external (WAIT, MIGRATE, ...): another part of the node finishes the wait (replica acks, a
//   socket) with `completeExternalWait`, writing the reply; its own timeout reply otherwise.

public struct BlockedState {
    public enum Awaits: Sendable { case list, zset }
    /// How a timed-out command replies: null array (BLPOP, BZPOPMIN, BLMPOP...), null bulk
    /// (BLMOVE, BRPOPLPUSH), or what an external wait says (WAIT replies its count so far).
    public enum TimeoutReply {
        case nullArray, nullBulk
        case custom((inout ReplyWriter) -> Void)
    }

    public enum Wait {
        /// Keys in database `db` until one holds a value of type `awaits`; then the command
        /// (`arguments`) runs again.
        case keys(db: Int, keys: [[UInt8]], awaits: Awaits, arguments: [[UInt8]])
        /// Finished by `completeExternalWait`; `name` says what for (CLIENT LIST, tests).
        case external(name: String)
    }

    public let wait: Wait
    let timeoutReply: TimeoutReply
    /// Absolute unix ms, or nil to wait forever.
    let deadline: Int64?

    var keys: [[UInt8]] {
        if case .keys(_, let keys, _, _) = wait { return keys }
        return []
    }

    /// The type a wait on keys is for; nil for an external wait.
    var awaits: Awaits? {
        if case .keys(_, _, let awaits, _) = wait { return awaits }
        return nil
    }
}

extension Engine {
    /// Whether the client running `c` may block now: inside MULTI/EXEC, and for a master link
    /// or a replay (which must never stall), a blocking command answers at once as if its
    /// timeout had passed (Redis's CLIENT_DENY_BLOCKING).
    public func mayBlock(_ client: ClientSession) -> Bool { !executingTransaction && client.origin.mayBlock }

    /// Parses a blocking timeout in seconds at argument `i` into an absolute deadline (nil =
    /// wait forever), as Redis's getTimeoutFromObjectOrReply: a long double, truncated to whole
    /// milliseconds (so 0.0001 means 0, forever). Replies Redis's error and returns .none when
    /// invalid.
    public func blockingDeadline(_ c: CommandContext, argument i: Int) -> Int64?? {
        guard let seconds = FloatFormat.parseLongDouble(c.args[i]), seconds.isFinite,
              seconds * 1000 < LongDouble(Int64.max / 2), seconds * 1000 > -LongDouble(Int64.max / 2)
        else {
            c.reply.error("ERR timeout is not a float or out of range")
            return .none
        }
        let ms = Int64(seconds * 1000)
        if ms < 0 {
            c.reply.error("ERR timeout is negative")
            return .none
        }
        return .some(ms == 0 ? nil : now + ms)
    }

    /// Blocks the client running `c` on `keys` until one holds a value of type `awaits`.
    public func block(_ c: CommandContext, keys: [[UInt8]], awaits: BlockedState.Awaits,
                      deadline: Int64?, timeoutReply: BlockedState.TimeoutReply) {
        let client = c.client
        if requeueing === client {
            // Served but found nothing after all: the serve loop puts it back in its place.
            servedClientBlockedAgain = true
            return
        }
        let state = BlockedState(wait: .keys(db: client.db, keys: keys, awaits: awaits, arguments: c.args.copyAll()),
                                 timeoutReply: timeoutReply, deadline: deadline)
        client.blocked = state
        for key in keys { blockedClients[client.db, default: [:]][key, default: []].append(client) }
        blockedClientCount += 1
    }

    /// Blocks `client` until another part of the node calls `completeExternalWait` (WAIT until
    /// replicas acknowledge, MIGRATE until its target answers), or until `deadline` (nil: no
    /// deadline), when `onTimeout` writes its reply. Call from the command's handler, which
    /// writes no reply itself. Refused (false) for a client that may not block.
    @discardableResult
    public func blockExternally(_ c: CommandContext, name: String, deadline: Int64?,
                                onTimeout: @escaping (inout ReplyWriter) -> Void) -> Bool {
        guard mayBlock(c.client) else { return false }
        c.client.blocked = BlockedState(wait: .external(name: name), timeoutReply: .custom(onTimeout), deadline: deadline)
        externallyBlocked.append(c.client)
        blockedClientCount += 1
        return true
    }

    /// Ends an external wait: `reply` writes the client's reply, then the client resumes.
    /// False if the client was not waiting externally.
    @discardableResult
    public func completeExternalWait(_ client: ClientSession, reply: (inout ReplyWriter) -> Void) -> Bool {
        guard let state = client.blocked, case .external = state.wait else { return false }
        unregisterBlocked(client)
        reply(&client.reply)
        onClientUnblocked?(client)
        return true
    }

    /// Removes `client` from every wait queue (it was served, timed out, unblocked or left).
    func unregisterBlocked(_ client: ClientSession) {
        guard let state = client.blocked else { return }
        switch state.wait {
        case .keys(let db, let keys, _, _):
            for key in keys {
                blockedClients[db]?[key]?.removeAll { $0 === client }
                if blockedClients[db]?[key]?.isEmpty == true { blockedClients[db]?[key] = nil }
            }
            if blockedClients[db]?.isEmpty == true { blockedClients[db] = nil }
        case .external:
            externallyBlocked.removeAll { $0 === client }
        }
        client.blocked = nil
        blockedClientCount -= 1
    }

    /// Serves clients blocked on keys that became ready during the last command: on each ready
    /// key, in the order they blocked, the clients waiting for the type the key now holds
    /// (Redis's serveClientsBlockedOn*Key skip the others, which keep waiting).
    func serveReadyKeys() {
        while !readyKeys.isEmpty {
            let batch = readyKeys
            readyKeys = []
            for (dbIndex, key) in batch {
                let db = databases[dbIndex]
                while let queue = blockedClients[dbIndex]?[key],
                      let holding = awaitedType(db, key),
                      let client = queue.first(where: { $0.blocked?.awaits == holding }),
                      let state = client.blocked, case .keys(let waitDb, let keys, _, let arguments) = state.wait {
                    // Its place in each queue, should it have to wait again.
                    let places = keys.map { blockedClients[waitDb]?[$0]?.firstIndex { $0 === client } ?? 0 }
                    unregisterBlocked(client)
                    // Run its command again, as a nested command: keys it makes ready are
                    // served by this loop, not by a recursive call.
                    requeueing = client
                    servedClientBlockedAgain = false
                    executionDepth += 1
                    Arguments.with(Self.arguments(arguments, servingFrom: key)) { execute(client, $0) }
                    executionDepth -= 1
                    requeueing = nil
                    if servedClientBlockedAgain {
                        // Nothing left for it after all: it keeps its places.
                        reinsert(client, state, at: places)
                        break
                    }
                    onClientUnblocked?(client)
                }
            }
        }
    }

    /// The command a blocked client runs again when `key` is ready, naming `key` alone: Redis 7.0
    /// serves a client from the key that became ready (serveClientBlockedOnList/SortedSet), so
    /// what its other keys hold (another type, or elements that came later in the same batch)
    /// plays no part, and the pop's events and propagation name that key. BLMOVE and BRPOPLPUSH
    /// have one key already.
    static func arguments(_ arguments: [[UInt8]], servingFrom key: [UInt8]) -> [[UInt8]] {
        guard arguments.count > 3 else { return arguments }
        switch String(decoding: arguments[0], as: UTF8.self).lowercased() {
        case "blpop", "brpop", "bzpopmin", "bzpopmax":
            // name key [key ...] timeout
            return [arguments[0], key, arguments[arguments.count - 1]]
        case "blmpop", "bzmpop":
            // name timeout numkeys key [key ...] where [COUNT count]: validated when it blocked.
            guard let n = Int(String(decoding: arguments[2], as: UTF8.self)), n >= 1, 3 + n < arguments.count else {
                return arguments
            }
            return [arguments[0], arguments[1], Array("1".utf8), key] + arguments[(3 + n)...]
        default:
            return arguments
        }
    }

    private func reinsert(_ client: ClientSession, _ state: BlockedState, at places: [Int]) {
        guard case .keys(let db, let keys, _, _) = state.wait else { return }
        client.blocked = state
        for (key, place) in zip(keys, places) {
            var queue = blockedClients[db, default: [:]][key, default: []]
            queue.insert(client, at: min(place, queue.count))
            blockedClients[db, default: [:]][key] = queue
        }
        blockedClientCount += 1
    }

    /// What a client blocked on keys can take from `key` now: nil when it holds neither a list
    /// nor a sorted set (or nothing).
    private func awaitedType(_ db: Database, _ key: [UInt8]) -> BlockedState.Awaits? {
        guard let i = db.lookup(key) else { return nil }
        switch db.table.type(at: i) {
        case .list: return .list
        case .zset: return .zset
        default: return nil
        }
    }

    /// Times out every blocked client whose deadline has passed (server cron).
    public func expireBlockedClients() {
        guard blockedClientCount > 0 else { return }
        let t = Clock.unixMillis()
        var due: [ClientSession] = []
        for (_, byKey) in blockedClients {
            for (_, clients) in byKey {
                for client in clients {
                    if let d = client.blocked?.deadline, d <= t, !due.contains(where: { $0 === client }) { due.append(client) }
                }
            }
        }
        for client in externallyBlocked {
            if let d = client.blocked?.deadline, d <= t { due.append(client) }
        }
        for client in due { unblock(client, withError: nil) }
    }

    /// Ends a wait early with the timeout reply, or with `error` (CLIENT UNBLOCK ... ERROR).
    /// Returns false if the client was not blocked.
    @discardableResult
    public func unblock(_ client: ClientSession, withError error: String?) -> Bool {
        guard let state = client.blocked else { return false }
        unregisterBlocked(client)
        if let error {
            client.reply.error(error)
        } else {
            switch state.timeoutReply {
            case .nullArray: client.reply.nullArray()
            case .nullBulk: client.reply.null()
            case .custom(let write): write(&client.reply)
            }
        }
        onClientUnblocked?(client)
        return true
    }
}
