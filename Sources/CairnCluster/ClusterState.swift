// What this node knows of the cluster (Redis's clusterState): the nodes, the epochs, which node
// serves each slot, and the slots being moved in or out. Pure data: the bus and the server
// change it, nodes.conf saves it (NodesConf.swift).

/// Whether the cluster accepts queries (CLUSTER INFO's `cluster_state`).
public enum ClusterStatus: String, Hashable, Sendable {
    /// `ok`: every slot needed is served and a majority of slot-owning masters is reachable.
    case ok
    /// `fail`: queries with keys are refused with `-CLUSTERDOWN` (reads may be allowed).
    case fail
}

/// This node's view of the cluster.
public struct ClusterState: Hashable, Sendable, CustomStringConvertible {
    /// The name of this node (its entry in `nodes` has the `myself` flag).
    public let myself: NodeName
    /// Every known node by name, this one included.
    public private(set) var nodes: [NodeName: ClusterNode]
    /// The node names in the order they are listed (CLUSTER NODES, nodes.conf): the order they
    /// were added.
    public private(set) var order: [NodeName]
    /// The highest epoch this node has seen.
    public var currentEpoch: UInt64
    /// The epoch in which this node last voted for a replica's failover.
    public var lastVoteEpoch: UInt64
    /// Whether the cluster is up as this node sees it.
    public var status: ClusterStatus
    /// The owner of each slot, nil when unassigned.
    public private(set) var slotOwners: [NodeName?]
    /// Slots this node is moving out (`CLUSTER SETSLOT s MIGRATING node`), to the node named.
    public private(set) var migratingTo: [Int: NodeName]
    /// Slots this node is taking in (`CLUSTER SETSLOT s IMPORTING node`), from the node named.
    public private(set) var importingFrom: [Int: NodeName]

    /// A cluster of one: `myself` (which gets the `myself` flag), epochs 0, state `fail` (as a
    /// node starts).
    public init(myself node: ClusterNode) {
        var me = node
        me.flags.insert(.myself)
        myself = me.name
        nodes = [me.name: me]
        order = [me.name]
        currentEpoch = 0
        lastVoteEpoch = 0
        status = .fail
        slotOwners = Array(repeating: nil, count: clusterSlotCount)
        migratingTo = [:]
        importingFrom = [:]
        for slot in me.slots.slots { slotOwners[slot] = me.name }
    }

    /// A state assembled by the nodes.conf loader, which has checked that the parts agree.
    init(myself: NodeName, nodes: [NodeName: ClusterNode], order: [NodeName], currentEpoch: UInt64,
         lastVoteEpoch: UInt64, slotOwners: [NodeName?], migratingTo: [Int: NodeName], importingFrom: [Int: NodeName]) {
        self.myself = myself
        self.nodes = nodes
        self.order = order
        self.currentEpoch = currentEpoch
        self.lastVoteEpoch = lastVoteEpoch
        self.status = .fail
        self.slotOwners = slotOwners
        self.migratingTo = migratingTo
        self.importingFrom = importingFrom
    }

    /// The state as nodes.conf would hold it, handshake nodes included, and the status.
    public var description: String {
        NodesConf.clusterNodes(self) + "vars currentEpoch \(currentEpoch) lastVoteEpoch \(lastVoteEpoch) (\(status.rawValue))"
    }

    /// The node named `name`.
    public subscript(name: NodeName) -> ClusterNode? { nodes[name] }

    /// This node's entry.
    public var myselfNode: ClusterNode {
        guard let me = nodes[myself] else { preconditionFailure("myself is always in the table") }
        return me
    }

    /// The nodes in listing order.
    public var orderedNodes: [ClusterNode] { order.compactMap { nodes[$0] } }

    /// Adds `node` (its slots are ignored: assign them with `assign`). Returns false, changing
    /// nothing, when a node of that name is already known.
    @discardableResult
    public mutating func add(_ node: ClusterNode) -> Bool {
        guard nodes[node.name] == nil else { return false }
        var fresh = node
        fresh.slots = SlotBitmap()
        fresh.flags.remove(.myself)
        nodes[node.name] = fresh
        order.append(node.name)
        return true
    }

