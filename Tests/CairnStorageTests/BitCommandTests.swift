import CairnRESP
@testable import CairnStorage
import Testing

@Suite struct BitCommandTests {
    static let badOffset = RESPValue.err("ERR bit offset is not an integer or out of range")
    static let badBit = RESPValue.err("ERR bit is not an integer or out of range")

    @Test func setbitAndGetbit() {
        let h = EngineHarness()
        #expect(h.run("SETBIT", "b", "7", "1") == .int(0))
        #expect(h.run("GET", "b") == .raw([1]))
        #expect(h.encoding("b") == "raw")
        #expect(h.run("SETBIT", "b", "7", "1") == .int(1))
        #expect(h.engine.dirty == 1)  // an unchanged bit is not a change
        #expect(h.run("SETBIT", "b", "0", "1") == .int(0))
        #expect(h.run("SETBIT", "b", "7", "0") == .int(1))
        #expect(h.run("GET", "b") == .raw([0x80]))
        #expect(h.run("SETBIT", "b", "17", "0") == .int(0))  // grows even when clearing
        #expect(h.run("GET", "b") == .raw([0x80, 0, 0]))
        #expect(h.engine.dirty == 4)
        #expect(h.run("GETBIT", "b", "0") == .int(1))
        #expect(h.run("GETBIT", "b", "1") == .int(0))
        #expect(h.run("GETBIT", "b", "4294967295") == .int(0))
        #expect(h.run("GETBIT", "nokey", "1") == .int(0))

        // Integers read as their decimal digits: "12" is 0x31 0x32.
        h.run("SET", "i", "12")
        #expect(h.run("GETBIT", "i", "2") == .int(1))
        #expect(h.run("GETBIT", "i", "4") == .int(0))
        #expect(h.run("SETBIT", "i", "2", "1") == .int(1))
        #expect(h.encoding("i") == "raw")  // unshared even though nothing changed
        #expect(h.run("SETBIT", "i", "6", "1") == .int(0))
        #expect(h.run("GET", "i") == .bulk("32"))

        // SETBIT keeps the TTL.
        h.run("SETEX", "t", "100", "a")
        let expiry = h.engine.now + 100_000  // set by SETEX; later commands move the clock
        h.run("SETBIT", "t", "0", "1")
        #expect(h.expireAt("t") == expiry)
    }

    @Test func setbitErrors() {
        let h = EngineHarness()
        #expect(h.run("SETBIT", "b", "-1", "1") == Self.badOffset)
        #expect(h.run("SETBIT", "b", "x", "1") == Self.badOffset)
        #expect(h.run("SETBIT", "b", "4294967296", "1") == Self.badOffset)
        #expect(h.run("SETBIT", "b", "#1", "1") == Self.badOffset)
        #expect(h.run("SETBIT", "b", "1", "2") == Self.badBit)
        #expect(h.run("SETBIT", "b", "1", "-1") == Self.badBit)
        #expect(h.run("SETBIT", "b", "1", "x") == Self.badBit)
        #expect(h.run("SETBIT", "b", "x", "x") == Self.badOffset)
        #expect(h.run("GETBIT", "b", "4294967296") == Self.badOffset)
        #expect(h.run("GETBIT", "nokey", "-1") == Self.badOffset)
        #expect(h.run("GET", "b") == .nilBulk)
        #expect(h.run("SETBIT", "b", "1") == .err("ERR wrong number of arguments for 'setbit' command"))
        #expect(h.run("GETBIT", "b") == .err("ERR wrong number of arguments for 'getbit' command"))
    }

    @Test func offsetLimitFollowsProtoMaxBulkLength() {
        var settings = EngineSettings()
        settings.protoMaxBulkLength = 4
        let h = EngineHarness(engine: Engine(settings: settings))
        #expect(h.run("SETBIT", "b", "31", "1") == .int(0))
        #expect(h.run("STRLEN", "b") == .int(4))
        #expect(h.run("SETBIT", "b", "32", "1") == Self.badOffset)
        #expect(h.run("GETBIT", "b", "32") == Self.badOffset)
    }

