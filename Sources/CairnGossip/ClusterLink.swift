import CairnCluster
import NIOCore

// One TCP connection of the cluster bus (Redis's clusterLink). Between two nodes there are two:
// the one each side opened (`outbound`, Redis's node->link), on which it sends PINGs and MEETs
// and reads PONGs, and the one the other side opened (`inbound`, node->inbound_link), on which
// it reads PINGs and answers PONGs. Everything here runs on the bus's event loop.

/// One bus connection and what is known of it.
final class ClusterLink: @unchecked Sendable {
    /// Whether the peer opened it (we learn its node from the messages) or we did.
    let inbound: Bool
    /// The node at the other end: always set for an outbound link; set for an inbound one once a
    /// message names a known sender.
    var node: NodeName?
    /// When the link was created (Unix ms): CLUSTER LINKS's `create-time`, and the cron's timeout
    /// rules.
    let createdMs: Int64
    /// When bytes last arrived (Unix ms).
    var lastReceivedMs: Int64
    /// The connection; nil while an outbound link is still connecting.
    var channel: Channel?
    /// Received bytes not yet decoded (at most one message plus one read).
    var inbox = ByteBuffer()
    var decoder: BusDecoder
    /// Bytes handed to the channel and not yet written to the socket (CLUSTER LINKS's
    /// `send-buffer-used`).
    var pendingSendBytes = 0
    /// Set once the link is dropped: nothing more is read, sent or counted.
    var closed = false
    /// The address text of the peer and of our end, kept from when the connection came up
    /// (NIO forgets them once the socket closes).
    var peerIP: String?
    var localIP: String?
    weak var bus: ClusterBus?

    init(inbound: Bool, node: NodeName?, createdMs: Int64, messageBytesMax: Int, bus: ClusterBus) {
        self.inbound = inbound
        self.node = node
        self.createdMs = createdMs
        self.lastReceivedMs = createdMs
        self.decoder = BusDecoder(messageBytesMax: messageBytesMax)
        self.bus = bus
    }

    /// Records the connection once it is up.
    func attach(_ channel: Channel) {
        self.channel = channel
        peerIP = channel.remoteAddress?.ipAddress
        localIP = channel.localAddress?.ipAddress
    }
}

/// Feeds a link's bytes to its bus and tells it when the connection ends.
final class BusLinkHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer

    private let link: ClusterLink

    init(link: ClusterLink) { self.link = link }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let bytes = unwrapInboundIn(data)
        link.bus?.received(bytes, on: link)
    }

    func channelInactive(context: ChannelHandlerContext) {
        link.bus?.connectionEnded(link)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        link.bus?.logger.debug("Cluster bus link error: \(error)")
        context.close(promise: nil)
    }
}

/// One row of CLUSTER LINKS (Redis 7.0 prints, per link, its fields in this order).
public struct ClusterLinkInfo: Hashable, Sendable {
    /// `to` for the link this node opened, `from` for the one the peer opened.
    public var direction: String
    /// The node at the other end.
    public var node: NodeName
    /// When the link was created, Unix ms.
    public var createTimeMs: Int64
    /// `r` while the link reads, `rw` while it also has bytes waiting to be written, empty while
    /// an outbound link is still connecting.
    public var events: String
    /// The bytes the send buffer holds room for (Cairn reports the bytes waiting, as below).
    public var sendBufferAllocatedBytes: Int
    /// The bytes waiting to be written.
    public var sendBufferUsedBytes: Int
}
