import NIOCore
import CairnRESP
@testable import CairnStorage
import Testing

/// What the engine propagates must rebuild the same dataset when replayed (the AOF and replicas
/// depend on it), and nondeterministic commands must leave as deterministic ones.
@Suite struct PropagationTests {
    final class Recorder {
        var batches: [[PropagatedCommand]] = []
        var commands: [PropagatedCommand] { batches.flatMap { $0 } }
        func words(_ i: Int) -> [String] { commands[i].args.map { String(decoding: $0, as: UTF8.self) } }
    }

    func recorded() -> (EngineHarness, Recorder) {
        let h = EngineHarness()
        let r = Recorder()
        h.engine.addPropagationSink(PropagationSink(.aof) { r.batches.append($0.commands.owned) })
        return (h, r)
    }

    /// Replays propagated commands into a fresh engine, switching databases as they say.
    func replay(_ commands: [PropagatedCommand]) -> Engine {
        let h = EngineHarness()
        for c in commands {
            h.client.db = c.db
            h.run(c.args)
        }
        return h.engine
    }

    @Test func rewritesNondeterministicCommands() {
        let (h, r) = recorded()
        h.run("SET", "k", "v", "EX", "100")
        #expect(r.words(0).prefix(4) == ["SET", "k", "v", "PXAT"])
        #expect(Int64(r.words(0)[4])! == h.engine.now + 100_000)
        h.run("EXPIRE", "k", "50")
        #expect(r.words(1) == ["PEXPIREAT", "k", String(h.engine.now + 50_000)])
        h.run("INCRBYFLOAT", "f", "1.5")
        #expect(r.words(2) == ["SET", "f", "1.5", "KEEPTTL"])
        h.run("SADD", "s", "a")
        h.run("SPOP", "s")
        #expect(r.words(4) == ["SREM", "s", "a"])
        h.run("RPUSH", "l", "x")
        h.run("BLPOP", "l", "0")
        #expect(r.words(6) == ["LPOP", "l"])
        h.run("GET", "nothing")
        #expect(r.commands.count == 7, "reads propagate nothing")
        h.run("EXPIRE", "k", "-1")
        #expect(r.words(7) == ["DEL", "k"])
    }

    @Test func expiredKeysBecomeDelsBeforeTheCommand() {
        let (h, r) = recorded()
        h.run("SET", "k", "v", "PX", "100000")
        h.engine.databases[0].table.setExpire(at: h.engine.databases[0].lookup(Array("k".utf8))!, 1)  // long past
        h.run("SET", "k", "new")
        let last = r.batches.last!.map { $0.args.map { String(decoding: $0, as: UTF8.self) } }
        #expect(last == [["MULTI"], ["DEL", "k"], ["SET", "k", "new"], ["EXEC"]])
    }

    @Test func transactionsStayTogether() {
        let (h, r) = recorded()
        h.run("MULTI")
        h.run("SET", "a", "1")
        h.run("SELECT", "3")
        h.run("INCR", "b")
        h.run("EXEC")
        let batch = r.batches.last!
        #expect(batch.map { String(decoding: $0.args[0], as: UTF8.self) } == ["MULTI", "SET", "INCR", "EXEC"])
        #expect(batch.map(\.db) == [0, 0, 3, 3])
    }

