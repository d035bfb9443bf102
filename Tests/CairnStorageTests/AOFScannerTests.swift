import CairnRESP
@testable import CairnStorage
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// The scanner must split a log into commands and annotations wherever its chunk boundaries fall,
/// and tell a file that merely ends early (torn tail) from one holding bytes that are not commands.
@Suite struct AOFScannerTests {
    enum Scanned: Equatable {
        case command([String])
        case annotation(String)
    }

    /// Scans `bytes` (written to a temporary file); returns what was read and how it stopped.
    static func scan(_ bytes: [UInt8]) -> (items: [Scanned], problem: AOFScanProblem?) {
        let path = AOFTestFiles.makeDirectory() + "/scan.aof"
        AOFTestFiles.write(path, bytes)
        let fd = open(path, O_RDONLY)
        defer { close(fd) }
        let scanner = AOFScanner(fd: fd, fileSize: Int64(bytes.count))
        var items: [Scanned] = []
        do {
            while true {
                switch try scanner.next() {
                case .end: return (items, nil)
                case .annotation(let a): items.append(.annotation(String(decoding: a, as: UTF8.self)))
                case .command(let args): items.append(.command((0..<args.count).map { args.string($0) }))
                }
            }
        } catch {
            return (items, error)
        }
    }

    static func resp(_ words: String...) -> [UInt8] {
        var out: [UInt8] = []
        CommandEncoder.append(words.map { Array($0.utf8) }, to: &out)
        return out
    }

    @Test func readsCommandsAndAnnotations() {
        let bytes = Array("#TS:1700000000\r\n".utf8) + Self.resp("SET", "k", "v") + Array("#note\n".utf8)
            + Self.resp("DEL", "k", "") + Array("#TS:12".utf8)
        let (items, problem) = Self.scan(bytes)
        #expect(problem == nil)
        #expect(items == [.annotation("TS:1700000000"), .command(["SET", "k", "v"]), .annotation("note"),
                          .command(["DEL", "k", ""]), .annotation("TS:12")])
    }

    @Test func emptyFileHasNoItems() {
        let (items, problem) = Self.scan([])
        #expect(items.isEmpty && problem == nil)
    }

    @Test func argumentsLargerThanTheChunkAndAcrossBoundaries() {
        let big = String(repeating: "x", count: 3 * AOFScanner.chunkBytes + 17)
        var bytes: [UInt8] = []
        var expected: [Scanned] = []
        for i in 0..<40_000 {
            bytes += Self.resp("RPUSH", "list", "element-\(i)")
            expected.append(.command(["RPUSH", "list", "element-\(i)"]))
        }
        bytes += Self.resp("SET", "big", big)
        expected.append(.command(["SET", "big", big]))
        bytes += Self.resp("PING")
        expected.append(.command(["PING"]))
        let (items, problem) = Self.scan(bytes)
        #expect(problem == nil)
        #expect(items == expected)
    }

    @Test func everyCutInsideACommandIsATornTail() {
        let first = Self.resp("SET", "k", "v")
        let last = Self.resp("SET", "key", "value")
        for cut in 1..<last.count {
            let (items, problem) = Self.scan(first + last.prefix(cut))
            #expect(items == [.command(["SET", "k", "v"])], "cut \(cut)")
            #expect(problem == .truncated(offset: Int64(first.count)), "cut \(cut)")
        }
    }

    @Test func aLengthPastTheEndIsATornTailWithoutAllocatingIt() {
        let (items, problem) = Self.scan(Array("*1\r\n$999999999999\r\nabc".utf8))
        #expect(items.isEmpty)
        #expect(problem == .truncated(offset: 0))
    }

    @Test(arguments: [
        ("SET k v\r\n", 0),                          // inline command: not in an AOF
        ("*0\r\n", 0),                               // no arguments (Redis: argc < 1)
        ("*-1\r\n", 0),
        ("*x\r\n", 0),
        ("*2\r\n$3\r\nGET\r\n+k\r\n", 13),          // '+' instead of '$'
        ("*1\r\n$3\r\nGETxx", 11),                  // no CRLF after the bulk
        ("*1\r\n$-3\r\nabc\r\n", 4),
        ("*1\r\n$3x\r\nabc\r\n", 4),
        ("*1\n$3\r\nabc\r\n", 0),                   // LF without CR
    ])
    func damageIsMalformed(_ text: String, _ offset: Int64) {
        let ok = Self.resp("PING")
        let (items, problem) = Self.scan(ok + Array(text.utf8) + ok)
        #expect(items == [.command(["PING"])])
        guard case .malformed(let at, let start, _) = problem else {
            Issue.record("expected malformed, got \(String(describing: problem))")
            return
        }
        #expect(at == Int64(ok.count) + offset)
        #expect(start == Int64(ok.count))
    }

    @Test func overlongAnnotationIsMalformed() {
        let line = "#" + String(repeating: "a", count: AOFScanner.annotationBytesMax + 5) + "\r\n"
        let (_, problem) = Self.scan(Array(line.utf8) + Self.resp("PING"))
        guard case .malformed = problem else {
            Issue.record("expected malformed, got \(String(describing: problem))")
            return
        }
    }
}

/// Temporary directories and files for the AOF tests.
enum AOFTestFiles {
    static func makeDirectory() -> String {
        var template = Array("/tmp/cairn-aof-XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else { return "/tmp" }
        return String(cString: made)
    }

    static func write(_ path: String, _ bytes: [UInt8]) {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        guard fd >= 0 else { return }
        defer { close(fd) }
        bytes.withUnsafeBytes { try? AtomicFile.writeAll(fd, $0, path: path) }
    }

    static func read(_ path: String) -> [UInt8]? {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var out: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if n <= 0 { break }
            out += chunk[0..<n]
        }
        return out
    }

    static func remove(_ dir: String) {
        for name in DirectoryEntries.names(in: dir) ?? [] { unlink(dir + "/" + name) }
        rmdir(dir)
    }
}
