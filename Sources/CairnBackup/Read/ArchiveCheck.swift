// Reads a whole archive and checks everything in it (docs/format-backup.md, "Verifying"): the
// manifest, each member against its size and SHA-256, the RDB by a full parse with its CRC-64 and
// against the manifest's summary, the tar structure, and the end of every layer. `verify` runs it
// alone; `restore` also writes each member out as it passes.

import CairnStorage

/// Where checked members go (restore); verify passes none.
protocol MemberOutput: AnyObject {
    func directory(_ path: String, mode: UInt32) throws
    /// The sink for a file's bytes, or nil to only check it.
    func beginFile(_ path: String, role: BackupManifest.Role, mode: UInt32, mtime: Int64) throws -> ByteSink?
    func endFile(_ path: String) throws
}

struct CheckedArchive {
    var manifest: BackupManifest
    var encrypted: Bool
    var compression: ArchiveCompression
    var members: Int
    var bytes: Int64
}

enum ArchiveCheck {
    static func run(_ reader: ArchiveReader, output: MemberOutput?) throws -> CheckedArchive {
        let manifest = try reader.manifest()
        var expected: [String: BackupManifest.File] = [:]
        for f in manifest.files {
            guard ArchivePath.isSafe(f.path) else { throw BackupError.damaged("\(BackupManifest.memberName) lists an unsafe path '\(f.path)'") }
            guard expected.updateValue(f, forKey: f.path) == nil else {
                throw BackupError.damaged("\(BackupManifest.memberName) lists \(f.path) twice")
            }
        }
        var seen = Set<String>()
        var members = 1
        var bytes: Int64 = 0
        while let entry = try reader.next() {
            members += 1
            guard ArchivePath.isSafe(entry.path) else { throw BackupError.damaged("unsafe member path '\(entry.path)'") }
            if entry.kind == .directory {
                try output?.directory(entry.path, mode: entry.mode)
                continue
            }
            guard let file = expected[entry.path] else {
                throw BackupError.damaged("member \(entry.path) is not listed in \(BackupManifest.memberName)")
            }
            guard seen.insert(entry.path).inserted else { throw BackupError.damaged("member \(entry.path) appears twice") }
            guard entry.size == file.size else {
                throw BackupError.damaged("\(entry.path) is \(entry.size) bytes in the tar stream, \(file.size) in \(BackupManifest.memberName)")
            }
            let sink = try output?.beginFile(entry.path, role: file.role, mode: entry.mode, mtime: entry.mtime).map(ErrorRecordingSink.init)
            var source: ByteSource = reader.body
            if let sink { source = TeeSource(next: source, copy: sink) }
            let hashing = HashingSource(next: source)
            var summary: BackupManifest.RDBSummary? = nil
            let digest: String
            do {
                if file.role == .rdb || (file.role == .aofBase && file.path.hasSuffix(".rdb")) {
                    summary = try RDBSummaryReader.read(hashing, path: file.path)
                }
                digest = try hashing.drainAndFinish()
            } catch {
                // A failed write (a full disk) is the failure, whatever the RDB reader made of it.
                throw sink?.failure ?? BackupError.from(error)
            }
            guard digest == file.sha256 else {
                throw BackupError.damaged("\(entry.path): SHA-256 \(digest) does not match \(BackupManifest.memberName)'s \(file.sha256)")
            }
            if file.role == .rdb, let summary, summary != manifest.rdb {
                throw BackupError.damaged("\(entry.path) does not hold what \(BackupManifest.memberName) says (\(summary.keys) keys read)")
            }
            if sink != nil { try output?.endFile(entry.path) }
            bytes += entry.size
        }
        let missing = manifest.files.map(\.path).filter { !seen.contains($0) }
        guard missing.isEmpty else {
            throw BackupError.damaged("member\(missing.count > 1 ? "s" : "") \(missing.joined(separator: ", ")) listed in \(BackupManifest.memberName) missing from the archive")
        }
        return CheckedArchive(manifest: manifest, encrypted: reader.encrypted, compression: reader.compression,
                              members: members, bytes: bytes)
    }
}

/// Remembers the first error of the sink it wraps.
final class ErrorRecordingSink: ByteSink {
    private let next: ByteSink
    private(set) var failure: (any Error)?

    init(_ next: ByteSink) { self.next = next }

    func consume(_ bytes: UnsafeRawBufferPointer) throws {
        do { try next.consume(bytes) } catch {
            failure = failure ?? error
            throw error
        }
    }

    func finish() throws { try next.finish() }
}
