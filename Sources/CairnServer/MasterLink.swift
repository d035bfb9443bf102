import CairnReplication
import CairnRESP
import CairnStorage
import NIOCore
import NIOPosix
import NIOSSL
#if canImport(Glibc)
import Glibc
#endif

// The replica side of replication (docs/replication.md, "Replica side"; Redis's
// connectWithMaster, syncWithMaster, readSyncBulkPayload): the link from this node to its
// master. It connects, runs the handshake (PING, AUTH, REPLCONF listening-port and capa, PSYNC),
// receives the RDB of a full sync into a temporary file and loads it, then applies the master's
// stream as a client of origin `.master`, passes those bytes on unchanged to this node's own
// replicas, and acknowledges its offset every second. A lost link is retried from the cron.
// Everything runs on the server's event loop.

// Confined to the server's event loop (NIO's callbacks run there), hence unchecked.
final class MasterLink: @unchecked Sendable {
    enum Phase: Equatable {
        case connecting, awaitingPong, awaitingAuth, awaitingPort, awaitingCapa, awaitingPSYNC
        /// +FULLRESYNC read; the `$<length>` or `$EOF:<mark>` line comes next.
        case awaitingBulk
        case receivingRDB
        case streaming
        case down
    }

    unowned(unsafe) let server: Server
    let host: String
    let port: Int
    private(set) var phase = Phase.down
    /// This node's FAILOVER handed over to this master: its PSYNC says FAILOVER, and the
    /// failover ends (or aborts) with the PSYNC's answer.
    var failoverPSYNC = false
    private var channel: Channel?
    private var input: ByteBuffer?
    private var parser: CommandParser
    private(set) var session: ClientSession?
    // The full sync in progress.
    private var fullSyncID = ""
    private var fullSyncOffset: Int64 = 0
    private var transferFD: Int32 = -1
    private var transferPath = ""
    private var transferRemaining: Int64 = 0
    private var eofWatcher: EOFMarkWatcher? = nil
    /// This transfer is loaded from the socket as it arrives (repl-diskless-load on-empty-db).
    private var loadsFromSocket = false
    /// The link speaks TLS (tls-replication yes): the socket carries no plain RDB to load from.
    private var usesTLS = false
    private(set) var transferRead: Int64 = 0
    private(set) var transferSize: Int64 = -1
    // INFO.
    private(set) var lastIOMillis: Int64 = 0
    private(set) var downSinceMillis: Int64 = Clock.unixMillis()
    private var lastConnectMillis: Int64 = 0
    private var lastAckMillis: Int64 = 0

    init(server: Server, host: String, port: Int) {
        self.server = server
        self.host = host
        self.port = port
        parser = CommandParser(limits: server.respLimits)
    }

    var isUp: Bool { phase == .streaming }

    /// ROLE's name for the link's state (Redis's replication states).
    var roleState: String {
        switch phase {
        case .down: return "connect"
        case .connecting: return "connecting"
        case .awaitingPong, .awaitingAuth, .awaitingPort, .awaitingCapa, .awaitingPSYNC: return "handshake"
        case .awaitingBulk, .receivingRDB: return "sync"
        case .streaming: return "connected"
        }
    }
    var syncInProgress: Bool { phase == .awaitingBulk || phase == .receivingRDB }

    // MARK: connection

    /// Connects unless connected or a try is under way (Redis's connectWithMaster).
    func connectIfDown() {
        guard phase == .down else { return }
        lastConnectMillis = Clock.unixMillis()
        phase = .connecting
        server.logger.notice("Connecting to MASTER \(host):\(port)")
        // tls-replication yes: TLS with the client-side context (TLSServer.swift), as Redis's
        // connCreateTLS; the master's certificate is verified against the CA, not its name.
        let tlsContext: NIOSSLContext?
        do {
            tlsContext = server.settings.parity.value("tls-replication") == "yes" ? try server.tlsClientContext() : nil
        } catch {
            server.logger.warning("Unable to connect to MASTER: \(error)")
            phase = .down
            return
        }
        usesTLS = tlsContext != nil
        let bootstrap = ClientBootstrap(group: server.loop)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .connectTimeout(.seconds(Int64(max(1, server.settings.replTimeoutSeconds))))
            .channelInitializer { [self] channel in
                channel.eventLoop.makeCompletedFuture {
                    if let tlsContext {
                        try channel.pipeline.syncOperations.addHandler(NIOSSLClientHandler(context: tlsContext, serverHostname: nil))
                    }
                    try channel.pipeline.syncOperations.addHandler(MasterLinkHandler(link: self))
                }
            }
        bootstrap.connect(host: host, port: port).whenComplete { [self] result in
            switch result {
            case .success(let channel):
                guard phase == .connecting else { channel.close(promise: nil); return }
                self.channel = channel
                server.logger.notice("MASTER <-> REPLICA sync started")
                lastIOMillis = Clock.unixMillis()
                phase = .awaitingPong
                send(["PING"])
            case .failure(let error):
                guard phase == .connecting else { return }
                server.logger.warning("Error condition on socket for SYNC: \(error)")
                phase = .down
            }
        }
    }

