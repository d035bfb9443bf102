import CairnRESP

// Blocking commands (BLPOP, BLMOVE, BZPOPMIN, ... ; blocked.c in Redis). A command that finds
// nothing to pop calls `block`: the client stops executing further requests and is queued, FIFO,
// on each key it waits for. Commands that add elements call `signalKeyReady`; after each
// top-level command the engine serves ready keys: the first client queued on the key (whose
// awaited type matches the value there) has its command run again, which now finds data. A
// client whose deadline passes gets its command's timeout reply (the server cron calls
// `expireBlockedClients`), and CLIENT UNBLOCK ends a wait early.

public struct BlockedState {
    public enum Awaits: Sendable { case list, zset }
    /// How a timed-out command replies: null array (BLPOP, BZPOPMIN, BLMPOP...) or null bulk
    /// (BLMOVE, BRPOPLPUSH).
    public enum TimeoutReply: Sendable { case nullArray, nullBulk }

    let db: Int
    let keys: [[UInt8]]
    let awaits: Awaits
    let timeoutReply: TimeoutReply
    /// Absolute unix ms, or nil to wait forever.
    let deadline: Int64?
    let arguments: [[UInt8]]
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
        let state = BlockedState(db: client.db, keys: keys, awaits: awaits, timeoutReply: timeoutReply,
                                 deadline: deadline, arguments: c.args.copyAll())
        client.blocked = state
        for key in keys { blockedClients[client.db, default: [:]][key, default: []].append(client) }
        blockedClientCount += 1
    }

    /// Removes `client` from every wait queue (it was served, timed out, unblocked or left).
    func unregisterBlocked(_ client: ClientSession) {
        guard let state = client.blocked else { return }
        for key in state.keys {
            blockedClients[state.db]?[key]?.removeAll { $0 === client }
            if blockedClients[state.db]?[key]?.isEmpty == true { blockedClients[state.db]?[key] = nil }
        }
        if blockedClients[state.db]?.isEmpty == true { blockedClients[state.db] = nil }
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
                      let state = client.blocked, holds(db, key, state.awaits) {
                    unregisterBlocked(client)
                    // Run its command again, as a nested command: keys it makes ready are
                    // served by this loop, not by a recursive call.
                    requeueing = client
                    servedClientBlockedAgain = false
                    executionDepth += 1
                    Arguments.with(state.arguments) { execute(client, $0) }
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
        client.blocked = state
        for key in state.keys { blockedClients[state.db, default: [:]][key, default: []].insert(client, at: 0) }
        blockedClientCount += 1
    }

    private func holds(_ db: Database, _ key: [UInt8], _ awaits: BlockedState.Awaits) -> Bool {
        guard let i = db.lookup(key) else { return false }
        switch (db.table[i].value, awaits) {
        case (.list, .list), (.zset, .zset): return true
        default: return false
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
            }
        }
        onClientUnblocked?(client)
        return true
    }
}
