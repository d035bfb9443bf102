@testable import CairnStorage
import Testing

@Suite struct AOFManifestTests {
    @Test func parsesWhatRedisWritesAndWritesItBack() throws {
        let text = "file appendonly.aof.1.base.rdb seq 1 type b\nfile appendonly.aof.1.incr.aof seq 1 type h\n"
            + "file appendonly.aof.2.incr.aof seq 2 type i\nfile appendonly.aof.3.incr.aof seq 3 type i\n"
        let m = try AOFManifest.parse(Array(text.utf8))
        #expect(m.base == .init(name: "appendonly.aof.1.base.rdb", seq: 1, type: .base))
        #expect(m.history.map(\.name) == ["appendonly.aof.1.incr.aof"])
        #expect(m.increments.map(\.seq) == [2, 3])
        #expect(m.loadOrder.map(\.name) == ["appendonly.aof.1.base.rdb", "appendonly.aof.2.incr.aof", "appendonly.aof.3.incr.aof"])
        #expect(String(decoding: m.serialized(), as: UTF8.self) == text)
    }

    @Test func acceptsCommentsOrderAndUnknownKeys() throws {
        let text = "# comment\n\n  type i seq 5 file \"a b.aof\" future yes\r\n"
        let m = try AOFManifest.parse(Array(text.utf8))
        #expect(m.increments == [.init(name: "a b.aof", seq: 5, type: .incr)])
        #expect(String(decoding: m.serialized(), as: UTF8.self) == "file \"a b.aof\" seq 5 type i\n")
    }

    @Test(arguments: [
        "file a seq 1\n",                                  // no type
        "file a seq 1 type x\n",                           // bad type
        "file a seq x type i\n",                           // bad seq
        "file a/b seq 1 type i\n",                         // path
        "file a seq 1 type b\nfile b seq 2 type b\n",      // two bases
        "file a seq 2 type i\nfile b seq 2 type i\n",      // seq not increasing
        "file \"a seq 1 type i\n",                         // unbalanced quote
        "file a seq\n",                                    // key without value
        "",                                                // nothing to load
        "file a seq 1 type h\n",                           // history only
    ])
    func refusesBadManifests(_ text: String) {
        #expect(throws: AOFError.self) { try AOFManifest.parse(Array(text.utf8)) }
    }

    @Test func encoderSelectsAndAnnotates() {
        var e = AOFCommandEncoder(timestamps: true)
        var out: [UInt8] = []
        e.append([PropagatedCommand(db: 0, args: [Array("SET".utf8), Array("k".utf8), Array("v".utf8)])], nowMillis: 5_000, to: &out)
        e.append([PropagatedCommand(db: 0, args: [Array("DEL".utf8), Array("k".utf8)])], nowMillis: 5_999, to: &out)
        e.append([PropagatedCommand(db: 2, args: [Array("INCR".utf8), Array("n".utf8)])], nowMillis: 6_000, to: &out)
        let expected = "#TS:5\r\n*2\r\n$6\r\nSELECT\r\n$1\r\n0\r\n*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n"
            + "*2\r\n$3\r\nDEL\r\n$1\r\nk\r\n#TS:6\r\n*2\r\n$6\r\nSELECT\r\n$1\r\n2\r\n*2\r\n$4\r\nINCR\r\n$1\r\nn\r\n"
        #expect(String(decoding: out, as: UTF8.self) == expected)
    }
}
