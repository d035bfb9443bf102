@testable import CairnStorage
#if canImport(Glibc)
import Glibc
#endif

// What a crash of FaultyFileSystem does: the directory entries and file bytes a power cut may
// lose are put back to their durable state, with plain system calls (the process that made the
// calls is gone; nothing goes through the fault rules).

extension FaultyFileSystem {
    enum CrashMode: Sendable {
        /// Files keep exactly what fsync made durable (LevelDB's DropUnsyncedFileData).
        case dropUnsynced
        /// Files also keep the first `bytes` written since their last fsync, as when the kernel
        /// had already written part of it back: a torn tail.
        case keepUnsynced(bytes: Int)
    }

    /// The process dies and a new one starts: open descriptors are gone, changes to directories
    /// not followed by an fsync of each directory involved are undone (newest first), and files
    /// are cut back to their durable length. Faults still waiting are dropped.
    func simulateCrash(_ mode: CrashMode = .dropUnsynced) {
        locked {
            crashLocked(mode)
            isDown = false
        }
    }

    /// After a crash by a fault (`Action.crash`): calls work again, on what the crash left.
    func restart() {
        locked { isDown = false }
    }

    /// With the mutex held.
    func crashLocked(_ mode: CrashMode) {
        for fd in descriptors.keys { Glibc.close(fd) }
        descriptors = [:]
        pendingWriteErrors = [:]
        for change in journal.reversed() { undo(change.kind) }
        journal = []
        dropUnsyncedBytes(under: root, mode)
        faults = []
        isDown = true
    }

    private func undo(_ change: Change.Kind) {
        switch change {
        case .created(let path):
            Glibc.unlink(path)
        case .createdDirectory(let path):
            Self.removeTree(path)
        case .renamed(let from, let to, let replaced):
            Glibc.rename(to, from)
            if let replaced { Glibc.rename(replaced, to) }
        case .removed(let path, let stashed):
            if let stashed { Glibc.rename(stashed, path) }
        }
    }

    private func dropUnsyncedBytes(under directory: String, _ mode: CrashMode) {
        for name in Self.entries(directory) {
            let path = directory + "/" + name
            guard let info = Self.lstatus(path) else { continue }
            if info.st_mode & S_IFMT == S_IFDIR {
                dropUnsyncedBytes(under: path, mode)
                continue
            }
            let id = FileID(device: UInt64(info.st_dev), inode: UInt64(info.st_ino))
            guard let synced = syncedBytes[id] else { continue }
            var keep = synced
            if case .keepUnsynced(let bytes) = mode { keep += Int64(bytes) }
            let size = Int64(info.st_size)
            if keep < size { Glibc.truncate(path, off_t(keep)) }
            syncedBytes[id] = min(size, keep)
        }
    }

    /// With the mutex held: marks `directory` fsynced; changes whose every directory now is
    /// are durable, and the files they replaced or removed are really gone.
    func makeEntriesDurable(in directory: String) {
        var pending: [Change] = []
        for var change in journal {
            change.unsyncedDirectories.remove(directory)
            if !change.unsyncedDirectories.isEmpty {
                pending.append(change)
                continue
            }
            switch change.kind {
            case .renamed(_, _, let link?), .removed(_, let link?): dropStashLink(link)
            default: break
            }
        }
        journal = pending
    }

    /// With the mutex held: a hard link in the stash to the file at `path`, if it is one.
    func stashLink(_ path: String) -> String? {
        guard let info = Self.lstatus(path), info.st_mode & S_IFMT == S_IFREG else { return nil }
        stashed += 1
        let link = stash + "/\(stashed)"
        return Glibc.link(path, link) == 0 ? link : nil
    }

    private func dropStashLink(_ link: String) {
        // The inode dies with its last name: forget it, the number may come back for a new file.
        if let info = Self.lstatus(link), info.st_nlink == 1 {
            syncedBytes[FileID(device: UInt64(info.st_dev), inode: UInt64(info.st_ino))] = nil
        }
        Glibc.unlink(link)
    }

    // MARK: plain file-system helpers

    static func lstatus(_ path: String) -> stat? {
        var info = stat()
        return lstat(path, &info) == 0 ? info : nil
    }

    static func fstatus(_ fd: Int32) -> stat? {
        var info = stat()
        return fstat(fd, &info) == 0 ? info : nil
    }

    static func entries(_ directory: String) -> [String] {
        DirectoryEntries.names(in: directory) ?? []
    }

    static func removeTree(_ path: String) {
        guard let info = lstatus(path) else { return }
        if info.st_mode & S_IFMT == S_IFDIR {
            for name in entries(path) { removeTree(path + "/" + name) }
            rmdir(path)
        } else {
            Glibc.unlink(path)
        }
    }

    /// The whole content of the file at `path` (nil if it cannot be read), with plain calls.
    static func contents(_ path: String) -> [UInt8]? { AOFTestFiles.read(path) }
}