    /// Changes the node named `name` with `change` (its name, slots and `myself` flag stay).
    /// Returns false when there is no such node.
    @discardableResult
    public mutating func update(_ name: NodeName, _ change: (inout ClusterNode) -> Void) -> Bool {
        guard var node = nodes[name] else { return false }
        let slots = node.slots, wasMyself = node.flags.contains(.myself)
        change(&node)
        node.slots = slots
        if wasMyself { node.flags.insert(.myself) } else { node.flags.remove(.myself) }
        nodes[name] = node
        return true
    }

    /// Gives the node named `old` the name `new` (Redis's clusterRenameNode: a node met through
    /// CLUSTER MEET has a random name until its first PONG tells the real one). The node keeps
    /// its place in the listing, its slots, and every reference to it. Returns false, changing
    /// nothing, when `old` is unknown or myself, or `new` is already taken.
    @discardableResult
    public mutating func rename(_ old: NodeName, to new: NodeName) -> Bool {
        guard old != myself, let node = nodes[old], nodes[new] == nil else { return false }
        var renamed = ClusterNode(name: new, ip: node.ip, port: node.port, busPort: node.busPort, hostname: node.hostname,
                                  flags: node.flags, replicaOf: node.replicaOf, configEpoch: node.configEpoch)
        renamed.pingSentMs = node.pingSentMs
        renamed.pongReceivedMs = node.pongReceivedMs
        renamed.failTimeMs = node.failTimeMs
        renamed.linkConnected = node.linkConnected
        renamed.slots = node.slots
        nodes[old] = nil
        nodes[new] = renamed
        order = order.map { $0 == old ? new : $0 }
        for slot in node.slots.slots { slotOwners[slot] = new }
        migratingTo = migratingTo.mapValues { $0 == old ? new : $0 }
        importingFrom = importingFrom.mapValues { $0 == old ? new : $0 }
        for other in order where nodes[other]?.replicaOf == old { nodes[other]?.replicaOf = new }
        return true
    }

    /// Forgets the node named `name` (not myself): its slots become unassigned, moves to or from
    /// it are closed, and its replicas lose their master. Returns false when nothing was removed.
    @discardableResult
    public mutating func remove(_ name: NodeName) -> Bool {
        guard name != myself, let node = nodes[name] else { return false }
        for slot in node.slots.slots { slotOwners[slot] = nil }
        migratingTo = migratingTo.filter { $0.value != name }
        importingFrom = importingFrom.filter { $0.value != name }
        nodes[name] = nil
        order.removeAll { $0 == name }
        for other in order where nodes[other]?.replicaOf == name { nodes[other]?.replicaOf = nil }
        return true
    }

    /// The node serving `slot`, nil when unassigned or not a slot number.
    public func owner(of slot: Int) -> NodeName? {
        isValidSlot(slot) ? slotOwners[slot] : nil
    }

    /// Gives `slot` to the node named `name`, taking it from its previous owner. Returns false,
    /// changing nothing, for an unknown node or a number that is not a slot.
    @discardableResult
    public mutating func assign(_ slot: Int, to name: NodeName) -> Bool {
        guard isValidSlot(slot), nodes[name] != nil else { return false }
        if let previous = slotOwners[slot] { nodes[previous]?.slots.remove(slot) }
        slotOwners[slot] = name
        nodes[name]?.slots.insert(slot)
        return true
    }

    /// Makes `slot` unassigned. Returns false when it was not assigned.
    @discardableResult
    public mutating func unassign(_ slot: Int) -> Bool {
        guard isValidSlot(slot), let previous = slotOwners[slot] else { return false }
        nodes[previous]?.slots.remove(slot)
        slotOwners[slot] = nil
        return true
    }

