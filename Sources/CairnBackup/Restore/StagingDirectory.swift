// Where a restore writes before anything of the target is touched (docs/tools-cairn-backup.md,
// "restore"): a hidden sibling of the target, on the same file system, so that the finished tree
// takes the target's place by rename. Every file and directory is fsynced before that rename; a
// failure removes the staging directory and leaves the target as it was.

import CairnStorage
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

final class StagingDirectory: MemberOutput {
    let path: String
    let target: String
    /// Members with these roles are checked but not written (a point-in-time restore skips the RDB).
    var skippedRoles: Set<BackupManifest.Role> = []
    private(set) var written: [String] = []
    private var directories: [String] = []
    private var current: (fd: Int32, path: String)?
    /// Tests put a failing sink here (a full disk).
    var wrapFileSink: ((ByteSink) -> ByteSink)?

    init(target: String) throws {
        self.target = target
        let parent = Directory.parent(of: target)
        guard Directory.isDirectory(parent) else {
            throw BackupError(.io, "cannot restore into \(target): \(parent) is not a directory")
        }
        path = parent + "/." + Directory.baseName(of: target) + ".restore-\(getpid())"
        try? Directory.removeTree(path)
        guard mkdir(path, 0o700) == 0 else { throw BackupError.io("cannot create \(path)", errno: errno) }
    }

    deinit { if let current { close(current.fd) } }

    func directory(_ relative: String, mode: UInt32) throws {
        try makeParents(of: relative + "/x")
    }

    func beginFile(_ relative: String, role: BackupManifest.Role, mode: UInt32, mtime: Int64) throws -> ByteSink? {
        guard !skippedRoles.contains(role) else { return nil }
        try makeParents(of: relative)
        let full = path + "/" + relative
        let fd = open(full, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode_t(mode & 0o777))
        guard fd >= 0 else { throw BackupError.io("cannot create \(full)", errno: errno) }
        current = (fd, full)
        let sink = FileSink(fd: fd)
        return wrapFileSink?(sink) ?? sink
    }

    func endFile(_ relative: String) throws {
        guard let (fd, full) = current else { return }
        current = nil
        guard fsync(fd) == 0 else {
            let code = errno
            close(fd)
            throw BackupError.io("cannot fsync \(full)", errno: code)
        }
        guard close(fd) == 0 else { throw BackupError.io("cannot close \(full)", errno: errno) }
        written.append(relative)
    }

    private func makeParents(of relative: String) throws {
        var components = relative.split(separator: "/").map(String.init)
        components.removeLast()
        var dir = path
        for c in components {
            dir += "/" + c
            if Directory.isDirectory(dir) { continue }
            guard mkdir(dir, 0o755) == 0 else { throw BackupError.io("cannot create \(dir)", errno: errno) }
            directories.append(dir)
        }
    }

    /// fsyncs the tree, then puts it in the target's place: renamed over a missing or empty
    /// target; a non-empty one (allowed by --force) is first moved aside, then removed.
    func commit(mode: mode_t) throws {
        if let current {
            close(current.fd)
            self.current = nil
        }
        for dir in directories.reversed() { try Directory.fsync(dir) }
        _ = chmod(path, mode)
        try Directory.fsync(path)
        let parent = Directory.parent(of: target)
        let emptyTarget = try !Directory.exists(target) || (Directory.isDirectory(target) && Directory.list(target).isEmpty)
        if emptyTarget {
            guard rename(path, target) == 0 else { throw BackupError.io("cannot rename \(path) to \(target)", errno: errno) }
        } else {
            let aside = parent + "/." + Directory.baseName(of: target) + ".replaced-\(getpid())"
            guard rename(target, aside) == 0 else { throw BackupError.io("cannot move \(target) aside", errno: errno) }
            guard rename(path, target) == 0 else {
                let code = errno
                _ = rename(aside, target)
                throw BackupError.io("cannot rename \(path) to \(target)", errno: code)
            }
            try Directory.fsync(parent)
            try Directory.removeTree(aside)
        }
        try Directory.fsync(parent)
    }

    /// Removes the staging tree (after a failure).
    func discard() {
        if let current {
            close(current.fd)
            self.current = nil
        }
        try? Directory.removeTree(path)
    }
}
