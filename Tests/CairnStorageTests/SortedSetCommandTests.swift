import CairnRESP
@testable import CairnStorage
import Testing

// Sorted-set commands. Most expectations are Redis 7.0.15's own replies: the transcripts in
// SortedSetTranscripts.swift are replayed byte for byte in both encodings; the tests below add
// what a transcript cannot pin down (randomness, ZSCAN order, bookkeeping, large sets).

struct Step {
    let command: String
    let reply: String
    /// Redis's reply when every set is a skiplist, where it differs.
    let skiplistReply: String?
    init(_ command: String, _ reply: String, sl: String? = nil) {
        self.command = command
        self.reply = reply
        self.skiplistReply = sl
    }

    /// The command's words: split on spaces, "..." quotes, \xNN a byte, @N the pairs 1 m1 ... N mN.
    var words: [[UInt8]] {
        var out: [[UInt8]] = []
        var word: [UInt8] = []
        var quoted = false, started = false
        let b = Array(command.utf8)
        var i = 0
        func hex(_ c: UInt8) -> UInt8 { c <= 57 ? c - 48 : (c | 0x20) - 87 }
        while i < b.count {
            let c = b[i]
            if c == UInt8(ascii: "\"") {
                quoted.toggle()
                started = true
            } else if c == 32 && !quoted {
                if started { out.append(word) }
                word = []
                started = false
            } else if c == UInt8(ascii: "\\") && i + 3 < b.count && b[i + 1] == UInt8(ascii: "x") {
                word.append(hex(b[i + 2]) << 4 | hex(b[i + 3]))
                started = true
                i += 3
            } else {
                word.append(c)
                started = true
            }
            i += 1
        }
        if started { out.append(word) }
        return out.flatMap { w -> [[UInt8]] in
            guard w.first == UInt8(ascii: "@"), let n = Int(String(decoding: w.dropFirst(), as: UTF8.self)) else { return [w] }
            return (1...n).flatMap { [Array("\($0)".utf8), Array("m\($0)".utf8)] }
        }
    }
}

extension EngineHarness {
    /// Runs one command and returns its raw reply.
    func wire(_ words: [[UInt8]]) -> [UInt8] {
        Arguments.with(words) { engine.execute(client, $0) }
        let bytes = client.reply.buffer.readableBytesView
        defer { client.reply.buffer.clear() }
        return Array(bytes)
    }

    func wire(_ words: String...) -> String { String(decoding: wire(words.map { Array($0.utf8) }), as: UTF8.self) }

    /// Runs a transcript; `skiplist` selects the expectations for an engine whose sets are all
    /// skiplists. ZSCAN steps are skipped there: their order is the hash table's.
    func replay(_ steps: [Step], skiplist: Bool, sourceLocation: SourceLocation = #_sourceLocation) {
        for step in steps {
            if skiplist && step.command.hasPrefix("zscan") { continue }
            let expected = skiplist ? (step.skiplistReply ?? step.reply) : step.reply
            let got = String(decoding: wire(step.words), as: UTF8.self)
            #expect(got == expected, "\(step.command)", sourceLocation: sourceLocation)
        }
    }

    static func skiplistOnly(resp3: Bool = false) -> EngineHarness {
        var settings = EngineSettings()
        settings.zsetMaxListpackEntries = 0
        return EngineHarness(engine: Engine(settings: settings), resp3: resp3)
    }

    func zset(_ key: String, db: Int = 0) -> SortedSetValue? {
        let database = engine.databases[db]
        guard let i = database.lookup(Array(key.utf8)), case .zset(let z) = database.table[i].value else { return nil }
        return z
    }
}

@Suite struct SortedSetTranscriptTests {
    static let all: [(String, [Step])] = [
        ("add", SortedSetTranscripts.add), ("negzero", SortedSetTranscripts.negzero),
        ("range", SortedSetTranscripts.range), ("pop", SortedSetTranscripts.pop),
        ("algebra", SortedSetTranscripts.algebra), ("randscan", SortedSetTranscripts.randscan),
        ("encoding", SortedSetTranscripts.encoding),
    ]

    @Test(arguments: all.map(\.0)) func listpack(_ name: String) {
        EngineHarness().replay(Self.all.first { $0.0 == name }?.1 ?? [], skiplist: false)
    }

    @Test(arguments: all.map(\.0)) func skiplist(_ name: String) {
        EngineHarness.skiplistOnly().replay(Self.all.first { $0.0 == name }?.1 ?? [], skiplist: true)
    }

    @Test func resp3() {
        EngineHarness(resp3: true).replay(SortedSetTranscripts.resp3, skiplist: false)
        EngineHarness.skiplistOnly(resp3: true).replay(SortedSetTranscripts.resp3, skiplist: true)
    }
}
