// The subcommands on files written by RDBWriter.

@testable import CairnTools
import CairnStorage
import Foundation
import Testing

/// A scratch directory, removed when the test ends.
final class ScratchDirectory {
    let path: String
    init() throws {
        path = NSTemporaryDirectory() + "cairn-tools-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }
    deinit { try? FileManager.default.removeItem(atPath: path) }
    func file(_ name: String) -> String { path + "/" + name }
    var names: [String] { ((try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []).sorted() }
}

struct SampleKey {
    var db: Int
    var key: [UInt8]
    var value: Value
    var expireAt: Int64 = noExpiry
}

enum SampleFile {
    static let expiry: Int64 = 4_102_444_800_000  // 2100-01-01, never reached by a test

    /// Built anew on each use: the collections are reference types.
    static var keys: [SampleKey] { [
        SampleKey(db: 0, key: b("str"), value: Samples.string(b("hello"))),
        SampleKey(db: 0, key: b("num"), value: Samples.string(b("42"))),
        SampleKey(db: 0, key: [0x62, 0, 0xff], value: Samples.string([0, 1, 0xff, 10, 0x22]), expireAt: expiry),
        SampleKey(db: 0, key: b("list"), value: Samples.list((0..<1500).map { b("item-\($0)") })),
        SampleKey(db: 0, key: b("ints"), value: Samples.set([b("3"), b("1"), b("2")])),
        SampleKey(db: 0, key: b("hash"), value: Samples.hash([(b("name"), b("Ann")), (b("age"), b("7"))])),
        SampleKey(db: 0, key: b("zset"), value: Samples.zset([(b("a"), 1.5), (b("b"), -.infinity), (b("c"), 2)])),
        SampleKey(db: 2, key: b("other"), value: Samples.string(b("x")), expireAt: expiry + 1),
    ] }

    /// Writes `keys` with RDBWriter; returns the path.
    static func write(to path: String, compression: RDBCompression = .lz4, checksum: Bool = true,
                      keys: [SampleKey] = keys) throws -> String {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        guard fd >= 0 else { throw ToolError(.io, "cannot create \(path)") }
        defer { close(fd) }
        var options = RDBSaveOptions()
        options.compression = compression
        options.checksum = checksum
        let writer = try RDBWriter(fd: fd, options: options)
        try writer.writeHeader(aux: [(key: "cairn-rdb-test", value: b("1"))])
        var db: Int? = nil
        for k in keys {
            if db != k.db {
                let inDB = keys.filter { $0.db == k.db }
                try writer.selectDB(k.db, keys: inDB.count, expires: inDB.filter { $0.expireAt != noExpiry }.count)
                db = k.db
            }
            try writer.writeEntry(key: k.key, value: k.value, expireAt: k.expireAt)
        }
        try writer.finish()
        return path
    }

    static func expectedJSON(_ keys: [SampleKey] = keys) -> String {
        keys.map { k in
            var line: [UInt8] = []
            EntryJSON.append(db: k.db, key: k.key, value: k.value, expireAt: k.expireAt, to: &line)
            return String(decoding: line, as: UTF8.self) + "\n"
        }.joined()
    }
}

@Suite struct RDBFileTests {
    func dump(_ path: String, _ format: DumpFormat, filter: KeyFilter = KeyFilter()) throws -> ByteOutput {
        let out = ByteOutput()
        try DumpCommand.run(DumpOptions(path: path, format: format, filter: filter, nowMs: 0), output: out)
        return out
    }

    @Test(arguments: [RDBCompression.lz4, .zlib, .lzf, .none])
    func infoDescribesTheFile(_ mode: RDBCompression) throws {
        let dir = try ScratchDirectory()
        let path = try SampleFile.write(to: dir.file("a.rdb"), compression: mode)
        let s = try InfoCommand.summarize(InfoOptions(path: path))
        #expect(s.version == RDBFormat.writtenVersion)
        #expect(InfoCommand.compressionName(s.compression) == (mode == .lz4 ? "lz4" : mode == .zlib ? "zlib" : "plain"))
        #expect(s.checksum == .verified)
        #expect(s.keys == 8 && s.expires == 2)
        #expect(s.databases[0] == DatabaseCounts(keys: 7, expires: 1, bytes: s.databases[0]?.bytes ?? 0))
        #expect(s.databases[2]?.keys == 1 && s.databases[2]?.expires == 1)
        #expect(s.types == ["string": 4, "list": 1, "set": 1, "hash": 1, "zset": 1])
        #expect(s.aux.contains { $0.key == b("cairn-rdb-test") && $0.value == b("1") })
        #expect(s.aux.contains { $0.key == b("redis-ver") })
        #expect(s.fileBytes > 0)

        let text = ByteOutput()
        try InfoCommand.run(InfoOptions(path: path), output: text)
        #expect(text.text.contains("rdb version: \(RDBFormat.writtenVersion)"))
        #expect(text.text.contains("  db0: keys=7 expires=1"))
        let json = ByteOutput()
        try InfoCommand.run(InfoOptions(path: path, json: true), output: json)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.bytes)) as? [String: Any])
        #expect(object["keys"] as? Int == 8)
        #expect(object["version"] as? Int == RDBFormat.writtenVersion)
        #expect((object["aux"] as? [String: String])?["cairn-rdb-test"] == "1")
    }

    @Test func infoCountsOnlyFilteredKeys() throws {
        let dir = try ScratchDirectory()
        let path = try SampleFile.write(to: dir.file("a.rdb"))
        let s = try InfoCommand.summarize(InfoOptions(path: path, filter: KeyFilter(databases: [0], pattern: b("*s*"))))
        #expect(s.keys == 5)  // str, list, ints, hash, zset
        #expect(s.databases[2] == nil)
    }

    @Test func checksumNotStoredIsReported() throws {
        let dir = try ScratchDirectory()
        let path = try SampleFile.write(to: dir.file("a.rdb"), compression: .none, checksum: false)
        #expect(try InfoCommand.summarize(InfoOptions(path: path)).checksum == .notStored)
    }

    @Test func dumpJSONGivesEveryKeyExactly() throws {
        let dir = try ScratchDirectory()
        let path = try SampleFile.write(to: dir.file("a.rdb"))
        let out = try dump(path, .json).text
        #expect(out == SampleFile.expectedJSON())
        #expect(out.hasPrefix(#"{"db":0,"key":"str","type":"string","value":"hello","expire_at_ms":-1}"#))
        #expect(out.contains(#"{"db":0,"key":"b\u0000ÿ","type":"string","value":"\u0000\u0001ÿ\u000a\"","expire_at_ms":4102444800000}"#))
        #expect(out.contains(#"{"db":0,"key":"ints","type":"set","value":["1","2","3"],"expire_at_ms":-1}"#))
        #expect(out.contains(#"{"db":0,"key":"zset","type":"zset","value":[["b","-inf"],["a","1.5"],["c","2"]],"expire_at_ms":-1}"#))
        #expect(out.hasSuffix(#"{"db":2,"key":"other","type":"string","value":"x","expire_at_ms":4102444800001}"# + "\n"))
    }

    @Test func dumpFilters() throws {
        let dir = try ScratchDirectory()
        let path = try SampleFile.write(to: dir.file("a.rdb"))
        #expect(try dump(path, .json, filter: KeyFilter(databases: [2])).text
                == SampleFile.expectedJSON(SampleFile.keys.filter { $0.db == 2 }))
        #expect(try dump(path, .json, filter: KeyFilter(pattern: b("?ash"))).text
                == SampleFile.expectedJSON(SampleFile.keys.filter { $0.key == b("hash") }))
        #expect(try dump(path, .json, filter: KeyFilter(databases: [1])).text == "")
    }

    @Test func dumpRESPRecreatesEveryKey() throws {
        let dir = try ScratchDirectory()
        let path = try SampleFile.write(to: dir.file("a.rdb"))
        let commands = try #require(parseCommands(try dump(path, .resp).bytes))
        #expect(text(commands[0]) == ["SELECT", "0"])
        #expect(text(commands[1]) == ["SET", "str", "hello"])
        #expect(commands.contains([b("SET"), [0x62, 0, 0xff], [0, 1, 0xff, 10, 0x22]]))
        #expect(commands.contains([b("PEXPIREAT"), [0x62, 0, 0xff], b("4102444800000")]))
        let pushes = commands.filter { $0.first == b("RPUSH") }
        #expect(pushes.map(\.count) == [1002, 502])
        #expect(pushes.flatMap { $0.dropFirst(2) } == (0..<1500).map { b("item-\($0)") })
        #expect(commands.contains([b("HSET"), b("hash"), b("name"), b("Ann"), b("age"), b("7")]))
        #expect(commands.contains([b("ZADD"), b("zset"), b("-inf"), b("b"), b("1.5"), b("a"), b("2"), b("c")]))
        #expect(commands.suffix(3).map(text) == [["SELECT", "2"], ["SET", "other", "x"], ["PEXPIREAT", "other", "4102444800001"]])
    }

    @Test func dumpTextLines() throws {
        let dir = try ScratchDirectory()
        let path = try SampleFile.write(to: dir.file("a.rdb"))
        let lines = try dump(path, .text).text.split(separator: "\n")
        #expect(lines.count == 8)
        #expect(lines[0] == #"db=0 key="str" type=string ttl=-1 value="hello""#)
        #expect(lines[2] == #"db=0 key="b\x00\xff" type=string ttl=4102444800000ms expire_at_ms=4102444800000 value="\x00\x01\xff\n\"""#)
    }

    @Test func verifySaysOK() throws {
        let dir = try ScratchDirectory()
        let path = try SampleFile.write(to: dir.file("a.rdb"))
        let out = ByteOutput()
        try VerifyCommand.run(VerifyOptions(path: path), output: out)
        #expect(out.text.hasPrefix("OK: 8 keys (2 with expiry) in 2 databases"))
        #expect(VerifyCommand.main(VerifyOptions(path: path)) == 0)
    }

    @Test func biggestFindsTheList() throws {
        let dir = try ScratchDirectory()
        let path = try SampleFile.write(to: dir.file("a.rdb"))
        let out = ByteOutput()
        try BiggestCommand.run(BiggestOptions(path: path, top: 2, json: true), output: out)
        let lines = out.text.split(separator: "\n")
        #expect(lines.count == 2)
        #expect(lines[0].hasPrefix(#"{"rank":1,"db":0,"key":"list","type":"list","bytes":"#))
        #expect(lines[0].hasSuffix(#","elements":1500}"#))
    }

    @Test(arguments: [RDBCompression.lz4, .zlib, .lzf, .none])
    func convertKeepsEverything(_ mode: RDBCompression) throws {
        let dir = try ScratchDirectory()
        let source = try SampleFile.write(to: dir.file("in.rdb"), compression: .lz4)
        let target = dir.file("out.rdb")
        try ConvertCommand.run(ConvertOptions(input: source, output: target, compression: mode), output: ByteOutput())
        #expect(dir.names == ["in.rdb", "out.rdb"], "no temporary file left behind")
        #expect(try dump(target, .json).text == SampleFile.expectedJSON())
        let s = try InfoCommand.summarize(InfoOptions(path: target))
        #expect(InfoCommand.compressionName(s.compression) == (mode == .lz4 ? "lz4" : mode == .zlib ? "zlib" : "plain"))
        #expect(s.aux.filter { $0.key == b("cairn-rdb-test") }.count == 1)
        #expect(s.aux.filter { $0.key == b("redis-ver") }.count == 1)
        #expect(s.aux.filter { $0.key == b("ctime") }.count == 1)
        #expect(VerifyCommand.main(VerifyOptions(path: target)) == 0)
    }

    @Test func convertWithoutChecksum() throws {
        let dir = try ScratchDirectory()
        let source = try SampleFile.write(to: dir.file("in.rdb"))
        let target = dir.file("out.rdb")
        try ConvertCommand.run(ConvertOptions(input: source, output: target, compression: .none, checksum: false),
                               output: ByteOutput())
        #expect(try InfoCommand.summarize(InfoOptions(path: target)).checksum == .notStored)
    }

    @Test func flippedByteIsDamage() throws {
        let dir = try ScratchDirectory()
        let path = try SampleFile.write(to: dir.file("a.rdb"), compression: .none)
        var bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
        let at = try #require(findSubsequence(bytes, b("hello")))
        bytes[at] ^= 0x20  // "Hello": only the checksum can tell
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        #expect { try VerifyCommand.run(VerifyOptions(path: path), output: ByteOutput()) } throws: { error in
            ToolExit.forError(error) == .damaged && "\(error)".contains("offset")
        }
        #expect(VerifyCommand.main(VerifyOptions(path: path)) == ToolExit.damaged.rawValue)
    }

    @Test func truncatedFileIsDamage() throws {
        let dir = try ScratchDirectory()
        let path = try SampleFile.write(to: dir.file("a.rdb"), compression: .none)
        let bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        try #require(bytes.count > 40)
        try bytes.prefix(bytes.count / 2).write(to: URL(fileURLWithPath: path))
        #expect { try VerifyCommand.run(VerifyOptions(path: path), output: ByteOutput()) } throws: { error in
            ToolExit.forError(error) == .damaged && "\(error)".contains("offset")
        }
    }

    @Test func convertOfADamagedFileWritesNothing() throws {
        let dir = try ScratchDirectory()
        let path = try SampleFile.write(to: dir.file("in.rdb"), compression: .none)
        let bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        try #require(bytes.count > 40)
        try bytes.prefix(bytes.count - 40).write(to: URL(fileURLWithPath: path))
        #expect(ConvertCommand.main(ConvertOptions(input: path, output: dir.file("out.rdb"), compression: .lz4))
                == ToolExit.damaged.rawValue)
        #expect(dir.names == ["in.rdb"])
    }

    func findSubsequence(_ haystack: [UInt8], _ needle: [UInt8]) -> Int? {
        guard haystack.count >= needle.count else { return nil }
        return (0...(haystack.count - needle.count)).first { Array(haystack[$0..<($0 + needle.count)]) == needle }
    }
}