    /// Stops the link for good (REPLICAOF NO ONE, another master, shutdown).
    func close() {
        let wasChannel = channel
        linkLost(reason: nil)
        wasChannel?.close(promise: nil)
    }

    /// The connection ended or failed: back to `down`, retried by the cron. During a FAILOVER's
    /// hand-over, the failover is aborted instead (after this call returns).
    func linkLost(reason: String?) {
        if failoverPSYNC {
            failoverPSYNC = false
            let server = self.server
            let why = reason ?? "connection to the target lost"
            server.loop.execute { server.abortFailover(why) }
        }
        if let reason { server.logger.warning("\(reason)") }
        if phase == .streaming {
            server.logger.notice("Connection with master lost.")
            downSinceMillis = Clock.unixMillis()
        } else if syncInProgress && reason == nil {
            server.logger.warning("I/O error trying to sync with MASTER: connection lost")
        }
        abortTransfer()
        channel = nil
        input = nil
        if let session { server.masterLinkStreamDB = session.db }
        session = nil
        parser = CommandParser(limits: server.respLimits)
        phase = .down
    }

    /// Once a second from the server cron: reconnect, acknowledge, time out a silent master.
    func cron() {
        let now = Clock.unixMillis()
        if phase == .down {
            if now - lastConnectMillis >= 1000 { connectIfDown() }
            return
        }
        if now - lastIOMillis > Int64(server.settings.replTimeoutSeconds) * 1000 {
            let what = phase == .streaming ? "MASTER timeout: no data nor PING received..." : "Timeout connecting to the MASTER..."
            let c = channel
            linkLost(reason: what)
            c?.close(promise: nil)
            return
        }
        if phase == .streaming && now - lastAckMillis >= 1000 { sendAck() }
    }

    /// REPLCONF GETACK from the master, met while applying its stream: the ACK goes out once the
    /// bytes read so far are applied, so that it counts them.
    func requestAck() { ackRequested = true }
    private var ackRequested = false

    /// REPLCONF ACK <offset>: what this node has applied.
    func sendAck() {
        guard phase == .streaming else { return }
        lastAckMillis = Clock.unixMillis()
        send(["REPLCONF", "ACK", String(server.replication.offset)])
    }

    private func send(_ words: [String]) {
        guard let channel else { return }
        let bytes = CommandEncoder.encode(words.map { Array($0.utf8) })
        channel.writeAndFlush(channel.allocator.buffer(bytes: bytes), promise: nil)
    }

    // MARK: input

    /// Whether `channel` is this link's current connection (a closed one may still deliver).
    func owns(_ channel: Channel) -> Bool { self.channel === channel }

    func received(_ bytes: inout ByteBuffer) {
        lastIOMillis = Clock.unixMillis()
        server.net.replInputBytes += Int64(bytes.readableBytes)
        if input == nil || input!.readableBytes == 0 { input = bytes } else { input!.writeBuffer(&bytes) }
        guard var buffer = input else { return }
        input = nil
        process(&buffer)
        if buffer.readableBytes > 0 && phase != .down { input = buffer }
    }

    private func process(_ buffer: inout ByteBuffer) {
        while phase != .down && buffer.readableBytes > 0 {
            switch phase {
            case .receivingRDB:
                receiveRDB(&buffer)
            case .streaming:
                applyStream(&buffer)
                return
            default:
                let next = buffer.withUnsafeReadableBytes { MasterReplies.line(in: $0) }
                switch next {
                case .needMore: return
                case .tooLong: return fail("Reply line from MASTER too long")
                case .line(let line, let consumed):
                    buffer.moveReaderIndex(forwardBy: consumed)
                    handshake(line)
                    if phase == .receivingRDB && loadsFromSocket { loadFromSocket(&buffer) }
                }
            }
        }
    }

