// restore --to-time: the #TS: scanner over hand-made AOF streams, and the cut applied to a
// restored directory (the later increment dropped from the manifest).

@testable import CairnBackup
import CairnStorage
import CairnTools
import Foundation
import Testing

@Suite struct PointInTimeTests {
    func scan(_ bytes: [UInt8], after: Int64) throws -> AOFTimestampScan {
        let scratch = try Scratch()
        try writeFile(scratch.file("a.aof"), bytes)
        let fd = open(scratch.file("a.aof"), O_RDONLY)
        defer { close(fd) }
        return try AOFTimestampScan(fd: fd, name: "a.aof", after: after)
    }

    let c = SampleData.command

    @Test func cutsAtTheFirstLaterAnnotation() throws {
        let head = b("#TS:100\r\n") + c("SET", "a", "1")
        let tail = b("#TS:200\r\n") + c("SET", "b", "2") + b("#TS:300\r\n") + c("SET", "c", "3")
        let s = try scan(head + tail, after: 150)
        #expect(s.cutOffset == Int64(head.count) && s.cutTimestamp == 200)
        #expect(s.firstTimestamp == 100 && s.lastTimestamp == 300)
        #expect(try scan(head + tail, after: 200).cutOffset == Int64(head.count + b("#TS:200\r\n").count + c("SET", "b", "2").count))
        #expect(try scan(head + tail, after: 300).cutOffset == nil)
        #expect(try scan(head + tail, after: 50).cutOffset == 0)
    }

    @Test func neverCutsInsideATransaction() throws {
        let before = c("SET", "x", "1")
        let bytes = b("#TS:100\r\n") + before + c("multi") + c("SET", "a", "1") + b("#TS:200\r\n") + c("SET", "b", "2") + c("EXEC")
        #expect(try scan(bytes, after: 150).cutOffset == Int64(b("#TS:100\r\n").count + before.count))
    }

    @Test func bigValuesAndATornTail() throws {
        let big = String(repeating: "v", count: 3 << 20)
        let bytes = b("#TS:1\r\n") + c("SET", "big", big) + b("#TS:2\r\n") + c("SET", "k", "v")
        let s = try scan(bytes + Array(c("SET", "torn", "x").prefix(9)), after: 1)
        #expect(s.cutOffset == Int64(b("#TS:1\r\n").count + c("SET", "big", big).count))
        #expect(s.completeBytes == Int64(bytes.count))
    }

    @Test func damageIsNamed() throws {
        #expect(exitOf { _ = try scan(b("#TS:1\r\nGARBAGE\r\n"), after: 0) } == .damaged)
        #expect(exitOf { _ = try scan(b("#TS:x\r\n"), after: 0) } == .damaged)
        #expect(exitOf { _ = try scan(b("*1\r\n$-5\r\n"), after: 0) } == .damaged)
    }

    @Test func restoreToTimeCutsTheIncrementAndDropsLaterOnes() throws {
        let scratch = try Scratch()
        let data = try SampleData.dataDir(in: scratch)
        var create = CreateOptions(source: .dataDir(DataDirOptions(dir: data)), outDir: scratch.file("out"))
        create.progress = false
        let archive = try CreateCommand.run(create, output: ByteOutput()).archive

        // After "SET b 2" (annotated +20), before the MULTI block (+30).
        let t0 = SampleData.aofStart
        var options = RestoreOptions(archive: archive, target: scratch.file("pit"))
        options.toTime = t0 + 25
        options.progress = false
        let out = ByteOutput()
        let result = try RestoreCommand.run(options, output: out)
        let pit = try #require(result.pointInTime)
        #expect(pit.cutFile == "appendonlydir/appendonly.aof.2.incr.aof" && pit.cutOffset == 0 && pit.cutTimestamp == t0 + 30)
        let restored = try tree(scratch.file("pit"))
        #expect(restored["dump.rdb"] == nil)  // the AOF holds the point-in-time state
        #expect(restored["appendonlydir/appendonly.aof.2.incr.aof"] == [])
        #expect(try restored["appendonlydir/appendonly.aof.1.incr.aof"] == tree(data)["appendonlydir/appendonly.aof.1.incr.aof"])
        #expect(out.text.contains("cut at offset 0"))

        // Inside the first increment; the second is dropped from the manifest.
        options.target = scratch.file("pit2")
        options.toTime = t0 + 15
        let r2 = try RestoreCommand.run(options, output: ByteOutput())
        #expect(r2.pointInTime?.cutFile == "appendonlydir/appendonly.aof.1.incr.aof")
        #expect(r2.pointInTime?.droppedFiles == ["appendonlydir/appendonly.aof.2.incr.aof"])
        let t2 = try tree(scratch.file("pit2"))
        #expect(t2["appendonlydir/appendonly.aof.1.incr.aof"] == b("#TS:\(t0 + 10)\r\n") + c("SELECT", "0") + c("SET", "a", "1"))
        #expect(t2["appendonlydir/appendonly.aof.2.incr.aof"] == nil)
        let manifest = try AOFManifest.parse(t2["appendonlydir/appendonly.aof.manifest"] ?? [])
        #expect(manifest.increments.map(\.name) == ["appendonly.aof.1.incr.aof"])

        // Before the base: refused, nothing restored.
        options.target = scratch.file("pit3")
        options.toTime = 1_600_000_000
        #expect(exitOf { _ = try RestoreCommand.run(options, output: ByteOutput()) } == .usage)
        #expect(!Directory.exists(scratch.file("pit3")))
    }

    @Test func restoreToTimeNeedsAnAOF() throws {
        let scratch = try Scratch()
        let data = try scratch.mkdir("data")
        try writeFile(data + "/dump.rdb", SampleData.rdb(keys: 1))
        var create = CreateOptions(source: .dataDir(DataDirOptions(dir: data)), outDir: scratch.file("out"))
        create.progress = false
        let archive = try CreateCommand.run(create, output: ByteOutput()).archive
        var options = RestoreOptions(archive: archive, target: scratch.file("pit"))
        options.toTime = 1
        #expect(exitOf { _ = try RestoreCommand.run(options, output: ByteOutput()) } == .usage)
        #expect(!Directory.exists(scratch.file("pit")))
    }
}
