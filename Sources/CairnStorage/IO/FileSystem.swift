#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// The one door through which Cairn's writers reach the file system (docs/file-system.md), as
// LevelDB's Env: the RDB save, the AOF (its increments, the fsync thread, the manifest, rewrite
// bases, the cut of a torn tail), AtomicFile and through it every crash-safe replacement.
// Production passes POSIXFileSystem, a thin layer over the system calls; tests pass a double that
// fails chosen calls and, on a simulated crash, loses what was not fsynced. Each requirement is
// one system call with the same meaning, so a writer's error handling is exactly what runs
// against a real disk. Reads (the loaders, the manifest) still use the system directly: the
// double works on real files, so they see what it left on disk.

/// The errno of a failed system call. Writers turn it into their own errors (FileError,
/// AOFError), naming the operation and the file the call alone does not know.
public struct Errno: Error, Equatable, Sendable, CustomStringConvertible {
    public let code: Int32
    public init(_ code: Int32) { self.code = code }
    public var description: String { String(cString: strerror(code)) }
}

/// What `FileSystem.status` reports about a path (stat(2), following symbolic links).
public struct FileStatus: Equatable, Sendable {
    public var size: Int64
    /// The permission bits (st_mode & 0o7777).
    public var permissions: mode_t
    public var isDirectory: Bool
    public init(size: Int64, permissions: mode_t, isDirectory: Bool) {
        self.size = size
        self.permissions = permissions
        self.isDirectory = isDirectory
    }
}

/// File-system calls as their POSIX namesakes, errors as the errno. Implementations are used
/// from more than one thread at once (the AOF's fsync thread), hence Sendable.
public protocol FileSystem: Sendable {
    /// open(2): a descriptor. Opening a directory read-only gives one to fsync it.
    func open(_ path: String, flags: Int32, mode: mode_t) throws(Errno) -> Int32
    /// One write(2): the bytes written, fewer than asked on a short write. Never EINTR.
    func write(_ fd: Int32, _ bytes: UnsafeRawBufferPointer) throws(Errno) -> Int
    /// fsync(2): a file's data and metadata, or, on a directory's descriptor, its entries
    /// (creations, renames, removals in it).
    func fsync(_ fd: Int32) throws(Errno)
    /// fdatasync(2): the data and the size, not the timestamps (the AOF's fsync).
    func fdatasync(_ fd: Int32) throws(Errno)
    func ftruncate(_ fd: Int32, length: Int64) throws(Errno)
    func fchmod(_ fd: Int32, mode: mode_t) throws(Errno)
    /// close(2). The descriptor is gone even when this throws.
    func close(_ fd: Int32) throws(Errno)
    func rename(_ from: String, to: String) throws(Errno)
    func unlink(_ path: String) throws(Errno)
    func mkdir(_ path: String, mode: mode_t) throws(Errno)
    /// stat(2); ENOENT for a missing path.
    func status(_ path: String) throws(Errno) -> FileStatus
}

extension FileSystem {
    /// Writes all of `bytes`, continuing after short writes. On failure, `written` says how many
    /// bytes reached the file before the failing call (the AOF cuts them off again).
    public func writeAll(_ fd: Int32, _ bytes: UnsafeRawBufferPointer, written: inout Int) throws(Errno) {
        while written < bytes.count {
            written += try write(fd, UnsafeRawBufferPointer(rebasing: bytes[written...]))
        }
    }
}
