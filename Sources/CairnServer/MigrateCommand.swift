import CairnCluster
import CairnRESP
import CairnStorage
import Glibc

// MIGRATE host port key|"" destination-db timeout [COPY] [REPLACE] [AUTH password]
// [AUTH2 username password] [KEYS key ...] (Redis 7.0's migrateCommand, cluster.c): the keys go
// to another server as DUMP payloads in RESTORE (RESTORE-ASKING in cluster mode, so that the
// target takes them into a slot it is importing), and are deleted here once the target said OK
// (unless COPY). As in Redis, the exchange is synchronous with a timeout on the thread that owns
// the keyspace, over a connection kept per target for reuse (closed after 10 s unused), and a
// connection that failed is retried once.
//
// The socket work is hand-written with POSIX calls rather than SwiftNIO: the command must finish
// (or time out) before the next one runs, which NIO's asynchronous channels cannot give on the
// event loop they would be waiting on.

/// A connection MIGRATE keeps to one target (Redis's migrateCachedSocket).
final class MigrateConnection {
    let fd: Int32
    /// The database its last SELECT chose; -1 before any.
    var lastDB = -1
    var lastUseMillis: Int64

    init(fd: Int32, nowMillis: Int64) {
        self.fd = fd
        lastUseMillis = nowMillis
    }

    deinit { close(fd) }
}

enum MigrateCommand {
    /// Redis's MIGRATE_SOCKET_CACHE_TTL: a connection unused this long is closed.
    static let connectionIdleMillisMax: Int64 = 10_000
    /// Redis's MIGRATE_SOCKET_CACHE_ITEMS.
    static let cachedConnectionsMax = 64

    static func specs(_ server: Server) -> [CommandSpec] {
        [
            CommandSpec("migrate", arity: -6, flags: [.write], categories: [.keyspace, .write, .slow, .dangerous],
                        keys: [.at(3, [.RW, .access, .delete]),
                               KeySpec([.RW, .access, .delete, .incomplete], .keyword("KEYS", startFrom: -2),
                                       .range(lastKey: -1, step: 1, limit: 0))],
                        group: "generic", since: "2.6.0",
                        summary: "Atomically transfer a key from a Redis instance to another one.",
                        findKeys: keys, handler: server.bind(migrate)),
        ]
    }

    /// The keys: the one at 3, or those after KEYS when the key argument is empty.
    static func keys(_ args: Arguments) -> [Int] {
        guard args.count > 5 else { return [] }
        if args[3].count == 0 {
            for i in 6..<args.count where args.matches(i, "keys") { return Array((i + 1)..<args.count) }
            return []
        }
        return [3]
    }

    struct Options {
        var copy = false, replace = false
        var auth: [[UInt8]]? = nil  // [password] or [username, password]
        var keysFrom: Int? = nil
    }

