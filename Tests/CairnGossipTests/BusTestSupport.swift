#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import CairnCluster
import CairnGossip
import Foundation
import Logging
import NIOCore
import NIOPosix

/// Errors of the test helpers.
struct BusTestError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// Polls `condition` every 50 ms until it holds or `seconds` pass; returns whether it held.
func eventually(within seconds: Double = 20, _ condition: () async throws -> Bool) async throws -> Bool {
    let deadline = Date().addingTimeInterval(seconds)
    while Date() < deadline {
        if try await condition() { return true }
        try await Task.sleep(nanoseconds: 50_000_000)
    }
    return try await condition()
}

/// A loopback TCP port nothing listens on right now (bound to port 0, then released).
func freeLoopbackPort() throws -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { throw BusTestError("socket() failed") }
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = 0
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let bound = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
            bind(fd, pointer, length) == 0 && getsockname(fd, pointer, &length) == 0
        }
    }
    guard bound else { throw BusTestError("bind() failed") }
    return Int(UInt16(bigEndian: address.sin_port))
}

/// Free ports for a node: a client port and a bus port.
func freePortPair() throws -> (client: Int, bus: Int) {
    var ports: Set<Int> = []
    while ports.count < 2 { ports.insert(try freeLoopbackPort()) }
    let sorted = ports.sorted()
    return (sorted[0], sorted[1])
}

/// One ClusterBus on its own event loop, with the cron running every 100 ms as the server
/// drives it. Everything on the bus goes through `onLoop`.
final class BusNode: Sendable {
    let loop: EventLoop
    let bus: ClusterBus
    let name: NodeName
    let clientPort: Int
    let busPort: Int
    private let cron: NIOLoopBound<RepeatedTask?>

    /// A node named `name` (random when nil) on `ports` (free ones when nil).
    init(loop: EventLoop, slots: [ClosedRange<Int>] = [], settings: ClusterBus.Settings = .init(nodeTimeoutMillis: 5000),
         name: NodeName? = nil, ports: (client: Int, bus: Int)? = nil) async throws {
        self.loop = loop
        var generator = SystemRandomNumberGenerator()
        self.name = name ?? NodeName.random(using: &generator)
        (clientPort, busPort) = try ports ?? freePortPair()
        var state = ClusterState(myself: ClusterNode(name: self.name, flags: .master))
        for range in slots { for slot in range { state.assign(slot, to: self.name) } }
        var logger = Logger(label: "cairn.gossip.test.\(busPort)")
        logger.logLevel = .notice
        let bus = ClusterBus(state: state, settings: settings, clientPort: clientPort, busPort: busPort, loop: loop, logger: logger)
        self.bus = bus
        cron = try await loop.submit {
            try bus.start(host: "127.0.0.1")
            let task = loop.scheduleRepeatedTask(initialDelay: .milliseconds(100), delay: .milliseconds(100)) { _ in
                bus.cron(nowMillis: Int64(Date().timeIntervalSince1970 * 1000))
            }
            return NIOLoopBound(task, eventLoop: loop)
        }.get()
    }

    /// Runs `body` with the bus on its loop.
    func onLoop<T: Sendable>(_ body: @escaping @Sendable (ClusterBus) throws -> T) async throws -> T {
        let bus = self.bus
        return try await loop.submit { try body(bus) }.get()
    }

    /// The node table now.
    func state() async throws -> ClusterState { try await onLoop { $0.state } }

    /// Whether this node knows `other` by its real name, out of handshake, with its link up.
    func knows(_ other: NodeName) async throws -> Bool {
        guard let node = try await state()[other] else { return false }
        return !node.flags.contains(.handshake) && node.linkConnected
    }

    func stop() async throws {
        let cron = self.cron
        try await onLoop { bus in
            cron.value?.cancel()
            bus.stop()
        }
    }
}

/// A blocking TCP client for the tests (raw bus bytes, RESP): every read has a deadline.
final class TestSocket {
    private let fd: Int32
    private var buffered: [UInt8] = []

