// Whole archives: create from a data directory, verify, restore, in each compression with and
// without encryption; and every kind of bad input the issue lists — truncated, a flipped byte
// anywhere, wrong key, missing member, full disk — each a clear error with the target untouched
// and no partial archive left.

@testable import CairnBackup
import CairnStorage
import CairnTools
import Testing

/// A sink that fails like a full disk once `limit` bytes went through.
final class FullDiskSink: ByteSink {
    let next: ByteSink
    var left: Int
    init(next: ByteSink, limit: Int) {
        self.next = next
        left = limit
    }
    func consume(_ bytes: UnsafeRawBufferPointer) throws {
        guard bytes.count <= left else { throw BackupError(.io, "write failed: No space left on device") }
        left -= bytes.count
        try next.consume(bytes)
    }
    func finish() throws { try next.finish() }
}

@Suite struct ArchiveTests {
    func create(_ data: String, out: String, compression: ArchiveCompression = .lz4, keyFile: String? = nil,
                wrap: ((ByteSink) -> ByteSink)? = nil) throws -> CreateResult {
        var options = CreateOptions(source: .dataDir(DataDirOptions(dir: data)), outDir: out)
        options.compression = compression
        options.keyFile = keyFile
        options.progress = false
        return try CreateCommand.run(options, output: ByteOutput(), wrapFileSink: wrap)
    }

    func restore(_ archive: String, to target: String, keyFile: String? = nil, force: Bool = false, toTime: Int64? = nil,
                 wrap: ((ByteSink) -> ByteSink)? = nil) throws -> RestoreResult {
        var options = RestoreOptions(archive: archive, target: target)
        options.keyFile = keyFile
        options.force = force
        options.toTime = toTime
        options.progress = false
        return try RestoreCommand.run(options, output: ByteOutput(), wrapFileSink: wrap)
    }

    func verify(_ archive: String, keyFile: String? = nil) throws -> VerifyResult {
        var options = VerifyOptions(archive: archive)
        options.keyFile = keyFile
        options.progress = false
        return try VerifyCommand.run(options, output: ByteOutput())
    }

    func keyFile(_ scratch: Scratch, _ fill: UInt8 = 7) throws -> String {
        let path = scratch.file("key-\(fill)")
        try writeFile(path, [UInt8](repeating: fill, count: 32))
        return path
    }

