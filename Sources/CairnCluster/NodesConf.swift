// nodes.conf, Redis 7.0's cluster configuration file: reading (this file) and writing
// (NodesConfWriter.swift). The grammar, the flags and the load errors: docs/format-nodes-conf.md.

/// Reads and writes nodes.conf in Redis 7.0's line format.
public enum NodesConf {
    /// The longest line read: Redis's own line buffer (1024 bytes plus 128 per slot, enough for
    /// every slot listed as moving).
    public static let lineBytesMax = 1024 + clusterSlotCount * 128

    /// A loaded file: the state, and what was skipped (unknown `vars` names) for the log.
    public struct Loaded: Hashable, Sendable {
        /// The cluster as the file describes it. Times and link states are the file's own;
        /// `ClusterState.startAfterLoad(nowMs:)` turns them into what a starting node uses.
        public var state: ClusterState
        /// Warnings to log, one a line.
        public var warnings: [String]
    }

    /// Parses a whole nodes.conf.
    ///
    /// Returns nil for an empty file: as in Redis, a zero-length file (made when the file is
    /// first locked) means there is no configuration yet. Any other file either loads whole or
    /// throws an error naming the line; it never yields a node without its `myself` line.
    public static func parse(_ bytes: [UInt8]) throws(NodesConfError) -> Loaded? {
        guard !bytes.isEmpty else { return nil }
        var loader = NodesConfLoader()
        var start = 0, number = 0
        while start < bytes.count {
            number += 1
            guard let end = bytes[start...].firstIndex(of: newline) else {
                throw NodesConfError(line: number, code: .truncated, detail: "the last line has no newline (a torn write?)")
            }
            guard end - start <= lineBytesMax else {
                throw NodesConfError(line: number, code: .lineTooLong, detail: "\(end - start) bytes, at most \(lineBytesMax)")
            }
            try loader.read(line: bytes[start..<end], number: number)
            start = end + 1
        }
        return try loader.finish()
    }

    static let newline = UInt8(ascii: "\n")
}

/// The loader's work in progress: the nodes seen so far and where each was described.
struct NodesConfLoader {
    var nodes: [NodeName: ClusterNode] = [:]
    /// The line that described each node.
    var describedOn: [NodeName: Int] = [:]
    /// Names in the order first seen (described or only referenced).
    var firstSeen: [NodeName] = []
    var myself: NodeName?
    var currentEpoch: UInt64 = 0
    var lastVoteEpoch: UInt64 = 0
    var slotOwners = [NodeName?](repeating: nil, count: clusterSlotCount)
    var migratingTo: [Int: NodeName] = [:]
    var importingFrom: [Int: NodeName] = [:]
    var warnings: [String] = []

    typealias Field = ArraySlice<UInt8>

    mutating func read(line: ArraySlice<UInt8>, number: Int) throws(NodesConfError) {
        let fields = try Self.split(line, number: number)
        guard let first = fields.first else { return }  // blank lines are skipped, as in Redis
        if Self.equalsIgnoringCase(first, "vars") {
            try readVars(fields, number: number)
        } else {
            try readNode(fields, number: number)
        }
    }

    mutating func finish() throws(NodesConfError) -> NodesConf.Loaded {
        guard let myself else {
            throw NodesConfError(line: 0, code: .missingMyself, detail: "no node line has the myself flag")
        }
        let described = firstSeen.filter { describedOn[$0] != nil }.sorted { describedOn[$0, default: 0] < describedOn[$1, default: 0] }
        let order = described + firstSeen.filter { describedOn[$0] == nil }
        // As Redis: a currentEpoch below some node's epoch (a hand-edited file) is raised to it.
        let maxConfigEpoch = nodes.values.reduce(0) { max($0, $1.configEpoch) }
        let state = ClusterState(myself: myself, nodes: nodes, order: order, currentEpoch: max(currentEpoch, maxConfigEpoch),
                                 lastVoteEpoch: lastVoteEpoch, slotOwners: slotOwners,
                                 migratingTo: migratingTo, importingFrom: importingFrom)
        return NodesConf.Loaded(state: state, warnings: warnings)
    }

    // MARK: vars

