// The archive key (docs/format-backup.md, "Encryption"): read from a file only — 32 raw bytes or
// 64 hex digits, a trailing newline allowed — so that it never appears in argv, the environment
// or a log. Each archive encrypts under its own subkey, HKDF-SHA256(key, salt, info), from a
// random salt in its header; the key id lets a wrong key be named as such before any decryption.

import Crypto
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

public struct BackupKey: Sendable {
    static let keyBytes = 32
    static let keyIdBytes = 8
    /// A key file larger than this is not a key file.
    static let fileBytesMax = 4096
    static let keyIdLabel = Array("cairn-backup key id v1".utf8)
    static let subkeyInfo = Array("cairn-backup archive v1 AES-256-GCM".utf8)

    private let bytes: [UInt8]
    var key: SymmetricKey { SymmetricKey(data: bytes) }
    /// The first 8 bytes of HMAC-SHA256(key, "cairn-backup key id v1"): names the key, reveals nothing of it.
    public let id: [UInt8]

    public init(bytes: [UInt8]) throws {
        guard bytes.count == Self.keyBytes else {
            throw BackupError(.key, "a key is \(Self.keyBytes) bytes, got \(bytes.count)")
        }
        self.bytes = bytes
        id = Array(Array(HMAC<SHA256>.authenticationCode(for: Self.keyIdLabel, using: SymmetricKey(data: bytes))).prefix(Self.keyIdBytes))
    }

    /// Reads `path`: exactly 32 bytes (raw), or 64 hex digits with optional trailing whitespace.
    public static func load(path: String) throws -> BackupKey {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw BackupError(.key, "cannot open the key file \(path): \(SystemText.error(errno))") }
        defer { close(fd) }
        var data: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1024)
        while true {
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw BackupError(.key, "cannot read the key file \(path): \(SystemText.error(errno))")
            }
            if n == 0 { break }
            data.append(contentsOf: chunk[0..<n])
            guard data.count <= fileBytesMax else { throw BackupError(.key, "the key file \(path) is too large to be a key") }
        }
        do {
            return try BackupKey(bytes: parse(data))
        } catch let e as BackupError {
            throw BackupError(.key, "the key file \(path): \(e.message)")
        }
    }

    /// The key bytes a key file holds.
    static func parse(_ data: [UInt8]) throws -> [UInt8] {
        if data.count == keyBytes { return data }
        var text = data[...]
        while let last = text.last, last == 0x0A || last == 0x0D || last == 0x20 || last == 0x09 { text = text.dropLast() }
        guard text.count == 2 * keyBytes else {
            throw BackupError(.key, "expected \(keyBytes) raw bytes or \(2 * keyBytes) hex digits, got \(data.count) bytes")
        }
        var key: [UInt8] = []
        key.reserveCapacity(keyBytes)
        var i = text.startIndex
        while i < text.endIndex {
            guard let hi = hexValue(text[i]), let lo = hexValue(text[i + 1]) else {
                throw BackupError(.key, "expected \(2 * keyBytes) hex digits, found a character that is not one")
            }
            key.append(hi << 4 | lo)
            i += 2
        }
        return key
    }

    private static func hexValue(_ c: UInt8) -> UInt8? {
        switch c {
        case 0x30...0x39: return c - 0x30
        case 0x61...0x66: return c - 0x61 + 10
        case 0x41...0x46: return c - 0x41 + 10
        default: return nil
        }
    }

    /// The archive subkey for `salt`.
    func subkey(salt: [UInt8]) -> SymmetricKey {
        HKDF<SHA256>.deriveKey(inputKeyMaterial: key, salt: salt, info: Self.subkeyInfo, outputByteCount: Self.keyBytes)
    }

    /// A new random key (for `cairn-backup keygen` and tests).
    public static func generate() -> [UInt8] {
        SymmetricKey(size: .bits256).withUnsafeBytes { Array($0) }
    }
}

extension Array where Element == UInt8 {
    var hexString: String {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(count * 2)
        for b in self {
            out.append(digits[Int(b >> 4)])
            out.append(digits[Int(b & 0x0f)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}
