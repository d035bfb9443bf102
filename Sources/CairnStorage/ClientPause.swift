// CLIENT PAUSE and the pauses the server makes itself (FAILOVER), as Redis 7.0's pauseClients
// (networking.c): each purpose holds its own pause (a type and an end time); the effective pause
// is the most restrictive type among them, until the furthest end of that type. While paused, a
// user's command that the pause covers (every command for ALL; for WRITE, writes and commands
// that may replicate, e.g. PUBLISH, or an EXEC of such) is postponed: it is not consumed from the
// client's input, and the client is parked until the pause ends or weakens, when its input is
// processed again (and the command may be postponed again). Replicas and the master link are
// never paused. The dataset stays still too: keys whose time ran out are hidden but not deleted,
// and neither the active expiry cycle nor eviction runs.

/// How much a pause holds back; a larger value is more restrictive.
public enum PauseType: Int, Comparable, Sendable {
    case off = 0, write, all

    public static func < (a: PauseType, b: PauseType) -> Bool { a.rawValue < b.rawValue }
}

/// Who paused (Redis's pause_purpose): each has its own pause.
public enum PausePurpose: Int, CaseIterable, Sendable {
    case clientCommand, failover, shutdown
}

struct ClientPauseState {
    struct Event {
        var type: PauseType
        var endMillis: Int64
    }

    var events = [Event?](repeating: nil, count: PausePurpose.allCases.count)
    /// The effective pause: the most restrictive type, and the furthest end among that type.
    var type = PauseType.off
    var endMillis: Int64 = 0
    /// Clients whose command waits for the pause to end.
    var postponed: [ClientSession] = []
}

extension Engine {
    /// The pause in effect now (ended pauses are dropped first).
    public func clientPauseType(nowMillis: Int64 = Clock.unixMillis()) -> PauseType {
        if pause.type != .off && pause.endMillis < nowMillis { updateClientPause(nowMillis: nowMillis) }
        return pause.type
    }

    /// When the pause in effect ends (unix ms); meaningful while one is in effect.
    public var clientPauseEndMillis: Int64 { pause.endMillis }

    /// Pauses clients for `purpose` until `endMillis`. A pause already held for that purpose
    /// keeps the later end and the more restrictive type.
    public func pauseClients(_ purpose: PausePurpose, untilMillis endMillis: Int64, type: PauseType) {
        if var event = pause.events[purpose.rawValue] {
            event.type = max(event.type, type)
            event.endMillis = max(event.endMillis, endMillis)
            pause.events[purpose.rawValue] = event
        } else {
            pause.events[purpose.rawValue] = ClientPauseState.Event(type: type, endMillis: endMillis)
        }
        updateClientPause(nowMillis: Clock.unixMillis())
    }

    /// Ends the pause of `purpose`; postponed clients run again if the pause weakened.
    public func unpauseClients(_ purpose: PausePurpose) {
        guard pause.events[purpose.rawValue] != nil else { return }
        pause.events[purpose.rawValue] = nil
        updateClientPause(nowMillis: Clock.unixMillis())
    }

    /// Clients whose command is postponed (INFO, CLIENT LIST).
    public var postponedClientCount: Int { pause.postponed.count }

    /// Drops ended pauses and recomputes the effective one (Redis's
    /// updateClientPauseTypeAndEndTime); a weaker pause than before lets postponed clients try
    /// their command again.
    func updateClientPause(nowMillis: Int64) {
        let old = pause.type
        var type = PauseType.off
        for i in pause.events.indices {
            guard let event = pause.events[i] else { continue }
            if event.endMillis < nowMillis {
                pause.events[i] = nil
            } else if event.type > type {
                type = event.type
            }
        }
        var end: Int64 = 0
        for event in pause.events.compactMap({ $0 }) where event.type == type { end = max(end, event.endMillis) }
        pause.type = type
        pause.endMillis = end
        if type < old { resumePostponedClients() }
    }

    /// Whether `command` (with `flags`, EXEC's including what it queued) from `client` waits
    /// for the pause to end.
    @inline(__always)
    func postpones(_ client: ClientSession, _ flags: CommandFlags) -> Bool {
        guard pause.type != .off, !client.isReplicaLink, clientPauseType() != .off else { return false }
        return pause.type == .all || flags.contains(.write) || flags.contains(.mayReplicate)
    }

    /// Parks `client`: its command stays in its input until the pause ends.
    func postpone(_ client: ClientSession) {
        client.postponed = true
        pause.postponed.append(client)
    }

    /// A client that leaves while postponed.
    func forgetPostponed(_ client: ClientSession) {
        guard client.postponed else { return }
        client.postponed = false
        pause.postponed.removeAll { $0 === client }
    }

    /// The clients run again once the current work is done (`onPostponedResume`, which the
    /// server defers to its event loop as Redis defers them to beforeSleep): the pause can end
    /// inside another client's command, which must not run theirs in the middle of its own.
    private func resumePostponedClients() {
        let clients = pause.postponed
        pause.postponed = []
        for client in clients { client.postponed = false }
        if let onPostponedResume {
            onPostponedResume(clients)
        } else {
            for client in clients { onClientUnblocked?(client) }
        }
    }

    /// Whether the dataset must stay still: no deletion of expired keys, no eviction.
    @inline(__always)
    var datasetFrozen: Bool { pause.type != .off && clientPauseType() != .off }
}
