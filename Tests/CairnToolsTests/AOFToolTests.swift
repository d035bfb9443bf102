// cairn-aof's subcommands on directories built here with AOFBase and CommandEncoder.

import CairnRESP
@testable import CairnTools
import CairnStorage
import Foundation
import Logging
import Testing

@Suite struct AOFToolTests {
    static let prefix = "appendonly.aof"

    static func resp(_ words: [String]) -> [UInt8] {
        var out: [UInt8] = []
        CommandEncoder.append(words.map { Array($0.utf8) }, to: &out)
        return out
    }

    /// A directory with an RDB base holding `SampleFile.keys` and two increments.
    static func makeDirectory(_ scratch: ScratchDirectory, lastIncrement: [UInt8]? = nil) throws -> String {
        let engine = Engine()
        for k in SampleFile.keys { engine.databases[k.db].insert(k.key, k.value, expireAt: k.expireAt) }
        let baseName = AOFManifest.baseName(prefix, seq: 1, rdbPreamble: true)
        let fd = open(scratch.file(baseName), O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        var options = RDBSaveOptions()
        options.compression = .lz4
        try AOFBase.write(engine, to: fd, rdbPreamble: true, rdb: options)
        close(fd)
        let first = Array("#TS:100\r\n".utf8) + resp(["SELECT", "0"]) + resp(["SET", "a", "1"]) + resp(["RPUSH", "list", "new"])
        let second = lastIncrement ?? (Array("#TS:200\r\n".utf8) + resp(["SELECT", "2"]) + resp(["INCR", "n"])
            + resp(["MULTI"]) + resp(["SET", "t", "1"]) + resp(["EXEC"]) + Array("#TS:300\r\n".utf8) + resp(["DEL", "other"]))
        try Data(first).write(to: URL(fileURLWithPath: scratch.file("appendonly.aof.1.incr.aof")))
        try Data(second).write(to: URL(fileURLWithPath: scratch.file("appendonly.aof.2.incr.aof")))
        let manifest = AOFManifest(base: .init(name: baseName, seq: 1, type: .base), increments: [
            .init(name: "appendonly.aof.1.incr.aof", seq: 1, type: .incr),
            .init(name: "appendonly.aof.2.incr.aof", seq: 2, type: .incr),
        ])
        try manifest.write(directory: scratch.path, prefix: prefix)
        return scratch.path
    }

    static func bytes(_ path: String) -> [UInt8] { (try? Array(Data(contentsOf: URL(fileURLWithPath: path)))) ?? [] }

    static func check(_ path: String) -> (status: ToolExit, text: String) {
        let out = ByteOutput()
        do {
            try AOFCheckCommand.run(AOFCheckOptions(path: path), output: out)
            return (.ok, out.text)
        } catch {
            return (ToolExit.forError(error), out.text)
        }
    }

    static func load(_ dir: String) throws -> Engine {
        let engine = Engine()
        _ = try AOFLoader.load(directory: dir, prefix: prefix, into: engine, options: AOFLoadOptions(), logger: Logger(label: "t"))
        return engine
    }

    @Test func checkAcceptsAGoodDirectoryGivenEachWay() throws {
        let scratch = try ScratchDirectory()
        let dir = try Self.makeDirectory(scratch)
        for path in [dir, dir + "/" + AOFManifest.manifestName(Self.prefix)] {
            let (status, text) = Self.check(path)
            #expect(status == .ok, "\(text)")
            #expect(text.contains("RDB with \(SampleFile.keys.count) keys"))
            #expect(text.hasSuffix("AOF ok: 3 files, \(SampleFile.keys.count) keys in RDB, 9 commands\n"), "\(text)")
        }
    }

    @Test func checkFindsATornTailAndFixCutsItAfterABackup() throws {
        let scratch = try ScratchDirectory()
        let good = Self.resp(["SELECT", "0"]) + Self.resp(["SET", "b", "2"])
        let torn = good + Self.resp(["SET", "c", "3"]).dropLast(4)
        let dir = try Self.makeDirectory(scratch, lastIncrement: torn)
        let (status, text) = Self.check(dir)
        #expect(status == .damaged)
        #expect(text.contains("ok up to offset \(good.count) of \(torn.count)"), "\(text)")
        #expect(text.contains("torn tail"))

        let out = ByteOutput()
        try AOFCheckCommand.fix(AOFCheckOptions(path: dir), output: out)
        #expect(Self.bytes(scratch.file("appendonly.aof.2.incr.aof")) == good)
        let backups = scratch.names.filter { $0.hasPrefix("appendonly.aof.2.incr.aof.bak-") }
        #expect(backups.count == 1)
        #expect(backups.first.map { Self.bytes(scratch.file($0)) } == torn)
        #expect(Self.check(dir).status == .ok)
        let engine = try Self.load(dir)
        #expect(engine.databases[0].lookup(Array("b".utf8)) != nil)
    }

    @Test func fixRefusesDamageInTheMiddle() throws {
        let scratch = try ScratchDirectory()
        let damaged = Self.resp(["SELECT", "0"]) + Array("*1\r\n$4\r\nPING\r\n?garbage\r\n".utf8) + Self.resp(["SET", "b", "2"])
        let dir = try Self.makeDirectory(scratch, lastIncrement: damaged)
        let before = scratch.names
        #expect(throws: ToolError.self) { try AOFCheckCommand.fix(AOFCheckOptions(path: dir), output: ByteOutput()) }
        #expect(scratch.names == before)
        #expect(Self.bytes(scratch.file("appendonly.aof.2.incr.aof")) == damaged)
    }

    @Test func unknownCommandIsUnsupported() throws {
        let scratch = try ScratchDirectory()
        let dir = try Self.makeDirectory(scratch, lastIncrement: Self.resp(["NOSUCHCOMMAND", "x"]))
        let (status, text) = Self.check(dir)
        #expect(status == .unsupported)
        #expect(text.contains("unknown command 'NOSUCHCOMMAND'"))
    }

    @Test func unexpectedMultiAndExecAreDamage() throws {
        for log in [Self.resp(["EXEC"]), Self.resp(["MULTI"]) + Self.resp(["MULTI"]) + Self.resp(["EXEC"])] {
            let scratch = try ScratchDirectory()
            let dir = try Self.makeDirectory(scratch, lastIncrement: log)
            #expect(Self.check(dir).status == .damaged)
        }
    }

    @Test func missingFileAndBadManifestAreDamage() throws {
        let scratch = try ScratchDirectory()
        let dir = try Self.makeDirectory(scratch)
        unlink(scratch.file("appendonly.aof.1.incr.aof"))
        #expect(Self.check(dir).status == .damaged)
        try Data("file x seq 1 type q\n".utf8).write(to: URL(fileURLWithPath: scratch.file("appendonly.aof.manifest")))
        #expect(Self.check(dir).status == .damaged)
    }

    @Test(arguments: [(RDBCompression.lzf, true), (.lz4, true), (.none, false)])
    func rewriteCompactsAndKeepsTheData(_ compression: RDBCompression, _ preamble: Bool) throws {
        let scratch = try ScratchDirectory()
        let dir = try Self.makeDirectory(scratch)
        let before = renderKeyspace(try Self.load(dir))
        var options = AOFRewriteOptions(directory: dir)
        options.compression = compression
        options.rdbPreamble = preamble
        try AOFRewriteCommand.run(options, output: ByteOutput())
        let base = AOFManifest.baseName(Self.prefix, seq: 2, rdbPreamble: preamble)
        #expect(scratch.names == [base, "appendonly.aof.3.incr.aof", "appendonly.aof.manifest"])
        let manifest = try AOFManifest.load(directory: dir, prefix: Self.prefix)
        #expect(manifest?.base?.name == base && manifest?.history == [] && manifest?.increments.map(\.seq) == [3])
        #expect(renderKeyspace(try Self.load(dir)) == before)
    }

    @Test func truncateToTimestampCutsTheLastFileAtTheFirstLaterAnnotation() throws {
        let scratch = try ScratchDirectory()
        let dir = try Self.makeDirectory(scratch)
        let last = scratch.file("appendonly.aof.2.incr.aof")
        let original = Self.bytes(last)
        try AOFTimestampCommand.run(AOFTimestampOptions(path: dir, timestamp: 1000), output: ByteOutput())
        #expect(Self.bytes(last) == original, "nothing later than 1000")
        try AOFTimestampCommand.run(AOFTimestampOptions(path: dir, timestamp: 250), output: ByteOutput())
        let cut = original.count - Array("#TS:300\r\n".utf8).count - Self.resp(["DEL", "other"]).count
        #expect(Self.bytes(last) == Array(original.prefix(cut)))
        #expect(throws: ToolError.self, "#TS:200 opens the last file: nothing before it") {
            try AOFTimestampCommand.run(AOFTimestampOptions(path: dir, timestamp: 150), output: ByteOutput())
        }
        #expect(throws: ToolError.self, "#TS:100 is in an earlier file") {
            try AOFTimestampCommand.run(AOFTimestampOptions(path: dir, timestamp: 50), output: ByteOutput())
        }
    }
}

/// A canonical rendering of a keyspace, for comparing two loads.
func renderKeyspace(_ engine: Engine) -> [String] {
    var lines: [String] = []
    for db in engine.databases {
        for i in db.table.indices {
            let e = db.table[i]
            var content: [String]
            switch e.value {
            case .int(let v): content = ["\(v)"]
            case .string(let s): content = [s.bytes.description]
            case .list(let l): content = l.elements.map(\.description)
            case .hash(let h): content = h.pairs.map { "\($0.field)=\($0.value)" }.sorted()
            case .set(let s): content = s.members.map { $0.bytes.description }.sorted()
            case .zset(let z):
                content = []
                z.forEachInOrder { m, score in content.append("\(Array(m))@\(score.bitPattern)") }
            }
            lines.append("\(db.id) \(db.table.key(at: i)) \(e.expireAt) \(content.joined(separator: ","))")
        }
    }
    return lines.sorted()
}
