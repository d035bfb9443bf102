// Shared helpers: scratch directories, small data directories, archives in memory.

@testable import CairnBackup
import CairnRESP
import CairnStorage
import Foundation
import Testing

func b(_ s: String) -> [UInt8] { Array(s.utf8) }

/// A scratch directory, removed when the test ends.
final class Scratch {
    let path: String
    init() throws {
        path = NSTemporaryDirectory() + "cairn-backup-test-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }
    deinit { try? FileManager.default.removeItem(atPath: path) }
    func file(_ name: String) -> String { path + "/" + name }
    func names(_ sub: String = "") -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: sub.isEmpty ? path : path + "/" + sub)) ?? []).sorted()
    }
    func mkdir(_ name: String) throws -> String {
        try FileManager.default.createDirectory(atPath: file(name), withIntermediateDirectories: true)
        return file(name)
    }
}

func writeFile(_ path: String, _ bytes: [UInt8]) throws {
    try Data(bytes).write(to: URL(fileURLWithPath: path))
}

func readFile(_ path: String) throws -> [UInt8] {
    Array(try Data(contentsOf: URL(fileURLWithPath: path)))
}

/// Every file under `dir`, relative path -> bytes.
func tree(_ dir: String) throws -> [String: [UInt8]] {
    var out: [String: [UInt8]] = [:]
    guard let e = FileManager.default.enumerator(atPath: dir) else { return out }
    while let rel = e.nextObject() as? String {
        var isDir: ObjCBool = false
        if FileManager.default.fileExists(atPath: dir + "/" + rel, isDirectory: &isDir), !isDir.boolValue {
            out[rel] = try readFile(dir + "/" + rel)
        }
    }
    return out
}

enum SampleData {
    static let expiry: Int64 = 4_102_444_800_000  // 2100-01-01
    /// The sample AOF's annotations are `aofStart + 10`, `+ 20`, `+ 30`, `+ 40`: after its base
    /// RDB, whose ctime is when the test runs.
    static let aofStart = UTCTime.nowMillis() / 1000 + 1000
    static func ts(_ offset: Int64) -> String { String(aofStart + offset) }

    /// An RDB with `keys` strings in db 0, a list, a hash and a key in db 3.
    static func rdb(keys: Int = 50, compression: RDBCompression = .lz4) throws -> [UInt8] {
        let sink = MemorySink()
        var options = RDBSaveOptions()
        options.compression = compression
        let writer = try RDBWriter(sink: sink, options: options)
        try writer.writeHeader(aux: [])
        try writer.selectDB(0, keys: keys + 2, expires: 1)
        for i in 0..<keys {
            try writer.writeEntry(key: b("key:\(i)"), value: Value.string(fromStored: b("value-\(i)-" + String(repeating: "x", count: i % 40))),
                                  expireAt: i == 0 ? expiry : noExpiry)
        }
        try writer.writeEntry(key: b("list"), value: .list(QuickList((0..<300).map { b("item-\($0)") })), expireAt: noExpiry)
        try writer.writeEntry(key: [0, 0xff, 0x0a], value: Value.string(fromStored: [0, 1, 2, 0xff]), expireAt: noExpiry)
        try writer.selectDB(3, keys: 1, expires: 0)
        try writer.writeEntry(key: b("other"), value: Value.string(fromStored: b("db3")), expireAt: noExpiry)
        try writer.finish()
        return sink.bytes
    }

    static func command(_ args: String...) -> [UInt8] { CommandEncoder.encode(args.map(b)) }

