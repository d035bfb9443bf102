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

    /// Serves clients blocked on keys that became ready during the last command.
    func serveReadyKeys() {
        while !readyKeys.isEmpty {
            let batch = readyKeys
            readyKeys = []
            for (dbIndex, key) in batch {
                let db = databases[dbIndex]
                while let queue = blockedClients[dbIndex]?[key], let client = queue.first,
                      let state = client.blocked, case .keys(_, _, let awaits, let arguments) = state.wait,
                      holds(db, key, awaits) {
                    unregisterBlocked(client)
                    // Run its command again, as a nested command: keys it makes ready are
                    // served by this loop, not by a recursive call.
                    requeueing = client
                    servedClientBlockedAgain = false
                    executionDepth += 1
                    Arguments.with(arguments) { execute(client, $0) }
                    executionDepth -= 1
                    requeueing = nil
                    if servedClientBlockedAgain {
                        // Nothing left for it after all: it keeps its place at the front.
                        reinsertAtFront(client, state)
                        break
                    }
                    onClientUnblocked?(client)
                }
            }
        }
    }

    private func reinsertAtFront(_ client: ClientSession, _ state: BlockedState) {
        guard case .keys(let db, let keys, _, _) = state.wait else { return }
        client.blocked = state
        for key in keys { blockedClients[db, default: [:]][key, default: []].insert(client, at: 0) }
        blockedClientCount += 1
    }

    private func holds(_ db: Database, _ key: [UInt8], _ awaits: BlockedState.Awaits) -> Bool {
        guard let i = db.lookup(key) else { return false }
        switch awaits {
        case .list: return db.table.type(at: i) == .list
        case .zset: return db.table.type(at: i) == .zset
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