    static func migrate(_ s: Server, _ c: CommandContext) {
        var options = Options()
        var i = 6
        while i < c.args.count {
            let more = c.args.count - i - 1
            if c.args.matches(i, "copy") {
                options.copy = true
            } else if c.args.matches(i, "replace") {
                options.replace = true
            } else if c.args.matches(i, "auth") {
                guard more >= 1 else { return c.replySyntaxError() }
                options.auth = [c.args.bytes(i + 1)]
                i += 1
            } else if c.args.matches(i, "auth2") {
                guard more >= 2 else { return c.replySyntaxError() }
                options.auth = [c.args.bytes(i + 1), c.args.bytes(i + 2)]
                i += 2
            } else if c.args.matches(i, "keys") {
                guard c.args[3].count == 0 else {
                    return c.reply.error("ERR When using MIGRATE KEYS option, the key argument must be set to the empty string")
                }
                options.keysFrom = i + 1
                break
            } else {
                return c.replySyntaxError()
            }
            i += 1
        }
        guard let db = c.args.int64(4), let timeoutArg = c.args.int64(5), let port = c.args.int64(2) else {
            return c.reply.error("ERR value is not an integer or out of range")
        }
        let timeout = timeoutArg <= 0 ? 1000 : timeoutArg
        // The keys that exist; none at all is +NOKEY.
        let candidates = options.keysFrom.map { Array($0..<c.args.count) } ?? [3]
        var keys: [[UInt8]] = []
        var entries: [(payload: [UInt8], ttl: Int64)] = []
        for k in candidates {
            guard let index = c.db.lookupRead(c.args[k]) else { continue }
            keys.append(c.args.bytes(k))
            let at = c.db.table.expireAt(at: index)
            let ttl: Int64 = at == noExpiry ? 0 : max(1, at - c.engine.now)
            entries.append((DumpPayload.encode(c.db.table.value(at: index), lzf: c.engine.settings.dumpCompressesStrings), ttl))
        }
        guard !keys.isEmpty else { return c.reply.simpleString("NOKEY") }
        let host = c.args.string(1)
        let restore = s.clusterBus != nil ? "RESTORE-ASKING" : "RESTORE"
        var retried = false
        while true {
            guard let conn = s.migrateConnection(host: host, port: Int(clamping: port), timeoutMillis: timeout) else {
                return c.reply.error("IOERR error or timeout connecting to the client")
            }
            var out: [UInt8] = []
            var expectedReplies = 0
            if let auth = options.auth {
                CommandEncoder.append([Array("AUTH".utf8)] + auth, to: &out)
                expectedReplies += 1
            }
            let selecting = conn.lastDB != Int(db)
            if selecting {
                CommandEncoder.append([Array("SELECT".utf8), Array(String(db).utf8)], to: &out)
                expectedReplies += 1
            }
            for (key, entry) in zip(keys, entries) {
                var words = [Array(restore.utf8), key, Array(String(entry.ttl).utf8), entry.payload]
                if options.replace { words.append(Array("REPLACE".utf8)) }
                CommandEncoder.append(words, to: &out)
            }
            guard MigrateIO.writeAll(conn.fd, out, timeoutMillis: timeout) else {
                s.dropMigrateConnection(host: host, port: Int(clamping: port))
                if !retried && errno != EAGAIN { retried = true; continue }
                return c.reply.error("IOERR error or timeout writing to target instance")
            }
            var reader = MigrateIO.LineReader(fd: conn.fd, timeoutMillis: timeout)
            var errorText: String? = nil
            var ioFailed = false
            for _ in 0..<expectedReplies {
                guard let line = reader.line() else { ioFailed = true; break }
                if line.first == UInt8(ascii: "-") {
                    errorText = errorText ?? String(decoding: line.dropFirst(), as: UTF8.self)
                }
            }
            if !ioFailed && errorText == nil && selecting { conn.lastDB = Int(db) }
            var moved: [[UInt8]] = []
            if !ioFailed {
                for key in keys {
                    guard let line = reader.line() else { ioFailed = true; break }
                    if line.first == UInt8(ascii: "-") {
                        errorText = errorText ?? String(decoding: line.dropFirst(), as: UTF8.self)
                    } else if !options.copy {
                        moved.append(key)
                    }
                }
            }
            // What the target took is deleted here, and the AOF and replicas see DELs.
            if !moved.isEmpty {
                for key in moved {
                    c.db.delete(key)
                    c.notify(.generic, "del", key)
                }
                c.engine.dirty += Int64(moved.count)
                c.propagate([Array("DEL".utf8)] + moved)
            }
            if ioFailed {
                s.dropMigrateConnection(host: host, port: Int(clamping: port))
                // Nothing reached the target yet (the first reply never came): retry once.
                if !retried && moved.isEmpty && errno != EAGAIN && errno != EWOULDBLOCK { retried = true; continue }
                return c.reply.error("IOERR error or timeout reading to target instance")
            }
            conn.lastUseMillis = Clock.unixMillis()
            if let errorText { return c.reply.error("ERR Target instance replied with error: \(errorText)") }
            return c.reply.ok()
        }
    }
}

