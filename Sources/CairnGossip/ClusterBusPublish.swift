import CairnCluster

// Pub/sub across the cluster (Redis 7.0's clusterPropagatePublish and
// clusterPropagatePublishShard): a PUBLISH goes to every other node, an SPUBLISH to the other
// nodes of this node's shard (its master and that master's replicas), each as one bus message on
// the link to that node. The receivers deliver to their own subscribers (`onPublish`).

extension ClusterBus {
    /// Sends `message` on `channel` to the other nodes: all of them, or with `shard` those of this
    /// node's shard.
    public func publish(channel: [UInt8], message: [UInt8], shard: Bool) {
        let data = PublishData(channel: channel, message: message)
        let bus = BusMessage(header: messageHeader(), body: shard ? .publishShard(data) : .publish(data))
        for name in shard ? shardPeers() : state.order {
            guard name != state.myself, let node = state[name], !node.flags.contains(.handshake),
                  let link = outboundLinks[name] else { continue }
            send(bus, on: link)
        }
    }

    /// The other nodes serving this node's slots: its master (or itself) and that master's replicas.
    func shardPeers() -> [NodeName] {
        let me = state.myselfNode
        let master = me.isReplica ? (me.replicaOf ?? me.name) : me.name
        return [master] + state.replicas(of: master).map(\.name)
    }
}
