#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import CairnCluster
import CairnGossip
import Foundation
import NIOCore
import NIOPosix
import Testing

/// A real redis-server 7.0 in cluster mode, started for one test and stopped by its PID.
final class RedisClusterNode {
    static let executable: String? = {
        let paths = (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/usr/local/bin").split(separator: ":")
        return paths.map { "\($0)/redis-server" }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }()

    let process = Process()
    let directory: URL
    let port: Int
    let busPort: Int

    init() throws {
        guard let executable = Self.executable else { throw BusTestError("redis-server is not installed") }
        (port, busPort) = try freePortPair()
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("cairn-bus-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = [
            "--port", "\(port)", "--bind", "127.0.0.1", "--cluster-enabled", "yes", "--cluster-port", "\(busPort)",
            "--cluster-config-file", directory.appendingPathComponent("nodes.conf").path, "--dir", directory.path,
            "--cluster-node-timeout", "5000", "--save", "", "--appendonly", "no",
            "--logfile", directory.appendingPathComponent("redis.log").path,
        ]
        try process.run()
    }

    /// A connection once the server answers PING.
    func connect() async throws -> TestSocket {
        var client: TestSocket? = nil
        let up = try await eventually(within: 10) {
            client = try? TestSocket(port: port)
            return (try? client?.command("PING")) == "PONG"
        }
        guard up, let client else { throw BusTestError("redis-server on port \(port) did not start") }
        return client
    }

    /// The log, for failure messages.
    var log: String { (try? String(contentsOf: directory.appendingPathComponent("redis.log"), encoding: .utf8)) ?? "" }

    /// Stops the server: SHUTDOWN NOSAVE, then SIGKILL to its PID if it has not exited within
    /// the deadline (a signal alone is not enough: a test runner may start children with SIGTERM
    /// blocked). Removes its files.
    func stop() {
        if process.isRunning, let client = try? TestSocket(port: port) { _ = try? client.command("SHUTDOWN", "NOSAVE") }
        let deadline = Date().addingTimeInterval(5)
        while process.isRunning, Date() < deadline { usleep(20_000) }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
        try? FileManager.default.removeItem(at: directory)
    }
}

/// The proof of issue 14 item 3: a real Redis 7.0 node and a Cairn node meet, and each shows the
/// other connected with the slots it owns.
@Suite(.serialized, .enabled(if: RedisClusterNode.executable != nil, "redis-server is not installed"))
struct ClusterBusRedisInteropTests {
    /// Redis's CLUSTER NODES line for `name`, if listed.
    static func line(of name: NodeName, in nodes: String) -> String? {
        nodes.split(separator: "\n").map(String.init).first { $0.hasPrefix(name.text + " ") }
    }

    /// What both sides must show once the meeting is over: Redis lists Cairn's node as a connected
    /// master with 200-300 (and its hostname), Cairn lists Redis's node connected with 0-100.
    func expectMutualView(redis: RedisClusterNode, client: TestSocket, cairn: BusNode) async throws {
        guard let redisName = NodeName(try client.command("CLUSTER", "MYID")) else { throw BusTestError("no CLUSTER MYID") }
        var redisLine = ""
        let redisSeesUs = try await eventually(within: 30) {
            redisLine = Self.line(of: cairn.name, in: try client.command("CLUSTER", "NODES")) ?? ""
            let fields = redisLine.split(separator: " ").map(String.init)
            return fields.count >= 9 && fields[2] == "master" && fields[7] == "connected" && fields[8...].contains("200-300")
        }
        #expect(redisSeesUs, "Redis's view of the Cairn node: \(redisLine)\n\(redis.log)")
        #expect(redisLine.contains("127.0.0.1:\(cairn.clientPort)@\(cairn.busPort),cairn-bus-test"), "\(redisLine)")

        let weSeeRedis = try await eventually(within: 30) {
            let node = try await cairn.state()[redisName]
            return node?.linkConnected == true && node?.flags == .master && node?.slots.ranges == [0...100]
        }
        let state = try await cairn.state()
        #expect(weSeeRedis, "Cairn's view: \(state)")
        #expect(state[redisName]?.ip == "127.0.0.1" && state[redisName]?.port == redis.port && state[redisName]?.busPort == redis.busPort)
        #expect(state.myselfNode.ip == "127.0.0.1", "learned from the connection, no announce-ip set")
        #expect(state.nodes.count == 2)
        let info = try client.command("CLUSTER", "INFO")
        #expect(info.contains("cluster_known_nodes:2"), "\(info)")
    }