    /// One line of the handshake, or of the bulk header.
    private func handshake(_ line: String) {
        switch phase {
        case .awaitingPong:
            // -NOAUTH / -NOPERM mean the master is there and wants AUTH (Redis accepts them here).
            if line.hasPrefix("-") && !line.hasPrefix("-NOAUTH") && !line.hasPrefix("-NOPERM") && !line.hasPrefix("-ERR operation not permitted") {
                return fail("Error reply to PING from master: '\(line)'")
            }
            if let password = server.settings.masterauth {
                phase = .awaitingAuth
                send(server.settings.masteruser.map { ["AUTH", $0, password] } ?? ["AUTH", password])
            } else {
                sendPort()
            }
        case .awaitingAuth:
            guard !line.hasPrefix("-") else { return fail("Unable to AUTH to MASTER: \(line)") }
            sendPort()
        case .awaitingPort:
            // Errors are only logged: an old master may not know the option.
            if line.hasPrefix("-") { server.logger.notice("(Non critical) Master does not understand REPLCONF listening-port: \(line)") }
            phase = .awaitingCapa
            send(["REPLCONF", "capa", "eof", "capa", "psync2", "capa", Server.cairnLZ4Capability])
        case .awaitingCapa:
            if line.hasPrefix("-") { server.logger.notice("(Non critical) Master does not understand REPLCONF capa: \(line)") }
            phase = .awaitingPSYNC
            let replication = server.replication
            // Our own history, when there is one (Redis's cached master, or its own as a master
            // turned replica: replicationCacheMasterUsingMyself): a promoted replica of our old
            // master knows it as its second id and may continue it.
            if replication.isFeeding || replication.offset > 0 {
                let from = replication.offset + 1
                server.logger.notice("Trying a partial resynchronization (request \(replication.ids.replid):\(from)).")
                send(["PSYNC", replication.ids.replid, String(from)] + (failoverPSYNC ? ["FAILOVER"] : []))
            } else {
                server.logger.notice("Partial resynchronization not possible (no cached master)")
                send(["PSYNC", "?", "-1"])
            }
        case .awaitingPSYNC:
            // Empty lines are the master's keep-alives while the replica waits for its sync.
            if !line.isEmpty { psyncReply(line) }
        case .awaitingBulk:
            bulkHeader(line)
        default:
            break
        }
    }

    /// REPLCONF listening-port (replica-announce-port when set), with ip-address when
    /// replica-announce-ip is set.
    private func sendPort() {
        phase = .awaitingPort
        // A TLS link announces the tls-port (Redis's syncWithMaster), unless replica-announce-port.
        let tlsPort = usesTLS ? TLSDirectives(server.settings.parity).port : 0
        let port = server.settings.replicaAnnouncePort != 0 ? server.settings.replicaAnnouncePort
            : tlsPort != 0 ? tlsPort : (server.boundPort ?? server.settings.port)
        var words = ["REPLCONF", "listening-port", String(port)]
        if let ip = server.settings.replicaAnnounceIP { words += ["ip-address", ip] }
        send(words)
    }

    private func psyncReply(_ line: String) {
        switch MasterReplies.psync(line) {
        case .fullResync(let replid, let offset):
            fullSyncID = replid
            fullSyncOffset = offset
            server.logger.notice("Full resync from master: \(replid):\(offset)")
            phase = .awaitingBulk
            if failoverPSYNC {
                // The target could not continue this node's stream; it is the master anyway.
                failoverPSYNC = false
                server.failoverSucceeded()
            }
        case .partial(let replid):
            if let replid, replid != server.replication.ids.replid {
                server.logger.notice("Master replication ID changed to \(replid)")
                server.replication.masterChangedID(to: replid)
            }
            server.logger.notice("Successful partial resynchronization with master.")
            server.logger.notice("MASTER <-> REPLICA sync: Master accepted a Partial Resynchronization.")
            startStreaming()
            if failoverPSYNC {
                failoverPSYNC = false
                server.failoverSucceeded()
            }
        case .tryLater(let text):
            fail("Master is currently unable to PSYNC but should be in the future: \(text)")
        case .refused(let text):
            fail("Unexpected reply to PSYNC from master: \(text)")
        }
    }

