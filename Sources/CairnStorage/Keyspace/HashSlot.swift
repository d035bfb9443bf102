// Redis Cluster's hash slot of a key (cluster.c keyHashSlot): CRC16 of the key, or of its hash
// tag, modulo 16384. The key table's per-slot index uses it today; the cluster target will route
// by it. CRC16 is hand-written because neither the toolchain nor the package's dependencies
// offer one; it is the XMODEM variant Redis uses (polynomial 0x1021, initial value 0, no
// reflection), table-driven as in Redis's crc16.c, with the table computed once instead of typed.

public enum HashSlot {
    /// Number of hash slots in a Redis cluster.
    public static let count = 16384

    /// CRC16/XMODEM of `bytes` (`crc16("123456789") == 0x31C3`).
    public static func crc16(_ bytes: UnsafeRawBufferPointer) -> UInt16 {
        table.withUnsafeBufferPointer { t in
            var crc: UInt16 = 0
            for b in bytes { crc = (crc << 8) ^ t[Int(UInt8(truncatingIfNeeded: crc >> 8) ^ b)] }
            return crc
        }
    }

    public static func crc16(_ bytes: [UInt8]) -> UInt16 { bytes.withUnsafeBytes { crc16($0) } }

    /// The slot of `key`: if the key has a `{` and, after it, a `}` with at least one byte between
    /// them, only those bytes are hashed (so `{user1}.name` and `{user1}.mail` share a slot);
    /// otherwise the whole key. Only the first `{` and the first `}` after it count, so
    /// `foo{}{bar}` hashes whole and `{a}{b}` hashes `a`.
    public static func of(_ key: UnsafeRawBufferPointer) -> Int {
        let n = key.count
        guard let open = key.firstIndex(of: UInt8(ascii: "{")) else { return Int(crc16(key)) & (count - 1) }
        var close = open + 1
        while close < n && key[close] != UInt8(ascii: "}") { close += 1 }
        guard close < n, close > open + 1 else { return Int(crc16(key)) & (count - 1) }
        return Int(crc16(UnsafeRawBufferPointer(rebasing: key[(open + 1)..<close]))) & (count - 1)
    }

    public static func of(_ key: [UInt8]) -> Int { key.withUnsafeBytes { of($0) } }

    /// Byte-at-a-time lookup table: entry i is the CRC of the byte i shifted through the
    /// polynomial, so the main loop does one lookup per input byte instead of eight shifts.
    private static let table: [UInt16] = (0..<256).map { (i: Int) -> UInt16 in
        var crc = UInt16(i) << 8
        for _ in 0..<8 { crc = crc & 0x8000 != 0 ? (crc << 1) ^ 0x1021 : crc << 1 }
        return crc
    }
}
