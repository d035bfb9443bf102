// The tar layer: round trips through TarWriter/TarReader, GNU tar reading what we write and us
// reading what GNU tar writes, and damaged headers.

@testable import CairnBackup
import CairnStorage
import Foundation
import Testing

@Suite struct TarTests {
    static let sizes = [0, 1, 511, 512, 513, 100_000]

    func roundTrip(_ members: [(TarEntry, [UInt8])]) throws -> [(TarEntry, [UInt8])] {
        let sink = MemorySink()
        let tar = TarWriter(sink: sink)
        for (entry, data) in members {
            try tar.begin(entry)
            try data.withUnsafeBytes { try tar.write($0) }
            try tar.end()
        }
        try tar.finish()
        #expect(sink.bytes.count % 512 == 0)
        let reader = TarReader(source: MemorySource(sink.bytes))
        var out: [(TarEntry, [UInt8])] = []
        while let e = try reader.next() {
            var data = [UInt8](repeating: 0, count: Int(e.size))
            let n = try data.withUnsafeMutableBytes { try SourceReading.readFully(reader.body, into: $0) }
            #expect(n == data.count)
            out.append((e, data))
        }
        return out
    }

    @Test func filesOfEverySizeComeBack() throws {
        let members = Self.sizes.enumerated().map { i, size in
            (TarEntry(path: "f\(i)", size: Int64(size), mode: 0o600, mtime: 1_700_000_000 + Int64(i)),
             (0..<size).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ i) })
        }
        let back = try roundTrip(members)
        #expect(back.count == members.count)
        for (a, z) in zip(members, back) {
            #expect(a.0 == z.0)
            #expect(a.1 == z.1)
        }
    }

    @Test func longAndNonASCIINamesGoThroughPax() throws {
        let long = String(repeating: "d/", count: 60) + "file-with-a-long-name.aof"
        let members: [(TarEntry, [UInt8])] = [
            (TarEntry(path: "appendonlydir", kind: .directory, size: 0, mode: 0o755), []),
            (TarEntry(path: long, size: 3), b("abc")),
            (TarEntry(path: "caf\u{e9}.rdb", size: 1), [9]),
        ]
        let back = try roundTrip(members)
        #expect(back.map(\.0.path) == ["appendonlydir", long, "caf\u{e9}.rdb"])
        #expect(back[0].0.kind == .directory)
        #expect(back[1].1 == b("abc"))
    }

    @Test func sizesBeyondTheOctalFieldGoThroughPax() throws {
        let big: Int64 = 9_000_000_000
        let sink = MemorySink()
        let tar = TarWriter(sink: sink)
        try tar.begin(TarEntry(path: "huge", size: big))
        let reader = TarReader(source: MemorySource(sink.bytes))
        #expect(try reader.next()?.size == big)
    }

    @Test func paxRecordLengthCountsItself() {
        // 9 bytes after the length: the record is 11 long, not 10, as the length takes two digits.
        let r = TarFormat.paxRecord("path", b("ab"))
        #expect(String(decoding: r, as: UTF8.self) == "11 path=ab\n")
        #expect(TarFormat.paxRecords(r) == ["path": b("ab")])
        for n in 0..<120 {
            let rec = TarFormat.paxRecord("path", [UInt8](repeating: 0x61, count: n))
            #expect(TarFormat.paxRecords(rec)?["path"]?.count == n)
        }
    }

    @Test func numericFields() {
        #expect(TarFormat.number(ArraySlice(b("0000644\0"))) == 0o644)
        #expect(TarFormat.number(ArraySlice(b("  644 \0"))) == 0o644)
        #expect(TarFormat.number(ArraySlice(b("12x\0"))) == nil)
        #expect(TarFormat.number(ArraySlice([0x80, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0])) == 1 << 33)
    }

    @Test func damagedHeaderIsDetected() throws {
        let sink = MemorySink()
        let tar = TarWriter(sink: sink)
        try tar.begin(TarEntry(path: "a", size: 1))
        try [UInt8(1)].withUnsafeBytes { try tar.write($0) }
        try tar.end()
        try tar.finish()
        for position in [0, 100, 124, 148, 156, 257] {
            var bytes = sink.bytes
            bytes[position] ^= 0x01
            #expect(throws: BackupError.self) {
                let r = TarReader(source: MemorySource(bytes))
                while try r.next() != nil {}
            }
        }
        // Truncated, no end marker, garbage after the end.
        for bytes in [Array(sink.bytes.prefix(700)), Array(sink.bytes.prefix(1024)), sink.bytes + [1]] {
            #expect(throws: BackupError.self) {
                let r = TarReader(source: MemorySource(bytes))
                while let e = try r.next() {
                    var d = [UInt8](repeating: 0, count: Int(e.size))
                    _ = try d.withUnsafeMutableBytes { try SourceReading.readFully(r.body, into: $0) }
                }
            }
        }
    }

    @Test func linksAreRefused() throws {
        var header = TarFormat.header(name: b("evil"), typeflag: 0x32, size: 0, mode: 0o644, mtime: 0)  // "2": symlink
        header += [UInt8](repeating: 0, count: 1024)
        #expect(throws: BackupError.self) { _ = try TarReader(source: MemorySource(header)).next() }
    }

    @Test func gnuTarListsAndExtractsWhatWeWrite() throws {
        let scratch = try Scratch()
        let long = String(repeating: "long-directory-name/", count: 6) + "member.bin"
        let members: [(TarEntry, [UInt8])] = [
            (TarEntry(path: "MANIFEST.json", size: 2), b("{}")),
            (TarEntry(path: "appendonlydir", kind: .directory, size: 0, mode: 0o755), []),
            (TarEntry(path: "appendonlydir/appendonly.aof.1.incr.aof", size: 5, mode: 0o640), b("hello")),
            (TarEntry(path: long, size: 70_000), (0..<70_000).map { UInt8(truncatingIfNeeded: $0) }),
        ]
        let sink = MemorySink()
        let tar = TarWriter(sink: sink)
        for (e, d) in members {
            try tar.begin(e)
            try d.withUnsafeBytes { try tar.write($0) }
            try tar.end()
        }
        try tar.finish()
        try writeFile(scratch.file("a.tar"), sink.bytes)
        let list = try run("/usr/bin/env", ["tar", "-tf", scratch.file("a.tar")])
        #expect(list.split(separator: "\n").map(String.init) == ["MANIFEST.json", "appendonlydir/", "appendonlydir/appendonly.aof.1.incr.aof", long])
        let out = try scratch.mkdir("x")
        _ = try run("/usr/bin/env", ["tar", "-xf", scratch.file("a.tar"), "-C", out])
        #expect(try readFile(out + "/appendonlydir/appendonly.aof.1.incr.aof") == b("hello"))
        #expect(try readFile(out + "/" + long) == members[3].1)
    }

    @Test func weReadWhatGNUTarWritesInPaxFormat() throws {
        let scratch = try Scratch()
        let src = try scratch.mkdir("src")
        let long = String(repeating: "n", count: 150)
        try writeFile(src + "/" + long, b("long"))
        try writeFile(src + "/short", b("s"))
        _ = try run("/usr/bin/env", ["tar", "--format=pax", "-cf", scratch.file("g.tar"), "-C", src, long, "short"])
        let reader = TarReader(source: MemorySource(try readFile(scratch.file("g.tar"))))
        var names: [String] = []
        while let e = try reader.next() { names.append(e.path) }
        #expect(names == [long, "short"])
    }
}

/// Runs a program; its stdout. Throws on a non-zero exit.
func run(_ program: String, _ args: [String]) throws -> String {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: program)
    p.arguments = args
    let pipe = Pipe()
    p.standardOutput = pipe
    try p.run()
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    struct Failed: Error { var status: Int32 }
    guard p.terminationStatus == 0 else { throw Failed(status: p.terminationStatus) }
    return String(decoding: data, as: UTF8.self)
}
