// Decrypts the chunked AES-256-GCM layer (docs/format-backup.md, "Encryption") as it is read: a
// wrong key is named from the header's key id before any chunk is opened; a chunk that fails
// authentication, a stream that ends without its final chunk, and bytes after it are damage.

import CairnStorage
import Crypto

final class DecryptingSource: ByteSource {
    private let next: ByteSource
    private let headerBytes: [UInt8]
    private let header: EncryptionFormat.Header
    private let key: SymmetricKey
    private var plain: [UInt8] = []
    private var plainStart = 0
    private var index: UInt64 = 0
    private var sawFinal = false

    /// Reads and checks the header; `key` nil means none was given.
    init(next: ByteSource, key: BackupKey?) throws {
        self.next = next
        var head = [UInt8](repeating: 0, count: EncryptionFormat.headerBytes)
        let got = try head.withUnsafeMutableBytes { try SourceReading.readFully(next, into: $0) }
        guard got == head.count else { throw BackupError.damaged("truncated encryption header") }
        header = try EncryptionFormat.Header.parse(head)
        headerBytes = head
        guard let key else {
            throw BackupError(.key, "the archive is encrypted (key id \(header.keyId.hexString)): give its key with --key-file")
        }
        guard key.id == header.keyId else {
            throw BackupError(.key, "wrong key: the archive was encrypted with key id \(header.keyId.hexString), the key file's id is \(key.id.hexString)")
        }
        self.key = key.subkey(salt: header.salt)
    }

    /// The key id in an encrypted archive's header, without a key (for `list`).
    static func keyId(headerOf bytes: [UInt8]) -> [UInt8]? {
        (try? EncryptionFormat.Header.parse(bytes))?.keyId
    }

    func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        guard buffer.count > 0 else { return 0 }
        while plainStart == plain.count {
            if sawFinal {
                var probe: UInt8 = 0
                if try withUnsafeMutableBytes(of: &probe, { try next.read(into: $0) }) > 0 {
                    throw BackupError.damaged("bytes after the final encrypted chunk")
                }
                return 0
            }
            try openChunk()
        }
        let n = min(buffer.count, plain.count - plainStart)
        plain.withUnsafeBytes { buffer.baseAddress!.copyMemory(from: $0.baseAddress! + plainStart, byteCount: n) }
        plainStart += n
        return n
    }

    private func openChunk() throws {
        var word = [UInt8](repeating: 0, count: 4)
        let got = try word.withUnsafeMutableBytes { try SourceReading.readFully(next, into: $0) }
        guard got == 4 else {
            throw BackupError.damaged("truncated encrypted archive: it ends after \(index) chunks without the final one")
        }
        let value = UInt32(word[0]) << 24 | UInt32(word[1]) << 16 | UInt32(word[2]) << 8 | UInt32(word[3])
        let final = value & EncryptionFormat.finalFlag != 0
        let length = Int(value & ~EncryptionFormat.finalFlag)
        guard length <= header.chunkBytes, final || length == header.chunkBytes else {
            throw BackupError.damaged("encrypted chunk \(index) has a bad length \(length)")
        }
        var sealed = [UInt8](repeating: 0, count: length + EncryptionFormat.tagBytes)
        let read = try sealed.withUnsafeMutableBytes { try SourceReading.readFully(next, into: $0) }
        guard read == sealed.count else { throw BackupError.damaged("truncated encrypted archive inside chunk \(index)") }
        let aad = EncryptionFormat.authenticatedData(header: headerBytes, index: index, final: final)
        do {
            let nonce = try AES.GCM.Nonce(data: EncryptionFormat.nonce(index: index))
            let box = try AES.GCM.SealedBox(nonce: nonce, ciphertext: sealed[0..<length], tag: sealed[length...])
            plain = Array(try AES.GCM.open(box, using: key, authenticating: aad))
        } catch {
            throw BackupError.damaged("encrypted chunk \(index) failed authentication (the data was changed)")
        }
        plainStart = 0
        sawFinal = final
        index += 1
    }
}
