// `cairn-backup list DIR`: the archives in a directory, oldest first, with what each manifest
// says (docs/tools-cairn-backup.md, "list"). Only MANIFEST.json is read, not the whole archive;
// an encrypted archive shows its keys only when its key is given.

import CairnTools
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

public struct ListOptions: Sendable {
    public var dir: String
    public var keyFile: String?
    public var json = false

    public init(dir: String) { self.dir = dir }
}

public struct ListedArchive: Codable, Sendable {
    public var name: String
    public var createdAt: String
    public var bytes: Int64
    /// Nil when the manifest could not be read (encrypted without its key, or damaged).
    public var keys: Int?
    public var encrypted: Bool
    public var compression: ArchiveCompression
    /// "ok", "locked" (encrypted, no or another key) or "damaged: <why>".
    public var status: String
}

public enum ListCommand {
    public static func main(_ options: ListOptions) -> Int32 {
        BackupRunner.main { _ = try run(options, output: $0) }
    }

    @discardableResult
    public static func run(_ options: ListOptions, output: ByteOutput) throws -> [ListedArchive] {
        let key = try options.keyFile.map { try BackupKey.load(path: $0) }
        let names = try Directory.list(options.dir).compactMap { n in ArchiveName.parse(n).map { (n, $0) } }
            .sorted { ($0.1.time, $0.0) < ($1.1.time, $1.0) }
        var listed: [ListedArchive] = []
        for (fileName, name) in names {
            var entry = ListedArchive(name: fileName, createdAt: name.time.iso8601, bytes: 0, keys: nil,
                                      encrypted: name.encrypted, compression: name.compression, status: "ok")
            do {
                let archive = try ArchiveFile(path: options.dir + "/" + fileName, key: key, showProgress: false)
                entry.bytes = archive.size
                let manifest = try archive.reader.manifest()
                entry.keys = manifest.keys
                entry.createdAt = manifest.createdAt
                entry.encrypted = archive.reader.encrypted
                entry.compression = archive.reader.compression
            } catch {
                let e = BackupError.from(error)
                entry.status = e.exit == .key ? "locked" : e.exit == .damaged ? e.message : "error: \(e.message)"
                if entry.bytes == 0 { entry.bytes = Self.size(options.dir + "/" + fileName) }
            }
            listed.append(entry)
        }
        if options.json {
            for entry in listed { try output.write(JSONOutput.line(entry)) }
        } else {
            let width = max(4, listed.map(\.name.count).max() ?? 0)
            try output.write(pad("NAME", width) + "  CREATED               " + pad("SIZE", 10, left: true) + "  " + pad("KEYS", 10, left: true) + "  ENCRYPTED  STATUS\n")
            for e in listed {
                try output.write(pad(e.name, width) + "  " + pad(e.createdAt, 20) + "  "
                    + pad(ProgressBar.byteCount(e.bytes), 10, left: true) + "  " + pad(e.keys.map(String.init) ?? "-", 10, left: true)
                    + "  " + pad(e.encrypted ? "yes" : "no", 9) + "  " + e.status + "\n")
            }
        }
        return listed
    }

    private static func pad(_ s: String, _ width: Int, left: Bool = false) -> String {
        let fill = String(repeating: " ", count: max(0, width - s.count))
        return left ? fill + s : s + fill
    }

    private static func size(_ path: String) -> Int64 {
        var st = stat()
        return stat(path, &st) == 0 ? Int64(st.st_size) : 0
    }
}
