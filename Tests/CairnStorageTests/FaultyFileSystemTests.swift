@testable import CairnStorage
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// The double itself: the writers' tests are only as good as its model of a crash, so each rule
/// of that model (docs/file-system.md) has a test here.
@Suite struct FaultyFileSystemTests {
    static func create(_ fs: FaultyFileSystem, _ path: String, _ text: String, sync: Bool) throws -> Int32 {
        let fd = try fs.open(path, flags: O_WRONLY | O_CREAT | O_APPEND, mode: 0o644)
        try append(fs, fd, text)
        if sync { try fs.fsync(fd) }
        return fd
    }

    static func append(_ fs: FaultyFileSystem, _ fd: Int32, _ text: String) throws {
        let (_, failure) = write(fs, fd, text)
        if let failure { throw failure }
    }

    /// What FileSystem.writeAll reports: the bytes written, and the error that stopped it.
    static func write(_ fs: FaultyFileSystem, _ fd: Int32, _ text: String) -> (written: Int, failure: Errno?) {
        var written = 0
        var failure: Errno?
        Array(text.utf8).withUnsafeBytes { bytes in
            do throws(Errno) {
                try fs.writeAll(fd, bytes, written: &written)
            } catch {
                failure = error
            }
        }
        return (written, failure)
    }

    static func text(_ path: String) -> String? {
        FaultyFileSystem.contents(path).map { String(decoding: $0, as: UTF8.self) }
    }

    @Test func aCrashKeepsWhatWasFsyncedAndDropsTheRest() throws {
        let fs = FaultyFileSystem()
        let path = fs.root + "/log"
        let fd = try Self.create(fs, path, "durable ", sync: true)
        try AtomicFile.syncDirectory(of: path, fileSystem: fs)
        try Self.append(fs, fd, "lost")
        fs.simulateCrash()
        #expect(Self.text(path) == "durable ")
    }

    @Test func aTornCrashKeepsAPrefixOfTheUnsyncedBytes() throws {
        let fs = FaultyFileSystem()
        let path = fs.root + "/log"
        let fd = try Self.create(fs, path, "durable ", sync: true)
        try AtomicFile.syncDirectory(of: path, fileSystem: fs)
        try Self.append(fs, fd, "partly lost")
        fs.simulateCrash(.keepUnsynced(bytes: 6))
        #expect(Self.text(path) == "durable partly")
    }

    @Test func aFileCreatedSinceTheLastDirectoryFsyncIsGone() throws {
        let fs = FaultyFileSystem()
        let path = fs.root + "/new"
        _ = try Self.create(fs, path, "synced data, unsynced name", sync: true)
        fs.simulateCrash()
        #expect(Self.text(path) == nil)
    }

    @Test func aRenameWithoutADirectoryFsyncIsUndoneAndTheReplacedFileComesBack() throws {
        let fs = FaultyFileSystem()
        let target = fs.root + "/target"
        let temporary = fs.root + "/temporary"
        try fs.close(try Self.create(fs, target, "old", sync: true))
        try fs.close(try Self.create(fs, temporary, "new", sync: true))
        try AtomicFile.syncDirectory(of: target, fileSystem: fs)
        try fs.rename(temporary, to: target)
        #expect(Self.text(target) == "new")
        fs.simulateCrash()
        #expect(Self.text(target) == "old")
        #expect(Self.text(temporary) == "new")
    }

    @Test func aRenameFollowedByADirectoryFsyncSurvives() throws {
        let fs = FaultyFileSystem()
        let target = fs.root + "/target"
        try fs.close(try Self.create(fs, target, "old", sync: true))
        try fs.close(try Self.create(fs, fs.root + "/temporary", "new", sync: true))
        try fs.rename(fs.root + "/temporary", to: target)
        try AtomicFile.syncDirectory(of: target, fileSystem: fs)
        fs.simulateCrash()
        #expect(Self.text(target) == "new")
        #expect(FaultyFileSystem.entries(fs.root) == ["target"])
        #expect(FaultyFileSystem.entries(fs.stash).isEmpty, "the replaced file is really gone")
    }

    @Test func anUnlinkWithoutADirectoryFsyncIsUndone() throws {
        let fs = FaultyFileSystem()
        let path = fs.root + "/file"
        try fs.close(try Self.create(fs, path, "kept", sync: true))
        try AtomicFile.syncDirectory(of: path, fileSystem: fs)
        try fs.unlink(path)
        fs.simulateCrash()
        #expect(Self.text(path) == "kept")
    }

    @Test func aDirectoryCreatedWithoutAnFsyncOfItsParentIsGoneWithItsFiles() throws {
        let fs = FaultyFileSystem()
        let directory = fs.root + "/sub"
        try fs.mkdir(directory, mode: 0o755)
        try fs.close(try Self.create(fs, directory + "/file", "x", sync: true))
        try AtomicFile.syncDirectory(of: directory + "/file", fileSystem: fs)
        fs.simulateCrash()
        #expect(FaultyFileSystem.entries(fs.root).isEmpty)
    }

    @Test func theNthMatchingCallFailsThenCallsSucceedAgain() throws {
        let fs = FaultyFileSystem()
        let fd = try Self.create(fs, fs.root + "/file", "", sync: false)
        fs.fail(.write, with: ENOSPC, after: 2)
        try Self.append(fs, fd, "a")
        try Self.append(fs, fd, "b")
        #expect(throws: Errno(ENOSPC)) { try Self.append(fs, fd, "c") }
        try Self.append(fs, fd, "d")
        #expect(Self.text(fs.root + "/file") == "abd")
    }

    @Test func aShortWriteIsFollowedByTheError() throws {
        let fs = FaultyFileSystem()
        let fd = try Self.create(fs, fs.root + "/file", "", sync: false)
        fs.inject(.shortWrite(keeping: 3, then: ENOSPC), on: .write)
        let (written, failure) = Self.write(fs, fd, "abcdef")
        #expect(written == 3)
        #expect(failure == Errno(ENOSPC))
        #expect(Self.text(fs.root + "/file") == "abc")
    }

    @Test func afterACrashByAFaultEveryCallFailsUntilRestart() throws {
        let fs = FaultyFileSystem()
        let fd = try Self.create(fs, fs.root + "/file", "a", sync: false)
        fs.crash(afterCalls: 0)
        #expect(throws: Errno(EIO)) { try Self.append(fs, fd, "b") }
        #expect(fs.down)
        #expect(throws: Errno(EIO)) { try fs.status(fs.root) }
        fs.restart()
        #expect(throws: Errno(EBADF), "descriptors die with the process") { try Self.append(fs, fd, "c") }
        #expect(FaultyFileSystem.entries(fs.root).isEmpty)
    }
}
