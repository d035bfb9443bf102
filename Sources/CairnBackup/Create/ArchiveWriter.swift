// Writes one archive (docs/format-backup.md): MANIFEST.json first, then the files; through gzip
// or LZ4, then optionally the encrypted layer, into a hidden temporary file in the output
// directory that becomes the archive only once complete and fsynced. Any failure, a full disk
// included, removes the temporary file: no partial archive is ever left under an archive's name.
//
// The files are read twice: once to hash them (and parse the RDB) for the manifest, which must
// come first, and once to archive them, hashed again so that what was archived is what the
// manifest describes.

import CairnStorage
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

struct ArchiveSettings {
    var compression: ArchiveCompression = .lz4
    /// gzip 1...9 (default 6), LZ4 0...12 (default 1).
    var level: Int?
    var key: BackupKey?
    /// Tests put a failing sink here (a full disk) between the layers and the file.
    var wrapFileSink: ((ByteSink) -> ByteSink)? = nil
}

struct WrittenArchive {
    var path: String
    var bytes: Int64
    var manifest: BackupManifest
}

enum ArchiveWriter {
    static let chunkBytes = 1 << 20

    static func write(_ set: SourceSet, outDir: String, settings: ArchiveSettings, progress: Progress) throws -> WrittenArchive {
        let created = UTCTime(unixSeconds: set.takenAtMs / 1000)
        let name = ArchiveName(time: created, compression: settings.compression, encrypted: settings.key != nil)
        let finalPath = outDir + "/" + name.fileName
        guard !Directory.exists(finalPath) else {
            throw BackupError(.io, "\(finalPath) already exists (one archive per second and directory)")
        }

        var files: [BackupManifest.File] = []
        var summary: BackupManifest.RDBSummary? = nil
        for file in set.files {
            progress.beginStep()
            let hashing = HashingSource(next: CountingSource(next: file.source()) { progress.update(stepDone: $0) })
            if file.role == .rdb { summary = try RDBSummaryReader.read(hashing, path: file.path) }
            let digest = try hashing.drainAndFinish()
            files.append(BackupManifest.File(path: file.path, role: file.role, size: file.size, sha256: digest,
                                             mode: file.mode, mtime: file.mtime))
        }
        let manifest = BackupManifest(cairnVersion: CairnVersion.current, createdAt: created.iso8601, createdAtMs: set.takenAtMs,
                                      nodeId: set.nodeId, source: set.source, files: files, rdb: summary)
        let manifestBytes = try manifest.encoded()

        let temporary = outDir + "/." + name.fileName + ".tmp-\(getpid())"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw BackupError.io("cannot create \(temporary)", errno: errno) }
        var open = true
        defer { if open { close(fd) } }
        do {
            let file = FileSink(fd: fd)
            var sink: ByteSink = settings.wrapFileSink?(file) ?? file
            if let key = settings.key { sink = EncryptingSink(next: sink, key: key) }
            sink = TrailerSink(next: sink, compression: settings.compression)
            switch settings.compression {
            case .gzip: sink = try CompressionFrames.gzipSink(over: sink, level: settings.level ?? 6, headerCRC: true)
            case .lz4: sink = try CompressionFrames.lz4Sink(over: sink, level: settings.level ?? 1)
            }
            let tar = TarWriter(sink: sink)
            try tar.begin(TarEntry(path: BackupManifest.memberName, size: Int64(manifestBytes.count), mode: 0o644,
                                   mtime: created.unixSeconds))
            try manifestBytes.withUnsafeBytes { try tar.write($0) }
            try tar.end()
            var directories = Set<String>()
            for (file, described) in zip(set.files, files) {
                let parent = Directory.parent(of: file.path)
                if parent != "." && directories.insert(parent).inserted {
                    try tar.begin(TarEntry(path: parent, kind: .directory, size: 0, mode: 0o755, mtime: file.mtime))
                    try tar.end()
                }
                progress.beginStep()
                try tar.begin(TarEntry(path: file.path, size: file.size, mode: file.mode, mtime: file.mtime))
                try copy(file, into: tar, expecting: described.sha256, progress: progress)
                try tar.end()
            }
            try tar.finish()
            guard fsync(fd) == 0 else { throw BackupError.io("cannot fsync \(temporary)", errno: errno) }
            open = false
            guard close(fd) == 0 else { throw BackupError.io("cannot close \(temporary)", errno: errno) }
            try publish(temporary, as: finalPath)
            try Directory.fsync(outDir)
            return WrittenArchive(path: finalPath, bytes: file.bytesWritten, manifest: manifest)
        } catch {
            unlink(temporary)
            throw BackupError.from(error)
        }
    }

    private static func copy(_ file: SourceFile, into tar: TarWriter, expecting digest: String, progress: Progress) throws {
        let hashing = HashingSource(next: file.source())
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: chunkBytes, alignment: 16)
        defer { buffer.deallocate() }
        var done: Int64 = 0
        while true {
            let n = try hashing.read(into: buffer)
            if n == 0 { break }
            try tar.write(UnsafeRawBufferPointer(rebasing: buffer[0..<n]))
            done += Int64(n)
            progress.update(stepDone: done)
        }
        guard try hashing.drainAndFinish() == digest else {
            throw BackupError(.io, "\(file.path) changed while it was being archived; try again")
        }
    }

    /// Gives the finished temporary file its archive name without replacing anything there.
    private static func publish(_ temporary: String, as path: String) throws {
        if link(temporary, path) == 0 {
            unlink(temporary)
            return
        }
        let code = errno
        if code == EEXIST {
            unlink(temporary)
            throw BackupError(.io, "\(path) already exists (one archive per second and directory)")
        }
        // File systems without hard links: rename, having checked the name is free.
        guard code == EPERM || code == ENOTSUP || code == EOPNOTSUPP, !Directory.exists(path), rename(temporary, path) == 0 else {
            let failure = code == EPERM || code == ENOTSUP || code == EOPNOTSUPP ? errno : code
            unlink(temporary)
            throw BackupError.io("cannot name the archive \(path)", errno: failure)
        }
    }
}
