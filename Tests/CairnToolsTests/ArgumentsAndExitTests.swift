import CairnStorage
import CairnTools
import Testing

@Suite struct ArgumentsAndExitTests {
    @Test func exitStatusesAreTheDocumentedNumbers() {
        #expect(ToolExit.ok.rawValue == 0)
        #expect(ToolExit.damaged.rawValue == 1)
        #expect(ToolExit.usage.rawValue == 2)
        #expect(ToolExit.unsupported.rawValue == 3)
        #expect(ToolExit.io.rawValue == 4)
    }

    @Test func errorsMapToStatuses() {
        #expect(ToolExit.forError(RDBError(.corrupt, "bad checksum", offset: 9)) == .damaged)
        #expect(ToolExit.forError(RDBError(.unsupported, "stream")) == .unsupported)
        #expect(ToolExit.forError(RDBError(.io, "EIO")) == .io)
        #expect(ToolExit.forError(ToolError(.usage, "x")) == .usage)
        #expect(ToolExit.forError(ToolError(.io, "x")) == .io)
        struct Other: Error {}
        #expect(ToolExit.forError(Other()) == .damaged)
    }

    @Test func messagesNameFileOffsetAndKey() {
        let e = RDBError(.corrupt, "list length beyond the file", offset: 1234, key: b("mylist"))
        #expect(ToolRunner.message(for: e, tool: "cairn-rdb", file: "dump.rdb")
                == "cairn-rdb: dump.rdb: damaged RDB: list length beyond the file (key 'mylist') at offset 1234")
        #expect(ToolRunner.message(for: RDBError(.unsupported, "stream type"), tool: "cairn-rdb", file: "a.rdb")
                == "cairn-rdb: a.rdb: unsupported RDB content: stream type")
        #expect(ToolRunner.message(for: ToolError(.io, "cannot open x: No such file or directory"), tool: "cairn-rdb", file: "x")
                == "cairn-rdb: cannot open x: No such file or directory")
    }

    @Test func missingFileIsAnIOError() {
        let out = ByteOutput()
        #expect {
            try VerifyCommand.run(VerifyOptions(path: "/nonexistent/cairn-rdb-test.rdb"), output: out)
        } throws: { error in
            ToolExit.forError(error) == .io && "\(error)".contains("No such file")
        }
        #expect(VerifyCommand.main(VerifyOptions(path: "/nonexistent/cairn-rdb-test.rdb")) == 4)
    }

    @Test func directoryIsAnIOError() {
        #expect(InfoCommand.main(InfoOptions(path: "/")) == ToolExit.io.rawValue)
    }

    @Test func filterByDatabase() {
        let f = KeyFilter(databases: [0, 2])
        #expect(f.includes(db: 0, key: b("a")))
        #expect(!f.includes(db: 1, key: b("a")))
        #expect(f.includes(db: 2, key: b("a")))
        #expect(KeyFilter().includes(db: 15, key: b("anything")))
        #expect(KeyFilter().keepsEverything)
        #expect(!f.keepsEverything)
    }

    @Test func filterByRedisGlob() throws {
        let f = try KeyFilter(databases: [], match: "user:[0-9]*")
        #expect(f.includes(db: 3, key: b("user:1")))
        #expect(f.includes(db: 3, key: b("user:42:name")))
        #expect(!f.includes(db: 3, key: b("user:x")))
        #expect(!f.includes(db: 3, key: b("session:1")))
        let escaped = try KeyFilter(databases: [1], match: #"a\*"#)
        #expect(escaped.includes(db: 1, key: b("a*")))
        #expect(!escaped.includes(db: 1, key: b("ab")))
        #expect(!escaped.includes(db: 0, key: b("a*")))
        // Bytes outside ASCII are matched as bytes.
        #expect(KeyFilter(pattern: [0xff, UInt8(ascii: "?")]).includes(db: 0, key: [0xff, 0]))
    }

    @Test func negativeDatabaseIsAUsageError() {
        #expect { try KeyFilter(databases: [-1], match: nil) } throws: { ToolExit.forError($0) == .usage }
    }

    @Test func compressionNames() throws {
        #expect(try ConvertCommand.parseCompression("lz4") == .lz4)
        #expect(try ConvertCommand.parseCompression("ZLIB") == .zlib)
        #expect(try ConvertCommand.parseCompression("lzf") == .lzf)
        #expect(try ConvertCommand.parseCompression("no") == RDBCompression.none)
        #expect(try ConvertCommand.parseCompression("none") == RDBCompression.none)
        #expect { try ConvertCommand.parseCompression("gzip2") } throws: { ToolExit.forError($0) == .usage }
    }

    @Test func compressionLevels() throws {
        try ConvertCommand.checkLevel(nil, for: .lzf)
        try ConvertCommand.checkLevel(0, for: .lz4)
        try ConvertCommand.checkLevel(12, for: .lz4)
        try ConvertCommand.checkLevel(9, for: .zlib)
        for (level, mode) in [(13, RDBCompression.lz4), (-1, .lz4), (0, .zlib), (10, .zlib), (1, .lzf), (1, .none)] {
            #expect { try ConvertCommand.checkLevel(level, for: mode) } throws: { ToolExit.forError($0) == .usage }
        }
    }

    @Test func topKeysKeepsTheLargestInOrder() {
        var top = TopKeys(capacity: 3)
        for (i, size) in [5, 50, 7, 50, 1, 90, 6].enumerated() {
            top.offer(BigKey(db: 0, key: b("k\(i)"), type: "string", bytes: size, elements: 1))
        }
        #expect(top.keys.map(\.bytes) == [90, 50, 50])
        #expect(top.keys.map { String(decoding: $0.key, as: UTF8.self) } == ["k5", "k1", "k3"])
        #expect(!top.wants(bytes: 50))
        #expect(top.wants(bytes: 51))
    }

    @Test func biggestTable() {
        let keys = [BigKey(db: 0, key: b("big"), type: "list", bytes: 12345, elements: 1000),
                    BigKey(db: 11, key: [0], type: "string", bytes: 7, elements: 2)]
        #expect(String(decoding: BiggestCommand.text(keys), as: UTF8.self) == """
            rank  db  bytes  type    elements  key
            1     0   12345  list    1000      "big"
            2     11  7      string  2         "\\x00"

            """)
        #expect(String(decoding: BiggestCommand.json(keys), as: UTF8.self) == """
            {"rank":1,"db":0,"key":"big","type":"list","bytes":12345,"elements":1000}
            {"rank":2,"db":11,"key":"\\u0000","type":"string","bytes":7,"elements":2}

            """)
    }

    @Test func biggestRefusesAZeroTop() {
        #expect(BiggestCommand.main(BiggestOptions(path: "/nonexistent", top: 0)) == ToolExit.usage.rawValue)
    }
}