    @Test func bitcount() {
        let h = EngineHarness()
        h.run("SET", "s", "foobar")
        #expect(h.run("BITCOUNT", "s") == .int(26))
        #expect(h.run("BITCOUNT", "s", "0", "0") == .int(4))
        #expect(h.run("BITCOUNT", "s", "1", "1") == .int(6))
        #expect(h.run("BITCOUNT", "s", "1", "1", "BYTE") == .int(6))
        #expect(h.run("BITCOUNT", "s", "5", "30", "BIT") == .int(17))
        #expect(h.run("BITCOUNT", "s", "0", "1", "bit") == .int(1))
        #expect(h.run("BITCOUNT", "s", "-5", "-1", "bit") == .int(2))
        #expect(h.run("BITCOUNT", "s", "-1", "-2") == .int(0))
        #expect(h.run("BITCOUNT", "s", "-100", "-200") == .int(0))
        #expect(h.run("BITCOUNT", "s", "-200", "-100") == .int(4))  // both clamp to byte 0
        #expect(h.run("BITCOUNT", "s", "0", "-1") == .int(26))
        #expect(h.run("BITCOUNT", "s", "4", "2") == .int(0))
        #expect(h.run("BITCOUNT", "s", "0", "100") == .int(26))
        // The empty-range shortcut comes before the unit is checked.
        #expect(h.run("BITCOUNT", "s", "-1", "-3", "bits") == .int(0))
        #expect(h.run("BITCOUNT", "s", "-3", "-1", "bits") == .err("ERR syntax error"))
        #expect(h.run("BITCOUNT", "s", "0") == .err("ERR syntax error"))
        #expect(h.run("BITCOUNT", "s", "0", "1", "2", "3") == .err("ERR syntax error"))
        #expect(h.run("BITCOUNT", "s", "a", "b") == .err("ERR value is not an integer or out of range"))
        // Redis 7.0 looks the key up first: a missing key answers 0 whatever the arguments.
        #expect(h.run("BITCOUNT", "nokey") == .int(0))
        #expect(h.run("BITCOUNT", "nokey", "0") == .int(0))
        #expect(h.run("BITCOUNT", "nokey", "a", "b", "bad") == .int(0))
        h.run("SET", "i", "12")
        #expect(h.run("BITCOUNT", "i") == .int(6))
        h.run("APPEND", "e", "")
        #expect(h.run("BITCOUNT", "e") == .int(0))
        #expect(h.run("BITCOUNT", "e", "0", "-1", "BIT") == .int(0))
        let long = [UInt8](repeating: 0xA5, count: 40) + [0xFF]
        h.run([Array("SET".utf8), Array("l".utf8), long])
        #expect(h.run("BITCOUNT", "l") == .int(40 * 4 + 8))
        #expect(h.run("BITCOUNT", "l", "3", "325", "BIT") == .int(164))
    }

    @Test func bitposBasics() {
        let h = EngineHarness()
        #expect(h.run("BITPOS", "nokey", "1") == .int(-1))
        #expect(h.run("BITPOS", "nokey", "0") == .int(0))
        #expect(h.run("BITPOS", "nokey", "0", "a") == .int(0))  // key first, as in Redis 7.0
        #expect(h.run("BITPOS", "nokey", "2") == .err("ERR The bit argument must be 1 or 0."))
        #expect(h.run("BITPOS", "nokey", "x") == .err("ERR value is not an integer or out of range"))
        h.run([Array("SET".utf8), Array("k".utf8), [0xFF, 0xF0, 0x00]])
        #expect(h.run("BITPOS", "k", "0") == .int(12))
        #expect(h.run("BITPOS", "k", "1") == .int(0))
        #expect(h.run("BITPOS", "k", "1", "2") == .int(-1))
        #expect(h.run("BITPOS", "k", "0", "1") == .int(12))
        #expect(h.run("BITPOS", "k", "1", "1") == .int(8))
        #expect(h.run("BITPOS", "k", "1", "-2", "-1") == .int(8))
        #expect(h.run("BITPOS", "k", "0", "7", "15", "BIT") == .int(12))
        #expect(h.run("BITPOS", "k", "1", "5", "7", "bit") == .int(5))
        #expect(h.run("BITPOS", "k", "1", "12", "23", "BIT") == .int(-1))
        #expect(h.run("BITPOS", "k", "1", "-100", "-200") == .int(0))  // no shortcut here: byte 0
        #expect(h.run("BITPOS", "k", "0", "1", "2", "bad") == .err("ERR syntax error"))
        #expect(h.run("BITPOS", "k", "0", "1", "2", "bit", "x") == .err("ERR syntax error"))
        #expect(h.run("BITPOS", "k", "0", "x") == .err("ERR value is not an integer or out of range"))
        #expect(h.run("BITPOS", "k", "0", "0", "x") == .err("ERR value is not an integer or out of range"))
    }

