@testable import CairnStorage
#if canImport(Glibc)
import Glibc
#endif

/// A FileSystem for tests, after LevelDB's FaultInjectionTestEnv (db/fault_injection_test.cc;
/// docs/file-system.md). It works on real files under `root` and adds two things a real disk
/// does not do on demand:
/// - faults: a chosen call (the Nth write, the fsync of one file, a rename, ...) fails with a
///   chosen errno, writes only part of its bytes, or crashes the process before it runs
///   (FaultyFileSystem+Faults.swift);
/// - crashes: `simulateCrash` loses what a power cut may lose. Each file keeps what its last
///   fsync made durable (appended data only: the writers never overwrite in place), and every
///   creation, rename and removal not followed by an fsync of its directory is undone, a
///   replaced or removed file coming back (a hard link in `stash` keeps it until then)
///   (FaultyFileSystem+Crash.swift).
/// Durability is simulated: no real fsync runs. Every descriptor a caller uses must come from
/// `open` here, and every path must be under `root`. Thread-safe: the AOF's fsync thread calls it.
final class FaultyFileSystem: FileSystem, @unchecked Sendable {
    enum Operation: String, Sendable {
        case open, write, sync, syncDirectory, truncate, chmod, close, rename, unlink, mkdir, status
    }

    /// What the double knows of a file: the device and inode, so that state follows renames.
    struct FileID: Hashable {
        let device: UInt64
        let inode: UInt64
    }

    struct OpenFile {
        var path: String
        let id: FileID
        let isDirectory: Bool
    }

    /// A change to a directory's entries, undone by a crash unless every directory it touched
    /// was fsynced since.
    struct Change {
        enum Kind {
            case created(String)
            case createdDirectory(String)
            /// `replaced`: the stash link to the file `to` named before.
            case renamed(from: String, to: String, replaced: String?)
            case removed(String, stashed: String?)
        }
        let kind: Kind
        var unsyncedDirectories: Set<String>
    }

