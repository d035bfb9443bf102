// `cairn-backup create`: snapshot a node (BGSAVE over the network, or its data directory) into a
// new archive in --out (docs/tools-cairn-backup.md, "create").

import CairnStorage
import CairnTools
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

public struct CreateOptions: Sendable {
    public enum Source: Sendable {
        case node(NodeOptions)
        case dataDir(DataDirOptions)
    }
    public var source: Source
    public var outDir: String
    public var compression: ArchiveCompression = .lz4
    public var level: Int?
    /// Encrypts when set.
    public var keyFile: String?
    public var json = false
    public var progress = true

    public init(source: Source, outDir: String) {
        self.source = source
        self.outDir = outDir
    }
}

public struct CreateResult: Codable, Sendable {
    public var archive: String
    public var bytes: Int64
    public var createdAt: String
    public var keys: Int
    public var files: [String]
    public var compression: ArchiveCompression
    public var encrypted: Bool
}

public enum CreateCommand {
    public static func main(_ options: CreateOptions) -> Int32 {
        BackupRunner.main { _ = try run(options, output: $0) }
    }

    @discardableResult
    public static func run(_ options: CreateOptions, output: ByteOutput) throws -> CreateResult {
        try run(options, output: output, wrapFileSink: nil)
    }

    static func run(_ options: CreateOptions, output: ByteOutput, wrapFileSink: ((ByteSink) -> ByteSink)?) throws -> CreateResult {
        try checkLevel(options.level, options.compression)
        let key = try options.keyFile.map { try BackupKey.load(path: $0) }
        try prepareOutDir(options.outDir)
        let set: SourceSet
        switch options.source {
        case .node(let node): set = try NodeSnapshot.take(node)
        case .dataDir(let dir): set = try DataDirSnapshot.take(dir)
        }
        let total = set.files.reduce(Int64(0)) { $0 + $1.size } * 2
        let progress = Progress(total: total, allowed: options.progress && !options.json)
        defer { progress.finish() }
        let settings = ArchiveSettings(compression: options.compression, level: options.level, key: key, wrapFileSink: wrapFileSink)
        let written = try ArchiveWriter.write(set, outDir: options.outDir, settings: settings, progress: progress)
        progress.finish()
        let result = CreateResult(archive: written.path, bytes: written.bytes, createdAt: written.manifest.createdAt,
                                  keys: written.manifest.keys, files: written.manifest.files.map(\.path),
                                  compression: options.compression, encrypted: key != nil)
        if options.json {
            try output.write(JSONOutput.line(result))
        } else {
            try output.write("created \(result.archive): \(result.bytes) bytes, \(result.keys) key\(result.keys == 1 ? "" : "s"), "
                + "\(result.files.count) file\(result.files.count == 1 ? "" : "s") (\(result.files.joined(separator: ", ")))"
                + "\(result.encrypted ? ", encrypted" : "")\n")
        }
        return result
    }

    static func checkLevel(_ level: Int?, _ compression: ArchiveCompression) throws {
        guard let level else { return }
        switch compression {
        case .gzip: guard (1...9).contains(level) else { throw BackupError.usage("--level for gzip must be 1...9, got \(level)") }
        case .lz4: guard (0...12).contains(level) else { throw BackupError.usage("--level for lz4 must be 0...12, got \(level)") }
        }
    }

    /// The output directory, created (one level) when missing.
    static func prepareOutDir(_ path: String) throws {
        if Directory.isDirectory(path) { return }
        if Directory.exists(path) { throw BackupError(.io, "\(path) is not a directory") }
        guard mkdir(path, 0o700) == 0 else { throw BackupError.io("cannot create \(path)", errno: errno) }
    }
}