    /// A data directory: dump.rdb, appendonlydir/ (manifest, base RDB, two increments), nodes.conf.
    static func dataDir(in scratch: Scratch, name: String = "data", keys: Int = 50) throws -> String {
        let dir = try scratch.mkdir(name)
        try writeFile(dir + "/dump.rdb", rdb(keys: keys))
        let aof = try scratch.mkdir(name + "/appendonlydir")
        try writeFile(aof + "/appendonly.aof.1.base.rdb", rdb(keys: 5, compression: .none))
        try writeFile(aof + "/appendonly.aof.1.incr.aof",
                      b("#TS:\(ts(10))\r\n") + command("SELECT", "0") + command("SET", "a", "1")
                      + b("#TS:\(ts(20))\r\n") + command("SET", "b", "2"))
        try writeFile(aof + "/appendonly.aof.2.incr.aof",
                      b("#TS:\(ts(30))\r\n") + command("MULTI") + command("SET", "c", "3") + command("EXEC")
                      + b("#TS:\(ts(40))\r\n") + command("SET", "d", "4"))
        try writeFile(aof + "/appendonly.aof.manifest", b("""
            file appendonly.aof.1.base.rdb seq 1 type b
            file appendonly.aof.1.incr.aof seq 1 type i
            file appendonly.aof.2.incr.aof seq 2 type i

            """))
        try writeFile(dir + "/nodes.conf", b("""
            e7d1eecce10fd6bb5eb35b9f99a514335d9ba9ca 127.0.0.1:30001@40001 myself,master - 0 0 1 connected 0-16383
            vars currentEpoch 1 lastVoteEpoch 0

            """))
        return dir
    }
}

/// An archive built member by member (to make damaged ones).
func craftArchive(manifest: BackupManifest?, members: [(String, [UInt8])], compression: ArchiveCompression = .lz4,
                  key: BackupKey? = nil) throws -> [UInt8] {
    let memory = MemorySink()
    var sink: ByteSink = memory
    if let key { sink = EncryptingSink(next: sink, key: key, chunkBytes: 4096) }
    sink = TrailerSink(next: sink, compression: compression)
    sink = compression == .gzip ? try CompressionFrames.gzipSink(over: sink, headerCRC: true) : try CompressionFrames.lz4Sink(over: sink)
    let tar = TarWriter(sink: sink)
    var all = members
    if let manifest { all.insert((BackupManifest.memberName, try manifest.encoded()), at: 0) }
    for (path, bytes) in all {
        try tar.begin(TarEntry(path: path, size: Int64(bytes.count)))
        try bytes.withUnsafeBytes { try tar.write($0) }
        try tar.end()
    }
    try tar.finish()
    return memory.bytes
}

/// Checks an archive held in memory, as verify does.
@discardableResult
func check(_ bytes: [UInt8], key: BackupKey? = nil) throws -> CheckedArchive {
    try ArchiveCheck.run(ArchiveReader(source: MemorySource(bytes), key: key), output: nil)
}

/// A manifest for `members` (path, bytes), with the RDB summary of the one named dump.rdb.
func manifestFor(_ members: [(String, [UInt8])]) throws -> BackupManifest {
    var files: [BackupManifest.File] = []
    var summary: BackupManifest.RDBSummary? = nil
    for (path, bytes) in members {
        let role: BackupManifest.Role = path == "dump.rdb" ? .rdb : .nodesConf
        let h = HashingSource(next: MemorySource(bytes))
        if role == .rdb { summary = try RDBSummaryReader.read(h, path: path) }
        files.append(BackupManifest.File(path: path, role: role, size: Int64(bytes.count), sha256: try h.drainAndFinish(), mode: 0o644, mtime: 0))
    }
    return BackupManifest(cairnVersion: CairnVersion.current, createdAt: "2026-01-01T00:00:00Z", createdAtMs: 1_767_225_600_000,
                          nodeId: nil, source: BackupManifest.Source(kind: "data-dir", dir: "/x"), files: files, rdb: summary)
}

func testKey(_ fill: UInt8 = 7) throws -> BackupKey { try BackupKey(bytes: [UInt8](repeating: fill, count: 32)) }

/// The exit status an error maps to.
func exitOf(_ body: () throws -> Void) -> BackupExit {
    do {
        try body()
        return .ok
    } catch {
        return BackupError.from(error).exit
    }
}
