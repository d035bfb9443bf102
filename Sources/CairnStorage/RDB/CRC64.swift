// CRC-64/Jones as Redis uses it for RDB files and DUMP payloads (docs/format-rdb.md): polynomial
// 0xad93d23594c935a9, reflected input and output, initial value 0, no final xor;
// crc64("123456789") == 0xe9c6d914c4b8d9ca. Hand-written because neither zlib nor swift-crypto
// offers this polynomial; slicing-by-8 tables keep it near memory speed for whole-file checks.

public enum CRC64 {
    /// Eight 256-entry tables: `tables[k][b]` is the CRC of byte `b` followed by `k` zero bytes.
    @usableFromInline static let tables: [UInt64] = {
        let reflectedPolynomial: UInt64 = 0x95ac_9329_ac4b_c9b5  // 0xad93d23594c935a9 bit-reversed
        var t = [UInt64](repeating: 0, count: 8 * 256)
        for b in 0..<256 {
            var crc = UInt64(b)
            for _ in 0..<8 { crc = crc & 1 == 1 ? (crc >> 1) ^ reflectedPolynomial : crc >> 1 }
            t[b] = crc
        }
        for k in 1..<8 {
            for b in 0..<256 {
                let previous = t[(k - 1) * 256 + b]
                t[k * 256 + b] = (previous >> 8) ^ t[Int(previous & 0xFF)]
            }
        }
        return t
    }()

    /// Continues `crc` over `bytes`.
    public static func update(_ crc: UInt64, _ bytes: UnsafeRawBufferPointer) -> UInt64 {
        guard var p = bytes.baseAddress else { return crc }
        var n = bytes.count
        var c = crc
        tables.withUnsafeBufferPointer { t in
            while n >= 8 {
                c ^= UInt64(littleEndian: p.loadUnaligned(as: UInt64.self))
                c = t[7 * 256 + Int(c & 0xFF)] ^ t[6 * 256 + Int((c >> 8) & 0xFF)]
                    ^ t[5 * 256 + Int((c >> 16) & 0xFF)] ^ t[4 * 256 + Int((c >> 24) & 0xFF)]
                    ^ t[3 * 256 + Int((c >> 32) & 0xFF)] ^ t[2 * 256 + Int((c >> 40) & 0xFF)]
                    ^ t[1 * 256 + Int((c >> 48) & 0xFF)] ^ t[Int(c >> 56)]
                p += 8
                n -= 8
            }
            while n > 0 {
                c = t[Int((c ^ UInt64(p.load(as: UInt8.self))) & 0xFF)] ^ (c >> 8)
                p += 1
                n -= 1
            }
        }
        return c
    }

    public static func checksum(_ bytes: [UInt8]) -> UInt64 { bytes.withUnsafeBytes { update(0, $0) } }
}
