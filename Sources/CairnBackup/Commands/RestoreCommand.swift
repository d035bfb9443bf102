// `cairn-backup restore ARCHIVE --to DIR`: check and unpack an archive into a data directory
// that a node can be started on, atomically; with --to-time, cut the AOF at a point in time
// (docs/tools-cairn-backup.md, "restore").

import CairnStorage
import CairnTools
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

public struct RestoreOptions: Sendable {
    public var archive: String
    public var target: String
    public var force = false
    /// Unix seconds.
    public var toTime: Int64?
    public var keyFile: String?
    public var json = false
    public var progress = true

    public init(archive: String, target: String) {
        self.archive = archive
        self.target = target
    }
}

public struct RestoreResult: Codable, Sendable {
    public var archive: String
    public var target: String
    public var files: [String]
    public var keys: Int
    public var createdAt: String
    public var pointInTime: PointInTimeResult?
}

public enum RestoreCommand {
    public static func main(_ options: RestoreOptions) -> Int32 {
        BackupRunner.main { _ = try run(options, output: $0) }
    }

    @discardableResult
    public static func run(_ options: RestoreOptions, output: ByteOutput) throws -> RestoreResult {
        try run(options, output: output, wrapFileSink: nil)
    }

    /// The time `--to-time` takes: Unix seconds or `YYYY-MM-DDTHH:MM[:SS]Z`.
    public static func parseTime(_ text: String) throws -> Int64 {
        if let v = Int64(text), v >= 0 { return v }
        if let t = UTCTime.parseISO(text) { return t.unixSeconds }
        throw BackupError.usage("--to-time must be Unix seconds or YYYY-MM-DDTHH:MM:SSZ, got '\(text)'")
    }

    static func run(_ options: RestoreOptions, output: ByteOutput, wrapFileSink: ((ByteSink) -> ByteSink)?) throws -> RestoreResult {
        var options = options
        // "dir/" names the same directory as "dir"; the staging directory goes beside it, not in it.
        while options.target.count > 1 && options.target.hasSuffix("/") { options.target.removeLast() }
        guard !options.target.isEmpty, options.target != "/", options.target != ".", options.target != ".." else {
            throw BackupError.usage("--to must name a directory to create or fill, not '\(options.target)'")
        }
        let key = try options.keyFile.map { try BackupKey.load(path: $0) }
        var mode: mode_t = 0o755
        if Directory.exists(options.target) {
            guard Directory.isDirectory(options.target) else { throw BackupError(.io, "\(options.target) exists and is not a directory") }
            if try !options.force && !Directory.list(options.target).isEmpty {
                throw BackupError(.targetNotEmpty, "\(options.target) is not empty: restore into an empty or new directory, or add --force to replace it")
            }
            var st = stat()
            if stat(options.target, &st) == 0 { mode = st.st_mode & 0o7777 }
        } else {
            let mask = umask(0)
            umask(mask)
            mode = 0o755 & ~mask
        }
        let archive = try ArchiveFile(path: options.archive, key: key, showProgress: options.progress && !options.json)
        defer { archive.progress.finish() }
        let staging = try StagingDirectory(target: options.target)
        staging.wrapFileSink = wrapFileSink
        // The AOF is the point-in-time state; an RDB beside it would hold later data.
        if options.toTime != nil { staging.skippedRoles = [.rdb] }
        let result: RestoreResult
        do {
            let checked = try ArchiveCheck.run(archive.reader, output: staging)
            archive.progress.finish()
            var pit: PointInTimeResult? = nil
            if let ts = options.toTime { pit = try PointInTime.apply(dataDir: staging.path, manifest: checked.manifest, at: ts) }
            try staging.commit(mode: mode)
            result = RestoreResult(archive: options.archive, target: options.target, files: staging.written,
                                   keys: checked.manifest.keys, createdAt: checked.manifest.createdAt, pointInTime: pit)
        } catch {
            staging.discard()
            throw BackupError.from(error)
        }
        if options.json {
            try output.write(JSONOutput.line(result))
        } else {
            try output.write("restored \(options.archive) (created \(result.createdAt), \(result.keys) keys) into \(options.target): "
                + "\(result.files.joined(separator: ", "))\n")
            if let pit = result.pointInTime {
                let when = "\(pit.toTime) (\(UTCTime(unixSeconds: pit.toTime).iso8601))"
                if let file = pit.cutFile, let offset = pit.cutOffset, let ts = pit.cutTimestamp {
                    try output.write("point in time \(when): \(file) cut at offset \(offset), before #TS:\(ts)"
                        + (pit.droppedFiles.isEmpty ? "" : "; dropped \(pit.droppedFiles.joined(separator: ", "))") + "\n")
                } else {
                    try output.write("point in time \(when): nothing in the AOF is later (last #TS:\(pit.lastTimestamp ?? 0)); kept whole\n")
                }
                try output.write("start the node with appendonly yes: the RDB was not restored, the AOF holds the state\n")
            }
        }
        return result
    }
}
