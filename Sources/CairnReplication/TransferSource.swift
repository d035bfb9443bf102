import CairnStorage
#if canImport(Glibc)
import Glibc
#endif

// The RDB of a full sync read straight from the master's socket (`repl-diskless-load
// on-empty-db`, Redis's diskless load): a ByteSource for the RDB reader that yields exactly the
// RDB's bytes — the bytes already read from the socket first, then the socket itself (waiting
// with poll up to `timeoutMillis` for each read), never past the transfer:
// - `$<length>` framing: at most `length` bytes;
// - `$EOF:<mark>` framing: the last 40 bytes seen are held back until more arrive, so the mark
//   that ends the transfer is never handed to the reader; `finishMark()` then checks it.
// The master sends nothing after a transfer until the replica's first ACK (EOF framing) or sends
// the stream after exactly `length` bytes, so this never takes bytes of the command stream.

public final class TransferSource: ByteSource {
    private let fd: Int32
    private var pending: [UInt8]
    /// `$<length>`: transfer bytes not yet taken from the socket.
    private var remaining: Int64?
    private let mark: [UInt8]?
    private var held: [UInt8] = []
    private let timeoutMillis: Int32
    /// Bytes taken from the transfer (prefix and socket), the mark included.
    public private(set) var bytesTaken: Int64 = 0

    /// `prefix`: transfer bytes already read from the socket. `length` for `$<length>`, `mark`
    /// for `$EOF:`; exactly one of them.
    public init(fd: Int32, prefix: [UInt8], length: Int64?, mark: [UInt8]?, timeoutMillis: Int32) {
        self.fd = fd
        self.mark = mark
        self.timeoutMillis = timeoutMillis
        if let length {
            pending = Array(prefix.prefix(Int(clamping: length)))
            remaining = length - Int64(pending.count)  // still on the socket
        } else {
            pending = prefix
            remaining = nil
        }
    }

    /// Bytes of `prefix` beyond a `$<length>` transfer (the start of the stream).
    public static func overflow(prefix: [UInt8], length: Int64) -> [UInt8] {
        Int64(prefix.count) > length ? Array(prefix[Int(length)...]) : []
    }

    public func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        guard buffer.count > 0 else { return 0 }
        if let mark {
            // Keep at least mark.count bytes back; fill from the socket until there is more. When
            // what is held is the mark itself, the transfer is over: the end of the stream (the
            // master sends nothing more until it gets an ACK, so reading on would only wait).
            while held.count + pending.count <= mark.count {
                if held + pending == mark { return 0 }
                let got = try take(max(4096, buffer.count))
                if got.isEmpty { throw RDBError(.io, "the master closed the connection during the transfer") }
                pending += got
            }
            held += pending
            pending = []
            let n = min(buffer.count, held.count - mark.count)
            held.withUnsafeBytes { buffer.baseAddress!.copyMemory(from: $0.baseAddress!, byteCount: n) }
            held.removeFirst(n)
            return n
        }
        if pending.isEmpty {
            guard let left = remaining, left > 0 else { return 0 }
            pending = try take(Int(min(Int64(buffer.count), left)))
            if pending.isEmpty { throw RDBError(.io, "the master closed the connection during the transfer") }
        }
        let n = min(buffer.count, pending.count)
        pending.withUnsafeBytes { buffer.baseAddress!.copyMemory(from: $0.baseAddress!, byteCount: n) }
        pending.removeFirst(n)
        return n
    }

    /// After the reader is done: with EOF framing, whether the held-back bytes are the mark
    /// (reading the rest of it from the socket if needed) and nothing was left unread.
    public func finishMark() throws -> Bool {
        guard let mark else { return pending.isEmpty }
        while held.count + pending.count < mark.count {
            let got = try take(mark.count - held.count - pending.count)
            if got.isEmpty { return false }
            pending += got
        }
        return held + pending == mark
    }

    /// Up to `count` bytes from the prefix-less socket: waits for readability (poll) up to the
    /// timeout; empty when the peer closed.
    private func take(_ count: Int) throws -> [UInt8] {
        var limit = count
        if let left = remaining { limit = Int(min(Int64(count), left)) }
        guard limit > 0 else { return [] }
        var out = [UInt8](repeating: 0, count: limit)
        while true {
            let n = out.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, limit) }
            if n > 0 {
                out.removeLast(limit - n)
                bytesTaken += Int64(n)
                if remaining != nil { remaining! -= Int64(n) }
                return out
            }
            if n == 0 { return [] }
            switch errno {
            case EINTR: continue
            case EAGAIN:
                var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
                if poll(&p, 1, timeoutMillis) == 0 { throw RDBError(.io, "timeout reading the RDB from the master") }
            default:
                throw RDBError(.io, "read error from the master: \(String(cString: strerror(errno)))")
            }
        }
    }
}
