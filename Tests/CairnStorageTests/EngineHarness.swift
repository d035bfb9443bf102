import CairnRESP
import CairnStorage
import NIOCore
import Testing

/// Runs commands against an in-process Engine and decodes the replies: unit tests for every
/// command go through the same dispatch path as the server (lookup, arity, handler).
final class EngineHarness {
    let engine: Engine
    let client: ClientSession
    private var decoder = RESPValueDecoder()

    init(engine: Engine = Engine(), resp3: Bool = false, origin: ClientOrigin = .user, id: Int64 = 1) {
        self.engine = engine
        client = ClientSession(id: id, authenticated: true, buffer: ByteBufferAllocator().buffer(capacity: 1024), origin: origin)
        client.resp3 = resp3
    }

    /// Runs one command given as words; returns its (single) reply.
    @discardableResult
    func run(_ words: String...) -> RESPValue { run(words.map { Array($0.utf8) }) }

    @discardableResult
    func run(_ words: [[UInt8]]) -> RESPValue {
        Arguments.with(words) { engine.execute(client, $0) }
        var buffer = client.reply.buffer
        client.reply.buffer.clear()
        guard let value = try? decoder.decode(&buffer) else {
            Issue.record("no complete reply for \(words.map { String(decoding: $0, as: UTF8.self) })")
            return .null
        }
        #expect(buffer.readableBytes == 0, "more than one reply")
        return value
    }
}

extension EngineHarness {
    /// Decodes the one reply waiting in this client's buffer (e.g. written while it was blocked).
    func takeReply() -> RESPValue? {
        var buffer = client.reply.buffer
        client.reply.buffer.clear()
        var d = RESPValueDecoder()
        return try? d.decode(&buffer)
    }
}

extension RESPValue {
    static func bulk(_ s: String) -> RESPValue { .bulkString(Array(s.utf8)) }
    static func simple(_ s: String) -> RESPValue { .simpleString(Array(s.utf8)) }
    static func err(_ s: String) -> RESPValue { .error(Array(s.utf8)) }
    static let ok = RESPValue.simpleString(Array("OK".utf8))
    static let nilBulk = RESPValue.bulkString(nil)
    static func strings(_ items: [String]) -> RESPValue { .array(items.map { .bulk($0) }) }
}
