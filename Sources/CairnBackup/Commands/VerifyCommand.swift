// `cairn-backup verify ARCHIVE`: read everything, check everything, write nothing
// (docs/tools-cairn-backup.md, "verify").

import CairnTools

public struct VerifyOptions: Sendable {
    public var archive: String
    public var keyFile: String?
    public var json = false
    public var progress = true

    public init(archive: String) { self.archive = archive }
}

public struct VerifyResult: Codable, Sendable {
    public var archive: String
    public var ok: Bool
    public var createdAt: String
    public var bytes: Int64
    public var files: [String]
    public var keys: Int
    public var keysPerDb: [String: Int]
    public var rdbVersion: Int?
    public var compression: ArchiveCompression
    public var encrypted: Bool
}

public enum VerifyCommand {
    public static func main(_ options: VerifyOptions) -> Int32 {
        BackupRunner.main { _ = try run(options, output: $0) }
    }

    @discardableResult
    public static func run(_ options: VerifyOptions, output: ByteOutput) throws -> VerifyResult {
        let key = try options.keyFile.map { try BackupKey.load(path: $0) }
        let archive = try ArchiveFile(path: options.archive, key: key, showProgress: options.progress && !options.json)
        defer { archive.progress.finish() }
        let checked = try ArchiveCheck.run(archive.reader, output: nil)
        archive.progress.finish()
        let m = checked.manifest
        let result = VerifyResult(archive: options.archive, ok: true, createdAt: m.createdAt, bytes: archive.size,
                                  files: m.files.map(\.path), keys: m.keys, keysPerDb: m.rdb?.keysPerDb ?? [:],
                                  rdbVersion: m.rdb?.version, compression: checked.compression, encrypted: checked.encrypted)
        if options.json {
            try output.write(JSONOutput.line(result))
        } else {
            let rdb = m.rdb.map { ", RDB version \($0.version) (\($0.compression))" } ?? ""
            try output.write("OK: \(options.archive): \(m.files.count) file\(m.files.count == 1 ? "" : "s"), \(m.keys) key\(m.keys == 1 ? "" : "s") in "
                + "\(m.rdb?.keysPerDb.count ?? 0) database\(m.rdb?.keysPerDb.count == 1 ? "" : "s")\(rdb), created \(m.createdAt), "
                + "\(checked.compression.rawValue)\(checked.encrypted ? ", encrypted" : "")\n")
        }
        return result
    }
}
