// A minimal blocking RESP2 client for the few commands `create --node` sends (AUTH, BGSAVE, INFO,
// LASTSAVE, CONFIG GET, CLUSTER MYID). Plain sockets, no event loop: the tool does one thing at a
// time. Commands are encoded by CairnRESP's CommandEncoder and replies decoded by its
// RESPValueDecoder; a reply is bounded (`replyBytesMax`, and the decoder's line and nesting
// limits) so that a confused peer cannot make the tool allocate without end.

import CairnRESP
import NIOCore
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

final class RESPClient {
    static let replyBytesMax = 64 * 1024 * 1024
    static let readChunkBytes = 64 * 1024
    /// Header lines of at most 64 KiB; no bulk string or array longer than a whole reply may be.
    static let replyLimits: RESPLimits = {
        var limits = RESPLimits.redisDefault
        limits.inlineBytesMax = 64 * 1024
        limits.bulkLengthBytesMax = replyBytesMax
        limits.multibulkCountMax = replyBytesMax
        return limits
    }()
    private let fd: Int32
    /// Bytes received and not decoded yet.
    private var input = ByteBufferAllocator().buffer(capacity: RESPClient.readChunkBytes)
    /// A value at most 7 aggregates deep, as this client always accepted.
    private var decoder = RESPValueDecoder(limits: RESPClient.replyLimits, nestingDepthMax: 7)
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
    func command(_ args: String...) throws -> RESPValue { try command(args.map { Array($0.utf8) }) }

    func command(_ args: [[UInt8]]) throws -> RESPValue {
        let out = CommandEncoder.encode(args)
        var done = 0
        while done < out.count {
            let n = out.withUnsafeBytes { send(fd, $0.baseAddress! + done, out.count - done, Int32(MSG_NOSIGNAL)) }
            if n < 0 {
                if errno == EINTR { continue }
                throw BackupError(.node, "cannot send to \(address): \(SystemText.error(errno))")
            }
            done += n
        }
        return try reply()
    }

    /// Decodes the reply as its bytes arrive, counting them against `replyBytesMax`.
    private func reply() throws -> RESPValue {
        var received = input.readableBytes
        while true {
            do {
                if let value = try decoder.decode(&input) { return value }
            } catch let e as RESPDecodingError {
                throw protocolError(e.message)
            }
            guard received <= Self.replyBytesMax else { throw protocolError("reply larger than \(Self.replyBytesMax) bytes") }
            received += try fill()
        }
    }

    private func protocolError(_ what: String) -> BackupError {
        BackupError(.node, "protocol error from \(address): \(what)")
    }

    /// Reads what the socket has (at least one byte) and returns how much.
    private func fill() throws -> Int {
        input.discardReadBytes()
        while true {
            var n = 0
            var code: Int32 = 0
            input.writeWithUnsafeMutableBytes(minimumWritableBytes: Self.readChunkBytes) { free in
                n = recv(fd, free.baseAddress, free.count, 0)
                code = errno
                return max(n, 0)
            }
            if n > 0 { return n }
            if n == 0 { throw BackupError(.node, "\(address) closed the connection") }
            if code == EINTR { continue }
            if code == EAGAIN || code == EWOULDBLOCK { throw BackupError(.node, "\(address) did not reply in time") }
            throw BackupError(.node, "cannot read from \(address): \(SystemText.error(code))")
        }
    }
}

extension RESPValue {
    /// The message of an error reply; nil for any other reply.
    var errorText: String? {
        guard case .error(let message) = self else { return nil }
        return String(decoding: message, as: UTF8.self)
    }
}
