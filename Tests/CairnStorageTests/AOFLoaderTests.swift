import CairnRESP
@testable import CairnStorage
import Logging
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Loading must rebuild exactly the dataset the files describe (base of each kind, increments,
/// MULTI blocks, expiries), cut only a torn tail of the last file, and refuse everything else
/// with the file and offset named.
@Suite struct AOFLoaderTests {
    static let prefix = "appendonly.aof"
    static let logger = Logger(label: "aof-test")

    /// A directory with a manifest naming `base` (if any) and `increments`, each written as given.
    static func makeDirectory(base: (name: String, bytes: [UInt8])?, increments: [[UInt8]]) -> String {
        let dir = AOFTestFiles.makeDirectory()
        var manifest = AOFManifest()
        if let base {
            AOFTestFiles.write(dir + "/" + base.name, base.bytes)
            manifest.base = .init(name: base.name, seq: 1, type: .base)
        }
        for (i, bytes) in increments.enumerated() {
            let name = AOFManifest.incrName(prefix, seq: Int64(i + 1))
            AOFTestFiles.write(dir + "/" + name, bytes)
            manifest.increments.append(.init(name: name, seq: Int64(i + 1), type: .incr))
        }
        try? manifest.write(directory: dir, prefix: prefix)
        return dir
    }

    static func load(_ dir: String, truncated: Bool = true) throws -> (Engine, AOFLoadSummary?) {
        let engine = Engine()
        var options = AOFLoadOptions()
        options.loadTruncated = truncated
        let summary = try AOFLoader.load(directory: dir, prefix: prefix, into: engine, options: options, logger: logger)
        return (engine, summary)
    }

    static func baseBytes(_ engine: Engine, rdbPreamble: Bool, compression: RDBCompression = .lzf) throws -> [UInt8] {
        let dir = AOFTestFiles.makeDirectory()
        defer { AOFTestFiles.remove(dir) }
        let path = dir + "/base"
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        var options = RDBSaveOptions()
        options.compression = compression
        try AOFBase.write(engine, to: fd, rdbPreamble: rdbPreamble, rdb: options)
        close(fd)
        return AOFTestFiles.read(path) ?? []
    }

    static func commands(_ list: [[String]], db: Int = 0) -> [UInt8] {
        var encoder = CommandStreamEncoder(timestamps: true)
        var out: [UInt8] = []
        for words in list {
            encoder.append([PropagatedCommand(db: db, args: words.map { Array($0.utf8) })], nowMillis: 1_700_000_000_000, to: &out)
        }
        return out
    }

    static func resp(_ words: String...) -> [UInt8] {
        var out: [UInt8] = []
        CommandEncoder.append(words.map { Array($0.utf8) }, to: &out)
        return out
    }

    static func value(_ engine: Engine, _ key: String, db: Int = 0) -> String? {
        let database = engine.databases[db]
        guard let i = database.table.find(Array(key.utf8)) else { return nil }
        switch database.table.value(at: i) {
        case .int(let v): return String(v)
        case .string(let s): return String(decoding: s.bytes, as: UTF8.self)
        default: return "<\(database.table.value(at: i).typeName)>"
        }
    }

    // MARK: bases

    @Test func noManifestIsNil() throws {
        let dir = AOFTestFiles.makeDirectory()
        defer { AOFTestFiles.remove(dir) }
        let (_, summary) = try Self.load(dir)
        #expect(summary == nil)
    }

    @Test func commandBaseRebuildsEveryType() throws {
        let source = sampleEngine()
        let base = try Self.baseBytes(source, rdbPreamble: false)
        let dir = Self.makeDirectory(base: (AOFManifest.baseName(Self.prefix, seq: 1, rdbPreamble: false), base), increments: [[]])
        defer { AOFTestFiles.remove(dir) }
        let (engine, summary) = try Self.load(dir)
        #expect(renderKeyspace(engine) == renderKeyspace(source))
        #expect(summary?.commands ?? 0 > source.totalKeys)
        #expect(summary?.baseKeys == 0)
        #expect(!engine.loading)
        #expect(engine.dirty == 0)
    }

    @Test(arguments: RDBCompression.allCases)
    func rdbBaseInEveryCompression(_ compression: RDBCompression) throws {
        let source = sampleEngine()
        let base = try Self.baseBytes(source, rdbPreamble: true, compression: compression)
        let reader = try RDBReader(bytes: base)
        var aofBase: [UInt8]?
        while let record = try reader.next() {
            if case .aux(let k, let v) = record, k == Array("aof-base".utf8) { aofBase = v }
        }
        #expect(aofBase == [UInt8(ascii: "1")])
        let dir = Self.makeDirectory(base: (AOFManifest.baseName(Self.prefix, seq: 1, rdbPreamble: true), base),
                                     increments: [Self.commands([["SET", "after", "base"]])])
        defer { AOFTestFiles.remove(dir) }
        let (engine, summary) = try Self.load(dir)
        #expect(summary?.baseKeys == source.totalKeys)
        #expect(summary?.commands == 2)  // SELECT, SET
        #expect(Self.value(engine, "after") == "base")
        engine.databases[0].delete(Array("after".utf8))
        #expect(renderKeyspace(engine) == renderKeyspace(source))
    }

    @Test func rdbPreambleFollowedByCommandsInOneFile() throws {
        let source = sampleEngine()
        let preamble = try Self.baseBytes(source, rdbPreamble: true, compression: .none)
        let tail = Self.commands([["SET", "tail", "1"], ["DEL", "int:0"]])
        let dir = Self.makeDirectory(base: ("appendonly.aof.1.base.aof", preamble + tail), increments: [])
        defer { AOFTestFiles.remove(dir) }
        let (engine, summary) = try Self.load(dir)
        #expect(summary?.baseKeys == source.totalKeys)
        #expect(Self.value(engine, "tail") == "1")
        #expect(Self.value(engine, "int:0") == nil)
    }

    @Test func emptyFilesLoadNothing() throws {
        let dir = Self.makeDirectory(base: ("appendonly.aof.1.base.rdb", []), increments: [[], []])
        defer { AOFTestFiles.remove(dir) }
        let (engine, summary) = try Self.load(dir)
        #expect(summary != nil)
        #expect(engine.totalKeys == 0)
    }

    // MARK: increments

    /// Everything a workload propagates, written through the encoder, rebuilds the workload's dataset.
    @Test func propagatedWorkloadReplays() throws {
        let h = EngineHarness()
        var encoder = CommandStreamEncoder(timestamps: true)
        var log: [UInt8] = []
        h.engine.addPropagationSink(PropagationSink(.aof) { encoder.append($0.commands, nowMillis: Clock.unixMillis(), to: &log) })
        h.run("SET", "s", "v", "EX", "1000")
        h.run("INCRBYFLOAT", "f", "2.5")
        h.run("RPUSH", "l", "a", "b", "c")
        h.run("LPOP", "l")
        h.run("SADD", "set", "x", "y", "z")
        h.run("SPOP", "set")
        h.run("HSET", "h", "f", "1")
        h.run("HINCRBYFLOAT", "h", "f", "0.5")
        h.run("ZADD", "z", "1", "a", "2", "b")
        h.run("ZPOPMIN", "z")
        h.run("SELECT", "3")
        h.run("MULTI")
        h.run("SET", "t1", "1")
        h.run("INCR", "t1")
        h.run("EXPIRE", "t1", "500")
        h.run("EXEC")
        h.run("SWAPDB", "3", "4")
        h.run("SELECT", "0")
        h.run("COPY", "s", "s2")
        h.run("RENAME", "l", "l2")
        let dir = Self.makeDirectory(base: nil, increments: [Array(log.prefix(0)), log])
        defer { AOFTestFiles.remove(dir) }
        let (engine, summary) = try Self.load(dir)
        #expect(renderKeyspace(engine) == renderKeyspace(h.engine))
        #expect(summary?.truncatedFile == nil)
    }

    @Test func commandsOfATransactionRunAtExec() throws {
        let log = Self.commands([["SET", "a", "1"], ["MULTI"], ["SET", "a", "2"], ["INCR", "a"], ["EXEC"]])
        let dir = Self.makeDirectory(base: nil, increments: [log])
        defer { AOFTestFiles.remove(dir) }
        let (engine, _) = try Self.load(dir)
        #expect(Self.value(engine, "a") == "3")
    }

    @Test func everyFileStartsInDatabaseZero() throws {
        let first = Self.resp("SELECT", "3") + Self.resp("SET", "a", "1")
        let dir = Self.makeDirectory(base: nil, increments: [first, Self.resp("SET", "b", "2")])
        defer { AOFTestFiles.remove(dir) }
        let (engine, _) = try Self.load(dir)
        #expect(Self.value(engine, "a", db: 3) == "1")
        #expect(Self.value(engine, "b", db: 0) == "2")
    }

    /// Redis's server.loading: a time that has passed by now still applies as it did when the
    /// command ran, so later commands see the key (here PERSIST keeps it for good).
    @Test func nothingExpiresWhileLoading() throws {
        let past = String(Clock.unixMillis() - 60_000)
        let log = Self.commands([["SET", "k", "v", "PXAT", past], ["PERSIST", "k"],
                                 ["SET", "n", "1"], ["PEXPIREAT", "n", past], ["INCR", "n"], ["PERSIST", "n"],
                                 ["SET", "gone", "1", "PXAT", past]])
        let dir = Self.makeDirectory(base: nil, increments: [log])
        defer { AOFTestFiles.remove(dir) }
        let (engine, _) = try Self.load(dir)
        #expect(Self.value(engine, "k") == "v")
        #expect(Self.value(engine, "n") == "2")
        #expect(engine.databases[0].lookup(Array("gone".utf8)) == nil, "expired once loading is over")
    }

    // MARK: torn tails

    @Test func tornTailOfTheLastFileIsCutAtEveryOffset() throws {
        let kept = Self.commands([["SET", "a", "1"], ["SET", "b", "2"]])
        let last = Self.resp("SET", "c", "3")
        for cut in 1..<last.count {
            let dir = Self.makeDirectory(base: nil, increments: [Self.commands([["SET", "x", "0"]]), kept + last.prefix(cut)])
            defer { AOFTestFiles.remove(dir) }
            let (engine, summary) = try Self.load(dir)
            #expect(Self.value(engine, "b") == "2")
            #expect(Self.value(engine, "c") == nil)
            #expect(summary?.truncatedFile == "appendonly.aof.2.incr.aof")
            #expect(summary?.truncatedBytes == Int64(cut))
            #expect(AOFTestFiles.read(dir + "/appendonly.aof.2.incr.aof") == kept, "cut \(cut)")
        }
    }

    @Test func unfinishedMultiAtTheTailIsRolledBack() throws {
        let kept = Self.commands([["SET", "a", "1"]])
        let open = Self.resp("MULTI") + Self.resp("SET", "a", "2") + Self.resp("SET", "b", "2")
        for torn in [0, 5] {
            let tail = open + Array(Self.resp("EXEC").prefix(torn))
            let dir = Self.makeDirectory(base: nil, increments: [kept + tail])
            defer { AOFTestFiles.remove(dir) }
            let (engine, summary) = try Self.load(dir)
            #expect(Self.value(engine, "a") == "1")
            #expect(Self.value(engine, "b") == nil)
            #expect(summary?.rolledBackTransaction == true)
            #expect(summary?.truncatedBytes == Int64(tail.count))
            #expect(AOFTestFiles.read(dir + "/appendonly.aof.1.incr.aof") == kept)
        }
    }

    @Test func tornTailIsRefusedWithoutLoadTruncated() throws {
        let bytes = Self.commands([["SET", "a", "1"]]) + Self.resp("SET", "b", "2").dropLast(3)
        let dir = Self.makeDirectory(base: nil, increments: [bytes])
        defer { AOFTestFiles.remove(dir) }
        let error = #expect(throws: AOFError.self) { try Self.load(dir, truncated: false) }
        #expect(error?.kind == .corrupt)
        #expect(error?.file == "appendonly.aof.1.incr.aof")
        #expect(error?.offset == Int64(Self.commands([["SET", "a", "1"]]).count))
        #expect(AOFTestFiles.read(dir + "/appendonly.aof.1.incr.aof") == bytes, "nothing truncated")
    }

    @Test func tornTailOfAnEarlierFileIsRefused() throws {
        let first = Self.commands([["SET", "a", "1"]]) + Self.resp("SET", "b", "2").dropLast(1)
        let dir = Self.makeDirectory(base: nil, increments: [first, Self.commands([["SET", "c", "3"]])])
        defer { AOFTestFiles.remove(dir) }
        let error = #expect(throws: AOFError.self) { try Self.load(dir) }
        #expect(error?.kind == .corrupt)
        #expect(error?.file == "appendonly.aof.1.incr.aof")
        #expect(AOFTestFiles.read(dir + "/appendonly.aof.1.incr.aof") == first, "nothing truncated")
    }

    // MARK: refusals

    @Test func damageInTheMiddleNamesFileAndOffset() throws {
        let good = Self.commands([["SET", "a", "1"]])
        let bytes = good + Array("*2\r\n$3\r\nGET\r\n!1\r\na\r\n".utf8) + Self.resp("SET", "b", "2")
        let dir = Self.makeDirectory(base: nil, increments: [bytes])
        defer { AOFTestFiles.remove(dir) }
        let error = #expect(throws: AOFError.self) { try Self.load(dir) }
        #expect(error?.kind == .corrupt)
        #expect(error?.file == "appendonly.aof.1.incr.aof")
        #expect(error?.offset == Int64(good.count + 13))
        #expect(AOFTestFiles.read(dir + "/appendonly.aof.1.incr.aof") == bytes)
    }

    @Test func unknownCommandIsNamed() throws {
        let good = Self.commands([["SET", "a", "1"]])
        let dir = Self.makeDirectory(base: nil, increments: [good + Self.resp("FROBNICATE", "a")])
        defer { AOFTestFiles.remove(dir) }
        let error = #expect(throws: AOFError.self) { try Self.load(dir) }
        #expect(error?.description.contains("FROBNICATE") == true)
        #expect(error?.offset == Int64(good.count))
    }

    @Test func missingFileIsABadManifest() throws {
        let dir = Self.makeDirectory(base: nil, increments: [Self.commands([["SET", "a", "1"]])])
        defer { AOFTestFiles.remove(dir) }
        unlink(dir + "/appendonly.aof.1.incr.aof")
        let error = #expect(throws: AOFError.self) { try Self.load(dir) }
        #expect(error?.kind == .badManifest)
    }

    @Test func damagedRDBBaseIsCorrupt() throws {
        var base = try Self.baseBytes(sampleEngine(), rdbPreamble: true, compression: .none)
        base[base.count / 2] ^= 0xFF
        let dir = Self.makeDirectory(base: ("appendonly.aof.1.base.rdb", base), increments: [[]])
        defer { AOFTestFiles.remove(dir) }
        let error = #expect(throws: AOFError.self) { try Self.load(dir) }
        #expect(error?.kind == .corrupt)
        #expect(error?.file == "appendonly.aof.1.base.rdb")
    }

    /// Replay runs as the `.replay` origin: no admission stage, no propagation, no statistics,
    /// no observers, and a blocking command answers at once.
    @Test func replayRunsWithItsOrigin() throws {
        let engine = Engine()
        var checked = 0, observed = 0, propagated = 0
        engine.admission.install(.acl) { _ in checked += 1; return "ERR refused" }
        engine.commandObservers.add { _, _, _, _ in observed += 1 }
        engine.addPropagationSink(PropagationSink(.aof) { _ in propagated += 1 })
        let dir = Self.makeDirectory(base: nil, increments: [Self.commands([["SET", "a", "1"], ["BLPOP", "nolist", "0"],
                                                                             ["RPUSH", "l", "x"]])])
        defer { AOFTestFiles.remove(dir) }
        _ = try AOFLoader.load(directory: dir, prefix: Self.prefix, into: engine, options: AOFLoadOptions(), logger: Self.logger)
        #expect(checked == 0 && observed == 0 && propagated == 0)
        #expect(Self.value(engine, "a") == "1")
        #expect(engine.databases[0].lookup(Array("l".utf8)) != nil)
        #expect(engine.stats.commandsProcessed == 0)
        #expect(engine.blockedClientCount == 0)
    }
}