    /// Marks `slot` as migrating to the node named `target`, or closes the migration (nil).
    /// Returns false for an unknown node or a number that is not a slot.
    @discardableResult
    public mutating func setMigrating(_ slot: Int, to target: NodeName?) -> Bool {
        guard isValidSlot(slot), target.map({ nodes[$0] != nil }) ?? true else { return false }
        migratingTo[slot] = target
        return true
    }

    /// Marks `slot` as importing from the node named `source`, or closes the import (nil).
    /// Returns false for an unknown node or a number that is not a slot.
    @discardableResult
    public mutating func setImporting(_ slot: Int, from source: NodeName?) -> Bool {
        guard isValidSlot(slot), source.map({ nodes[$0] != nil }) ?? true else { return false }
        importingFrom[slot] = source
        return true
    }

    /// The assigned slots as maximal runs with one owner each, in slot order (the rows of
    /// CLUSTER SLOTS, whose replicas come from `replicas(of:)`).
    public var servedRanges: [(slots: ClosedRange<Int>, owner: NodeName)] {
        var out: [(slots: ClosedRange<Int>, owner: NodeName)] = []
        var start = 0
        for slot in 1...clusterSlotCount where slot == clusterSlotCount || slotOwners[slot] != slotOwners[start] {
            if let owner = slotOwners[start] { out.append((start...(slot - 1), owner)) }
            start = slot
        }
        return out
    }

    /// The replicas of the master named `master`, in listing order.
    public func replicas(of master: NodeName) -> [ClusterNode] {
        orderedNodes.filter { $0.isReplica && $0.replicaOf == master }
    }

    /// The highest configEpoch of any node (Redis's clusterGetMaxEpoch), at least currentEpoch.
    public var maxEpoch: UInt64 {
        nodes.values.reduce(currentEpoch) { max($0, $1.configEpoch) }
    }

    /// The epoch CLUSTER NODES prints for `node`: a replica's is its master's configEpoch.
    public func printedEpoch(of node: ClusterNode) -> UInt64 {
        if node.isReplica, let master = node.replicaOf { return nodes[master]?.configEpoch ?? 0 }
        return node.configEpoch
    }

    /// The state the cluster should be in now, by Redis's rules without their timers: `fail`
    /// when `requireFullCoverage` and some slot is unassigned or served by a `fail` node, or when
    /// fewer than a majority of the masters serving slots are reachable (not `fail`/`fail?`).
    /// Redis also waits before turning `ok` after a restart or a minority partition; those
    /// delays belong to the caller, which owns the clock.
    public func evaluatedStatus(requireFullCoverage: Bool) -> ClusterStatus {
        // Runs every 100 ms and after every slot command (a reshard sends several per slot): from
        // the nodes' bitmaps, whose slots are exactly those `slotOwners` gives them, a word at a
        // time; not from the 16384 owners (a scan of them took over 1 ms in a debug build).
        var assigned = 0, size = 0, reachable = 0
        for node in nodes.values {
            let count = node.slots.count
            guard count > 0 else { continue }
            if requireFullCoverage && node.flags.contains(.fail) { return .fail }
            assigned += count
            if node.isMaster {
                size += 1
                if node.flags.isDisjoint(with: [.fail, .pfail]) { reachable += 1 }
            }
        }
        if requireFullCoverage && assigned < clusterSlotCount { return .fail }
        return reachable < size / 2 + 1 ? .fail : .ok
    }

    /// Applies what loading nodes.conf means in Redis to the times and links read from the file:
    /// a non-zero ping-sent or pong-received becomes `nowMs`, a `fail` node failed at `nowMs`,
    /// and no link is up yet. Call once after `NodesConf.parse`, before the node starts.
    public mutating func startAfterLoad(nowMs: Int64) {
        for name in order {
            nodes[name]?.linkConnected = false
            if nodes[name]?.pingSentMs != 0 { nodes[name]?.pingSentMs = nowMs }
            if nodes[name]?.pongReceivedMs != 0 { nodes[name]?.pongReceivedMs = nowMs }
            if nodes[name]?.flags.contains(.fail) == true { nodes[name]?.failTimeMs = nowMs }
        }
    }
}
