import CairnCluster
import CairnGossip
import CairnRESP
import CairnStorage

// CLUSTER <subcommand>, ASKING, READONLY and READWRITE (Redis 7.0's clusterCommand and friends,
// cluster.c), with its reply shapes and error texts. Failure detection and failover
// (CLUSTER FAILOVER, failure reports) are the next issue.

enum ClusterCommand {
    static let disabled = "ERR This instance has cluster support disabled"

    static func specs(_ server: Server) -> [CommandSpec] {
        [
            CommandSpec("cluster", arity: -2, flags: [], categories: [.slow], group: "cluster", since: "3.0.0",
                        summary: "A container for Redis Cluster commands",
                        subcommands: [
                            read("myid", 2, "3.0.0", "Returns the ID of a node.", server.bind(myID)),
                            read("keyslot", 3, "3.0.0", "Returns the hash slot for a key.", server.bind(keySlotOf)),
                            read("countkeysinslot", 3, "3.0.0", "Returns the number of keys in a hash slot.", server.bind(countKeysInSlot)),
                            read("getkeysinslot", 4, "3.0.0", "Returns the key names in a hash slot.", server.bind(getKeysInSlot)),
                            read("info", 2, "3.0.0", "Returns information about the state of a node.", server.bind(info)),
                            read("nodes", 2, "3.0.0", "Returns the cluster configuration for a node.", server.bind(nodes)),
                            read("slots", 2, "3.0.0", "Returns the mapping of cluster slots to nodes.", server.bind(slots)),
                            read("shards", 2, "7.0.0", "Returns the mapping of cluster slots to shards.", server.bind(shards)),
                            admin("addslots", -3, "3.0.0", "Assigns new hash slots to a node.", server.bind { s, c in changeSlots(s, c, ranges: false, delete: false) }),
                            admin("addslotsrange", -4, "7.0.0", "Assigns new hash slot ranges to a node.", server.bind { s, c in changeSlots(s, c, ranges: true, delete: false) }),
                            admin("delslots", -3, "3.0.0", "Sets hash slots as unbound for a node.", server.bind { s, c in changeSlots(s, c, ranges: false, delete: true) }),
                            admin("delslotsrange", -4, "7.0.0", "Sets hash slot ranges as unbound for a node.", server.bind { s, c in changeSlots(s, c, ranges: true, delete: true) }),
                            admin("flushslots", 2, "3.0.0", "Deletes all slots information from a node.", server.bind(flushSlots)),
                            admin("setslot", -4, "3.0.0", "Binds a hash slot to a node.", server.bind(setSlot)),
                            admin("meet", -4, "3.0.0", "Forces a node to handshake with another node.", server.bind(meet)),
                            admin("forget", 3, "3.0.0", "Removes a node from the nodes table.", server.bind(forget)),
                            admin("saveconfig", 2, "3.0.0", "Forces a node to save the cluster configuration to disk.", server.bind(saveConfig)),
                            admin("set-config-epoch", 3, "3.0.0", "Sets the configuration epoch for a new node.", server.bind(setConfigEpoch)),
                            admin("bumpepoch", 2, "3.0.0", "Advances the cluster config epoch.", server.bind(bumpEpoch)),
                            admin("failover", -2, "3.0.0", "Forces a replica to perform a manual failover of its master.",
                                  server.bind(failover), extra: [.noscript]),
                            admin("count-failure-reports", 3, "3.0.0", "Returns the number of active failure reports active for a node.",
                                  server.bind(countFailureReports)),
                            admin("reset", -2, "3.0.0", "Resets a node.", server.bind(reset), extra: [.noscript]),
                            read("links", 2, "7.0.0", "Returns a list of all TCP links to and from peer nodes.", server.bind(links)),
                            admin("replicate", 3, "3.0.0", "Configure a node as replica of a master node.", server.bind(replicate)),
                            CommandSpec("replicas", arity: 3, flags: [.admin, .stale], categories: [.admin, .slow, .dangerous],
                                        group: "cluster", since: "5.0.0", summary: "Lists the replica nodes of a master node.",
                                        handler: server.bind(replicas)),
                            CommandSpec("slaves", arity: 3, flags: [.admin, .stale], categories: [.admin, .slow, .dangerous],
                                        group: "cluster", since: "3.0.0", summary: "Lists the replica nodes of a master node.",
                                        handler: server.bind(replicas)),
                        ],
                        handler: { _ in }),
            CommandSpec("asking", arity: 1, flags: [.fast], categories: [.fast, .connection], group: "cluster", since: "3.0.0",
                        summary: "Signals that a cluster client is following an -ASK redirect.", handler: server.bind(asking)),
            CommandSpec("readonly", arity: 1, flags: [.loading, .stale, .fast], categories: [.fast, .connection], group: "cluster",
                        since: "3.0.0", summary: "Enables read-only queries for a connection to a Redis Cluster replica node.",
                        handler: server.bind { s, c in setReadOnly(s, c, true) }),
            CommandSpec("readwrite", arity: 1, flags: [.loading, .stale, .fast], categories: [.fast, .connection], group: "cluster",
                        since: "3.0.0", summary: "Disables read-only queries for a connection to a Redis Cluster replica node.",
                        handler: server.bind { s, c in setReadOnly(s, c, false) }),
        ]
    }

