@testable import CairnServer
import CairnRESP
@testable import CairnStorage
import Logging
import NIOCore
import Testing

/// A Server built but not started: commands run through `server.engine.execute` as the connection
/// handler would run them, and replies are decoded. Server commands are bound to the server as
/// it registers them, so this exercises the real dispatch path.
final class ServerHarness {
    let server: Server
    let client: ClientSession
    private var decoder = RESPValueDecoder()

    init(settings: ServerSettings = ServerSettings(), configFile: String? = nil, clientID: Int64 = 7) {
        // Without save points FLUSHALL and SHUTDOWN write no dump.rdb into the working directory;
        // a test that wants them sets server.settings.persistence.savePoints.
        var settings = settings
        settings.persistence.savePoints = []
        server = Server(settings: settings, logger: Self.quietLogger, configFile: configFile)
        client = ClientSession(id: clientID, authenticated: !server.authRequired,
                               buffer: ByteBufferAllocator().buffer(capacity: 1024))
        client.address = "127.0.0.1:50000"
        client.localAddress = "127.0.0.1:6379"
    }

    deinit {
        // Never started: complete the shutdown promise ourselves (NIO traps on leaked promises).
        server.shutdownPromise.succeed(())
        try? server.group.syncShutdownGracefully()
    }

    static let quietLogger = Logger(label: "cairn.test") { _ in SilentLogHandler() }

    /// A second connection-less client on the same server.
    func makeClient(id: Int64) -> ClientSession {
        ClientSession(id: id, authenticated: !server.authRequired, buffer: ByteBufferAllocator().buffer(capacity: 1024))
    }

    @discardableResult
    func run(_ words: String...) -> RESPValue { run(words.map { Array($0.utf8) }) }

    @discardableResult
    func run(_ words: [[UInt8]], as session: ClientSession? = nil) -> RESPValue {
        let who = session ?? client
        Arguments.with(words) { server.engine.execute(who, $0) }
        var buffer = who.reply.buffer
        who.reply.buffer.clear()
        guard let value = try? decoder.decode(&buffer) else {
            Issue.record("no complete reply for \(words.map { String(decoding: $0, as: UTF8.self) })")
            return .null
        }
        #expect(buffer.readableBytes == 0, "more than one reply")
        return value
    }

    /// The raw reply bytes of one command (for byte-exact checks).
    func raw(_ words: String...) -> String {
        Arguments.with(words.map { Array($0.utf8) }) { server.engine.execute(client, $0) }
        let text = client.reply.buffer.getString(at: client.reply.buffer.readerIndex, length: client.reply.buffer.readableBytes) ?? ""
        client.reply.buffer.clear()
        return text
    }
}

extension RESPValue {
    static func bulk(_ s: String) -> RESPValue { .bulkString(Array(s.utf8)) }
    static func simple(_ s: String) -> RESPValue { .simpleString(Array(s.utf8)) }
    static func err(_ s: String) -> RESPValue { .error(Array(s.utf8)) }
    static let ok = RESPValue.simpleString(Array("OK".utf8))
    static let nilBulk = RESPValue.bulkString(nil)

    var arrayValue: [RESPValue]? {
        switch self {
        case .array(let a): return a
        case .set(let a): return a
        default: return nil
        }
    }

    /// Pairs of a RESP3 map, or of a RESP2 flat array holding one.
    var pairs: [(String, RESPValue)]? {
        switch self {
        case .map(let p): return p.compactMap { k, v in k.string.map { ($0, v) } }
        case .array(let a?):
            guard a.count % 2 == 0 else { return nil }
            return stride(from: 0, to: a.count, by: 2).compactMap { i in a[i].string.map { ($0, a[i + 1]) } }
        default: return nil
        }
    }

    func field(_ name: String) -> RESPValue? { pairs?.first { $0.0 == name }?.1 }

    var errorText: String? {
        if case .error(let b) = self { return String(decoding: b, as: UTF8.self) }
        return nil
    }
}

/// Drops every message but keeps its level, so tests can see what the server set it to.
struct SilentLogHandler: LogHandler {
    var logLevel: Logger.Level = .info
    var metadata: Logger.Metadata = [:]
    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }
    func log(event: LogEvent) {}
}

extension Server {
    /// INFO persistence as field -> value.
    func persistenceFields() -> [String: String] {
        var fields: [String: String] = [:]
        for line in persistence.infoLines() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            fields[String(line[..<colon])] = String(line[line.index(after: colon)...])
        }
        return fields
    }
}