    @Test func bitposClearBitSpecialCases() {
        let h = EngineHarness()
        h.run([Array("SET".utf8), Array("ff".utf8), [0xFF, 0xFF, 0xFF]])
        // No end given: the string reads as padded with zeros, so the answer is just past it.
        #expect(h.run("BITPOS", "ff", "0") == .int(24))
        #expect(h.run("BITPOS", "ff", "0", "0") == .int(24))
        #expect(h.run("BITPOS", "ff", "0", "1") == .int(24))
        // An explicit end means exactly that range: no clear bit is -1.
        #expect(h.run("BITPOS", "ff", "0", "0", "-1") == .int(-1))
        #expect(h.run("BITPOS", "ff", "0", "0", "2", "bit") == .int(-1))
        #expect(h.run("BITPOS", "ff", "0", "0", "23", "BIT") == .int(-1))
        // Empty ranges are -1 for both bits.
        #expect(h.run("BITPOS", "ff", "0", "5") == .int(-1))
        #expect(h.run("BITPOS", "ff", "1", "5") == .int(-1))
        #expect(h.run("BITPOS", "ff", "0", "2", "1") == .int(-1))
        h.run("APPEND", "e", "")
        #expect(h.run("BITPOS", "e", "0") == .int(-1))
        #expect(h.run("BITPOS", "e", "1") == .int(-1))
        let long = [UInt8](repeating: 0xFF, count: 40) + [0xFE] + [UInt8](repeating: 0, count: 30) + [1]
        h.run([Array("SET".utf8), Array("l".utf8), long])
        #expect(h.run("BITPOS", "l", "0") == .int(327))
        #expect(h.run("BITPOS", "l", "1", "41") == .int(71 * 8 + 7))
        #expect(h.run("BITPOS", "l", "1", "41", "70") == .int(-1))
        #expect(h.run("BITPOS", "l", "0", "2", "39") == .int(-1))
        #expect(h.run("BITPOS", "l", "0", "2", "40") == .int(327))
    }

    @Test func bitop() {
        let h = EngineHarness()
        h.run("SET", "a", "abc")
        h.run("SET", "b", "12")
        #expect(h.run("BITOP", "AND", "d", "a", "b") == .int(3))
        #expect(h.run("GET", "d") == .raw([0x21, 0x22, 0]))
        #expect(h.encoding("d") == "raw")
        #expect(h.run("BITOP", "or", "d", "a", "b") == .int(3))
        #expect(h.run("GET", "d") == .bulk("qrc"))
        #expect(h.run("BITOP", "XOR", "d", "a", "b", "nokey") == .int(3))
        #expect(h.run("GET", "d") == .raw([0x50, 0x50, 0x63]))
        #expect(h.run("BITOP", "AND", "d", "a", "nokey") == .int(3))
        #expect(h.run("GET", "d") == .raw([0, 0, 0]))
        #expect(h.run("BITOP", "NOT", "d", "b") == .int(2))
        #expect(h.run("GET", "d") == .raw([0xCE, 0xCD]))
        #expect(h.run("BITOP", "xor", "a", "a", "a") == .int(3))
        #expect(h.run("GET", "a") == .raw([0, 0, 0]))
        #expect(h.engine.dirty == 8)
        // The destination loses its TTL.
        h.run("SETEX", "t", "100", "x")
        h.run("BITOP", "NOT", "t", "b")
        #expect(h.expireAt("t") == noExpiry)
    }

    @Test func bitopEmptyResultDeletesDestination() {
        let h = EngineHarness()
        #expect(h.run("BITOP", "AND", "d", "n1", "n2") == .int(0))
        #expect(h.engine.dirty == 0)
        h.run("SET", "d", "x")
        #expect(h.run("BITOP", "OR", "d", "n1") == .int(0))
        #expect(h.run("GET", "d") == .nilBulk)
        #expect(h.engine.dirty == 2)
    }

    @Test func bitopErrors() {
        let h = EngineHarness()
        #expect(h.run("BITOP", "NAND", "d", "a") == .err("ERR syntax error"))
        #expect(h.run("BITOP", "NOT", "d", "a", "b") == .err("ERR BITOP NOT must be called with a single source key."))
        #expect(h.run("BITOP", "not", "d") == .err("ERR wrong number of arguments for 'bitop' command"))
    }
}