    private static func read(_ name: String, _ arity: Int, _ since: String, _ summary: String,
                             _ handler: @escaping CommandHandler) -> CommandSpec {
        CommandSpec(name, arity: arity, flags: [.stale], categories: [.slow], group: "cluster", since: since,
                    summary: summary, handler: handler)
    }

    private static func admin(_ name: String, _ arity: Int, _ since: String, _ summary: String,
                              _ handler: @escaping CommandHandler, extra: CommandFlags = []) -> CommandSpec {
        CommandSpec(name, arity: arity, flags: extra.union([.admin, .stale]), categories: [.admin, .slow, .dangerous],
                    group: "cluster", since: since, summary: summary, handler: handler)
    }

    /// The bus of a node in cluster mode; nil (and the error sent) otherwise.
    private static func bus(_ s: Server, _ c: CommandContext) -> ClusterBus? {
        guard let bus = s.clusterBus else {
            c.reply.error(disabled)
            return nil
        }
        return bus
    }

    /// After a change of the node table made here: the state is evaluated again, nodes.conf
    /// saved, and the other nodes told (Redis's clusterDoBeforeSleep with UPDATE_STATE|SAVE_CONFIG).
    private static func changed(_ s: Server, _ bus: ClusterBus, fsync: Bool = false) {
        bus.state.status = bus.state.evaluatedStatus(requireFullCoverage: s.settings.cluster.requireFullCoverage)
        // Saved once at the end of this event-loop turn however many commands changed the table
        // (a pipeline of SETSLOTs), as Redis's clusterBeforeSleep; fsynced only when asked.
        bus.stateChanged(save: true, fsync: fsync)
    }

    // MARK: reads

    static func myID(_ s: Server, _ c: CommandContext) {
        guard let bus = bus(s, c) else { return }
        c.reply.bulk(bus.state.myself.text)
    }

    static func keySlotOf(_ s: Server, _ c: CommandContext) {
        guard bus(s, c) != nil else { return }
        c.reply.integer(Int64(keySlot(c.args[2])))
    }

    static func countKeysInSlot(_ s: Server, _ c: CommandContext) {
        guard bus(s, c) != nil else { return }
        guard let slot = c.args.int64(2) else { return c.reply.error("ERR value is not an integer or out of range") }
        guard isValidSlot(Int(clamping: slot)) else { return c.reply.error("ERR Invalid slot") }
        c.reply.integer(Int64(c.engine.databases[0].table.count(inSlot: Int(slot))))
    }

    static func getKeysInSlot(_ s: Server, _ c: CommandContext) {
        guard bus(s, c) != nil else { return }
        guard let slot = c.args.int64(2), let count = c.args.int64(3) else {
            return c.reply.error("ERR value is not an integer or out of range")
        }
        guard isValidSlot(Int(clamping: slot)), count >= 0 else { return c.reply.error("ERR Invalid slot or number of keys") }
        let keys = c.engine.databases[0].keys(inSlot: Int(slot), limit: Int(clamping: count))
        c.reply.arrayHeader(keys.count)
        for key in keys { c.reply.bulk(key) }
    }

