import CairnRESP
import CairnStorage
import NIOCore

// Uses what a decoder accepted the way clients would: each key is read back by the commands of
// its type, changed, dumped and restored under another name, through the engine's own dispatch.
// A value that loads but breaks an invariant (an unsorted intset, a duplicate field, a listpack
// whose entries disagree with its header) then traps here rather than in a server.

public final class FuzzEngine {
    public let engine: Engine
    private let client: ClientSession
    private var decoder = RESPValueDecoder()
    /// Keys of each database exercised at most: bounds the time one input can take.
    public static let keysPerDatabaseMax = 16
    static let copyKey: [UInt8] = Array("\u{1}fuzz-copy".utf8)

    public init(engine: Engine = Engine()) {
        self.engine = engine
        client = ClientSession(id: 1, authenticated: true, buffer: ByteBufferAllocator().buffer(capacity: 4096))
    }

    /// Runs one command; returns its reply (nil if there was none).
    @discardableResult
    public func run(_ words: [[UInt8]]) -> RESPValue? {
        Arguments.with(words) { engine.execute(client, $0) }
        var buffer = client.reply.buffer
        client.reply.buffer.clear()
        decoder = RESPValueDecoder()
        return try? decoder.decode(&buffer)
    }

    @discardableResult
    public func run(_ words: String...) -> RESPValue? { run(words.map { Array($0.utf8) }) }

    /// Exercises up to `keysPerDatabaseMax` keys of every database.
    public func exerciseAllKeys() {
        for db in engine.databases where db.count > 0 {
            run("SELECT", "\(db.id)")
            guard case .array(let keys?)? = run("KEYS", "*") else { continue }
            for case .bulkString(let key?) in keys.prefix(Self.keysPerDatabaseMax) { exercise(key) }
        }
        run("SELECT", "0")
    }

    /// Reads `key` with the commands of its type, round-trips it through DUMP and RESTORE (what
    /// Cairn dumps, Cairn must restore), then changes it so that its encoding may convert.
    public func exercise(_ key: [UInt8]) {
        guard case .simpleString(let typeName)? = run([b("TYPE"), key]) else { return }
        run([b("OBJECT"), b("ENCODING"), key])
        if case .bulkString(let payload?)? = run([b("DUMP"), key]) {
            let reply = run([b("RESTORE"), Self.copyKey, b("0"), payload, b("REPLACE")])
            FuzzCheck.require(reply == .simpleString(b("OK")), "RESTORE of a \(payload.count)-byte DUMP answered \(String(describing: reply))")
            run([b("DEL"), Self.copyKey])
        }
        let type = String(decoding: typeName, as: UTF8.self)
        for command in Self.commands[type] ?? [] {
            run(command.map { $0 == "KEY" ? key : b($0) })
        }
    }

    /// Per type: reads of the whole value and of its ends, then writes that may change the encoding.
    static let commands: [String: [[String]]] = [
        "string": [["GET", "KEY"], ["STRLEN", "KEY"], ["GETRANGE", "KEY", "0", "-1"], ["INCR", "KEY"],
                   ["APPEND", "KEY", "x"], ["SETRANGE", "KEY", "3", "yz"], ["BITCOUNT", "KEY"]],
        "list": [["LLEN", "KEY"], ["LRANGE", "KEY", "0", "-1"], ["LINDEX", "KEY", "0"], ["LINDEX", "KEY", "-1"],
                 ["LPOS", "KEY", "a"], ["LPUSH", "KEY", "fuzz"], ["RPUSH", "KEY", String(repeating: "l", count: 80)],
                 ["LINSERT", "KEY", "BEFORE", "fuzz", "x"], ["LREM", "KEY", "0", "x"], ["LTRIM", "KEY", "1", "-2"],
                 ["LRANGE", "KEY", "0", "-1"]],
        "hash": [["HLEN", "KEY"], ["HGETALL", "KEY"], ["HKEYS", "KEY"], ["HRANDFIELD", "KEY", "-5", "WITHVALUES"],
                 ["HSET", "KEY", "fuzz-field", String(repeating: "v", count: 80)], ["HDEL", "KEY", "fuzz-field"],
                 ["HINCRBY", "KEY", "fuzz-n", "1"], ["HGETALL", "KEY"]],
        "set": [["SCARD", "KEY"], ["SMEMBERS", "KEY"], ["SISMEMBER", "KEY", "1"], ["SRANDMEMBER", "KEY", "-5"],
                ["SADD", "KEY", "fuzz-member"], ["SREM", "KEY", "fuzz-member"], ["SPOP", "KEY"], ["SMEMBERS", "KEY"]],
        "zset": [["ZCARD", "KEY"], ["ZRANGE", "KEY", "0", "-1", "WITHSCORES"], ["ZRANGEBYSCORE", "KEY", "-inf", "+inf"],
                 ["ZRANGEBYLEX", "KEY", "-", "+"], ["ZREVRANGE", "KEY", "0", "2"], ["ZRANK", "KEY", "a"],
                 ["ZADD", "KEY", "1.5", String(repeating: "m", count: 80)], ["ZINCRBY", "KEY", "1", "a"],
                 ["ZPOPMIN", "KEY"], ["ZRANGE", "KEY", "0", "-1", "WITHSCORES"]],
    ]
}

@inline(__always) func b(_ s: String) -> [UInt8] { Array(s.utf8) }