    mutating func readVars(_ fields: [Field], number: Int) throws(NodesConfError) {
        guard fields.count % 2 == 1 else {
            throw NodesConfError(line: number, code: .badVars, detail: "a variable without a value")
        }
        for at in stride(from: 1, to: fields.count, by: 2) {
            let name = fields[at], text = fields[at + 1]
            let isCurrent = Self.equalsIgnoringCase(name, "currentEpoch")
            guard isCurrent || Self.equalsIgnoringCase(name, "lastVoteEpoch") else {
                warnings.append("nodes.conf line \(number): skipping unknown variable '\(Self.text(name))'")
                continue
            }
            guard let value = Self.unsigned(text) else {
                throw NodesConfError(line: number, code: .badVars, detail: "\(Self.text(name)) '\(Self.text(text))' is not an unsigned 64-bit number")
            }
            if isCurrent { currentEpoch = value } else { lastVoteEpoch = value }
        }
    }

    // MARK: node lines

    mutating func readNode(_ fields: [Field], number: Int) throws(NodesConfError) {
        guard fields.count >= 8 else {
            throw NodesConfError(line: number, code: .missingFields, detail: "\(fields.count) fields, a node line has at least 8")
        }
        let name = try nodeName(fields[0], number: number, role: "node")
        if let earlier = describedOn[name] {
            throw NodesConfError(line: number, code: .duplicateNode, detail: "node \(name) is already described on line \(earlier)")
        }
        describedOn[name] = number
        var node = reference(name)
        try readAddress(fields[1], into: &node, number: number)
        node.flags = try flags(fields[2], number: number)
        if node.flags.contains(.myself) {
            if let other = myself {
                throw NodesConfError(line: number, code: .badMyself, detail: "node \(other) already has the myself flag")
            }
            if node.flags.contains(.handshake) {
                throw NodesConfError(line: number, code: .badMyself, detail: "the myself node cannot be in handshake")
            }
            myself = name
        }
        if !fields[3].elementsEqual("-".utf8) {
            let master = try nodeName(fields[3], number: number, role: "master")
            guard master != name else {
                throw NodesConfError(line: number, code: .badMaster, detail: "node \(name) is its own master")
            }
            _ = reference(master)
            node.replicaOf = master
        }
        guard let ping = Self.signed(fields[4]), let pong = Self.signed(fields[5]) else {
            throw NodesConfError(line: number, code: .badTime, detail: "ping-sent '\(Self.text(fields[4]))' and pong-received '\(Self.text(fields[5]))' must be numbers")
        }
        node.pingSentMs = ping
        node.pongReceivedMs = pong
        guard let epoch = Self.unsigned(fields[6]) else {
            throw NodesConfError(line: number, code: .badEpoch, detail: "config epoch '\(Self.text(fields[6]))' is not an unsigned 64-bit number")
        }
        // A replica's line shows its master's epoch; the replica itself has none (Redis loads 0).
        node.configEpoch = node.isReplica && node.replicaOf != nil ? 0 : epoch
        switch Self.text(fields[7]) {
        // Myself is always printed connected: it has no link to itself.
        case "connected": node.linkConnected = !node.flags.contains(.myself)
        case "disconnected": node.linkConnected = false
        default:
            throw NodesConfError(line: number, code: .badLinkState, detail: "link state '\(Self.text(fields[7]))', expected connected or disconnected")
        }
        for field in fields[8...] {
            try readSlots(field, owner: name, into: &node.slots, number: number)
        }
        nodes[name] = node
    }

    /// The node named `name`, created empty (as Redis does) when first referenced.
    mutating func reference(_ name: NodeName) -> ClusterNode {
        if let known = nodes[name] { return known }
        let placeholder = ClusterNode(name: name)
        nodes[name] = placeholder
        firstSeen.append(name)
        return placeholder
    }

