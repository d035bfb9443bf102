import CairnRESP
import Testing

@Suite struct ArgumentSplitterTests {
    func split(_ s: String) -> [String]? {
        ArgumentSplitter.split(Array(s.utf8))?.map { String(decoding: $0, as: UTF8.self) }
    }

    @Test func plainWords() {
        #expect(split("  set  k\tv ") == ["set", "k", "v"])
        #expect(split("") == [])
    }

    @Test func quoting() {
        #expect(split("\"a b\" 'c d'") == ["a b", "c d"])
        #expect(split("\"\\x41\\x4a\\n\\r\\t\\\\\\\"\"") == ["AJ\n\r\t\\\""])
        #expect(split("'it\\'s'") == ["it's"])
        #expect(split("\"\\xZZ\"") == ["xZZ"])
        #expect(split("\"\"") == [""])
    }

    @Test func unbalanced() {
        #expect(split("\"abc") == nil)
        #expect(split("'abc") == nil)
        #expect(split("\"abc\"x") == nil)
        #expect(split("'abc'x") == nil)
    }
}