    /// A seeded random workload over every type: replaying what was propagated gives the same data.
    @Test(arguments: [1, 2, 3])
    func replayRebuildsTheSameDataset(seed: UInt64) {
        let (h, r) = recorded()
        var g = FastRandom(seed: seed)
        func n(_ k: Int) -> String { String(Int.random(in: 0..<k, using: &g)) }
        let templates: [() -> [String]] = [
            { ["SET", "s" + n(20), "v" + n(100)] },
            { ["SET", "s" + n(20), "v", "EX", n(1000) + "1"] },
            { ["SETEX", "s" + n(20), "100", "x"] },
            { ["INCRBYFLOAT", "f" + n(5), "0." + n(100)] },
            { ["INCR", "i" + n(5)] },
            { ["EXPIRE", "s" + n(20), n(500) + "1"] },
            { ["GETEX", "s" + n(20), "PX", n(99999) + "1"] },
            { ["GETEX", "s" + n(20), "PERSIST"] },
            { ["RPUSH", "l" + n(5), n(50), n(50)] },
            { ["LPOP", "l" + n(5)] },
            { ["BLPOP", "l" + n(5), "l" + n(5), "0.01"] },
            { ["LMPOP", "2", "l" + n(5), "l" + n(5), "RIGHT", "COUNT", "2"] },
            { ["BLMOVE", "l" + n(5), "l" + n(5), "LEFT", "RIGHT", "0.01"] },
            { ["SADD", "t" + n(5), n(30), "m" + n(30)] },
            { ["SPOP", "t" + n(5)] },
            { ["SPOP", "t" + n(5), n(4)] },
            { ["HSET", "h" + n(5), "f" + n(10), n(100)] },
            { ["HINCRBYFLOAT", "h" + n(5), "g", "1.25"] },
            { ["ZADD", "z" + n(5), n(100), "m" + n(20)] },
            { ["ZPOPMIN", "z" + n(5)] },
            { ["BZPOPMAX", "z" + n(5), "0.01"] },
            { ["BZMPOP", "0.01", "1", "z" + n(5), "MIN", "COUNT", "3"] },
            { ["DEL", "s" + n(20)] },
            { ["RENAME", "s" + n(20), "s" + n(20)] },
            { ["SELECT", n(3)] },
            { ["COPY", "h" + n(5), "h" + n(5), "REPLACE"] },
        ]
        for _ in 0..<3000 {
            let words = templates[Int.random(in: 0..<templates.count, using: &g)]()
            Arguments.with(words.map { Array($0.utf8) }) { h.engine.execute(h.client, $0) }
            if h.engine.blockedClientCount > 0 {
                // Nothing to take: unblock (as a timeout would) and go on.
                _ = h.engine.unblock(h.client, withError: nil)
            }
            h.client.reply.buffer.clear()
        }
        #expect(r.commands.count > 1000)
        #expect(renderKeyspace(replay(r.commands)) == renderKeyspace(h.engine))
    }
}

/// The engine's reused propagation buffer: commands of any size, in order, and its memory given
/// back after a big call.
@Suite struct PropagationBufferTests {
    func encoded(_ words: [String]) -> [UInt8] { CommandEncoder.encode(words.map { Array($0.utf8) }) }

    @Test func growsKeepsOrderAndShrinksBack() {
        let buffer = PropagationBuffer()
        let big = String(repeating: "v", count: 3 * PropagationBuffer.retainedCapacity)
        let commands = [["SET", "a", "1"], ["SET", "b", big], ["DEL", "a"]].map(encoded)
        for (i, c) in commands.enumerated() { c.withUnsafeBytes { buffer.append(db: i, resp: $0) } }
        buffer.wrapInTransaction()
        let view = buffer.commands
        #expect(view.owned.map(\.resp) == [encoded(["MULTI"])] + commands + [encoded(["EXEC"])])
        #expect(view.owned.map(\.db) == [0, 0, 1, 2, 2], "MULTI in the first command's database, EXEC in the last's")
        buffer.clear()
        #expect(buffer.isEmpty && buffer.used == 0)
        buffer.write(db: 3, size: CommandEncoder.arrayHeaderBytes(1) + CommandEncoder.bulkBytes(4)) { w in
            w.arrayHeader(1)
            w.bulk("PING")
        }
        #expect(buffer.commands.owned == [PropagatedCommand(db: 3, resp: encoded(["PING"]))])
    }

    @Test func aBigCallPropagatesWhole() {
        let h = EngineHarness()
        var seen: [[PropagatedCommand]] = []
        h.engine.addPropagationSink(PropagationSink(.aof) { seen.append($0.commands.owned) })
        let value = String(repeating: "x", count: 200_000)
        h.run("MSET", "k1", value, "k2", value)
        h.run("SET", "k3", "small")
        #expect(seen.map { $0.map(\.resp) } == [[encoded(["MSET", "k1", value, "k2", value])], [encoded(["SET", "k3", "small"])]])
    }

    /// A request's own bytes are propagated when they are the command's encoding; one whose
    /// arguments are not followed by CRLF (accepted unread, as Redis does) is encoded anew.
    @Test func requestBytesAreCopiedOnlyWhenCanonical() {
        let h = EngineHarness()
        var seen: [PropagatedCommand] = []
        h.engine.addPropagationSink(PropagationSink(.aof) { seen += $0.commands.owned })
        var parser = CommandParser()
        var input = ByteBuffer(string: "*3\r\n$3\r\nset\r\n$1\r\na\r\n$1\r\n1\r\n*3\r\n$3\r\nSET\r\n$1\r\nbXY$1\r\n2\r\n")
        #expect(h.engine.executeRequests(in: &input, parser: &parser, client: h.client) == nil)
        #expect(seen.map(\.resp) == [encoded(["set", "a", "1"]), encoded(["SET", "b", "2"])])
    }
}
