@testable import CairnStorage
import Testing
#if canImport(Glibc)
import Glibc
#endif

@Suite struct AtomicFileTests {
    /// A fresh empty directory; removed (with what the test left in it) by `cleanUp`.
    static func makeDirectory() -> String {
        var template = Array("/tmp/cairn-atomic-XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else { return "/tmp" }
        return String(cString: made)
    }

    static func entries(_ dir: String) -> [String] {
        DirectoryEntries.names(in: dir) ?? []
    }

    static func contents(_ path: String) -> [UInt8]? { AOFTestFiles.read(path) }

    static func cleanUp(_ dir: String) {
        for name in entries(dir) {
            let path = dir + "/" + name
            if rmdir(path) != 0 { unlink(path) }
        }
        rmdir(dir)
    }

    @Test func replaceCreatesAndReplacesLeavingNoTemporary() throws {
        let dir = Self.makeDirectory()
        defer { Self.cleanUp(dir) }
        let path = dir + "/file"
        try AtomicFile.replace(path, with: Array("one".utf8))
        #expect(Self.contents(path) == Array("one".utf8))
        chmod(path, 0o600)
        try AtomicFile.replace(path, with: Array("two, longer".utf8))
        #expect(Self.contents(path) == Array("two, longer".utf8))
        var info = stat()
        stat(path, &info)
        #expect(info.st_mode & 0o777 == 0o600, "the replacement keeps the permission bits")
        #expect(Self.entries(dir) == ["file"])
    }

    @Test func writerClosureAndNamedTemporary() throws {
        let dir = Self.makeDirectory()
        defer { Self.cleanUp(dir) }
        let path = dir + "/dump.rdb"
        try AtomicFile.replace(path, temporary: dir + "/temp-1.rdb") { fd in
            #expect(Self.entries(dir) == ["temp-1.rdb"])
            try Array("abc".utf8).withUnsafeBytes { try AtomicFile.writeAll(fd, $0, path: path) }
        }
        #expect(Self.contents(path) == Array("abc".utf8))
        #expect(Self.entries(dir) == ["dump.rdb"])
    }

    struct Refused: Error {}

    @Test func failedWriteKeepsTheOldFile() throws {
        let dir = Self.makeDirectory()
        defer { Self.cleanUp(dir) }
        let path = dir + "/file"
        try AtomicFile.replace(path, with: Array("old".utf8))
        #expect(throws: Refused.self) {
            try AtomicFile.replace(path) { fd in
                _ = write(fd, "partial", 7)
                throw Refused()
            }
        }
        #expect(Self.contents(path) == Array("old".utf8))
        #expect(Self.entries(dir) == ["file"])
    }

    @Test func failedRenameRemovesTheTemporary() throws {
        let dir = Self.makeDirectory()
        defer { Self.cleanUp(dir) }
        // A non-empty directory where the file should go: rename(2) refuses, even for root.
        let path = dir + "/dump.rdb"
        mkdir(path, 0o755)
        mkdir(path + "/x", 0o755)
        do {
            try AtomicFile.replace(path, with: Array("new".utf8))
            Issue.record("replacing a directory succeeded")
        } catch let error as FileError {
            #expect(error.operation == .rename)
            #expect(error.path == path)
            #expect(error.detail.hasPrefix("rename \(path): "))
        }
        #expect(Self.entries(dir) == ["dump.rdb"])
        rmdir(path + "/x")
    }

    @Test func missingDirectoryFailsAtOpen() {
        do {
            try AtomicFile.replace("/nonexistent-cairn-dir/file", with: [1])
            Issue.record("wrote into a missing directory")
        } catch let error as FileError {
            #expect(error.operation == .open)
            #expect(error.code == ENOENT)
            #expect(error.description == "No such file or directory")
        } catch {
            Issue.record("unexpected \(error)")
        }
    }

    @Test func commitOfAMissingTemporaryFails() {
        #expect(throws: FileError.self) { try AtomicFile.commit("/tmp/cairn-no-such-temp-\(getpid())", to: "/tmp/cairn-x-\(getpid())") }
    }
}
