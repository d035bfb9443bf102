// Opens an archive (docs/format-backup.md) from its first bytes: the encrypted layer when it
// starts with CAIRNENC, then gzip or LZ4 as written by cairn-backup (the gzip header must carry
// its CRC-16 and the LZ4 frame its content checksum) followed by the integrity trailer, then the
// tar stream, whose first member must be MANIFEST.json.

import CairnStorage

final class ArchiveReader {
    let encrypted: Bool
    let compression: ArchiveCompression
    private let tar: TarReader

    /// `key` is needed only when the archive is encrypted.
    init(source: ByteSource, key: BackupKey?) throws {
        do {
            var head = try Self.peek(source, EncryptionFormat.magic.count)
            var inner: ByteSource = PrefixedSource(prefix: head, next: source)
            encrypted = head == EncryptionFormat.magic
            if encrypted {
                inner = try DecryptingSource(next: inner, key: key)
                head = try Self.peek(inner, 6)
                inner = PrefixedSource(prefix: head, next: inner)
            }
            if head.count >= 4 && head[0] == 0x1F && head[1] == 0x8B {
                // FLG must be exactly FHCRC: then the header's CRC-16 covers MTIME, XFL and OS.
                guard head[2] == 8 && head[3] == 0x02 else {
                    throw BackupError.damaged("gzip header not as cairn-backup writes it (flags \(head[3]))")
                }
                compression = .gzip
                inner = try CompressionFrames.gzipSource(over: TrailerCheckingSource(next: inner, compression: .gzip))
            } else if head.count >= 5 && head.starts(with: CompressionFrames.lz4Magic) {
                guard head[4] & 0x04 != 0 else { throw BackupError.damaged("LZ4 frame without a content checksum") }
                compression = .lz4
                inner = try CompressionFrames.lz4Source(over: TrailerCheckingSource(next: inner, compression: .lz4))
            } else {
                throw BackupError.damaged("not a cairn-backup archive (neither gzip, LZ4 nor encrypted)")
            }
            tar = TarReader(source: inner)
        } catch {
            throw BackupError.from(error)
        }
    }

    /// Reads the first member, which must be MANIFEST.json.
    func manifest() throws -> BackupManifest {
        guard let entry = try next(), entry.path == BackupManifest.memberName, entry.kind == .file else {
            throw BackupError.damaged("the first member is not \(BackupManifest.memberName)")
        }
        guard entry.size <= Int64(BackupManifest.bytesMax) else {
            throw BackupError.damaged("\(BackupManifest.memberName) of \(entry.size) bytes")
        }
        var bytes = [UInt8](repeating: 0, count: Int(entry.size))
        let got = try bytes.withUnsafeMutableBytes { b in try wrap { try SourceReading.readFully(tar.body, into: b) } }
        guard got == bytes.count else { throw BackupError.damaged("truncated \(BackupManifest.memberName)") }
        return try BackupManifest.decode(bytes)
    }

    /// The next member; nil after the end marker, once the layers below ended cleanly too.
    func next() throws -> TarEntry? { try wrap { try tar.next() } }

    /// The current member's bytes.
    var body: ByteSource { tar.body }

    private func wrap<T>(_ body: () throws -> T) throws -> T {
        do { return try body() } catch { throw BackupError.from(error) }
    }

    private static func peek(_ source: ByteSource, _ count: Int) throws -> [UInt8] {
        var head = [UInt8](repeating: 0, count: count)
        let got = try head.withUnsafeMutableBytes { try SourceReading.readFully(source, into: $0) }
        return Array(head[0..<got])
    }
}

/// Member paths a restore may write: relative, no `.` or `..` or empty components.
enum ArchivePath {
    static let bytesMax = 4096
    static let componentBytesMax = 255

    static func isSafe(_ path: String) -> Bool {
        guard !path.isEmpty, path.utf8.count <= bytesMax, !path.hasPrefix("/"), !path.utf8.contains(0) else { return false }
        return path.split(separator: "/", omittingEmptySubsequences: false).allSatisfy {
            !$0.isEmpty && $0 != "." && $0 != ".." && $0.utf8.count <= componentBytesMax
        }
    }
}
