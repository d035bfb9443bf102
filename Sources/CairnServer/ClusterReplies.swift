import CairnCluster
import CairnGossip
import CairnRESP
import CairnStorage

// The replies of CLUSTER INFO, SLOTS and SHARDS in Redis 7.0's shapes (cluster.c:
// clusterCommand "info", clusterReplyMultiBulkSlots / addNodeToNodeReply,
// clusterReplyShards / addNodeDetailsToShardReply).

enum ClusterReplies {
    /// CLUSTER INFO's text.
    static func info(_ bus: ClusterBus) -> String {
        let state = bus.state
        var assigned = 0, ok = 0, pfail = 0, fail = 0
        for slot in 0..<clusterSlotCount {
            guard let owner = state.owner(of: slot), let node = state[owner] else { continue }
            assigned += 1
            if node.flags.contains(.fail) { fail += 1 } else if node.flags.contains(.pfail) { pfail += 1 } else { ok += 1 }
        }
        // cluster_size: masters serving at least one slot.
        let size = state.orderedNodes.filter { $0.isMaster && !$0.slots.isEmpty }.count
        let me = state.myselfNode
        let myEpoch = me.isReplica ? (me.replicaOf.flatMap { state[$0]?.configEpoch } ?? me.configEpoch) : me.configEpoch
        var lines = [
            "cluster_state:\(state.status.rawValue)",
            "cluster_slots_assigned:\(assigned)",
            "cluster_slots_ok:\(ok)",
            "cluster_slots_pfail:\(pfail)",
            "cluster_slots_fail:\(fail)",
            "cluster_known_nodes:\(state.nodes.count)",
            "cluster_size:\(size)",
            "cluster_current_epoch:\(state.currentEpoch)",
            "cluster_my_epoch:\(myEpoch)",
        ]
        // Per message type, only the types seen, as Redis prints them.
        var sent = 0, received = 0
        for (type, count) in bus.messagesSent.nonZero {
            lines.append("cluster_stats_messages_\(type.statsName)_sent:\(count)")
            sent += count
        }
        lines.append("cluster_stats_messages_sent:\(sent)")
        for (type, count) in bus.messagesReceived.nonZero {
            lines.append("cluster_stats_messages_\(type.statsName)_received:\(count)")
            received += count
        }
        lines.append("cluster_stats_messages_received:\(received)")
        lines.append("total_cluster_links_buffer_limit_exceeded:0")
        return lines.map { $0 + "\r\n" }.joined()
    }

    /// One node as CLUSTER SLOTS lists it: endpoint, port, id, and the other networking
    /// metadata as a map.
    static func node(_ node: ClusterNode, endpoint: EndpointType, into reply: inout ReplyWriter) {
        reply.arrayHeader(4)
        switch endpoint {
        case .ip: reply.bulk(node.ip)
        case .hostname: reply.bulk(node.hostname.isEmpty ? "?" : node.hostname)
        case .unknownEndpoint: reply.null()
        }
        reply.integer(Int64(node.port))
        reply.bulk(node.name.text)
        let showIP = endpoint != .ip
        let showHostname = endpoint != .hostname && !node.hostname.isEmpty
        reply.mapHeader((showIP ? 1 : 0) + (showHostname ? 1 : 0))
        if showIP {
            reply.bulk("ip")
            reply.bulk(node.ip)
        }
        if showHostname {
            reply.bulk("hostname")
            reply.bulk(node.hostname)
        }
    }

    /// CLUSTER SLOTS: each run of slots with one owner, its master then its available replicas.
    static func slots(_ state: ClusterState, endpoint: EndpointType, into reply: inout ReplyWriter) {
        let ranges = state.servedRanges
        reply.arrayHeader(ranges.count)
        for (range, owner) in ranges {
            guard let master = state[owner] else { continue }
            let replicas = state.replicas(of: owner).filter { !$0.flags.contains(.fail) }
            reply.arrayHeader(3 + replicas.count)
            reply.integer(Int64(range.lowerBound))
            reply.integer(Int64(range.upperBound))
            node(master, endpoint: endpoint, into: &reply)
            for r in replicas { node(r, endpoint: endpoint, into: &reply) }
        }
    }

    /// CLUSTER SHARDS: per master, its slot ranges and the details of it and its replicas.
    static func shards(_ state: ClusterState, endpoint: EndpointType, offset: (NodeName) -> Int64, into reply: inout ReplyWriter) {
        let masters = state.orderedNodes.filter { $0.isMaster }
        reply.arrayHeader(masters.count)
        for master in masters {
            reply.mapHeader(2)
            reply.bulk("slots")
            let ranges = master.slots.ranges
            reply.arrayHeader(ranges.count * 2)
            for r in ranges {
                reply.integer(Int64(r.lowerBound))
                reply.integer(Int64(r.upperBound))
            }
            reply.bulk("nodes")
            let members = [master] + state.replicas(of: master.name)
            reply.arrayHeader(members.count)
            for n in members { details(n, state: state, endpoint: endpoint, offset: offset(n.name), into: &reply) }
        }
    }

    private static func details(_ n: ClusterNode, state: ClusterState, endpoint: EndpointType, offset: Int64,
                                into reply: inout ReplyWriter) {
        let health = n.flags.contains(.fail) ? "fail" : (n.isReplica && offset == 0 ? "loading" : "online")
        var fields: [(String, String?)] = [("id", n.name.text)]
        fields.append(("port", nil))
        fields.append(("ip", n.ip))
        fields.append(("endpoint", endpoint.endpoint(of: n)))
        if !n.hostname.isEmpty { fields.append(("hostname", n.hostname)) }
        fields.append(("role", n.isReplica ? "replica" : "master"))
        fields.append(("replication-offset", nil))
        fields.append(("health", health))
        reply.mapHeader(fields.count)
        for (key, value) in fields {
            reply.bulk(key)
            switch key {
            case "port": reply.integer(Int64(n.port))
            case "replication-offset": reply.integer(offset)
            default: reply.bulk(value ?? "")
            }
        }
    }
}
