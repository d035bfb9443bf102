@testable import CairnStorage
import Testing

@Suite struct HashSlotTests {
    @Test func crc16CheckValue() {
        // The CRC-16/XMODEM check value, as Redis's crc16.c states it.
        #expect(HashSlot.crc16(Array("123456789".utf8)) == 0x31C3)
        #expect(HashSlot.crc16([]) == 0)
    }

    /// Each slot as `CLUSTER KEYSLOT` answers on redis-server 7.0.15 (cluster-enabled yes).
    @Test(arguments: [
        ("123456789", 12739), ("foo", 12182), ("bar", 5061), ("", 0), ("a", 15495), ("b", 3300),
        // Hash tags: the first `{`, the first `}` after it, and something in between.
        ("{user1000}.following", 3443), ("{user1000}.followers", 3443), ("user1000", 3443),
        ("{a}{b}", 15495), ("foo{bar}{zap}", 5061), ("a}b{c}", 7365), ("foo{{bar}}zap", 4015),
        // No tag: hash the whole key.
        ("{}", 15257), ("{", 4092), ("}", 12090), ("}{", 12793), ("foo{}{bar}", 8363), ("x{}", 2608),
        ("{}x", 10595), ("a{b", 13340), ("{{}}", 4092),
    ])
    func slotsMatchRedis(key: String, slot: Int) {
        #expect(HashSlot.of(Array(key.utf8)) == slot, "\(key)")
    }

    @Test func binaryKeysAndTheSlotRange() {
        let key: [UInt8] = [0, 0xFF, UInt8(ascii: "{"), 0x80, UInt8(ascii: "}"), 7]
        #expect(HashSlot.of(key) == HashSlot.of([0x80]))
        for n in 0..<2000 { #expect((0..<HashSlot.count).contains(HashSlot.of(Array("key:\(n)".utf8)))) }
    }
}
