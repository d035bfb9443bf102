// The decision of Redis 7.0's getNodeByQuery, step by step in Redis's order.

extension ClusterState {
    /// Where a command with `keys` should run (Redis 7.0's getNodeByQuery).
    ///
    /// `keys` are every key (or shard channel) of the command, or for EXEC of every queued
    /// command, in order, repeats included. `keyIsHere` is asked, only when the keys' slot is
    /// migrating or importing, whether each key exists in the keyspace (database 0, without
    /// touching it or expiring it). The caller skips the check, as Redis does, for its master's
    /// link and for commands that take no keys, and serves EXEC outside MULTI here.
    public func route(keyCount: Int, key: (Int) -> UnsafeRawBufferPointer, command: RoutedCommand,
                      settings: RedirectionSettings, keyIsHere: (UnsafeRawBufferPointer) -> Bool) -> Redirection {
        // Keys by position rather than a collection: the server hands over views of the
        // request's own argument bytes, with no array built per command.
        guard keyCount > 0 else { return .serve(slot: nil) }
        let first = key(0)
        let slot = keySlot(first)
        // Redis looks at the first key's slot owner before it reads the other keys: an unserved
        // first slot is CLUSTERDOWN even when a later key is in another slot.
        guard let owner = slotOwners[slot] else { return .slotNotServed }
        var multipleKeys = false
        for i in 1..<keyCount {
            let other = key(i)
            if other.elementsEqual(first) { continue }
            guard keySlot(other) == slot else { return .crossSlot }
            multipleKeys = true
        }
        let migrating = !migratingTo.isEmpty && owner == myself && migratingTo[slot] != nil
        let importing = !migrating && !importingFrom.isEmpty && importingFrom[slot] != nil
        var missing = 0, present = 0
        if (migrating || importing) && !command.isShardedPubSub {
            for i in 0..<keyCount {
                if keyIsHere(key(i)) { present += 1 } else { missing += 1 }
            }
        }
        return decide(slot: slot, owner: owner, migrating: migrating, importing: importing, multipleKeys: multipleKeys,
                      missingKeys: missing, presentKeys: present, command: command, settings: settings)
    }

    /// `route` for keys held in arrays (EXEC's queued keys, tests, tools).
    public func route(keys: [[UInt8]], command: RoutedCommand, settings: RedirectionSettings,
                      keyIsHere: ([UInt8]) -> Bool) -> Redirection {
        let storage = keys.flatMap { $0 }
        return storage.withUnsafeBytes { raw in
            var views: [UnsafeRawBufferPointer] = []
            var at = 0
            for key in keys {
                views.append(UnsafeRawBufferPointer(rebasing: raw[at..<(at + key.count)]))
                at += key.count
            }
            return route(keyCount: views.count, key: { views[$0] }, command: command, settings: settings) { keyIsHere(Array($0)) }
        }
    }

    /// Redis's order once the keys' slot is known: cluster down, MIGRATE, migrating (ASK or
    /// TRYAGAIN), importing with ASKING, READONLY on the master's replica, then MOVED or here.
    func decide(slot: Int, owner: NodeName, migrating: Bool, importing: Bool, multipleKeys: Bool, missingKeys: Int,
                presentKeys: Int, command: RoutedCommand, settings: RedirectionSettings) -> Redirection {
        if status != .ok {
            if command.isShardedPubSub {
                if !settings.allowPubSubShardWhenDown { return .clusterDown }
            } else if !settings.allowReadsWhenDown {
                return .clusterDown
            } else if command.isWrite {
                return .clusterDownReadOnly
            }
        }
        if (migrating || importing) && command.isMigrate { return .serve(slot: slot) }
        if migrating && missingKeys > 0 {
            return presentKeys > 0 ? .tryAgain : .ask(slot: slot, to: migratingTo[slot] ?? owner)
        }
        if importing && (command.asking || command.impliesAsking) {
            return multipleKeys && missingKeys > 0 ? .tryAgain : .serve(slot: slot)
        }
        // The node table is looked at only for a READONLY client's read (not on every command).
        if (command.readOnlyClient || command.isShardedPubSub) && !command.isWrite && !command.queuedWrite {
            let me = myselfNode
            if me.isReplica && me.replicaOf == owner { return .serve(slot: slot) }
        }
        return owner == myself ? .serve(slot: slot) : .moved(slot: slot, to: owner)
    }
}
