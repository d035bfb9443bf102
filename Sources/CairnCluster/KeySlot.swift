// Hash slots of keys (docs/format-nodes-conf.md lists where slots appear on disk).
//
// CRC16 is written here rather than taken from a package: the variant Redis Cluster uses
// (XMODEM: polynomial 0x1021, initial value 0, no reflection, no final XOR) is not in the
// standard library or in any dependency Cairn already has, and a 256-entry table is a few lines.

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The number of hash slots of a Redis cluster.
public let clusterSlotCount = 16384

/// CRC16-XMODEM, as Redis Cluster hashes keys: polynomial 0x1021, initial value 0, bits not
/// reflected, no final XOR. `crc16("123456789") == 0x31C3`.
public enum CRC16 {
    /// The checksum of `bytes`.
    @inlinable
    public static func checksum(_ bytes: UnsafeRawBufferPointer) -> UInt16 {
        // One look at the table's storage per key, not an array access (and its checks) per byte.
        table.withUnsafeBufferPointer { table in
            var crc: UInt16 = 0
            for byte in bytes {
                crc = (crc << 8) ^ table[Int(UInt8(truncatingIfNeeded: crc >> 8) ^ byte)]
            }
            return crc
        }
    }

    /// The checksum of `bytes`.
    @inlinable
    public static func checksum(_ bytes: [UInt8]) -> UInt16 {
        bytes.withUnsafeBytes { checksum($0) }
    }

    /// The CRC of each byte value shifted into the high byte: one table step per input byte.
    @usableFromInline
    static let table: [UInt16] = (0..<256).map { value in
        var crc = UInt16(value) << 8
        for _ in 0..<8 {
            crc = crc & 0x8000 != 0 ? (crc << 1) ^ 0x1021 : crc << 1
        }
        return crc
    }
}

/// The hash slot of `key`: CRC16 of the key (or of its hash tag) modulo 16384.
///
/// The hash tag is what lies between the first `{` and the first `}` after it, when that is not
/// empty; otherwise the whole key is hashed (`{}x` and `x{` hash whole, `{{a}}` hashes `{a`).
@inlinable
public func keySlot(_ key: UnsafeRawBufferPointer) -> Int {
    let tagged = hashTag(key)
    return Int(CRC16.checksum(tagged) & UInt16(clusterSlotCount - 1))
}

/// The hash slot of `key` (see `keySlot(_: UnsafeRawBufferPointer)`).
@inlinable
public func keySlot(_ key: [UInt8]) -> Int {
    key.withUnsafeBytes { keySlot($0) }
}

/// The part of `key` that is hashed: the non-empty text between the first `{` and the first `}`
/// after it, or the whole key.
@inlinable
public func hashTag(_ key: UnsafeRawBufferPointer) -> UnsafeRawBufferPointer {
    // memchr: this runs for every key of every command in cluster mode, and most keys have no
    // tag, so the whole key is scanned (a byte loop costs several times more).
    guard let base = key.baseAddress, let open = memchr(base, Int32(UInt8(ascii: "{")), key.count) else { return key }
    let start = base.distance(to: UnsafeRawPointer(open)) + 1
    guard start < key.count, let close = memchr(base + start, Int32(UInt8(ascii: "}")), key.count - start) else { return key }
    let end = base.distance(to: UnsafeRawPointer(close))
    guard end > start else { return key }
    return UnsafeRawBufferPointer(rebasing: key[start..<end])
}
