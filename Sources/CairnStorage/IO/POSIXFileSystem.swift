#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// The FileSystem of production: each call is the system call of the same name, retried on
// EINTR where retrying is safe (not close: Linux has released the descriptor by then). It has
// no state, so `any FileSystem` holding it needs no allocation and it is safe in a forked child.

public struct POSIXFileSystem: FileSystem {
    public init() {}

    public func open(_ path: String, flags: Int32, mode: mode_t) throws(Errno) -> Int32 {
        try retrying { systemOpen(path, flags, mode) }
    }

    @inline(__always)
    public func write(_ fd: Int32, _ bytes: UnsafeRawBufferPointer) throws(Errno) -> Int {
        while true {
            let n = systemWrite(fd, bytes.baseAddress, bytes.count)
            if n >= 0 { return n }
            if errno != EINTR { throw Errno(errno) }
        }
    }

    public func fsync(_ fd: Int32) throws(Errno) { _ = try retrying { systemFsync(fd) } }
    public func fdatasync(_ fd: Int32) throws(Errno) { _ = try retrying { systemFdatasync(fd) } }
    public func ftruncate(_ fd: Int32, length: Int64) throws(Errno) {
        _ = try retrying { systemFtruncate(fd, off_t(length)) }
    }
    public func fchmod(_ fd: Int32, mode: mode_t) throws(Errno) { _ = try retrying { systemFchmod(fd, mode) } }

    public func close(_ fd: Int32) throws(Errno) {
        if systemClose(fd) != 0 && errno != EINTR { throw Errno(errno) }
    }

    public func rename(_ from: String, to: String) throws(Errno) { _ = try retrying { systemRename(from, to) } }
    public func unlink(_ path: String) throws(Errno) { _ = try retrying { systemUnlink(path) } }
    public func mkdir(_ path: String, mode: mode_t) throws(Errno) { _ = try retrying { systemMkdir(path, mode) } }

    public func status(_ path: String) throws(Errno) -> FileStatus {
        var info = stat()
        _ = try retrying { stat(path, &info) }
        return FileStatus(size: Int64(info.st_size), permissions: info.st_mode & 0o7777,
                          isDirectory: info.st_mode & S_IFMT == S_IFDIR)
    }

    /// Runs `call` until it returns something other than -1 with EINTR; -1 throws the errno.
    @inline(__always)
    private func retrying(_ call: () -> Int32) throws(Errno) -> Int32 {
        while true {
            let result = call()
            if result >= 0 { return result }
            if errno != EINTR { throw Errno(errno) }
        }
    }
}

// The system calls under names the methods above do not shadow.
private func systemOpen(_ path: String, _ flags: Int32, _ mode: mode_t) -> Int32 { open(path, flags, mode) }
private func systemWrite(_ fd: Int32, _ p: UnsafeRawPointer?, _ n: Int) -> Int { write(fd, p, n) }
private func systemFsync(_ fd: Int32) -> Int32 { fsync(fd) }
private func systemFdatasync(_ fd: Int32) -> Int32 { fdatasync(fd) }
private func systemFtruncate(_ fd: Int32, _ length: off_t) -> Int32 { ftruncate(fd, length) }
private func systemFchmod(_ fd: Int32, _ mode: mode_t) -> Int32 { fchmod(fd, mode) }
private func systemClose(_ fd: Int32) -> Int32 { close(fd) }
private func systemRename(_ from: String, _ to: String) -> Int32 { rename(from, to) }
private func systemUnlink(_ path: String) -> Int32 { unlink(path) }
private func systemMkdir(_ path: String, _ mode: mode_t) -> Int32 { mkdir(path, mode) }
