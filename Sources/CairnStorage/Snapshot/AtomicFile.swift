#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// Crash-safe replacement of a file (docs/operations.md, "Persistence"): write a temporary file in
// the target's directory, fsync it, rename it over the target, fsync the directory. A crash at
// any point leaves either the old file or the new one, never a mix, and a rename that returned
// survives a power cut. Every file Cairn replaces goes through here (RDB snapshots, CONFIG
// REWRITE, later the AOF manifest), as Redis does for each of them in its own place.

/// A system call failed on a file. `description` is the system's text alone (what Redis puts
/// after a colon in its replies); `detail` also names the operation and the file, for logs.
public struct FileError: Error, CustomStringConvertible, Sendable {
    public enum Operation: String, Sendable {
        case open, write, fsync, close, rename
        case openDirectory = "open directory"
        case fsyncDirectory = "fsync directory"
    }
    public let operation: Operation
    public let path: String
    public let code: Int32

    public init(_ operation: Operation, _ path: String, code: Int32) {
        self.operation = operation
        self.path = path
        self.code = code
    }

    public var description: String { String(cString: strerror(code)) }
    public var detail: String { "\(operation.rawValue) \(path): \(description)" }
}

public enum AtomicFile {
    /// Replaces `path` with `bytes`.
    public static func replace(_ path: String, with bytes: [UInt8]) throws {
        try replace(path) { fd in try bytes.withUnsafeBytes { try writeAll(fd, $0, path: path) } }
    }

    /// Replaces `path` with what `body` writes to the descriptor of a new temporary file.
    /// `temporary` must name a file in the same directory as `path` (a rename does not cross file
    /// systems); by default `<path>.tmp-<pid>`. The new file keeps the permission bits of the one
    /// it replaces. `beforeCommit` runs once the temporary file is durable and may throw to stop
    /// the rename (a forked child whose parent is gone must not publish). On any failure the
    /// temporary file is removed and the target left untouched.
    public static func replace(_ path: String, temporary: String? = nil, beforeCommit: () throws -> Void = {},
                               _ body: (Int32) throws -> Void) throws {
        let temporary = temporary ?? "\(path).tmp-\(getpid())"
        var mode: mode_t = 0o644
        var info = stat()
        if stat(path, &info) == 0 { mode = info.st_mode & 0o7777 }
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode)
        guard fd >= 0 else { throw FileError(.open, temporary, code: errno) }
        var isOpen = true
        defer {
            if isOpen { close(fd) }
        }
        do {
            _ = fchmod(fd, mode)
            try body(fd)
            guard fsync(fd) == 0 else { throw FileError(.fsync, temporary, code: errno) }
            isOpen = false
            guard close(fd) == 0 else { throw FileError(.close, temporary, code: errno) }
            try beforeCommit()
        } catch {
            unlink(temporary)
            throw error
        }
        try commit(temporary, to: path)
    }

    /// Renames `temporary` (already written and fsynced) over `path` and fsyncs the directory.
    /// The temporary file is removed if the rename fails.
    public static func commit(_ temporary: String, to path: String) throws {
        guard rename(temporary, path) == 0 else {
            let code = errno
            unlink(temporary)
            throw FileError(.rename, path, code: code)
        }
        try syncDirectory(of: path)
    }

    /// fsyncs the directory holding `path`, so that a rename or creation in it is durable.
    public static func syncDirectory(of path: String) throws {
        let directory: String
        if let slash = path.lastIndex(of: "/") {
            directory = slash == path.startIndex ? "/" : String(path[..<slash])
        } else {
            directory = "."
        }
        let fd = open(directory, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw FileError(.openDirectory, directory, code: errno) }
        defer { close(fd) }
        guard fsync(fd) == 0 else { throw FileError(.fsyncDirectory, directory, code: errno) }
    }

    /// Writes all of `bytes` to `fd`, retrying short writes and EINTR.
    public static func writeAll(_ fd: Int32, _ bytes: UnsafeRawBufferPointer, path: String) throws {
        var written = 0
        while written < bytes.count {
            let n = write(fd, bytes.baseAddress.map { $0 + written }, bytes.count - written)
            if n < 0 {
                if errno == EINTR { continue }
                throw FileError(.write, path, code: errno)
            }
            written += n
        }
    }
}
