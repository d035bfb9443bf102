import CairnRESP
import CairnStorage

// One line of CLIENT LIST / CLIENT INFO, field for field in Redis 7.2's order (7.0's plus
// lib-name and lib-ver). Fields Cairn does not track (pub/sub, MULTI, query buffer) carry the value
// an idle normal Redis client shows, so parsers that split on spaces and '=' keep working.

enum ClientInfo {
    static func line(_ s: ClientSession, _ server: Server, _ c: CommandContext) -> String {
        // Arguments of the command being run: only known for the calling client.
        var argvMemory: Int? = nil
        if s === c.client { argvMemory = (0..<c.args.count).reduce(0) { $0 + c.args[$1].count } }
        let queued = server.connection(id: s.id)?.queuedOutputBytes ?? 0
        return line(s, now: c.engine.now, currentArgumentBytes: argvMemory, queuedOutputBytes: queued)
    }

    /// The line for `s` at `now`; `currentArgumentBytes`: the size of the arguments of the command
    /// `s` is running, when known (ACL LOG's client-info, written from the ACL filter);
    /// `queuedOutputBytes`: replies handed to the connection and not yet on the socket.
    ///
    /// Output is shown as Redis would hold it: the first 16 KiB in the static buffer (`obl`),
    /// the rest in 16 KiB reply-list nodes (`oll`, `omem`).
    static func line(_ s: ClientSession, now: Int64, currentArgumentBytes: Int?, queuedOutputBytes: Int = 0) -> String {
        let argvMemory = currentArgumentBytes ?? 0
        let replyBufferSize = s.reply.buffer.capacity
        let pendingTotal = s.reply.buffer.readableBytes + queuedOutputBytes
        let listBytes = OutputBufferLimits.countedBytes(pending: pendingTotal)
        let chunk = OutputBufferLimits.uncountedBytes
        let listNodes = (listBytes + chunk - 1) / chunk
        let pending = pendingTotal - listBytes
        // In Redis's order (catClientInfoString).
        var flags = ""
        if s.isReplicaLink { flags += "S" }
        if s.origin == .master { flags += "M" }
        if !s.subscriptions.isEmpty { flags += "P" }
        if s.transaction != nil { flags += "x" }
        if s.blocked != nil || s.postponed { flags += "b" }
        if let t = s.tracking {
            flags += "t"
            if t.brokenRedirect { flags += "R" }
            if t.bcast { flags += "B" }
        }
        if s.closeAfterReply { flags += "c" }
        if s.address.hasPrefix("/") { flags += "U" }
        if s.clusterReadOnly { flags += "r" }
        if s.noEvict { flags += "e" }
        if flags.isEmpty { flags = "N" }
        var fields: [(String, String)] = [
            ("id", String(s.id)),
            ("addr", s.address),
            ("laddr", s.localAddress),
            ("fd", String(s.fileDescriptor)),
            ("name", text(s.name)),
            ("age", String(max(0, now - s.createdAtMillis) / 1000)),
            ("idle", String(max(0, now - s.lastInteractionMillis) / 1000)),
            ("flags", flags),
            ("db", String(s.db)),
            ("sub", String(s.subscriptions.channels.count)), ("psub", String(s.subscriptions.patterns.count)),
            ("ssub", String(s.subscriptions.shardChannels.count)),
            ("multi", s.transaction.map { String($0.queuedCount) } ?? "-1"),
            ("qbuf", "0"), ("qbuf-free", "0"),
            ("argv-mem", String(argvMemory)),
            ("multi-mem", "0"),
            ("rbs", String(replyBufferSize)),
            ("rbp", String(replyBufferSize)),
            ("obl", String(pending)),
            ("oll", String(listNodes)), ("omem", String(listBytes)),
            ("tot-mem", String(replyBufferSize + argvMemory + listBytes)),
            ("events", "r"),
            ("cmd", s.lastCommand),
            ("user", s.user),
            ("redir", s.tracking.map { String($0.redirect) } ?? "-1"),
            ("resp", s.resp3 ? "3" : "2"),
        ]
        fields.append(("lib-name", text(s.libraryName)))
        fields.append(("lib-ver", text(s.libraryVersion)))
        return fields.map { "\($0.0)=\($0.1)" }.joined(separator: " ")
    }

    /// Names and library attributes are validated to printable ASCII when set.
    private static func text(_ bytes: [UInt8]?) -> String {
        bytes.map { String(decoding: $0, as: UTF8.self) } ?? ""
    }
}