    init(port: Int, host: String = "127.0.0.1") throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw BusTestError("socket() failed") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = UInt16(port).bigEndian
        address.sin_addr.s_addr = inet_addr(host)
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
        }
        guard connected else {
            close(fd)
            throw BusTestError("connect to \(host):\(port) failed")
        }
        var timeout = timeval(tv_sec: 0, tv_usec: 200_000)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    }

    deinit { close(fd) }

    func send(_ bytes: [UInt8]) throws {
        var offset = 0
        while offset < bytes.count {
            let written = bytes[offset...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard written > 0 else { throw BusTestError("send failed") }
            offset += written
        }
    }

    /// Reads what arrives within 200 ms into the buffer. Returns false once the peer closed.
    private func fill() -> Bool {
        var chunk = [UInt8](repeating: 0, count: 65536)
        let count = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        if count > 0 { buffered += chunk[0..<count] }
        if count == 0 { return false }
        if count < 0, errno != EAGAIN, errno != EWOULDBLOCK, errno != EINTR { return false }
        return true
    }

    /// Whether the peer closes the connection within `seconds` (what it sent before is dropped).
    func closedByPeer(within seconds: Double = 10) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if !fill() { return true }
            buffered.removeAll()
        }
        return false
    }

    /// Exactly `count` bytes, or nil when the deadline passes or the peer closes first.
    func read(_ count: Int, within seconds: Double = 10) -> [UInt8]? {
        let deadline = Date().addingTimeInterval(seconds)
        while buffered.count < count {
            guard Date() < deadline, fill() else { return nil }
        }
        let out = Array(buffered.prefix(count))
        buffered.removeFirst(count)
        return out
    }

    /// One line without its CRLF.
    func readLine(within seconds: Double = 10) -> String? {
        let deadline = Date().addingTimeInterval(seconds)
        while true {
            if let end = buffered.firstIndex(of: UInt8(ascii: "\n")) {
                let line = buffered[..<end].filter { $0 != UInt8(ascii: "\r") }
                buffered.removeFirst(end + 1)
                return String(decoding: line, as: UTF8.self)
            }
            guard Date() < deadline, fill() else { return nil }
        }
    }

    /// One bus message, decoded.
    func readBusMessage(within seconds: Double = 10) throws -> BusMessage {
        guard let prefix = read(8, within: seconds) else { throw BusTestError("no bus message") }
        let length = Int(prefix[4]) << 24 | Int(prefix[5]) << 16 | Int(prefix[6]) << 8 | Int(prefix[7])
        guard length >= 8, let rest = read(length - 8, within: seconds) else { throw BusTestError("truncated bus message") }
        return try BusDecoder.decode(message: prefix + rest)
    }

    /// Sends a command in RESP and returns the reply: a status, error (prefixed with `-`),
    /// integer or bulk string as text.
    func command(_ words: String...) throws -> String {
        var request = "*\(words.count)\r\n"
        for word in words { request += "$\(word.utf8.count)\r\n\(word)\r\n" }
        try send(Array(request.utf8))
        guard let line = readLine(), let kind = line.first else { throw BusTestError("no reply to \(words)") }
        switch kind {
        case "+", ":": return String(line.dropFirst())
        case "-": return line
        case "$":
            guard let length = Int(line.dropFirst()) else { throw BusTestError("bad bulk length \(line)") }
            if length < 0 { return "" }
            guard let body = read(length + 2) else { throw BusTestError("truncated bulk reply") }
            return String(decoding: body.prefix(length), as: UTF8.self)
        default: throw BusTestError("unexpected reply \(line)")
        }
    }
}

/// Whether `a` and `b` know each other by name, out of handshake, links up.
func bothKnow(_ a: BusNode, _ b: BusNode) async throws -> Bool {
    let aKnowsB = try await a.knows(b.name)
    let bKnowsA = try await b.knows(a.name)
    return aKnowsB && bKnowsA
}
