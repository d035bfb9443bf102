import Testing
@testable import CairnCluster

@Suite struct KeySlotTests {
    @Test func crc16CheckValue() {
        #expect(CRC16.checksum(Array("123456789".utf8)) == 0x31C3)
        #expect(CRC16.checksum([]) == 0)
    }

    @Test(arguments: [
        ("123456789", 0x31C3 & 16383),
        ("{user1000}.following", keySlot(Array("user1000".utf8))),
        ("foo{}{bar}", keySlot(Array("foo{}{bar}".utf8))),     // empty first tag: whole key
        ("foo{{bar}}zap", keySlot(Array("{bar".utf8))),          // tag runs to the first }
        ("foo{bar}{zap}", keySlot(Array("bar".utf8))),           // only the first tag
        ("a{b}c{d}", keySlot(Array("b".utf8))),
    ])
    func hashTags(key: String, slot: Int) {
        #expect(keySlot(Array(key.utf8)) == slot)
    }

    @Test func hashTagBoundaries() {
        func tag(_ key: String) -> String {
            Array(key.utf8).withUnsafeBytes { String(decoding: hashTag($0), as: UTF8.self) }
        }
        #expect(tag("{}") == "{}")
        #expect(tag("{") == "{")
        #expect(tag("}{") == "}{")
        #expect(tag("{a") == "{a")
        #expect(tag("{{a}}") == "{a")
        #expect(tag("x{y}") == "y")
        #expect(tag("") == "")
    }

    /// Every key of Fixtures/cluster/keyslots.txt gets the slot redis-server 7.0's CLUSTER
    /// KEYSLOT gave it.
    @Test func matchesRedis() throws {
        let lines = try Fixture.text("keyslots.txt").split(separator: "\n")
        #expect(lines.count > 3000)
        for line in lines {
            let parts = line.split(separator: " ")
            try #require(parts.count == 2)
            let key = parts[0] == "-" ? [] : try hexBytes(parts[0])
            let expected = try #require(Int(parts[1]))
            #expect(keySlot(key) == expected, "key \(parts[0])")
            #expect(key.withUnsafeBytes { keySlot($0) } == expected)
        }
    }

    private func hexBytes(_ hex: Substring) throws -> [UInt8] {
        let digits = Array(hex.utf8)
        try #require(digits.count % 2 == 0)
        return try stride(from: 0, to: digits.count, by: 2).map { i in
            try #require(UInt8(String(decoding: digits[i..<(i + 2)], as: UTF8.self), radix: 16))
        }
    }
}

@Suite struct SlotBitmapTests {
    @Test func byteLayoutIsRedis() {
        var bitmap = SlotBitmap()
        bitmap.insert(0)
        bitmap.insert(9)
        bitmap.insert(16383)
        #expect(bitmap.bytes.count == 2048)
        #expect(bitmap.bytes[0] == 0x01)
        #expect(bitmap.bytes[1] == 0x02)
        #expect(bitmap.bytes[2047] == 0x80)
        #expect(bitmap.count == 3)
        let copy = bitmap.bytes.withUnsafeBytes { SlotBitmap(bytes: $0) }
        #expect(copy == bitmap)
        #expect([UInt8](repeating: 0, count: 2047).withUnsafeBytes { SlotBitmap(bytes: $0) } == nil)
    }

    @Test func ranges() {
        let bitmap = SlotBitmap(slots: Array(0...5460) + [7000] + Array(16000...16383))
        #expect(bitmap.ranges == [0...5460, 7000...7000, 16000...16383])
        #expect(bitmap.ranges.map(\.slotRangeText) == ["0-5460", "7000", "16000-16383"])
        #expect(SlotBitmap().ranges.isEmpty)
        #expect(SlotBitmap(slots: 0..<16384).ranges == [0...16383])
    }

    @Test func outOfRangeIsNotContained() {
        var bitmap = SlotBitmap(slots: [1])
        #expect(!bitmap.contains(-1))
        #expect(!bitmap.contains(16384))
        bitmap.remove(16384)
        bitmap.remove(1)
        #expect(bitmap.isEmpty)
    }
}
