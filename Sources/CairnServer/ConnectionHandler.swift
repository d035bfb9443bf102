import CairnRESP
import CairnStorage
import NIOCore

// One client connection. Runs on the server's single event loop, which also owns the engine, so a
// command executes with no thread hop: bytes in -> parse in place -> execute -> reply bytes
// appended to the client's output buffer. Replies of every command parsed from one read burst
// go out in a single write+flush at channelReadComplete.

final class ConnectionHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    /// An output buffer whose capacity grew past this is dropped after a flush rather than kept.
    static let replyBufferRetainedBytesMax = 64 * 1024
    static let replyBufferInitialBytes = 16 * 1024
    /// The reply buffer's capacity after the last write (INFO reply_buffer_expands counts growth).
    private var replyBufferCapacity = ConnectionHandler.replyBufferInitialBytes

    let server: Server
    private(set) var session: ClientSession?
    private var input: ByteBuffer?
    private var parser: CommandParser
    private var context: ChannelHandlerContext?
    // [security] client-output-buffer-limit: when the soft limit was first reached.
    private var softLimitReachedAt: Int64 = 0
    /// The replies wait for this turn's AOF write (and fsync under `always`): Server.endAOFTurn.
    private var repliesHeld = false
    /// The connection is a replica's link (after SYNC/PSYNC): its commands (REPLCONF ACK) get no
    /// replies, and it receives the replication stream through `sendStream`.
    var isReplica = false

    init(server: Server) {
        self.server = server
        self.parser = CommandParser(limits: server.respLimits)
    }

    func channelActive(context: ChannelHandlerContext) {
        self.context = context
        let session = ClientSession(
            id: server.nextClientID(),
            authenticated: !server.authRequired,
            buffer: context.channel.allocator.buffer(capacity: Self.replyBufferInitialBytes)
        )
        if case .unixDomainSocket? = context.channel.localAddress {
            // A unix-socket client is named after the socket, both ends (Redis's "path:0").
            session.address = "\(context.channel.localAddress?.pathname ?? ""):0"
            session.localAddress = session.address
        } else {
            session.address = context.channel.remoteAddress.map(Self.describe) ?? ""
            session.localAddress = context.channel.localAddress.map(Self.describe) ?? ""
        }
        self.session = session
        if let refusal = server.admissionError(for: context.channel) {
            session.reply.error(refusal)
            session.closeAfterReply = true
            flush(context)
            return
        }
        server.register(self)
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        if let session {
            server.engine.clientClosed(session)
            server.unregister(session.id)
        }
        self.context = nil
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard let session, !session.closeAfterReply else { return }
        var incoming = unwrapInboundIn(data)
        server.netInputBytes += Int64(incoming.readableBytes)
        server.net.readsProcessed += 1
        // Any input is activity for `timeout`, a request still arriving included (Redis's
        // readQueryFromClient sets lastinteraction on every read).
        session.lastInteractionMillis = Clock.unixMillis()
        if input == nil || input!.readableBytes == 0 {
            input = incoming
        } else {
            input!.writeBuffer(&incoming)
        }
        process(session, context)
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        flush(context)
        server.flushPendingOutput()
        if server.clientEvictionLimit > 0 { server.evictClientsIfNeeded() }
        context.fireChannelReadComplete()
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        context.close(promise: nil)
    }

    /// Parses and executes every complete request in the input buffer.
    private func process(_ session: ClientSession, _ context: ChannelHandlerContext) {
        guard var buffer = input else { return }
        input = nil  // keep the storage uniquely referenced while we read it
        parser.limits = server.respLimits  // CONFIG SET proto-max-bulk-len applies to open connections too
        if let message = server.engine.executeRequests(in: &buffer, parser: &parser, client: session) {
            session.reply.error(bytes: Array("ERR Protocol error: ".utf8) + message.message)
            session.closeAfterReply = true
            server.logProtocolError(session, message)
            return
        }
        if buffer.readableBytes > 0 {
            if buffer.readableBytes > server.settings.clientQueryBufferLimit {
                server.logger.warning("Closing client that reached max query buffer length: id=\(session.id) addr=\(session.address)")
                session.closeAfterReply = true
                return
            }
            input = buffer
        }
    }

    /// Writes pending replies; closes the connection if the client is done.
    func flush(_ context: ChannelHandlerContext) {
        guard let session else { return }
        if isReplica {
            // Redis sends a replica no replies (its commands are REPLCONF ACKs).
            session.reply.buffer.clear()
            if session.closeAfterReply { context.close(promise: nil) }
            return
        }
        if server.aofHoldsReplies {
            if !repliesHeld {
                repliesHeld = true
                server.holdReplies(self)
            }
            return
        }
        if session.reply.buffer.readableBytes > 0 {
            // [security] client-output-buffer-limit: checked as replies are added, as Redis does.
            let limit = session.authenticated ? server.settings.outputBufferLimits[OutputBufferLimits.clientClass(of: session)]
                                              : OutputBufferLimits.unauthenticated
            if limit.isActive {
                let used = OutputBufferLimits.countedBytes(pending: session.reply.buffer.readableBytes + queuedOutputBytes)
                if OutputBufferLimits.exceeded(limit, used: used, nowSeconds: Clock.unixMillis() / 1000,
                                               softReachedAt: &softLimitReachedAt) {
                    closeForOutputBufferLimit(session, context)
                    return
                }
            }
            if session.isReplicaLink {
                server.net.replOutputBytes += Int64(session.reply.buffer.readableBytes)
            } else {
                server.netOutputBytes += Int64(session.reply.buffer.readableBytes)
            }
            server.net.writesProcessed += 1
            session.lastInteractionMillis = Clock.unixMillis()  // output is activity too (writeToClient)
            context.writeAndFlush(wrapOutboundOut(session.reply.buffer), promise: nil)
            let capacity = session.reply.buffer.capacity
            if capacity > replyBufferCapacity { server.net.replyBufferExpands += 1 }
            if capacity > Self.replyBufferRetainedBytesMax {
                session.reply.buffer = context.channel.allocator.buffer(capacity: Self.replyBufferInitialBytes)
                server.net.replyBufferShrinks += 1
                replyBufferCapacity = session.reply.buffer.capacity
            } else {
                replyBufferCapacity = capacity
                session.reply.buffer.clear()
            }
        }
        if session.closeAfterReply {
            context.close(promise: nil)
        }
    }

    /// Queues replication stream bytes (the master side of a replica link); they go out in one
    /// write at the end of the event-loop turn (`flushStream`), as Redis writes replicas from
    /// beforeSleep: a pipelined burst of writes costs the replica link one system call, not one
    /// per command. `limited`: false for the RDB of a disk-based sync, which Redis sends from the
    /// file, outside the output buffer: it is written at once.
    func sendStream(_ bytes: [UInt8], limited: Bool = true) {
        bytes.withUnsafeBytes { sendStream($0, limited: limited) }
    }

    func sendStream(_ bytes: UnsafeRawBufferPointer, limited: Bool = true) {
        guard let context, let session, !bytes.isEmpty, !session.closeAfterReply else { return }
        guard limited else {
            flushStream()
            server.net.replOutputBytes += Int64(bytes.count)
            server.net.writesProcessed += 1
            context.writeAndFlush(wrapOutboundOut(context.channel.allocator.buffer(bytes: bytes)), promise: nil)
            return
        }
        if streamOut == nil {
            streamOut = context.channel.allocator.buffer(capacity: max(bytes.count, 4096))
            server.flushStreamAtEndOfTurn(self)
        }
        streamOut!.writeBytes(bytes)
    }

    /// Stream bytes queued in this turn.
    private var streamOut: ByteBuffer?
    var hasQueuedStream: Bool { streamOut != nil }

    /// Writes the stream bytes queued in this turn. client-output-buffer-limit replica (256mb
    /// 64mb 60), checked once per turn: a replica that stops reading is dropped, and the master
    /// goes on serving.
    func flushStream() {
        guard let out = streamOut else { return }
        streamOut = nil
        guard let context, let session, !session.closeAfterReply else { return }
        let limit = server.settings.outputBufferLimits[.replica]
        if limit.isActive {
            let used = OutputBufferLimits.countedBytes(pending: queuedOutputBytes + out.readableBytes)
            if OutputBufferLimits.exceeded(limit, used: used, nowSeconds: Clock.unixMillis() / 1000, softReachedAt: &softLimitReachedAt) {
                return closeForOutputBufferLimit(session, context)
            }
        }
        server.net.replOutputBytes += Int64(out.readableBytes)
        server.net.writesProcessed += 1
        context.writeAndFlush(wrapOutboundOut(out), promise: nil)
    }

    /// Applies the replica output buffer limit to what waits for this replica: the stream bytes
    /// queued in this turn, what the socket has not taken, and `extraBytes` more (the stream a
    /// replica in a full sync accumulates until it has loaded its RDB). Over the limit, the
    /// replica is dropped, and the master goes on serving.
    func checkStreamLimit(extraBytes: Int) {
        guard let context, let session, !session.closeAfterReply else { return }
        let limit = server.settings.outputBufferLimits[.replica]
        guard limit.isActive else { return }
        let used = OutputBufferLimits.countedBytes(pending: queuedOutputBytes + (streamOut?.readableBytes ?? 0) + extraBytes)
        if OutputBufferLimits.exceeded(limit, used: used, nowSeconds: Clock.unixMillis() / 1000, softReachedAt: &softLimitReachedAt) {
            closeForOutputBufferLimit(session, context)
        }
    }

    /// The socket's descriptor, for a forked child that streams an RDB to it (diskless sync).
    var socketDescriptor: Int32? {
        guard let context else { return nil }
        return try? context.channel.pipeline.syncOperations.withUnsafeTransportIfAvailable(of: NIOBSDSocket.Handle.self) { $0 } ?? nil
    }

    /// TCP_NODELAY on the socket (repl-disable-tcp-nodelay); not critical if it fails.
    func setTCPNoDelay(_ on: Bool) {
        guard let channel = context?.channel else { return }
        _ = try? channel.syncOptions?.setOption(.socketOption(.tcp_nodelay), value: on ? 1 : 0)
    }

    /// Reply bytes written to the channel and not yet taken by the socket.
    /// Bytes the input buffer holds (INFO client_recent_max_input_buffer).
    var inputBufferBytes: Int { input?.capacity ?? 0 }

    var queuedOutputBytes: Int {
        guard let channel = context?.channel else { return 0 }
        return (try? channel.syncOptions?.getOption(.bufferedWritableBytes)) ?? 0
    }

    /// The AOF write this connection's replies waited for is done.
    func releaseHeldReplies() {
        repliesHeld = false
        flushNow()
    }

    /// Sends output another client's command left here (pub/sub messages).
    func flushNow() {
        guard let context else { return }
        flush(context)
    }

    /// [security] Drops the client and its pending output (Redis's closeClientOnOutputBufferLimitReached).
    private func closeForOutputBufferLimit(_ session: ClientSession, _ context: ChannelHandlerContext) {
        let info = ClientInfo.line(session, now: Clock.unixMillis(), currentArgumentBytes: nil, queuedOutputBytes: queuedOutputBytes)
        server.logger.warning("Client \(info) scheduled to be closed ASAP for overcoming of output buffer limits.")
        session.closeAfterReply = true
        session.reply.buffer.clear()
        context.close(promise: nil)
    }

    /// A blocked client got its reply: send it, then run requests that queued up meanwhile.
    func resume() {
        guard let context, let session else { return }
        process(session, context)
        flush(context)
    }

    /// Closes the connection now (CLIENT KILL, shutdown).
    func kill() {
        session?.closeAfterReply = true
        context?.close(promise: nil)
    }

    static func describe(_ address: SocketAddress) -> String {
        switch address {
        case .v4: return "\(address.ipAddress ?? "?"):\(address.port ?? 0)"
        case .v6: return "[\(address.ipAddress ?? "?")]:\(address.port ?? 0)"
        case .unixDomainSocket: return address.pathname ?? "unix"
        }
    }
}
