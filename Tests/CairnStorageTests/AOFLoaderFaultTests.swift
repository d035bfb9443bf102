@testable import CairnStorage
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// The files the AOF writes besides increments, against a failing disk: the cut of a torn tail
/// at load (docs/format-aof.md, "Loading") is durable before anything is appended after it, or
/// the load fails; a base whose write fails leaves the previous one (docs/operations.md, "AOF").
@Suite struct AOFLoaderFaultTests {
    /// Three durable commands followed by a durable torn one: what a crash mid-write can leave.
    static func tornAOF() throws -> FaultyAOF {
        let aof = try FaultyAOF(.always)
        for i in 0..<3 {
            aof.append(i)
            #expect(aof.flush() == .done)
        }
        let fd = try aof.fs.open(aof.path, flags: O_WRONLY | O_APPEND, mode: 0)
        try Array("*3\r\n$3\r\nSET\r\n$2\r\nk".utf8).withUnsafeBytes {
            try AtomicFile.writeAll(fd, $0, path: aof.path, fileSystem: aof.fs)
        }
        try aof.fs.fsync(fd)
        try aof.fs.close(fd)
        return aof
    }

    @Test func theCutOfATornTailIsDurable() throws {
        let aof = try Self.tornAOF()
        let whole = aof.writer.incrementBytes
        let (loaded, summary) = try aof.load()
        #expect(loaded == 3)
        #expect(summary.truncatedFile == aof.name)
        aof.fs.simulateCrash()
        #expect(aof.fileBytes == whole)
        #expect(try aof.load().summary.truncatedFile == nil)
    }

    @Test(arguments: [FaultyFileSystem.Operation.truncate, .sync, .open])
    func aCutThatCannotBeMadeDurableRefusesTheLoad(_ operation: FaultyFileSystem.Operation) throws {
        let aof = try Self.tornAOF()
        let path = aof.path
        aof.fs.fail(operation, with: EIO, path: { $0 == path })
        let error = #expect(throws: AOFError.self) { _ = try aof.load() }
        #expect(error?.kind == .io)
    }

    @Test func aFailedBaseWriteKeepsThePreviousBase() throws {
        let fs = FaultyFileSystem()
        let path = fs.root + "/appendonly.aof.1.base.aof"
        try AtomicFile.replace(path, with: Array("*1\r\n$4\r\nPING\r\n".utf8), fileSystem: fs)
        let harness = EngineHarness()
        for i in 0..<20_000 { harness.run("SET", "key:\(i)", "value") }
        fs.fail(.write, with: ENOSPC)
        let error = #expect(throws: FileError.self) {
            try AtomicFile.replace(path, fileSystem: fs) { fd in
                try AOFBase.write(harness.engine, to: fd, rdbPreamble: false, rdb: RDBSaveOptions(), fileSystem: fs)
            }
        }
        #expect(error?.code == ENOSPC)
        #expect(FaultyFileSystem.contents(path) == Array("*1\r\n$4\r\nPING\r\n".utf8))
        #expect(FaultyFileSystem.entries(fs.root) == ["appendonly.aof.1.base.aof"])
    }
}
