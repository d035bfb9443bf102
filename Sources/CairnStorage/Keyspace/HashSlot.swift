import CairnCluster

// Redis Cluster's hash slot of a key, for the engine (the key table's per-slot index, the
// keyspace commands): CairnCluster computes it (KeySlot.swift: CRC16-XMODEM of the key or of its
// hash tag, modulo 16384); this is the engine's name for it.

public enum HashSlot {
    /// Number of hash slots in a Redis cluster.
    public static let count = clusterSlotCount

    /// CRC16/XMODEM of `bytes` (`crc16("123456789") == 0x31C3`).
    @inlinable
    public static func crc16(_ bytes: UnsafeRawBufferPointer) -> UInt16 { CRC16.checksum(bytes) }

    @inlinable
    public static func crc16(_ bytes: [UInt8]) -> UInt16 { CRC16.checksum(bytes) }

    /// The slot of `key`: the CRC of its hash tag (the non-empty bytes between the first `{` and
    /// the first `}` after it) or of the whole key, modulo 16384.
    @inlinable
    public static func of(_ key: UnsafeRawBufferPointer) -> Int { keySlot(key) }

    @inlinable
    public static func of(_ key: [UInt8]) -> Int { keySlot(key) }
}
