// Writing nodes.conf and CLUSTER NODES, which share one line format (docs/format-nodes-conf.md).

extension NodesConf {
    /// The whole nodes.conf for `state`: a line per node in listing order (nodes in handshake
    /// left out, as Redis does), then `vars currentEpoch N lastVoteEpoch N`. The caller writes it
    /// atomically (temp file, fsync, rename, fsync of the directory).
    public static func render(_ state: ClusterState) -> [UInt8] {
        var text = ""
        for node in state.orderedNodes where !node.flags.contains(.handshake) {
            text += nodeLine(node, in: state)
            text += "\n"
        }
        text += "vars currentEpoch \(state.currentEpoch) lastVoteEpoch \(state.lastVoteEpoch)\n"
        return Array(text.utf8)
    }

    /// The reply text of CLUSTER NODES: a line per node, each ended by a newline, nodes in
    /// handshake included.
    public static func clusterNodes(_ state: ClusterState) -> String {
        var text = ""
        for node in state.orderedNodes {
            text += nodeLine(node, in: state)
            text += "\n"
        }
        return text
    }

    /// One node's line, without the newline: `<name> <ip>:<port>@<cport>[,<hostname>] <flags>
    /// <master or -> <ping-sent> <pong-received> <epoch> <link-state> <slots...>`, and on the
    /// `myself` line the moving slots, `[s->-name]` (migrating) or `[s-<-name]` (importing).
    public static func nodeLine(_ node: ClusterNode, in state: ClusterState) -> String {
        var line = "\(node.name.text) \(node.ip):\(node.port)@\(node.busPort)"
        if !node.hostname.isEmpty { line += ",\(node.hostname)" }
        line += " \(node.flags.text) \(node.replicaOf?.text ?? "-")"
        line += " \(node.pingSentMs) \(node.pongReceivedMs) \(state.printedEpoch(of: node))"
        line += node.linkConnected || node.flags.contains(.myself) ? " connected" : " disconnected"
        for range in node.slots.ranges { line += " \(range.slotRangeText)" }
        if node.flags.contains(.myself) {
            let moving = Set(state.migratingTo.keys).union(state.importingFrom.keys).sorted()
            for slot in moving {
                // A slot both migrating and importing shows as migrating only, as in Redis.
                if let target = state.migratingTo[slot] {
                    line += " [\(slot)->-\(target.text)]"
                } else if let source = state.importingFrom[slot] {
                    line += " [\(slot)-<-\(source.text)]"
                }
            }
        }
        return line
    }
}
