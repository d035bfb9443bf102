#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// Crash-safe replacement of a file (docs/operations.md, "Persistence"): write a temporary file in
// the target's directory, fsync it, rename it over the target, fsync the directory. A crash at
// any point leaves either the old file or the new one, never a mix, and a rename that returned
// survives a power cut. Every file Cairn replaces goes through here (RDB snapshots, the AOF
// manifest, CONFIG REWRITE, the ACL file), as Redis does for each of them in its own place.
// Every call goes through a FileSystem (docs/file-system.md), so that tests
// can fail each step or crash between two of them.

public enum AtomicFile {
    /// Replaces `path` with `bytes`.
    /// `durable` false skips the fsyncs: the replacement is still atomic (a reader sees the old
    /// file or the new one), but a power cut may lose it (nodes.conf changes Redis does not fsync).
    public static func replace(_ path: String, with bytes: [UInt8], durable: Bool = true,
                               fileSystem: any FileSystem = POSIXFileSystem()) throws {
        try replace(path, fileSystem: fileSystem, durable: durable) { fd in
            try bytes.withUnsafeBytes { try writeAll(fd, $0, path: path, fileSystem: fileSystem) }
        }
    }

    /// Replaces `path` with what `body` writes to the descriptor of a new temporary file
    /// (through `fileSystem`, for the faults of a test to reach it). `temporary` must name a file
    /// in the same directory as `path` (a rename does not cross file systems); by default
    /// `<path>.tmp-<pid>`. The new file keeps the permission bits of the one it replaces.
    /// `beforeCommit` runs once the temporary file is durable and may throw to stop the rename (a
    /// forked child whose parent is gone must not publish). On any failure before the rename the
    /// temporary file is removed and the target left untouched.
    public static func replace(_ path: String, temporary: String? = nil, fileSystem: any FileSystem = POSIXFileSystem(),
                               durable: Bool = true, beforeCommit: () throws -> Void = {}, _ body: (Int32) throws -> Void) throws {
        let temporary = temporary ?? "\(path).tmp-\(getpid())"
        let mode = (try? fileSystem.status(path).permissions) ?? 0o644
        let fd: Int32
        do throws(Errno) {
            fd = try fileSystem.open(temporary, flags: O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode: mode)
        } catch {
            throw FileError(.open, temporary, error)
        }
        var isOpen = true
        defer {
            if isOpen { try? fileSystem.close(fd) }
        }
        do {
            // The umask may have cleared bits of `mode` at creation.
            try? fileSystem.fchmod(fd, mode: mode)
            try body(fd)
            if durable {
                do throws(Errno) { try fileSystem.fsync(fd) } catch { throw FileError(.fsync, temporary, error) }
            }
            isOpen = false
            do throws(Errno) { try fileSystem.close(fd) } catch { throw FileError(.close, temporary, error) }
            try beforeCommit()
        } catch {
            try? fileSystem.unlink(temporary)
            throw error
        }
        try commit(temporary, to: path, fileSystem: fileSystem, durable: durable)
    }

    /// Renames `temporary` (already written and fsynced) over `path` and fsyncs the directory.
    /// The temporary file is removed if the rename fails. A failed directory fsync throws with
    /// the new file already in place: it may not survive a power cut, so the caller must report
    /// the save as failed (Redis's rdbSave does the same).
    public static func commit(_ temporary: String, to path: String, fileSystem: any FileSystem = POSIXFileSystem(),
                              durable: Bool = true) throws {
        do throws(Errno) {
            try fileSystem.rename(temporary, to: path)
        } catch {
            try? fileSystem.unlink(temporary)
            throw FileError(.rename, path, error)
        }
        if durable { try syncDirectory(of: path, fileSystem: fileSystem) }
    }

    /// fsyncs the directory holding `path`, so that a rename or creation in it is durable.
    public static func syncDirectory(of path: String, fileSystem: any FileSystem = POSIXFileSystem()) throws {
        let directory = directory(of: path)
        let fd: Int32
        do throws(Errno) {
            fd = try fileSystem.open(directory, flags: O_RDONLY | O_CLOEXEC, mode: 0)
        } catch {
            throw FileError(.openDirectory, directory, error)
        }
        defer { try? fileSystem.close(fd) }
        do throws(Errno) { try fileSystem.fsync(fd) } catch { throw FileError(.fsyncDirectory, directory, error) }
    }

    /// The directory holding `path` ("." for a bare name): the one to fsync after creating,
    /// renaming or removing `path`.
    public static func directory(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }

    /// Writes all of `bytes` to `fd`, continuing after short writes.
    public static func writeAll(_ fd: Int32, _ bytes: UnsafeRawBufferPointer, path: String,
                                fileSystem: any FileSystem = POSIXFileSystem()) throws {
        var written = 0
        do throws(Errno) {
            try fileSystem.writeAll(fd, bytes, written: &written)
        } catch {
            throw FileError(.write, path, error)
        }
    }
}