    func withPair(_ body: (RedisClusterNode, TestSocket, BusNode) async throws -> Void) async throws {
        let redis = try RedisClusterNode()
        defer { redis.stop() }
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        defer { group.shutdownGracefully { _ in } }
        let client = try await redis.connect()
        #expect(try client.command("CLUSTER", "ADDSLOTSRANGE", "0", "100") == "OK")
        let cairn = try await BusNode(loop: group.next(), slots: [200...300],
                                      settings: .init(nodeTimeoutMillis: 5000, announceHostname: "cairn-bus-test"))
        do {
            try await body(redis, client, cairn)
        } catch {
            try await cairn.stop()
            throw error
        }
        try await cairn.stop()
    }

    @Test func redisMeetsCairn() async throws {
        try await withPair { redis, client, cairn in
            let reply = try client.command("CLUSTER", "MEET", "127.0.0.1", "\(cairn.clientPort)", "\(cairn.busPort)")
            #expect(reply == "OK")
            try await expectMutualView(redis: redis, client: client, cairn: cairn)
        }
    }

    @Test func cairnMeetsRedis() async throws {
        try await withPair { redis, client, cairn in
            let (port, busPort) = (redis.port, redis.busPort)
            let met = try await cairn.onLoop { $0.meet(ip: "127.0.0.1", port: port, busPort: busPort) }
            #expect(met)
            try await expectMutualView(redis: redis, client: client, cairn: cairn)
        }
    }

    /// Gossip both ways: Cairn meets one Redis node only, a second Redis node meets that one, and
    /// every node ends up knowing the other two, connected, with their slots.
    @Test func gossipIntroducesTheThirdNode() async throws {
        let first = try RedisClusterNode()
        defer { first.stop() }
        let second = try RedisClusterNode()
        defer { second.stop() }
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        defer { group.shutdownGracefully { _ in } }
        let firstClient = try await first.connect(), secondClient = try await second.connect()
        #expect(try firstClient.command("CLUSTER", "ADDSLOTSRANGE", "0", "100") == "OK")
        #expect(try secondClient.command("CLUSTER", "ADDSLOTSRANGE", "400", "500") == "OK")
        let cairn = try await BusNode(loop: group.next(), slots: [200...300])
        let (port, busPort) = (first.port, first.busPort)
        _ = try await cairn.onLoop { $0.meet(ip: "127.0.0.1", port: port, busPort: busPort) }
        #expect(try secondClient.command("CLUSTER", "MEET", "127.0.0.1", "\(first.port)", "\(first.busPort)") == "OK")
        guard let secondName = NodeName(try secondClient.command("CLUSTER", "MYID")) else { throw BusTestError("no CLUSTER MYID") }

        let weSeeSecond = try await eventually(within: 30) {
            let node = try await cairn.state()[secondName]
            return node?.linkConnected == true && node?.slots.ranges == [400...500]
        }
        let state = try await cairn.state()
        #expect(weSeeSecond, "Cairn's view: \(state)")
        var secondLine = ""
        let secondSeesUs = try await eventually(within: 30) {
            secondLine = Self.line(of: cairn.name, in: try secondClient.command("CLUSTER", "NODES")) ?? ""
            let fields = secondLine.split(separator: " ").map(String.init)
            return fields.count >= 9 && fields[7] == "connected" && fields[8...].contains("200-300")
        }
        #expect(secondSeesUs, "the second Redis node's view of Cairn: \(secondLine)")
        try await cairn.stop()
    }
}