    static func info(_ s: Server, _ c: CommandContext) {
        guard let bus = bus(s, c) else { return }
        c.reply.verbatim(ClusterReplies.info(bus))
    }

    static func nodes(_ s: Server, _ c: CommandContext) {
        guard let bus = bus(s, c) else { return }
        c.reply.verbatim(NodesConf.clusterNodes(bus.state))
    }

    static func slots(_ s: Server, _ c: CommandContext) {
        guard let bus = bus(s, c) else { return }
        ClusterReplies.slots(bus.state, endpoint: s.clusterRedirectionSettings.preferredEndpoint, into: &c.reply)
    }

    static func shards(_ s: Server, _ c: CommandContext) {
        guard let bus = bus(s, c) else { return }
        ClusterReplies.shards(bus.state, endpoint: s.clusterRedirectionSettings.preferredEndpoint,
                              offset: { $0 == bus.state.myself ? s.replication.offset : bus.announcedOffset(of: $0) }, into: &c.reply)
    }

    /// CLUSTER LINKS: one map per bus link, to and from each node.
    static func links(_ s: Server, _ c: CommandContext) {
        guard let bus = bus(s, c) else { return }
        let rows = bus.links
        c.reply.arrayHeader(rows.count)
        for link in rows {
            c.reply.mapHeader(6)
            c.reply.bulk("direction")
            c.reply.bulk(link.direction)
            c.reply.bulk("node")
            c.reply.bulk(link.node.text)
            c.reply.bulk("create-time")
            c.reply.integer(link.createTimeMs)
            c.reply.bulk("events")
            c.reply.bulk(link.events)
            c.reply.bulk("send-buffer-allocated")
            c.reply.integer(Int64(link.sendBufferAllocatedBytes))
            c.reply.bulk("send-buffer-used")
            c.reply.integer(Int64(link.sendBufferUsedBytes))
        }
    }

    /// REPLICATE <master id>: this node becomes that master's replica (Redis's clusterSetMaster):
    /// its open slots close, the bus announces the new role, and replication starts.
    static func replicate(_ s: Server, _ c: CommandContext) {
        guard let bus = bus(s, c) else { return }
        let text = c.args.string(2)
        guard let name = NodeName(text), let master = bus.state[name] else { return c.reply.error("ERR Unknown node \(text)") }
        if name == bus.state.myself { return c.reply.error("ERR Can't replicate myself") }
        if master.isReplica { return c.reply.error("ERR I can only replicate a master, not a replica.") }
        let me = bus.state.myselfNode
        if me.isMaster && (!me.slots.isEmpty || c.engine.databases[0].count != 0) {
            return c.reply.error("ERR To set a master the node must be empty and without assigned slots.")
        }
        bus.follow(master)
        s.logger.notice("Configured as a replica of \(name.text) (\(master.ip):\(master.port))")
        changed(s, bus)
        c.reply.ok()
    }


    /// REPLICAS / SLAVES <master id>: the CLUSTER NODES line of each of its replicas.
    static func replicas(_ s: Server, _ c: CommandContext) {
        guard let bus = bus(s, c) else { return }
        let text = c.args.string(2)
        guard let name = NodeName(text), let master = bus.state[name] else { return c.reply.error("ERR Unknown node \(text)") }
        if master.isReplica { return c.reply.error("ERR The specified node is not a master") }
        let lines = bus.state.replicas(of: name).map { NodesConf.nodeLine($0, in: bus.state) }
        c.reply.arrayHeader(lines.count)
        for line in lines { c.reply.bulk(line) }
    }

    static func countFailureReports(_ s: Server, _ c: CommandContext) {
        guard let bus = bus(s, c) else { return }
        guard let name = NodeName(c.args.string(2)), bus.state[name] != nil else {
            return c.reply.error("ERR Unknown node \(c.args.string(2))")
        }
        c.reply.integer(Int64(bus.failureReportCount(of: name)))
    }