    @Test(arguments: [(ArchiveCompression.gzip, false), (.gzip, true), (.lz4, false), (.lz4, true)])
    func createVerifyRestoreGivesBackEveryFile(compression: ArchiveCompression, encrypted: Bool) throws {
        let scratch = try Scratch()
        let data = try SampleData.dataDir(in: scratch)
        let key = encrypted ? try keyFile(scratch) : nil
        let out = scratch.file("out")
        let created = try create(data, out: out, compression: compression, keyFile: key)
        let name = try #require(ArchiveName.parse(Directory.baseName(of: created.archive)))
        #expect(name.compression == compression && name.encrypted == encrypted)
        #expect(scratch.names("out") == [Directory.baseName(of: created.archive)])  // no temporary file left
        #expect(created.keys == 53)
        #expect(created.files == ["dump.rdb", "appendonlydir/appendonly.aof.manifest", "appendonlydir/appendonly.aof.1.base.rdb",
                                  "appendonlydir/appendonly.aof.1.incr.aof", "appendonlydir/appendonly.aof.2.incr.aof", "nodes.conf"])

        let verified = try verify(created.archive, keyFile: key)
        #expect(verified.keys == 53)
        #expect(verified.keysPerDb == ["0": 52, "3": 1])
        #expect(verified.encrypted == encrypted)

        let target = scratch.file("restored")
        let restored = try restore(created.archive, to: target, keyFile: key)
        #expect(restored.files.count == 6)
        #expect(try tree(target) == tree(data))
        #expect(!scratch.names().contains { $0.hasPrefix(".restored") })
    }

    @Test func manifestDescribesTheSource() throws {
        let scratch = try Scratch()
        let data = try SampleData.dataDir(in: scratch)
        let created = try create(data, out: scratch.file("out"))
        let archive = try ArchiveFile(path: created.archive, key: nil, showProgress: false)
        let m = try archive.reader.manifest()
        #expect(m.formatVersion == 1 && m.format == "cairn-backup")
        #expect(m.nodeId == "e7d1eecce10fd6bb5eb35b9f99a514335d9ba9ca")
        #expect(m.source.kind == "data-dir" && m.source.dir == data)
        #expect(m.rdb?.version == RDBFormat.writtenVersion && m.rdb?.compression == "lz4" && m.rdb?.expires == 1)
        #expect(m.files.first { $0.path == "dump.rdb" }?.sha256.count == 64)
        #expect(m.files.map(\.role) == [.rdb, .aofManifest, .aofBase, .aofIncr, .aofIncr, .nodesConf])
        #expect(UTCTime.parseISO(m.createdAt)?.unixSeconds == m.createdAtMs / 1000)
    }

    @Test(arguments: [(ArchiveCompression.gzip, false), (.lz4, false), (.lz4, true)])
    func everyFlippedByteIsAnErrorAndRestoreLeavesTheTargetAlone(compression: ArchiveCompression, encrypted: Bool) throws {
        let scratch = try Scratch()
        let data = try SampleData.dataDir(in: scratch, keys: 5)
        let key = encrypted ? try keyFile(scratch) : nil
        let created = try create(data, out: scratch.file("out"), compression: compression, keyFile: key)
        let good = try readFile(created.archive)
        let loaded = try key.map { try BackupKey.load(path: $0) }
        // Every byte of a small archive (a few KiB), in memory: each must make the check fail.
        for i in 0..<good.count {
            var bad = good
            bad[i] ^= 0x01
            #expect(exitOf { try check(bad, key: loaded) } != .ok, "byte \(i) of \(good.count)")
        }
        // Sampled through the command: restore refuses, the target keeps what it had.
        let target = try scratch.mkdir("target")
        try writeFile(target + "/keep.txt", b("mine"))
        for i in stride(from: 0, to: good.count, by: max(1, good.count / 12)) {
            var bad = good
            bad[i] ^= 0x80
            try writeFile(scratch.file("bad"), bad)
            #expect(exitOf { _ = try restore(scratch.file("bad"), to: target, keyFile: key, force: true) } != .ok)
            #expect(try tree(target) == ["keep.txt": b("mine")])
            #expect(scratch.names().allSatisfy { !$0.hasPrefix(".target") })
        }
    }

    @Test func truncatedArchiveIsDamaged() throws {
        let scratch = try Scratch()
        let data = try SampleData.dataDir(in: scratch, keys: 2000)
        for (compression, encrypted) in [(ArchiveCompression.gzip, false), (.lz4, false), (.lz4, true)] {
            let key = encrypted ? try keyFile(scratch) : nil
            let out = scratch.file("out-\(compression)-\(encrypted)")
            let created = try create(data, out: out, compression: compression, keyFile: key)
            let good = try readFile(created.archive)
            let loaded = try key.map { try BackupKey.load(path: $0) }
            for cut in [0, 1, 10, good.count / 3, good.count / 2, good.count - 100, good.count - 1] {
                #expect(exitOf { try check(Array(good.prefix(cut)), key: loaded) } == .damaged, "\(compression) cut at \(cut)")
            }
            try writeFile(out + "/cut", Array(good.prefix(good.count / 2)))
            #expect(exitOf { _ = try verify(out + "/cut", keyFile: key) } == .damaged)
            #expect(exitOf { _ = try restore(out + "/cut", to: scratch.file("never"), keyFile: key) } == .damaged)
            #expect(!Directory.exists(scratch.file("never")))
        }
    }

    @Test func wrongOrMissingKey() throws {
        let scratch = try Scratch()
        let data = try SampleData.dataDir(in: scratch, keys: 3)
        let created = try create(data, out: scratch.file("out"), keyFile: try keyFile(scratch, 1))
        #expect(exitOf { _ = try verify(created.archive, keyFile: try keyFile(scratch, 2)) } == .key)
        #expect(exitOf { _ = try verify(created.archive) } == .key)
        #expect(exitOf { _ = try restore(created.archive, to: scratch.file("t"), keyFile: try keyFile(scratch, 2)) } == .key)
        #expect(!Directory.exists(scratch.file("t")))
        // list shows it as locked without the key, with its keys with it.
        var options = ListOptions(dir: scratch.file("out"))
        #expect(try ListCommand.run(options, output: ByteOutput()).map(\.status) == ["locked"])
        options.keyFile = try keyFile(scratch, 1)
        let listed = try ListCommand.run(options, output: ByteOutput())
        #expect(listed.map(\.status) == ["ok"] && listed.first?.keys == 6 && listed.first?.encrypted == true)
    }

    @Test func missingExtraOrChangedMembersAreDamage() throws {
        let rdb = try SampleData.rdb(keys: 3)
        let conf = b("nodes")
        let manifest = try manifestFor([("dump.rdb", rdb), ("nodes.conf", conf)])
        try check(craftArchive(manifest: manifest, members: [("dump.rdb", rdb), ("nodes.conf", conf)]))
        let cases: [(String, [(String, [UInt8])], BackupManifest?)] = [
            ("missing member", [("dump.rdb", rdb)], manifest),
            ("extra member", [("dump.rdb", rdb), ("nodes.conf", conf), ("evil", [1])], manifest),
            ("changed member", [("dump.rdb", rdb), ("nodes.conf", b("nodez"))], manifest),
            ("no manifest", [("dump.rdb", rdb), ("nodes.conf", conf)], nil),
            ("duplicate", [("dump.rdb", rdb), ("dump.rdb", rdb), ("nodes.conf", conf)], manifest),
            ("unsafe path", [("../dump.rdb", rdb)], try manifestFor([("../dump.rdb", rdb)])),
        ]
        for (label, members, m) in cases {
            do {
                try check(craftArchive(manifest: m, members: members))
                Issue.record("\(label): accepted")
            } catch let e as BackupError {
                #expect(e.exit == .damaged, "\(label)")
                if label == "missing member" { #expect(e.message.contains("nodes.conf") && e.message.contains("missing")) }
            }
        }
        // An RDB whose content differs from the manifest's summary.
        var lying = manifest
        lying.rdb?.keys += 1
        #expect(exitOf { try check(craftArchive(manifest: lying, members: [("dump.rdb", rdb), ("nodes.conf", conf)])) } == .damaged)
        // A newer format version is unsupported, not damaged.
        var newer = manifest
        newer.formatVersion = 99
        #expect(exitOf { try check(craftArchive(manifest: newer, members: [("dump.rdb", rdb), ("nodes.conf", conf)])) } == .unsupported)
    }

    @Test func fullDiskOnCreateLeavesNoArchive() throws {
        let scratch = try Scratch()
        let data = try SampleData.dataDir(in: scratch, keys: 2000)
        let out = try scratch.mkdir("out")
        for limit in [0, 100, 5000] {
            #expect(exitOf { _ = try create(data, out: out, wrap: { FullDiskSink(next: $0, limit: limit) }) } == .io)
            #expect(scratch.names("out").isEmpty)
        }
    }

    @Test func fullDiskOnRestoreLeavesTheTargetUntouched() throws {
        let scratch = try Scratch()
        let data = try SampleData.dataDir(in: scratch, keys: 2000)
        let created = try create(data, out: scratch.file("out"))
        let target = try scratch.mkdir("target")
        try writeFile(target + "/old", b("old"))
        for limit in [0, 10, 20_000] {
            #expect(exitOf { _ = try restore(created.archive, to: target, force: true, wrap: { FullDiskSink(next: $0, limit: limit) }) } == .io)
            #expect(try tree(target) == ["old": b("old")])
            #expect(scratch.names() == ["data", "out", "target"])
        }
    }

    @Test func restoreRefusesANonEmptyTargetWithoutForce() throws {
        let scratch = try Scratch()
        let data = try SampleData.dataDir(in: scratch, keys: 3)
        let created = try create(data, out: scratch.file("out"))
        let target = try scratch.mkdir("target")
        try writeFile(target + "/old", b("old"))
        #expect(exitOf { _ = try restore(created.archive, to: target) } == .targetNotEmpty)
        #expect(try tree(target) == ["old": b("old")])
        _ = try restore(created.archive, to: target, force: true)
        #expect(try tree(target) == tree(data))
        // An empty existing directory needs no --force.
        let empty = try scratch.mkdir("empty")
        _ = try restore(created.archive, to: empty)
        #expect(try tree(empty) == tree(data))
    }

    @Test func targetWithATrailingSlash() throws {
        let scratch = try Scratch()
        let data = try SampleData.dataDir(in: scratch, keys: 3)
        let created = try create(data, out: scratch.file("out"))
        _ = try restore(created.archive, to: scratch.file("new") + "/")
        #expect(try tree(scratch.file("new")) == tree(data))
        #expect(scratch.names() == ["data", "new", "out"])
    }

    @Test func createRefusesAnEmptyDirectory() throws {
        let scratch = try Scratch()
        let empty = try scratch.mkdir("empty")
        #expect(exitOf { _ = try create(empty, out: scratch.file("out")) } == .io)
        #expect(exitOf { _ = try create(scratch.file("none"), out: scratch.file("out")) } == .io)
    }

    @Test func dataDirWithOnlyAnRDB() throws {
        let scratch = try Scratch()
        let data = try scratch.mkdir("data")
        try writeFile(data + "/dump.rdb", SampleData.rdb(keys: 10, compression: .zlib))
        let created = try create(data, out: scratch.file("out"), compression: .gzip)
        #expect(created.files == ["dump.rdb"])
        #expect(try verify(created.archive).keys == 13)
    }
}
