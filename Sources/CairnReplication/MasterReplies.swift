// What a replica reads from its master before the command stream (Redis's syncWithMaster and
// readSyncBulkPayload), as pure decoders of outside bytes: the handshake's reply lines, the PSYNC
// reply, the bulk header that announces the RDB, and the end of an EOF-marked transfer. The
// server's MasterLink does the I/O; a fuzz target (Fuzz/Sources/repl-master-replies) drives these.

public enum MasterReplies {
    /// A reply line longer than this is refused (Redis reads them into a fixed buffer too).
    public static let lineBytesMax = 64 * 1024

    public enum Line: Equatable, Sendable {
        /// The line without its CRLF (or bare LF: the master's keep-alive newlines), and how many
        /// bytes it took.
        case line(String, consumed: Int)
        case needMore
        case tooLong
    }

    /// The first line in `bytes`.
    public static func line(in bytes: UnsafeRawBufferPointer) -> Line {
        guard let lf = bytes.firstIndex(of: UInt8(ascii: "\n")) else {
            return bytes.count > lineBytesMax ? .tooLong : .needMore
        }
        guard lf <= lineBytesMax else { return .tooLong }
        var end = lf
        if end > 0 && bytes[end - 1] == UInt8(ascii: "\r") { end -= 1 }
        return .line(String(decoding: UnsafeRawBufferPointer(rebasing: bytes[..<end]), as: UTF8.self), consumed: lf + 1)
    }

    public enum PSYNCReply: Equatable, Sendable {
        /// +FULLRESYNC <replid> <offset>: the RDB follows.
        case fullResync(replid: String, offset: Int64)
        /// +CONTINUE [<replid>]: the stream continues (a new id when the master changed it).
        case partial(replid: String?)
        /// -NOMASTERLINK / -LOADING: the master cannot now, but will.
        case tryLater(String)
        case refused(String)
    }

    public static func psync(_ line: String) -> PSYNCReply {
        let parts = line.split(separator: " ", omittingEmptySubsequences: false)
        if parts.first == "+FULLRESYNC" {
            guard parts.count == 3, parts[1].count == 40, let offset = Int64(parts[2]), offset >= 0 else {
                return .refused(line)
            }
            return .fullResync(replid: String(parts[1]), offset: offset)
        }
        if parts.first == "+CONTINUE" {
            if parts.count == 1 { return .partial(replid: nil) }
            guard parts.count == 2, parts[1].count == 40 else { return .refused(line) }
            return .partial(replid: String(parts[1]))
        }
        if line.hasPrefix("-NOMASTERLINK") || line.hasPrefix("-LOADING") { return .tryLater(line) }
        return .refused(line)
    }

    public enum BulkHeader: Equatable, Sendable {
        /// An empty line: the master is still preparing the RDB.
        case keepAlive
        /// $EOF:<40 bytes>: the RDB ends with these 40 bytes.
        case eofMarked(mark: [UInt8])
        /// $<length>: exactly this many bytes.
        case length(Int64)
        /// -<error>: the master gave up.
        case masterError(String)
        case invalid(String)
    }

    public static let eofMarkBytes = 40

    public static func bulkHeader(_ line: String) -> BulkHeader {
        if line.isEmpty { return .keepAlive }
        if line.hasPrefix("-") { return .masterError(String(line.dropFirst())) }
        guard line.hasPrefix("$") else { return .invalid(line) }
        let body = line.utf8.dropFirst()
        if body.starts(with: "EOF:".utf8) {
            let mark = Array(body.dropFirst(4))
            return mark.count == eofMarkBytes ? .eofMarked(mark: mark) : .invalid(line)
        }
        guard let n = Int64(String(decoding: body, as: UTF8.self)), n >= 0 else { return .invalid(line) }
        return .length(n)
    }
}

/// Watches an EOF-marked transfer for its end: the last 40 bytes read equal the mark.
public struct EOFMarkWatcher: Sendable {
    public let mark: [UInt8]
    private var tail: [UInt8] = []

    public init(mark: [UInt8]) { self.mark = mark }

    /// Feeds the next bytes of the transfer; true once the bytes so far end with the mark.
    public mutating func feed(_ bytes: UnsafeRawBufferPointer) -> Bool {
        if bytes.count >= mark.count {
            tail = Array(bytes.suffix(mark.count))
        } else {
            tail.append(contentsOf: bytes)
            if tail.count > mark.count { tail.removeFirst(tail.count - mark.count) }
        }
        return tail == mark
    }
}