    /// FAILOVER [FORCE|TAKEOVER], sent to a replica: a manual failover of its master (the
    /// master pauses writes until this replica has its whole stream), without the master's
    /// agreement (FORCE), or without an election (TAKEOVER).
    static func failover(_ s: Server, _ c: CommandContext) {
        guard let bus = bus(s, c) else { return }
        guard c.args.count <= 3 else { return c.reply.error("ERR unknown subcommand 'failover'. Try CLUSTER HELP.") }
        var force = false, takeover = false
        if c.args.count == 3 {
            switch c.args.string(2).lowercased() {
            case "force": force = true
            case "takeover": (force, takeover) = (true, true)
            default: return c.reply.error("ERR syntax error")
            }
        }
        if let error = bus.startManualFailover(force: force, takeover: takeover) { return c.reply.error(error) }
        c.reply.ok()
    }

    // MARK: slots

    /// ADDSLOTS / DELSLOTS slot... and ADDSLOTSRANGE / DELSLOTSRANGE start end...: every
    /// argument is checked before anything changes (Redis's checkSlotAssignmentsOrReply).
    static func changeSlots(_ s: Server, _ c: CommandContext, ranges: Bool, delete: Bool) {
        guard let bus = bus(s, c) else { return }
        if ranges && c.args.count % 2 == 1 {
            return c.reply.error("ERR wrong number of arguments for '\(c.command.fullName)' command")
        }
        var seen = [Bool](repeating: false, count: clusterSlotCount)
        var chosen: [Int] = []
        var i = 2
        while i < c.args.count {
            guard let start = slotArgument(c, i) else { return }
            var end = start
            if ranges {
                guard let last = slotArgument(c, i + 1) else { return }
                guard start <= last else {
                    return c.reply.error("ERR start slot number \(start) is greater than end slot number \(last)")
                }
                end = last
            }
            for slot in start...end {
                let owner = bus.state.owner(of: slot)
                if delete && owner == nil { return c.reply.error("ERR Slot \(slot) is already unassigned") }
                if !delete && owner != nil { return c.reply.error("ERR Slot \(slot) is already busy") }
                if seen[slot] { return c.reply.error("ERR Slot \(slot) specified multiple times") }
                seen[slot] = true
                chosen.append(slot)
            }
            i += ranges ? 2 : 1
        }
        for slot in chosen {
            // A slot this node takes is no longer being imported.
            _ = bus.state.setImporting(slot, from: nil)
            _ = delete ? bus.state.unassign(slot) : bus.state.assign(slot, to: bus.state.myself)
        }
        changed(s, bus)
        c.reply.ok()
    }

    /// Redis's getSlotOrReply.
    private static func slotArgument(_ c: CommandContext, _ i: Int) -> Int? {
        guard let v = c.args.int64(i), isValidSlot(Int(clamping: v)) else {
            c.reply.error("ERR Invalid or out of range slot")
            return nil
        }
        return Int(v)
    }

    static func flushSlots(_ s: Server, _ c: CommandContext) {
        guard let bus = bus(s, c) else { return }
        guard c.engine.databases[0].count == 0 else { return c.reply.error("ERR DB must be empty to perform CLUSTER FLUSHSLOTS.") }
        for slot in bus.state.myselfNode.slots.slots { _ = bus.state.unassign(slot) }
        changed(s, bus)
        c.reply.ok()
    }

