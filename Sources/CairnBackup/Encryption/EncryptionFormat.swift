// The encrypted layer's layout (docs/format-backup.md, "Encryption"): a 40-byte header, then
// chunks of [u32 BE: final flag (bit 31) | plaintext length][ciphertext][16-byte GCM tag]. Every
// chunk authenticates the header, its own index and whether it is the last one, so that
// reordering, truncation at a chunk boundary and a swapped header are all detected.

enum EncryptionFormat {
    static let magic: [UInt8] = Array("CAIRNENC".utf8)
    static let version: UInt8 = 1
    static let cipherAES256GCM: UInt8 = 1
    static let headerBytes = 40
    static let saltBytes = 16
    static let tagBytes = 16
    static let finalFlag: UInt32 = 0x8000_0000
    /// Plaintext bytes per chunk as written; the reader accepts any size in `chunkBytesRange`.
    static let chunkBytes = 1 << 20
    static let chunkBytesRange = 4096...(16 << 20)

    struct Header: Equatable {
        var chunkBytes: Int
        var keyId: [UInt8]
        var salt: [UInt8]

        var bytes: [UInt8] {
            var out = magic
            out += [version, cipherAES256GCM, 0, 0]
            out += bigEndian(UInt32(chunkBytes))
            out += keyId
            out += salt
            return out
        }

        /// Parses a header; `.unsupported` for a newer version or another cipher, `.damaged` otherwise.
        static func parse(_ b: [UInt8]) throws -> Header {
            guard b.count == headerBytes, b.starts(with: magic) else {
                throw BackupError.damaged("not a cairn-backup encrypted archive (bad magic)")
            }
            guard b[8] == version else {
                throw BackupError(.unsupported, "encrypted archive format version \(b[8]); this cairn-backup reads version \(version)")
            }
            guard b[9] == cipherAES256GCM else { throw BackupError(.unsupported, "unknown cipher \(b[9]) in the encrypted archive") }
            guard b[10] == 0 && b[11] == 0 else { throw BackupError.damaged("reserved bytes of the encryption header are not zero") }
            let chunk = Int(b[12]) << 24 | Int(b[13]) << 16 | Int(b[14]) << 8 | Int(b[15])
            guard chunkBytesRange.contains(chunk) else { throw BackupError.damaged("bad chunk size \(chunk) in the encryption header") }
            return Header(chunkBytes: chunk, keyId: Array(b[16..<24]), salt: Array(b[24..<40]))
        }
    }

    /// 4 zero bytes and the chunk index, big-endian: unique within an archive, whose subkey is its own.
    static func nonce(index: UInt64) -> [UInt8] { [0, 0, 0, 0] + bigEndian(index) }

    static func authenticatedData(header: [UInt8], index: UInt64, final: Bool) -> [UInt8] {
        header + bigEndian(index) + [final ? 1 : 0]
    }

    static func bigEndian(_ v: UInt32) -> [UInt8] { (0..<4).map { UInt8(truncatingIfNeeded: v >> (24 - 8 * $0)) } }
    static func bigEndian(_ v: UInt64) -> [UInt8] { (0..<8).map { UInt8(truncatingIfNeeded: v >> (56 - 8 * UInt64($0))) } }
}
