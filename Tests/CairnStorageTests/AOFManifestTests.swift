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
}