    /// The directory the test works in.
    let root: String
    /// Holds `root` and `stash`; removed with everything in it when the double goes.
    let base: String
    let stash: String
    let posix = POSIXFileSystem()
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)

    // Guarded by `mutex`; the extensions in the other FaultyFileSystem files use them too.
    var faults: [Fault] = []
    var descriptors: [Int32: OpenFile] = [:]
    /// Bytes of each file made durable by its last fsync (or present when first seen).
    var syncedBytes: [FileID: Int64] = [:]
    /// The errno a descriptor's next write fails with (after a short write).
    var pendingWriteErrors: [Int32: Int32] = [:]
    var journal: [Change] = []
    var stashed = 0
    var isDown = false
    var callLog: [Call] = []

    init() {
        var template = Array("/tmp/cairn-faultfs-XXXXXX".utf8CString)
        base = mkdtemp(&template).map { String(cString: $0) } ?? "/tmp/cairn-faultfs"
        root = base + "/data"
        stash = base + "/stash"
        Glibc.mkdir(root, 0o755)
        Glibc.mkdir(stash, 0o755)
        pthread_mutex_init(mutex, nil)
    }

    deinit {
        for fd in descriptors.keys { Glibc.close(fd) }
        Self.removeTree(base)
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
    }

    func locked<T, E: Error>(_ body: () throws(E) -> T) throws(E) -> T {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return try body()
    }

    func inside(_ path: String) throws(Errno) {
        guard path == root || path.hasPrefix(root + "/") else { throw Errno(EACCES) }
    }

    func tracked(_ fd: Int32) throws(Errno) -> OpenFile {
        guard let file = descriptors[fd] else { throw Errno(EBADF) }
        return file
    }

    // MARK: FileSystem

    func open(_ path: String, flags: Int32, mode: mode_t) throws(Errno) -> Int32 {
        try locked { () throws(Errno) -> Int32 in
            _ = try begin(.open, path)
            try inside(path)
            let existed = Self.lstatus(path) != nil
            let fd = try posix.open(path, flags: flags, mode: mode)
            guard let info = Self.fstatus(fd) else {
                Glibc.close(fd)
                throw Errno(EIO)
            }
            let id = FileID(device: UInt64(info.st_dev), inode: UInt64(info.st_ino))
            let isDirectory = info.st_mode & S_IFMT == S_IFDIR
            if !existed {
                journal.append(Change(kind: .created(path), unsyncedDirectories: [AtomicFile.directory(of: path)]))
                syncedBytes[id] = 0
            } else if !isDirectory {
                // A truncation is no more durable than a write: after a crash the file may be empty.
                if flags & O_TRUNC != 0 { syncedBytes[id] = 0 }
                if syncedBytes[id] == nil { syncedBytes[id] = Int64(info.st_size) }
            }
            descriptors[fd] = OpenFile(path: path, id: id, isDirectory: isDirectory)
            return fd
        }
    }

    func write(_ fd: Int32, _ bytes: UnsafeRawBufferPointer) throws(Errno) -> Int {
        try locked { () throws(Errno) -> Int in
            let file = try tracked(fd)
            if !isDown, let code = pendingWriteErrors.removeValue(forKey: fd) {
                callLog.append(Call(operation: .write, path: file.path))
                throw Errno(code)
            }
            var count = bytes.count
            if case .shortWrite(let keeping, let code)? = try begin(.write, file.path) {
                guard keeping > 0 else { throw Errno(code) }
                count = min(keeping, count)
                pendingWriteErrors[fd] = code
            }
            return try posix.write(fd, UnsafeRawBufferPointer(rebasing: bytes[..<count]))
        }
    }

    func fsync(_ fd: Int32) throws(Errno) { try sync(fd) }
    func fdatasync(_ fd: Int32) throws(Errno) { try sync(fd) }

    private func sync(_ fd: Int32) throws(Errno) {
        try locked { () throws(Errno) in
            let file = try tracked(fd)
            _ = try begin(file.isDirectory ? .syncDirectory : .sync, file.path)
            if file.isDirectory {
                makeEntriesDurable(in: file.path)
            } else if let info = Self.fstatus(fd) {
                syncedBytes[file.id] = Int64(info.st_size)
            }
        }
    }

    func ftruncate(_ fd: Int32, length: Int64) throws(Errno) {
        try locked { () throws(Errno) in
            let file = try tracked(fd)
            _ = try begin(.truncate, file.path)
            try posix.ftruncate(fd, length: length)
            syncedBytes[file.id] = min(syncedBytes[file.id] ?? length, length)
        }
    }

    func fchmod(_ fd: Int32, mode: mode_t) throws(Errno) {
        try locked { () throws(Errno) in
            let file = try tracked(fd)
            _ = try begin(.chmod, file.path)
            try posix.fchmod(fd, mode: mode)
        }
    }

    func close(_ fd: Int32) throws(Errno) {
        try locked { () throws(Errno) in
            let file = try tracked(fd)
            // The descriptor is released whatever the call reports, as close(2) does on Linux.
            descriptors[fd] = nil
            pendingWriteErrors[fd] = nil
            defer { Glibc.close(fd) }
            _ = try begin(.close, file.path)
        }
    }

    func rename(_ from: String, to: String) throws(Errno) {
        try locked { () throws(Errno) in
            _ = try begin(.rename, to)
            try inside(from)
            try inside(to)
            let replaced = stashLink(to)
            do throws(Errno) {
                try posix.rename(from, to: to)
            } catch {
                if let replaced { Glibc.unlink(replaced) }
                throw error
            }
            journal.append(Change(kind: .renamed(from: from, to: to, replaced: replaced),
                                  unsyncedDirectories: [AtomicFile.directory(of: from), AtomicFile.directory(of: to)]))
            for (fd, file) in descriptors where file.path == from { descriptors[fd]?.path = to }
        }
    }

    func unlink(_ path: String) throws(Errno) {
        try locked { () throws(Errno) in
            _ = try begin(.unlink, path)
            try inside(path)
            let stashed = stashLink(path)
            do throws(Errno) {
                try posix.unlink(path)
            } catch {
                if let stashed { Glibc.unlink(stashed) }
                throw error
            }
            journal.append(Change(kind: .removed(path, stashed: stashed),
                                  unsyncedDirectories: [AtomicFile.directory(of: path)]))
        }
    }

    func mkdir(_ path: String, mode: mode_t) throws(Errno) {
        try locked { () throws(Errno) in
            _ = try begin(.mkdir, path)
            try inside(path)
            try posix.mkdir(path, mode: mode)
            journal.append(Change(kind: .createdDirectory(path), unsyncedDirectories: [AtomicFile.directory(of: path)]))
        }
    }

    func status(_ path: String) throws(Errno) -> FileStatus {
        try locked { () throws(Errno) -> FileStatus in
            _ = try begin(.status, path)
            try inside(path)
            return try posix.status(path)
        }
    }
}