extension Server {
    /// The cached connection to host:port, connected now if there is none.
    func migrateConnection(host: String, port: Int, timeoutMillis: Int64) -> MigrateConnection? {
        let name = "\(host):\(port)"
        if let conn = migrateConnections[name] {
            conn.lastUseMillis = Clock.unixMillis()
            return conn
        }
        if migrateConnections.count >= MigrateCommand.cachedConnectionsMax, let oldest = migrateConnections.min(by: { $0.value.lastUseMillis < $1.value.lastUseMillis }) {
            migrateConnections[oldest.key] = nil
        }
        guard let fd = MigrateIO.connect(host: host, port: port, timeoutMillis: timeoutMillis) else { return nil }
        let conn = MigrateConnection(fd: fd, nowMillis: Clock.unixMillis())
        migrateConnections[name] = conn
        return conn
    }

    func dropMigrateConnection(host: String, port: Int) {
        migrateConnections["\(host):\(port)"] = nil
    }

    /// From the cron: connections unused for 10 s are closed (Redis's migrateCloseTimedoutSockets).
    func closeIdleMigrateConnections(nowMillis: Int64) {
        for (name, conn) in migrateConnections where nowMillis - conn.lastUseMillis > MigrateCommand.connectionIdleMillisMax {
            migrateConnections[name] = nil
        }
    }
}

/// Blocking socket I/O with a timeout, for MIGRATE (Redis's syncWrite / syncReadLine).
enum MigrateIO {
    static func connect(host: String, port: Int, timeoutMillis: Int64) -> Int32? {
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var result: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, String(port), &hints, &result) == 0, let first = result else { return nil }
        defer { freeaddrinfo(result) }
        let fd = socket(first.pointee.ai_family, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return nil }
        let flags = fcntl(fd, F_GETFL)
        _ = fcntl(fd, F_SETFL, flags | O_NONBLOCK)
        if Glibc.connect(fd, first.pointee.ai_addr, first.pointee.ai_addrlen) != 0 && errno != EINPROGRESS {
            close(fd)
            return nil
        }
        var p = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
        var soError: Int32 = 0
        var length = socklen_t(MemoryLayout<Int32>.size)
        guard poll(&p, 1, Int32(clamping: timeoutMillis)) == 1,
              getsockopt(fd, SOL_SOCKET, SO_ERROR, &soError, &length) == 0, soError == 0 else {
            close(fd)
            return nil
        }
        _ = fcntl(fd, F_SETFL, flags & ~O_NONBLOCK)
        var one: Int32 = 1
        _ = setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        return fd
    }

    /// Writes all of `bytes` within `timeoutMillis`.
    static func writeAll(_ fd: Int32, _ bytes: [UInt8], timeoutMillis: Int64) -> Bool {
        let deadline = Clock.unixMillis() + timeoutMillis
        return bytes.withUnsafeBytes { raw in
            var at = 0
            while at < raw.count {
                var p = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
                let left = deadline - Clock.unixMillis()
                guard left > 0, poll(&p, 1, Int32(clamping: left)) == 1 else {
                    errno = EAGAIN
                    return false
                }
                let n = send(fd, raw.baseAddress! + at, raw.count - at, Int32(MSG_NOSIGNAL))
                if n <= 0 {
                    if n < 0 && errno == EINTR { continue }
                    return false
                }
                at += n
            }
            return true
        }
    }

    /// Reads CRLF-terminated lines, each within the timeout.
    struct LineReader {
        let fd: Int32
        let timeoutMillis: Int64
        var buffer: [UInt8] = []

        init(fd: Int32, timeoutMillis: Int64) {
            self.fd = fd
            self.timeoutMillis = timeoutMillis
        }

        /// The next line without its CRLF, or nil on timeout, error or end of stream.
        mutating func line() -> [UInt8]? {
            let deadline = Clock.unixMillis() + timeoutMillis
            while true {
                if let cr = buffer.firstIndex(of: 13), cr + 1 < buffer.count, buffer[cr + 1] == 10 {
                    let line = Array(buffer[..<cr])
                    buffer.removeFirst(cr + 2)
                    return line
                }
                var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
                let left = deadline - Clock.unixMillis()
                guard left > 0, poll(&p, 1, Int32(clamping: left)) == 1 else {
                    errno = EAGAIN
                    return nil
                }
                var chunk = [UInt8](repeating: 0, count: 4096)
                let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
                if n < 0 && errno == EINTR { continue }
                guard n > 0 else { return nil }
                buffer += chunk[..<n]
            }
        }
    }
}