    /// `ip:port@cport[,hostname]`; an old file's `ip:port` means a bus port 10000 above.
    func readAddress(_ field: Field, into node: inout ClusterNode, number: Int) throws(NodesConfError) {
        func bad(_ why: String) -> NodesConfError {
            NodesConfError(line: number, code: .badAddress, detail: "'\(Self.text(field))': \(why)")
        }
        var address = field
        node.hostname = ""
        if let comma = field.firstIndex(of: UInt8(ascii: ",")) {
            node.hostname = Self.text(field[(comma + 1)...])
            address = field[..<comma]
        }
        guard let colon = address.lastIndex(of: UInt8(ascii: ":")) else { throw bad("no ':' before the port") }
        let ip = address[..<colon]
        guard ip.count <= ClusterNode.ipBytesMax else { throw bad("the IP is longer than \(ClusterNode.ipBytesMax) bytes") }
        var portText = address[(colon + 1)...], busText: Field? = nil
        if let at = portText.firstIndex(of: UInt8(ascii: "@")) {
            busText = portText[(at + 1)...]
            portText = portText[..<at]
        }
        guard let port = Self.port(portText) else { throw bad("port '\(Self.text(portText))' is not 0-65535") }
        let busPort: Int
        if let busText {
            guard let value = Self.port(busText) else { throw bad("bus port '\(Self.text(busText))' is not 0-65535") }
            busPort = value
        } else {
            busPort = port + Self.busPortOffset
            guard busPort <= Self.portMax else { throw bad("no bus port, and port + 10000 is over 65535") }
        }
        node.ip = Self.text(ip)
        node.port = port
        node.busPort = busPort
    }

    func flags(_ field: Field, number: Int) throws(NodesConfError) -> NodeFlags {
        var flags: NodeFlags = []
        var seenMyself = false
        for word in field.split(separator: UInt8(ascii: ","), omittingEmptySubsequences: false) {
            let name = Self.text(word).lowercased()
            if name == "noflags" { continue }
            guard let known = NodeFlags.printed.first(where: { $0.name == name }) else {
                throw NodesConfError(line: number, code: .unknownFlag, detail: "'\(Self.text(word))' in '\(Self.text(field))'")
            }
            if known.flag == .myself {
                guard !seenMyself else { throw NodesConfError(line: number, code: .badMyself, detail: "myself given twice") }
                seenMyself = true
            }
            flags.insert(known.flag)
        }
        return flags
    }

    /// One slot field: `a`, `a-b`, `[a->-name]` (migrating to) or `[a-<-name]` (importing from).
    mutating func readSlots(_ field: Field, owner: NodeName, into slots: inout SlotBitmap, number: Int) throws(NodesConfError) {
        func bad(_ why: String) -> NodesConfError {
            NodesConfError(line: number, code: .badSlot, detail: "'\(Self.text(field))': \(why)")
        }
        if field.first == UInt8(ascii: "[") {
            guard field.last == UInt8(ascii: "]"), let dash = field.firstIndex(of: UInt8(ascii: "-")) else {
                throw bad("expected [slot->-name] or [slot-<-name]")
            }
            let arrow = field[dash...].prefix(3)
            let migrating = arrow.elementsEqual("->-".utf8), importing = arrow.elementsEqual("-<-".utf8)
            guard migrating || importing else { throw bad("expected ->- or -<- after the slot") }
            guard let slot = Self.slot(field[(field.startIndex + 1)..<dash]) else { throw bad("slot out of 0-16383") }
            let name = try nodeName(field[(dash + 3)..<(field.endIndex - 1)], number: number, role: "moving slot's node")
            guard migratingTo[slot] == nil, importingFrom[slot] == nil else { throw bad("slot \(slot) is already migrating or importing") }
            _ = reference(name)
            if migrating { migratingTo[slot] = name } else { importingFrom[slot] = name }
            return
        }
        let range: ClosedRange<Int>
        if let dash = field.firstIndex(of: UInt8(ascii: "-")) {
            guard let a = Self.slot(field[..<dash]), let b = Self.slot(field[(dash + 1)...]), a <= b else {
                throw bad("expected a range a-b of slots 0-16383 with a <= b")
            }
            range = a...b
        } else {
            guard let a = Self.slot(field) else { throw bad("slot out of 0-16383") }
            range = a...a
        }
        for slot in range {
            if let other = slotOwners[slot] {
                throw bad("slot \(slot) is already served by \(other == owner ? "this node" : other.text)")
            }
            slotOwners[slot] = owner
            slots.insert(slot)
        }
    }

    func nodeName(_ field: Field, number: Int, role: String) throws(NodesConfError) -> NodeName {
        guard let name = NodeName(bytes: field) else {
            throw NodesConfError(line: number, code: .badNodeName, detail: "\(role) name '\(Self.text(field))' is not 40 characters of a-z, 0-9")
        }
        return name
    }
}
