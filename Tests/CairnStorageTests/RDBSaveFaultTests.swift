@testable import CairnStorage
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// SAVE's crash safety (docs/operations.md, "Persistence"): whatever step of the temp file,
/// fsync, rename, directory fsync fails or is cut by a crash, dump.rdb is the old snapshot or
/// the new one, loadable whole; the temporary file goes on a failure; the error keeps the errno.
@Suite struct RDBSaveFaultTests {
    static func engine(prefix: String, keys: Int) -> Engine {
        let harness = EngineHarness()
        let value = String(repeating: prefix, count: 120 / prefix.count)
        for i in 0..<keys { harness.run("SET", "\(prefix):\(i)", value + String(i)) }
        harness.run("RPUSH", "\(prefix):list", "a", "b", "c")
        return harness.engine
    }

    static func options() -> RDBSaveOptions {
        var options = RDBSaveOptions()
        options.compression = .none
        return options
    }

    /// The dataset on disk before the save under test, and the one it writes: enough data for
    /// several writes of RDBOutput's 64 KiB buffer.
    final class Datasets {
        let old = RDBSaveFaultTests.engine(prefix: "old", keys: 100)
        let new = RDBSaveFaultTests.engine(prefix: "new", keys: 2000)
        lazy var oldDigest = DatasetDigest.dataset(old)
        lazy var newDigest = DatasetDigest.dataset(new)
    }

    /// A FaultyFileSystem whose dump.rdb durably holds the old dataset.
    struct Disk {
        let fs = FaultyFileSystem()
        var path: String { fs.root + "/dump.rdb" }
        var temporary: String { fs.root + "/temp-1.rdb" }
        let datasets: Datasets

        init(_ datasets: Datasets = Datasets()) throws {
            self.datasets = datasets
            try SnapshotSave.save(datasets.old, to: path, temporary: temporary, options: RDBSaveFaultTests.options(),
                                  fileSystem: fs)
        }

        func saveNew() throws {
            try SnapshotSave.save(datasets.new, to: path, temporary: temporary, options: RDBSaveFaultTests.options(),
                                  fileSystem: fs)
        }

        /// The digest of what dump.rdb loads as (it must load whole).
        func loaded() throws -> String {
            let engine = Engine()
            _ = try RDBSnapshot.load(path: path, into: engine, options: RDBLoadOptions())
            return DatasetDigest.dataset(engine)
        }

        var oldDigest: String { datasets.oldDigest }
        var newDigest: String { datasets.newDigest }
        var temporaryExists: Bool { FaultyFileSystem.lstatus(temporary) != nil }
    }

    /// Runs the save expecting a FileError; returns it.
    static func failingSave(_ disk: Disk) -> FileError? {
        do {
            try disk.saveNew()
            Issue.record("the save succeeded")
            return nil
        } catch let error as FileError {
            return error
        } catch {
            Issue.record("not a FileError: \(error)")
            return nil
        }
    }

    @Test(arguments: [FaultyFileSystem.Action.fail(ENOSPC), .shortWrite(keeping: 1000, then: ENOSPC)])
    func aFullDiskKeepsTheOldFileAndRemovesTheTemporary(_ action: FaultyFileSystem.Action) throws {
        let disk = try Disk()
        let temporary = disk.temporary
        // The third write: part of the new snapshot is already in the temporary file.
        disk.fs.inject(action, on: .write, path: { $0 == temporary }, after: 2)
        let error = Self.failingSave(disk)
        #expect(error?.operation == .write)
        #expect(error?.code == ENOSPC)
        #expect(error?.description == "No space left on device")
        #expect(try disk.loaded() == disk.oldDigest)
        #expect(!disk.temporaryExists)
    }

    @Test func aFailedFsyncKeepsTheOldFileAndRemovesTheTemporary() throws {
        let disk = try Disk()
        let temporary = disk.temporary
        disk.fs.fail(.sync, with: EIO, path: { $0 == temporary })
        let error = Self.failingSave(disk)
        #expect(error?.operation == .fsync)
        #expect(error?.code == EIO)
        #expect(try disk.loaded() == disk.oldDigest)
        #expect(!disk.temporaryExists)
    }

    @Test func aFailedRenameKeepsTheOldFileAndRemovesTheTemporary() throws {
        let disk = try Disk()
        disk.fs.fail(.rename, with: EIO)
        let error = Self.failingSave(disk)
        #expect(error?.operation == .rename)
        #expect(error?.code == EIO)
        #expect(try disk.loaded() == disk.oldDigest)
        #expect(!disk.temporaryExists)
    }

    @Test func aTemporaryThatCannotBeCreatedLeavesTheOldFile() throws {
        let disk = try Disk()
        let temporary = disk.temporary
        disk.fs.fail(.open, with: EACCES, path: { $0 == temporary })
        let error = Self.failingSave(disk)
        #expect(error?.operation == .open)
        #expect(error?.path == temporary)
        #expect(try disk.loaded() == disk.oldDigest)
    }

    /// The new file is in place but not durable: the save must count as failed, since a power
    /// cut can still bring the old one back.
    @Test func aFailedDirectoryFsyncReportsTheSaveFailedThoughTheNewFileIsInPlace() throws {
        let disk = try Disk()
        disk.fs.fail(.syncDirectory, with: EIO)
        let error = Self.failingSave(disk)
        #expect(error?.operation == .fsyncDirectory)
        #expect(try disk.loaded() == disk.newDigest)
        disk.fs.simulateCrash()
        #expect(try disk.loaded() == disk.oldDigest)
    }

    @Test func aCrashBeforeTheDirectoryFsyncKeepsTheOldFile() throws {
        let disk = try Disk()
        disk.fs.inject(.crash(.dropUnsynced), on: .syncDirectory)
        _ = Self.failingSave(disk)
        disk.fs.restart()
        #expect(try disk.loaded() == disk.oldDigest)
    }

    @Test func aCrashAfterACompletedSaveKeepsTheNewFile() throws {
        let disk = try Disk()
        try disk.saveNew()
        disk.fs.simulateCrash()
        #expect(try disk.loaded() == disk.newDigest)
        #expect(!disk.temporaryExists)
    }

    /// LevelDB's fault_injection_test loop: crash before each call of a save in turn, with and
    /// without a torn tail; dump.rdb always loads, as the new snapshot exactly when the crash
    /// came after the directory fsync that made the rename durable.
    @Test(arguments: [FaultyFileSystem.CrashMode.dropUnsynced, .keepUnsynced(bytes: 5000)])
    func aCrashAtAnyCallLeavesTheOldOrTheNewFile(_ mode: FaultyFileSystem.CrashMode) throws {
        let datasets = Datasets()
        let reference = try Disk(datasets)
        let before = reference.fs.calls.count
        try reference.saveNew()
        let calls = reference.fs.calls(since: before)
        let durableAfter = try #require(calls.firstIndex { $0.operation == .syncDirectory })
        #expect(calls.count >= 10)
        for crashAt in 0...calls.count {
            let disk = try Disk(datasets)
            disk.fs.crash(afterCalls: crashAt, mode: mode)
            // A crash at the last call (closing the directory) leaves the save successful.
            _ = try? disk.saveNew()
            if disk.fs.down {
                disk.fs.restart()
            } else {
                disk.fs.simulateCrash(mode)
            }
            let expected = crashAt > durableAfter ? disk.newDigest : disk.oldDigest
            let when = crashAt < calls.count ? "before \(calls[crashAt])" : "after the save"
            #expect(try disk.loaded() == expected, "crash \(when)")
        }
    }
}
