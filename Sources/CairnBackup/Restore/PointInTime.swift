// `restore --to-time TS` (docs/format-backup.md, "Point-in-time restore"): after the files are
// restored, the AOF is cut at the first `#TS:` annotation later than TS — in the increment where
// it is found, whose later increments are then dropped from the manifest — so that a node
// started on the directory with appendonly yes replays exactly what was written up to TS.

import CairnStorage
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

public struct PointInTimeResult: Codable, Sendable {
    public var toTime: Int64
    /// The increment cut, relative to the data directory; nil when nothing was later than TS.
    public var cutFile: String?
    public var cutOffset: Int64?
    public var cutTimestamp: Int64?
    public var droppedFiles: [String]
    public var firstTimestamp: Int64?
    public var lastTimestamp: Int64?
}

enum PointInTime {
    static func apply(dataDir: String, manifest: BackupManifest, at ts: Int64) throws -> PointInTimeResult {
        guard let manifestFile = manifest.files.first(where: { $0.role == .aofManifest }) else {
            throw BackupError.usage("--to-time needs an AOF in the archive; this one holds none (create it with --data-dir from a node with appendonly yes)")
        }
        let aofRelative = Directory.parent(of: manifestFile.path)
        let aofDir = dataDir + "/" + aofRelative
        let manifestName = Directory.baseName(of: manifestFile.path)
        let prefix = String(manifestName.dropLast(".manifest".count))
        guard var aof = try AOFManifest.load(directory: aofDir, prefix: prefix) else {
            throw BackupError(.io, "\(manifestFile.path) missing after restore")
        }
        if let base = aof.base, let start = try baseTime(aofDir + "/" + base.name), ts < start {
            throw BackupError.usage("--to-time \(ts) (\(UTCTime(unixSeconds: ts).iso8601)) is before the archive's AOF base, written at \(start) (\(UTCTime(unixSeconds: start).iso8601))")
        }
        var result = PointInTimeResult(toTime: ts, droppedFiles: [])
        for (i, incr) in aof.increments.enumerated() {
            let path = aofDir + "/" + incr.name
            let fd = open(path, O_RDWR | O_CLOEXEC)
            guard fd >= 0 else { throw BackupError.io("cannot open \(path)", errno: errno) }
            defer { close(fd) }
            let scan = try AOFTimestampScan(fd: fd, name: aofRelative + "/" + incr.name, after: ts)
            if result.firstTimestamp == nil { result.firstTimestamp = scan.firstTimestamp }
            if let last = scan.lastTimestamp { result.lastTimestamp = last }
            guard let cut = scan.cutOffset else { continue }
            guard ftruncate(fd, off_t(cut)) == 0, fsync(fd) == 0 else { throw BackupError.io("cannot truncate \(path)", errno: errno) }
            result.cutFile = aofRelative + "/" + incr.name
            result.cutOffset = cut
            result.cutTimestamp = scan.cutTimestamp
            let dropped = aof.increments[(i + 1)...]
            if !dropped.isEmpty {
                aof.increments.removeLast(dropped.count)
                try aof.write(directory: aofDir, prefix: prefix)
                for d in dropped {
                    unlink(aofDir + "/" + d.name)
                    result.droppedFiles.append(aofRelative + "/" + d.name)
                }
                try Directory.fsync(aofDir)
            }
            break
        }
        guard result.firstTimestamp != nil else {
            throw BackupError.usage("--to-time: the archive's AOF has no #TS: annotations (the node ran without aof-timestamp-enabled yes)")
        }
        return result
    }

    /// When the base was written: its RDB's ctime, or a .aof base's first annotation.
    private static func baseTime(_ path: String) throws -> Int64? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw BackupError.io("cannot open \(path)", errno: errno) }
        defer { close(fd) }
        if path.hasSuffix(".rdb") {
            let reader = try RDBReader(fd: fd)
            while let record = try reader.next() {
                switch record {
                case .aux(let key, let value):
                    if key == Array("ctime".utf8) { return Int64(String(decoding: value, as: UTF8.self)) }
                case .entry: return nil
                default: continue
                }
            }
            return nil
        }
        return try AOFTimestampScan(fd: fd, name: path, after: Int64.max).firstTimestamp
    }
}
