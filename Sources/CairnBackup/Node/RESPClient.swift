// A minimal blocking RESP2 client for the few commands `create --node` sends (AUTH, BGSAVE, INFO,
// LASTSAVE, CONFIG GET, CLUSTER MYID). Plain sockets, no event loop: the tool does one thing at a
// time. Replies are bounded (`replyBytesMax`) so a confused peer cannot make it allocate without end.

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

indirect enum RESPReply: Equatable {
    case simple(String)
    case error(String)
    case integer(Int64)
    case bulk([UInt8]?)
    case array([RESPReply]?)

    var text: String? {
        switch self {
        case .simple(let s): return s
        case .bulk(let b?): return String(decoding: b, as: UTF8.self)
        default: return nil
        }
    }
}

final class RESPClient {
    static let replyBytesMax = 64 * 1024 * 1024
    private let fd: Int32
    private var buffer: [UInt8] = []
    private var position = 0
    let address: String

    /// Connects to `host:port` (a name, IPv4 or IPv6 address) within `timeoutSeconds`; the same
    /// timeout applies to every later read and write.
    init(host: String, port: Int, timeoutSeconds: Int) throws {
        address = "\(host):\(port)"
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        #if canImport(Glibc)
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        #else
        hints.ai_socktype = SOCK_STREAM
        #endif
        var list: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(host, String(port), &hints, &list)
        guard status == 0, let first = list else {
            throw BackupError(.node, "cannot resolve \(host): \(String(cString: gai_strerror(status)))")
        }
        defer { freeaddrinfo(list) }
        var lastErrno: Int32 = 0
        var node: UnsafeMutablePointer<addrinfo>? = first
        var connected: Int32 = -1
        while let info = node {
            let s = socket(info.pointee.ai_family, info.pointee.ai_socktype, info.pointee.ai_protocol)
            if s >= 0 {
                var tv = timeval(tv_sec: timeoutSeconds, tv_usec: 0)
                setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
                setsockopt(s, SOL_SOCKET, SO_SNDTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
                if connect(s, info.pointee.ai_addr, info.pointee.ai_addrlen) == 0 {
                    connected = s
                    break
                }
                lastErrno = errno
                close(s)
            } else {
                lastErrno = errno
            }
            node = info.pointee.ai_next
        }
        guard connected >= 0 else {
            throw BackupError(.node, "cannot connect to \(host):\(port): \(SystemText.error(lastErrno))")
        }
        fd = connected
    }

    deinit { close(fd) }

    /// Sends one command and reads its reply.
    func command(_ args: String...) throws -> RESPReply { try command(args.map { Array($0.utf8) }) }

    func command(_ args: [[UInt8]]) throws -> RESPReply {
        var out = Array("*\(args.count)\r\n".utf8)
        for a in args {
            out += Array("$\(a.count)\r\n".utf8)
            out += a
            out += [0x0D, 0x0A]
        }
        var done = 0
        while done < out.count {
            let n = out.withUnsafeBytes { send(fd, $0.baseAddress! + done, out.count - done, Int32(MSG_NOSIGNAL)) }
            if n < 0 {
                if errno == EINTR { continue }
                throw BackupError(.node, "cannot send to \(address): \(SystemText.error(errno))")
            }
            done += n
        }
        var budget = Self.replyBytesMax
        return try reply(depth: 0, budget: &budget)
    }

    private func reply(depth: Int, budget: inout Int) throws -> RESPReply {
        guard depth < 8 else { throw BackupError(.node, "reply from \(address) nests too deeply") }
        let line = try readLine(budget: &budget)
        guard let kind = line.first else { throw BackupError(.node, "empty reply line from \(address)") }
        let body = String(decoding: line.dropFirst(), as: UTF8.self)
        switch kind {
        case UInt8(ascii: "+"): return .simple(body)
        case UInt8(ascii: "-"): return .error(body)
        case UInt8(ascii: ":"):
            guard let v = Int64(body) else { throw protocolError("bad integer '\(body)'") }
            return .integer(v)
        case UInt8(ascii: "$"):
            guard let n = Int(body), n >= -1 else { throw protocolError("bad bulk length '\(body)'") }
            if n == -1 { return .bulk(nil) }
            guard n + 2 <= budget else { throw protocolError("reply larger than \(Self.replyBytesMax) bytes") }
            budget -= n + 2
            let data = try readExactly(n + 2)
            guard data[n] == 0x0D && data[n + 1] == 0x0A else { throw protocolError("bulk string without CRLF") }
            return .bulk(Array(data[0..<n]))
        case UInt8(ascii: "*"):
            guard let n = Int(body), n >= -1 else { throw protocolError("bad array length '\(body)'") }
            if n == -1 { return .array(nil) }
            guard n <= budget else { throw protocolError("array too long") }
            var items: [RESPReply] = []
            for _ in 0..<n { items.append(try reply(depth: depth + 1, budget: &budget)) }
            return .array(items)
        default:
            throw protocolError("unexpected reply type byte \(kind)")
        }
    }

    private func protocolError(_ what: String) -> BackupError {
        BackupError(.node, "protocol error from \(address): \(what)")
    }

    private func fill() throws {
        if position > 0 {
            buffer.removeFirst(position)
            position = 0
        }
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n > 0 {
                buffer.append(contentsOf: chunk[0..<n])
                return
            }
            if n == 0 { throw BackupError(.node, "\(address) closed the connection") }
            if errno == EINTR { continue }
            if errno == EAGAIN || errno == EWOULDBLOCK { throw BackupError(.node, "\(address) did not reply in time") }
            throw BackupError(.node, "cannot read from \(address): \(SystemText.error(errno))")
        }
    }

    private func readLine(budget: inout Int) throws -> [UInt8] {
        var scanned = position
        while true {
            while scanned + 1 < buffer.count {
                if buffer[scanned] == 0x0D && buffer[scanned + 1] == 0x0A {
                    let line = Array(buffer[position..<scanned])
                    budget -= scanned + 2 - position
                    position = scanned + 2
                    return line
                }
                scanned += 1
            }
            guard buffer.count - position < 64 * 1024 else { throw protocolError("reply line too long") }
            let consumed = position
            try fill()
            scanned -= consumed
        }
    }

    private func readExactly(_ n: Int) throws -> [UInt8] {
        while buffer.count - position < n { try fill() }
        let out = Array(buffer[position..<(position + n)])
        position += n
        return out
    }
}