    /// `$<length>` or `$EOF:<40 bytes>`; empty lines are the master's keep-alives while it saves.
    private func bulkHeader(_ line: String) {
        switch MasterReplies.bulkHeader(line) {
        case .keepAlive:
            return
        case .masterError(let text):
            return fail("MASTER aborted replication with an error: \(text)")
        case .invalid(let text):
            return fail("Bad protocol from MASTER, the first byte is not '$' (we received '\(text)'), are you sure the host and port are right?")
        case .eofMarked(let mark):
            eofWatcher = EOFMarkWatcher(mark: mark)
            transferSize = -1
        case .length(let size):
            eofWatcher = nil
            transferSize = size
            transferRemaining = size
        }
        // repl-diskless-load on-empty-db: with nothing to lose, load straight from the socket.
        loadsFromSocket = server.settings.replDisklessLoad == "on-empty-db" && server.engine.totalKeys == 0 && !usesTLS
        let target = loadsFromSocket ? "parser" : "disk"
        server.logger.notice(eofWatcher != nil ? "MASTER <-> REPLICA sync: receiving streamed RDB from master with EOF to \(target)"
                                               : "MASTER <-> REPLICA sync: receiving \(transferSize) bytes from master to \(target)")
        transferRead = 0
        if loadsFromSocket {
            phase = .receivingRDB
            return
        }
        transferPath = "temp-\(Int(Clock.unixMillis() / 1000))-\(getpid()).rdb"
        transferFD = open(transferPath, O_CREAT | O_WRONLY | O_TRUNC, 0o644)
        guard transferFD >= 0 else {
            return fail("Opening the temp file needed for MASTER <-> REPLICA synchronization: \(String(cString: strerror(errno)))")
        }
        transferRead = 0
        phase = .receivingRDB
        if transferSize == 0 { finishTransfer() }
    }

    private func receiveRDB(_ buffer: inout ByteBuffer) {
        var chunk = buffer.readableBytesView
        if eofWatcher == nil {
            let n = Int(min(Int64(chunk.count), transferRemaining))
            chunk = chunk.prefix(n)
        }
        let ok = chunk.withUnsafeBytes { raw -> Bool in
            var done = 0
            while done < raw.count {
                let n = write(transferFD, raw.baseAddress! + done, raw.count - done)
                if n < 0 { if errno == EINTR { continue }; return false }
                done += n
            }
            return true
        }
        guard ok else { return fail("Write error saving the DB received from the MASTER: \(String(cString: strerror(errno)))") }
        transferRead += Int64(chunk.count)
        buffer.moveReaderIndex(forwardBy: chunk.count)
        if eofWatcher != nil {
            if chunk.withUnsafeBytes({ eofWatcher!.feed($0) }) { finishTransfer() }
        } else {
            transferRemaining -= Int64(chunk.count)
            if transferRemaining == 0 { finishTransfer() }
        }
    }

    /// The RDB is whole in the temporary file: load it in place of the dataset, then apply the
    /// stream; the file becomes this node's dbfilename.
    private func finishTransfer() {
        if let watcher = eofWatcher {
            // The file ends with the mark, not part of the RDB.
            _ = ftruncate(transferFD, off_t(transferRead - Int64(watcher.mark.count)))
        }
        _ = fsync(transferFD)
        Glibc.close(transferFD)
        transferFD = -1
        let path = transferPath
        let loaded = replaceDataset { try server.persistence.loadRDB(path) }
        if loaded, rename(path, server.persistence.settings.dbfilename) == 0 { return }
        unlink(path)
    }

    /// The RDB read straight from the socket (the bytes already read first), blocking the loop
    /// as Redis's diskless load does; bytes after a `$<length>` transfer are the stream's.
    private func loadFromSocket(_ buffer: inout ByteBuffer) {
        let fd = channel.flatMap { c in
            (try? c.pipeline.syncOperations.withUnsafeTransportIfAvailable(of: NIOBSDSocket.Handle.self) { $0 }) ?? nil
        }
        guard let fd else { return fail("MASTER <-> REPLICA sync: no socket to load from") }
        let prefix = Array(buffer.readableBytesView)
        buffer.moveReaderIndex(forwardBy: prefix.count)
        let mark = eofWatcher?.mark
        let source = TransferSource(fd: fd, prefix: prefix, length: mark == nil ? transferSize : nil, mark: mark,
                                    timeoutMillis: Int32(clamping: server.settings.replTimeoutSeconds * 1000))
        let loaded = replaceDataset {
            try server.persistence.loadRDB(from: source)
            guard try source.finishMark() else { throw RDBError(.corrupt, "the transfer does not end with its EOF mark") }
        }
        transferRead = Int64(prefix.count) + source.bytesTaken
        if loaded, mark == nil { buffer.writeBytes(TransferSource.overflow(prefix: prefix, length: transferSize)) }
    }

