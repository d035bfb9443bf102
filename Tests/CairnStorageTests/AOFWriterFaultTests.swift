@testable import CairnStorage
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// AOFWriter against a failing disk, one test per kind of fault (docs/operations.md, "AOF"):
/// a failed write keeps the buffer and refuses writes (MISCONF) until a retry succeeds, a short
/// write is cut off or completed so that no command is torn or written twice, a failed fsync
/// under everysec is retried by the cron, and under always either failure is fatal.
@Suite struct AOFWriterFaultTests {
    @Test func aFailedWriteMakesTheWriterUnhealthyUntilARetrySucceeds() throws {
        let aof = try FaultyAOF(.everysec)
        aof.append(0)
        #expect(aof.flush() == .done)
        let before = aof.writer.incrementBytes
        aof.fs.fail(.write, with: ENOSPC)
        aof.append(1)
        #expect(aof.flush() == .failed(ENOSPC))
        #expect(!aof.writer.healthy, "MISCONF from now on")
        #expect(aof.writer.failureCode == ENOSPC)
        #expect(aof.writer.incrementBytes == before)
        #expect(aof.fileBytes == before)
        #expect(aof.flush() == .done, "the next turn (or the cron) writes the kept buffer")
        #expect(aof.writer.healthy)
        aof.now += 1
        #expect(aof.flush() == .done)
        aof.thread.drain()
        aof.fs.simulateCrash()
        #expect(try aof.load().commands == 2)
    }

    @Test func aShortWriteIsCutOffAndTheRetryWritesTheCommandsOnce() throws {
        let aof = try FaultyAOF(.everysec)
        aof.append(0)
        #expect(aof.flush() == .done)
        let before = aof.writer.incrementBytes
        aof.fs.inject(.shortWrite(keeping: 10, then: ENOSPC), on: .write)
        aof.append(1)
        #expect(aof.flush() == .failed(ENOSPC))
        #expect(aof.fileBytes == before, "the partial command was truncated away")
        #expect(aof.writer.incrementBytes == before)
        #expect(aof.flush() == .done)
        #expect(aof.fileBytes == aof.writer.incrementBytes)
        let (loaded, summary) = try aof.load()
        #expect(loaded == 2)
        #expect(summary.truncatedFile == nil)
    }

    /// When the partial command cannot be cut off, it stays and the retry writes only the rest
    /// of the buffer, so the file still holds each command once, whole.
    @Test func aShortWriteThatCannotBeCutOffIsCompletedByTheRetry() throws {
        let aof = try FaultyAOF(.everysec)
        aof.append(0)
        #expect(aof.flush() == .done)
        let before = aof.writer.incrementBytes
        aof.fs.inject(.shortWrite(keeping: 10, then: ENOSPC), on: .write)
        aof.fs.fail(.truncate, with: EIO)
        aof.append(1)
        #expect(aof.flush() == .failed(ENOSPC))
        #expect(aof.writer.incrementBytes == before + 10)
        #expect(!aof.writer.healthy)
        #expect(aof.flush() == .done)
        #expect(aof.writer.healthy)
        let (loaded, summary) = try aof.load()
        #expect(loaded == 2)
        #expect(summary.truncatedFile == nil)
    }

    @Test func aFailedBackgroundFsyncMakesTheWriterUnhealthyUntilTheCronRetries() throws {
        let aof = try FaultyAOF(.everysec)
        aof.fs.fail(.sync, with: EIO)
        aof.append(0)
        aof.now = 101
        #expect(aof.flush() == .done)
        aof.thread.drain()
        // The writer learns of the result at its next flush (a turn or the cron).
        #expect(aof.flush() == .done)
        #expect(!aof.writer.healthy)
        #expect(aof.writer.failureCode == EIO)
        aof.now = 102
        #expect(aof.flush() == .done, "the cron's fsync, a second later")
        aof.thread.drain()
        #expect(aof.flush() == .done)
        #expect(aof.writer.healthy)
        aof.fs.simulateCrash()
        #expect(try aof.load().commands == 1)
    }

    @Test func underAlwaysAFailedWriteIsFatal() throws {
        let aof = try FaultyAOF(.always)
        aof.fs.fail(.write, with: EIO)
        aof.append(0)
        guard case .fatal(let message) = aof.flush() else {
            Issue.record("expected a fatal outcome")
            return
        }
        #expect(message.contains("'always'"))
    }

    @Test func underAlwaysAFailedFsyncIsFatal() throws {
        let aof = try FaultyAOF(.always)
        aof.fs.fail(.sync, with: EIO)
        aof.append(0)
        guard case .fatal(let message) = aof.flush() else {
            Issue.record("expected a fatal outcome")
            return
        }
        #expect(message.contains("fsync error"))
        #expect(message.contains("Input/output error"))
    }

    /// switchTo hands the old increment to the fsync thread, which fsyncs it before closing it:
    /// its last commands survive a crash even under appendfsync no.
    @Test func aSwitchedIncrementIsFsyncedBeforeItIsClosed() throws {
        let aof = try FaultyAOF(.no)
        aof.append(0)
        #expect(aof.flush() == .done)
        let written = aof.writer.incrementBytes
        let next = try aof.fs.open(aof.fs.root + "/next", flags: O_WRONLY | O_APPEND | O_CREAT, mode: 0o644)
        let first = aof.fs.calls.count
        aof.writer.switchTo(fd: next, name: "next", nowSeconds: aof.now)
        aof.thread.drain()
        #expect(aof.fs.calls(since: first).map(\.operation) == [.sync, .close])
        aof.fs.simulateCrash()
        #expect(aof.fileBytes == written)
    }
}
