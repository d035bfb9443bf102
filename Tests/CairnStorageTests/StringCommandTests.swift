import CairnRESP
import CairnStorage
import Testing

@Suite struct StringCommandTests {
    @Test func getSetRoundTrip() {
        let h = EngineHarness()
        #expect(h.run("GET", "k") == .nilBulk)
        #expect(h.run("SET", "k", "v") == .ok)
        #expect(h.run("get", "k") == .bulk("v"))
    }

    @Test func setOptionsAndErrors() {
        let h = EngineHarness()
        #expect(h.run("SET", "k", "1", "NX") == .ok)
        #expect(h.run("SET", "k", "2", "NX") == .nilBulk)
        #expect(h.run("SET", "k", "3", "XX", "GET") == .bulk("1"))
        #expect(h.run("SET", "k", "4", "NX", "XX") == .err("ERR syntax error"))
        #expect(h.run("SET", "k", "4", "EX", "0") == .err("ERR invalid expire time in 'set' command"))
        #expect(h.run("SET", "k", "4", "EX", "x") == .err("ERR value is not an integer or out of range"))
        #expect(h.run("SET", "k", "4", "EX", "10", "KEEPTTL") == .err("ERR syntax error"))
        #expect(h.run("SET", "k") == .err("ERR wrong number of arguments for 'set' command"))
    }
}
