@testable import CairnServer
import CairnRESP
import CairnStorage
import NIOCore
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// A blocking RESP client over a plain TCP socket.
final class TestConnection {
    private let fd: Int32
    private var input = ByteBufferAllocator().buffer(capacity: 4096)
    private var decoder = RESPValueDecoder()

    init?(port: Int) {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return nil }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var timeout = timeval(tv_sec: 5, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        let rc = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard rc == 0 else { close(fd); return nil }
    }

    deinit { close(fd) }

    func send(_ words: String...) { send(words) }

    private func send(_ words: [String]) {
        let bytes = CommandEncoder.encode(words.map { Array($0.utf8) })
        _ = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
    }

    /// The next reply, or nil when the server closed the connection (or 5 s passed).
    func reply() -> RESPValue? {
        while true {
            if let v = try? decoder.decode(&input) { return v }
            var chunk = [UInt8](repeating: 0, count: 4096)
            let n = read(fd, &chunk, chunk.count)
            guard n > 0 else { return nil }
            input.writeBytes(chunk[0..<n])
        }
    }

    func call(_ words: String...) -> RESPValue? {
        send(words)
        return reply()
    }
}

/// The server started for real on an ephemeral port, driven over TCP.
@Suite struct LiveServerTests {
    static func start() throws -> (Server, Int) {
        var settings = ServerSettings()
        settings.port = 0
        settings.bind = ["127.0.0.1"]
        let server = Server(settings: settings, logger: ServerHarness.quietLogger)
        try server.start()
        let port = try server.loop.submit { server.boundPort ?? 0 }.wait()
        return (server, port)
    }

    static func stop(_ server: Server) {
        server.loop.execute { server.shutdown(reason: "test over") }
        server.waitUntilShutdown()
    }

    @Test func clientListAndKillAcrossConnections() throws {
        let (server, port) = try Self.start()
        defer { Self.stop(server) }
        guard let a = TestConnection(port: port), let b = TestConnection(port: port) else {
            Issue.record("cannot connect"); return
        }
        #expect(a.call("CLIENT", "SETNAME", "first") == .ok)
        guard case .integer(let idA)? = a.call("CLIENT", "ID") else { Issue.record("no id"); return }
        let list = b.call("CLIENT", "LIST")?.string ?? ""
        let lines = list.split(separator: "\n")
        #expect(lines.count == 2)
        #expect(lines.first?.hasPrefix("id=\(idA) addr=127.0.0.1:") == true)
        #expect(lines.first?.contains(" name=first ") == true)
        #expect(lines.last?.contains(" cmd=client|list ") == true)
        #expect(b.call("INFO", "clients")?.string?.contains("connected_clients:2\r\n") == true)
        #expect(b.call("CLIENT", "KILL", "ID", String(idA)) == .integer(1))
        #expect(a.call("PING") == nil, "the killed connection is closed")
        #expect(b.call("CLIENT", "KILL", "ID", String(idA)) == .integer(0))
    }

    @Test func oldFormKillOfSelfRepliesThenCloses() throws {
        let (server, port) = try Self.start()
        defer { Self.stop(server) }
        guard let a = TestConnection(port: port) else { Issue.record("cannot connect"); return }
        let info = a.call("CLIENT", "INFO")?.string ?? ""
        let addr = info.split(separator: " ").first { $0.hasPrefix("addr=") }?.dropFirst(5) ?? ""
        a.send("CLIENT", "KILL", String(addr))
        a.send("PING")
        #expect(a.reply() == .ok)
        #expect(a.reply() == nil, "nothing runs after the kill")
    }

    @Test func helloAndBareCommandOverTheWire() throws {
        let (server, port) = try Self.start()
        defer { Self.stop(server) }
        guard let a = TestConnection(port: port) else { Issue.record("cannot connect"); return }
        guard case .map(let pairs)? = a.call("HELLO", "3") else { Issue.record("HELLO 3 is not a map"); return }
        #expect(pairs.count == 7)
        guard case .verbatim? = a.call("INFO", "server") else { Issue.record("INFO is not verbatim in RESP3"); return }
        let all = a.call("COMMAND")?.arrayValue ?? []
        #expect(all.count == server.engine.commands.all.count)
        #expect(a.call("CONFIG", "GET", "port") == .map([(.bulk("port"), .bulk("0"))]))
        #expect(a.call("INFO", "server")?.string?.contains("tcp_port:\(port)\r\n") == true)
    }
}