    /// Empties the dataset and runs `load` to fill it with the master's RDB; then the stream
    /// starts. A failed load leaves the dataset empty (never half-loaded) and drops the link.
    private func replaceDataset(_ load: () throws -> Void) -> Bool {
        // The AOF holds the old dataset's history: it stops now and starts again from a rewrite
        // of the loaded dataset (Redis's stopAppendOnly / restartAOFAfterSYNC), so the two are
        // never mixed.
        let persistence = server.persistence
        let aofOn = persistence.settings.appendonly
        if aofOn { _ = persistence.appendOnlyChanged(to: false) }
        defer {
            if aofOn, persistence.appendOnlyChanged(to: true) != nil {
                server.logger.warning("Failed enabling the AOF after successful master synchronization! Trying it again in one second.")
            }
        }
        // repl-diskless-load swapdb: the old dataset is set aside, and comes back if the load
        // fails; otherwise it is emptied first, and a failed load leaves nothing.
        var aside: [Database]? = nil
        if server.settings.replDisklessLoad == "swapdb" {
            aside = server.engine.setDatabasesAside()
        } else {
            server.logger.notice("MASTER <-> REPLICA sync: Flushing old data")
            // replica-lazy-flush: the old dataset is freed on the lazy-free thread.
            server.engine.flushAll(async: server.settings.parity.value("replica-lazy-flush") == "yes")
        }
        server.logger.notice("MASTER <-> REPLICA sync: Loading DB in memory")
        do {
            try load()
        } catch {
            if let aside {
                server.engine.restoreDatabases(aside)
                server.logger.warning("Failed trying to load the MASTER synchronization DB: restoring the old dataset")
            } else {
                server.engine.flushAll()
            }
            fail("Failed trying to load the MASTER synchronization DB from \(loadsFromSocket ? "socket" : "disk"): \(error)")
            return false
        }
        if aside != nil { server.logger.notice("MASTER <-> REPLICA sync: Discarding the old data") }
        server.replication.adoptMaster(replid: fullSyncID, offset: fullSyncOffset)
        server.masterLinkStreamDB = 0
        lastIOMillis = Clock.unixMillis()  // a long load is not a silent master
        server.logger.notice("MASTER <-> REPLICA sync: Finished with success")
        startStreaming()
        sendAck()  // a diskless master waits for it before streaming
        return true
    }

    private func abortTransfer() {
        if transferFD >= 0 {
            Glibc.close(transferFD)
            transferFD = -1
            unlink(transferPath)
        }
    }

    private func startStreaming() {
        let session = ClientSession(id: server.nextClientID(), authenticated: true,
                                    buffer: ByteBuffer(), origin: .master)
        session.address = "\(host):\(port)"
        session.db = server.masterLinkStreamDB
        self.session = session
        parser = CommandParser(limits: server.respLimits)
        phase = .streaming
        downSinceMillis = 0
    }

    /// Applies every whole command of the master's stream; what was applied extends this node's
    /// history and goes on to its own replicas byte for byte.
    private func applyStream(_ buffer: inout ByteBuffer) {
        guard let session else { return }
        let start = buffer.readerIndex
        server.engine.masterStreamOffset = server.replication.offset
        let error = server.engine.executeRequests(in: &buffer, parser: &parser, client: session)
        let applied = buffer.readerIndex - start
        if applied > 0 {
            // The applied bytes, read again (NIO reads only ahead of the reader index); what
            // follows them stays where it is, uncopied.
            buffer.moveReaderIndex(to: start)
            server.replication.appendFromMaster(buffer.readBytes(length: applied) ?? [])
        }
        if ackRequested {
            ackRequested = false
            sendAck()
        }
        session.reply.buffer.clear()  // a master gets no replies (REPLCONF GETACK answers itself)
        if let error {
            fail("Protocol error from master: \(String(decoding: error.message, as: UTF8.self))")
        }
    }

    /// Drops the connection (CLIENT KILL): the cron reconnects.
    func disconnect() {
        let c = channel
        linkLost(reason: nil)
        c?.close(promise: nil)
    }

    private func fail(_ reason: String) {
        let c = channel
        linkLost(reason: reason)
        c?.close(promise: nil)
    }
}

/// Feeds the master connection's bytes to its MasterLink.
final class MasterLinkHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    unowned(unsafe) let link: MasterLink

    init(link: MasterLink) { self.link = link }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard link.owns(context.channel) else { return }
        var bytes = unwrapInboundIn(data)
        link.received(&bytes)
    }

    func channelInactive(context: ChannelHandlerContext) {
        if link.owns(context.channel) { link.linkLost(reason: nil) }
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        context.close(promise: nil)
    }
}
