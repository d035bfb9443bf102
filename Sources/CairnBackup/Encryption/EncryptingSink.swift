// Encrypts a stream into the chunked AES-256-GCM layer (docs/format-backup.md, "Encryption"), one
// chunk of plaintext in memory at a time.

import CairnStorage
import Crypto

final class EncryptingSink: ByteSink {
    private let next: ByteSink
    private let header: [UInt8]
    private let key: SymmetricKey
    private let chunkBytes: Int
    private var pending: [UInt8] = []
    private var index: UInt64 = 0
    private var started = false

    init(next: ByteSink, key: BackupKey, chunkBytes: Int = EncryptionFormat.chunkBytes) {
        self.next = next
        var rng = SystemRandomNumberGenerator()
        let salt = (0..<EncryptionFormat.saltBytes).map { _ in UInt8.random(in: 0...255, using: &rng) }
        header = EncryptionFormat.Header(chunkBytes: chunkBytes, keyId: key.id, salt: salt).bytes
        self.key = key.subkey(salt: salt)
        self.chunkBytes = chunkBytes
        pending.reserveCapacity(chunkBytes)
    }

    func consume(_ bytes: UnsafeRawBufferPointer) throws {
        try start()
        var offset = 0
        while offset < bytes.count {
            let take = min(chunkBytes - pending.count, bytes.count - offset)
            pending.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[offset..<(offset + take)]))
            offset += take
            if pending.count == chunkBytes { try seal(final: false) }
        }
    }

    func finish() throws {
        try start()
        try seal(final: true)
        try next.finish()
    }

    private func start() throws {
        guard !started else { return }
        started = true
        try header.withUnsafeBytes { try next.consume($0) }
    }

    private func seal(final: Bool) throws {
        let aad = EncryptionFormat.authenticatedData(header: header, index: index, final: final)
        let nonce = try AES.GCM.Nonce(data: EncryptionFormat.nonce(index: index))
        let box = try AES.GCM.seal(pending, using: key, nonce: nonce, authenticating: aad)
        let word = UInt32(pending.count) | (final ? EncryptionFormat.finalFlag : 0)
        try EncryptionFormat.bigEndian(word).withUnsafeBytes { try next.consume($0) }
        try box.ciphertext.withUnsafeBytes { try next.consume($0) }
        try box.tag.withUnsafeBytes { try next.consume($0) }
        pending.removeAll(keepingCapacity: true)
        index += 1
    }
}
