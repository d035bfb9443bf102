// `create --data-dir DIR`: the files of a node's data directory, consistent even while the node
// runs (docs/tools-cairn-backup.md, "create"): the RDB (replaced only by rename, so one open
// descriptor is one snapshot), exactly the files one AOF manifest generation names (read the
// manifest, open every file it names, read it again; retry if an AOF rewrite swapped it
// meanwhile), and nodes.conf.

import CairnStorage
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

public struct DataDirOptions: Sendable {
    public var dir: String
    public var dbfilename = "dump.rdb"
    public var appenddirname = "appendonlydir"
    public var clusterConfigFile = "nodes.conf"

    public init(dir: String) { self.dir = dir }
}

enum DataDirSnapshot {
    /// Rewrites in a row before giving up: each retry means a rewrite finished between two reads.
    static let attemptsMax = 20

    static func take(_ options: DataDirOptions) throws -> SourceSet {
        var st = stat()
        guard stat(options.dir, &st) == 0 else { throw BackupError.io("cannot open the data directory \(options.dir)", errno: errno) }
        guard (st.st_mode & S_IFMT) == S_IFDIR else { throw BackupError(.io, "\(options.dir) is not a directory") }
        for _ in 0..<attemptsMax {
            if let files = try attempt(options) {
                guard files.contains(where: { $0.role == .rdb || $0.role == .aofManifest }) else {
                    throw BackupError(.io, "\(options.dir) holds neither \(options.dbfilename) nor an AOF manifest in \(options.appenddirname)/")
                }
                let conf = files.first { $0.role == .nodesConf }
                var id: String? = nil
                if let conf, case .bytes(let b) = conf.content { id = nodeId(inNodesConf: b) }
                let source = BackupManifest.Source(kind: "data-dir", address: nil, dir: options.dir,
                                                   dbfilename: options.dbfilename, appenddirname: options.appenddirname)
                return SourceSet(files: files, source: source, nodeId: id, takenAtMs: UTCTime.nowMillis())
            }
        }
        throw BackupError(.io, "the AOF manifest in \(options.dir)/\(options.appenddirname) changed \(attemptsMax) times while its files were opened")
    }

    /// One try; nil when the manifest changed under it.
    private static func attempt(_ options: DataDirOptions) throws -> [SourceFile]? {
        var files: [SourceFile] = []
        if let rdb = try SourceFile.open(options.dir + "/" + options.dbfilename, as: options.dbfilename, role: .rdb) {
            files.append(rdb)
        }
        let aofDir = options.dir + "/" + options.appenddirname
        if let manifestName = try findManifest(in: aofDir) {
            let relative = options.appenddirname + "/" + manifestName
            guard let before = try SourceFile.read(aofDir + "/" + manifestName, as: relative, role: .aofManifest),
                  case .bytes(let bytes) = before.content else { return nil }
            let manifest = try AOFManifest.parse(bytes, name: relative)
            var aofFiles: [SourceFile] = [before]
            let listed: [(AOFManifest.Entry, BackupManifest.Role)] = (manifest.base.map { [($0, .aofBase)] } ?? [])
                + manifest.history.map { ($0, .aofHistory) } + manifest.increments.map { ($0, .aofIncr) }
            for (entry, role) in listed {
                guard isPlainName(entry.name) else {
                    throw BackupError(.io, "\(relative) names '\(entry.name)', which is not a plain file name")
                }
                let file = try SourceFile.open(aofDir + "/" + entry.name, as: options.appenddirname + "/" + entry.name, role: role)
                if let file {
                    aofFiles.append(file)
                } else if role != .aofHistory {
                    return nil  // deleted by a rewrite that finished meanwhile
                }
            }
            guard let after = try SourceFile.read(aofDir + "/" + manifestName, as: relative, role: .aofManifest),
                  case .bytes(let again) = after.content, again == bytes else { return nil }
            files += aofFiles
        }
        if let conf = try SourceFile.read(options.dir + "/" + options.clusterConfigFile, as: options.clusterConfigFile, role: .nodesConf) {
            files.append(conf)
        }
        return files
    }

    /// The one `*.manifest` file in the AOF directory; nil without the directory or a manifest.
    static func findManifest(in dir: String) throws -> String? {
        let names: [String]
        do { names = try Directory.list(dir) } catch let e as BackupError where e.exit == .io {
            var st = stat()
            if stat(dir, &st) != 0 && errno == ENOENT { return nil }
            throw e
        }
        let manifests = names.filter { $0.hasSuffix(".manifest") }.sorted()
        guard manifests.count <= 1 else {
            throw BackupError(.io, "\(dir) holds several AOF manifests (\(manifests.joined(separator: ", ")))")
        }
        return manifests.first
    }

    static func isPlainName(_ name: String) -> Bool {
        !name.isEmpty && name != "." && name != ".." && !name.contains("/") && !name.utf8.contains(0)
    }
}
