@testable import CairnStorage
import Logging
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// An AOF directory on a FaultyFileSystem as the server leaves it at start-up: a durable manifest
/// naming one increment, and a writer appending to it (its fsync thread, and through it the
/// writer, use the double). Command `i` is `RPUSH log <i>-xxx...`, so that the list after a
/// load shows any command lost, repeated or out of order. Time is `now`, set by the test.
final class FaultyAOF {
    static let prefix = "appendonly.aof"
    static let logger = Logger(label: "cairn.test") { _ in SwiftLogNoOpLogHandler() }

    let fs = FaultyFileSystem()
    let name = AOFManifest.incrName(prefix, seq: 1)
    let thread: AOFFsyncThread
    let writer: AOFWriter
    var now: Int64 = 100

    init(_ policy: AOFFsyncPolicy) throws {
        thread = AOFFsyncThread(fileSystem: fs)
        let fd = try fs.open(fs.root + "/" + name, flags: O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, mode: 0o644)
        // Written after the increment is created, so its directory fsync covers that creation too.
        try AOFManifest(increments: [.init(name: name, seq: 1, type: .incr)]).write(directory: fs.root, prefix: Self.prefix,
                                                                                     fileSystem: fs)
        writer = AOFWriter(fd: fd, name: name, existingBytes: 0, policy: policy, timestamps: false, fsyncThread: thread,
                           logger: Self.logger, nowSeconds: now)
    }

    deinit {
        // The thread keeps itself (and so the double and its directory) alive until stopped.
        thread.stop()
    }

    var path: String { fs.root + "/" + name }
    var fileBytes: Int64 { FaultyFileSystem.lstatus(path).map { Int64($0.st_size) } ?? -1 }

    func append(_ i: Int) {
        let element = "\(i)-" + String(repeating: "x", count: 40)
        writer.append([PropagatedCommand(db: 0, args: [Array("RPUSH".utf8), Array("log".utf8), Array(element.utf8)])],
                      nowMillis: 0)
    }

    func flush() -> AOFWriter.FlushOutcome { writer.flush(force: false, nowSeconds: now) }

    /// Loads the directory into a new engine as the server does at start-up (aof-load-truncated
    /// on). Returns how many of the appended commands it replayed, after checking they are
    /// 0, 1, 2, ...: a prefix of what was appended, nothing lost in between, nothing twice.
    func load() throws -> (commands: Int, summary: AOFLoadSummary) {
        let engine = Engine()
        let summary = try #require(try AOFLoader.load(directory: fs.root, prefix: Self.prefix, into: engine,
                                                      options: AOFLoadOptions(), logger: Self.logger, fileSystem: fs))
        guard case .array(let elements?) = EngineHarness(engine: engine).run("LRANGE", "log", "0", "-1") else {
            Issue.record("LRANGE did not reply with an array")
            return (0, summary)
        }
        let numbers = elements.map { element -> Int in
            guard case .bulkString(let bytes?) = element else { return -1 }
            return Int(String(decoding: bytes.prefix { $0 != UInt8(ascii: "-") }, as: UTF8.self)) ?? -1
        }
        #expect(numbers == Array(0..<numbers.count), "the commands loaded are the first ones appended, once each")
        return (numbers.count, summary)
    }
}