    /// SETSLOT <slot> MIGRATING|IMPORTING <node> | STABLE | NODE <node>.
    static func setSlot(_ s: Server, _ c: CommandContext) {
        guard let bus = bus(s, c) else { return }
        if bus.state.myselfNode.isReplica { return c.reply.error("ERR Please use SETSLOT only with masters.") }
        guard let slot = slotArgument(c, 2) else { return }
        let me = bus.state.myself
        let action = c.args.string(3).lowercased()
        func node(_ unknown: String) -> NodeName? {
            let text = c.args.string(4)
            guard let name = NodeName(text), let node = bus.state[name] else {
                c.reply.error("ERR \(unknown) \(text)")
                return nil
            }
            guard !node.isReplica else {
                c.reply.error("ERR Target node is not a master")
                return nil
            }
            return name
        }
        switch (action, c.args.count) {
        case ("migrating", 5):
            guard bus.state.owner(of: slot) == me else { return c.reply.error("ERR I'm not the owner of hash slot \(slot)") }
            guard let target = node("I don't know about node") else { return }
            _ = bus.state.setMigrating(slot, to: target)
        case ("importing", 5):
            guard bus.state.owner(of: slot) != me else { return c.reply.error("ERR I'm already the owner of hash slot \(slot)") }
            guard let source = node("I don't know about node") else { return }
            _ = bus.state.setImporting(slot, from: source)
        case ("stable", 4):
            _ = bus.state.setImporting(slot, from: nil)
            _ = bus.state.setMigrating(slot, to: nil)
        case ("node", 5):
            guard let target = node("Unknown node") else { return }
            let keys = c.engine.databases[0].table.count(inSlot: slot)
            if bus.state.owner(of: slot) == me && target != me && keys != 0 {
                return c.reply.error("ERR Can't assign hashslot \(slot) to a different node while I still hold keys for this hash slot.")
            }
            if keys == 0 { _ = bus.state.setMigrating(slot, to: nil) }
            let slotWasMine = bus.state.owner(of: slot) == me
            _ = bus.state.assign(slot, to: target)
            // A master left without slots becomes a replica of the node that took its last one
            // (cluster-allow-replica-migration), as Redis 7.0: `redis-cli --cluster rebalance
            // --cluster-weight <id>=0` then leaves it a replica, ready for del-node.
            if slotWasMine && target != me && bus.state.myselfNode.slots.isEmpty && s.settings.cluster.allowReplicaMigration,
               let master = bus.state[target] {
                s.logger.warning("Configuration change detected. Reconfiguring myself as a replica of \(target.text)")
                bus.follow(master)
                changed(s, bus, fsync: true)
                return c.reply.ok()
            }
            if target == me && bus.state.importingFrom[slot] != nil {
                // A slot migrated here by hand: a new configEpoch lets the cluster learn it.
                if bus.bumpConfigEpochWithoutConsensus() {
                    s.logger.warning("configEpoch updated after importing slot \(slot)")
                }
                _ = bus.state.setImporting(slot, from: nil)
            }
        default:
            return c.reply.error("ERR Invalid CLUSTER SETSLOT action or number of arguments. Try CLUSTER HELP")
        }
        changed(s, bus)
        c.reply.ok()
    }

    // MARK: nodes and epochs

    /// MEET <ip> <port> [<bus port>].
    static func meet(_ s: Server, _ c: CommandContext) {
        guard let bus = bus(s, c) else { return }
        guard c.args.count <= 5 else { return c.reply.error("ERR Unknown subcommand or wrong number of arguments for 'meet'. Try CLUSTER HELP.") }
        guard let port = c.args.int64(3) else { return c.reply.error("ERR Invalid TCP base port specified: \(c.args.string(3))") }
        var busPort = port + Int64(ClusterSettings.busPortOffset)
        if c.args.count == 5 {
            guard let p = c.args.int64(4) else { return c.reply.error("ERR Invalid TCP bus port specified: \(c.args.string(4))") }
            busPort = p
        }
        guard bus.meet(ip: c.args.string(2), port: Int(clamping: port), busPort: Int(clamping: busPort)) else {
            return c.reply.error("ERR Invalid node address specified: \(c.args.string(2)):\(c.args.string(3))")
        }
        c.reply.ok()
    }

    static func forget(_ s: Server, _ c: CommandContext) {
        guard let bus = bus(s, c) else { return }
        guard let name = NodeName(c.args.string(2)), bus.state[name] != nil else {
            return c.reply.error("ERR Unknown node \(c.args.string(2))")
        }
        if name == bus.state.myself { return c.reply.error("ERR I tried hard but I can't forget myself...") }
        if bus.state.myselfNode.replicaOf == name { return c.reply.error("ERR Can't forget my master!") }
        bus.forget(name)  // also kept out of gossip for a minute, as Redis's blacklist
        changed(s, bus)
        c.reply.ok()
    }

    static func saveConfig(_ s: Server, _ c: CommandContext) {
        guard bus(s, c) != nil else { return }
        if let error = s.saveClusterConfig(fsync: true) {
            return c.reply.error("ERR error saving the cluster node config: \(error)")
        }
        c.reply.ok()
    }

    static func setConfigEpoch(_ s: Server, _ c: CommandContext) {
        guard let bus = bus(s, c) else { return }
        guard let epoch = c.args.int64(2) else { return c.reply.error("ERR value is not an integer or out of range") }
        if epoch < 0 { return c.reply.error("ERR Invalid config epoch specified: \(epoch)") }
        if bus.state.nodes.count > 1 {
            return c.reply.error("ERR The user can assign a config epoch only when the node does not know any other node.")
        }
        if bus.state.myselfNode.configEpoch != 0 { return c.reply.error("ERR Node config epoch is already non-zero") }
        _ = bus.state.update(bus.state.myself) { $0.configEpoch = UInt64(epoch) }
        if bus.state.currentEpoch < UInt64(epoch) { bus.state.currentEpoch = UInt64(epoch) }
        s.logger.warning("configEpoch set to \(epoch) via CLUSTER SET-CONFIG-EPOCH")
        changed(s, bus)
        c.reply.ok()
    }

    static func bumpEpoch(_ s: Server, _ c: CommandContext) {
        guard let bus = bus(s, c) else { return }
        let bumped = bus.bumpConfigEpochWithoutConsensus()
        if bumped { changed(s, bus, fsync: true) }
        c.reply.simpleString("\(bumped ? "BUMPED" : "STILL") \(bus.state.myselfNode.configEpoch)")
    }

    /// RESET [SOFT|HARD]: forget every other node and every slot; HARD also takes a new name
    /// and sets the epochs to 0 (Redis's clusterReset).
    static func reset(_ s: Server, _ c: CommandContext) {
        guard let bus = bus(s, c) else { return }
        guard c.args.count <= 3 else { return c.reply.error("ERR Unknown subcommand or wrong number of arguments for 'reset'. Try CLUSTER HELP.") }
        var hard = false
        if c.args.count == 3 {
            if c.args.matches(2, "hard") { hard = true } else if !c.args.matches(2, "soft") { return c.replySyntaxError() }
        }
        if bus.state.myselfNode.isMaster && c.engine.databases[0].count != 0 {
            return c.reply.error("ERR CLUSTER RESET can't be called with master nodes containing keys")
        }
        if bus.state.myselfNode.isReplica {
            s.becomeMaster()
            c.engine.flushAll()
        }
        var me = bus.state.myselfNode
        for slot in me.slots.slots { _ = bus.state.unassign(slot) }
        me = bus.state.myselfNode
        me.flags = [.master]
        me.replicaOf = nil
        var name = me.name
        if hard {
            var generator = SystemRandomNumberGenerator()
            name = NodeName.random(using: &generator)
            s.logger.notice("Node hard reset, now I'm \(name.text)")
        }
        var fresh = ClusterState(myself: ClusterNode(name: name, ip: me.ip, port: me.port, busPort: me.busPort,
                                                     hostname: me.hostname, flags: [.master],
                                                     configEpoch: hard ? 0 : me.configEpoch))
        if !hard {
            fresh.currentEpoch = bus.state.currentEpoch
            fresh.lastVoteEpoch = bus.state.lastVoteEpoch
        }
        bus.state = fresh
        changed(s, bus, fsync: true)
        c.reply.ok()
    }

    // MARK: connection flags

    static func asking(_ s: Server, _ c: CommandContext) {
        guard s.clusterBus != nil else { return c.reply.error(disabled) }
        c.client.clusterAsking = true
        c.reply.ok()
    }

    static func setReadOnly(_ s: Server, _ c: CommandContext, _ on: Bool) {
        guard s.clusterBus != nil else { return c.reply.error(disabled) }
        c.client.clusterReadOnly = on
        c.reply.ok()
    }
}
