// A file written next to its destination and renamed over it only when complete, so a failed
// or interrupted `convert` never leaves a half-written OUT: temp file, fsync, rename, fsync of
// the directory (as Redis's rdbSave does).
//
// TODO: use CairnStorage's AtomicFile (Sources/CairnStorage/Snapshot/AtomicFile.swift) once it is
// on main; this is the same sequence written inline until then.

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

final class ReplacementFile {
    let path: String
    let temporaryPath: String
    private(set) var fd: Int32
    private var done = false

    init(path: String) throws {
        self.path = path
        temporaryPath = "\(path).tmp-\(getpid())"
        fd = open(temporaryPath, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw ToolError.io("cannot create \(temporaryPath)", errno: errno) }
    }

    deinit { abandon() }

    /// Makes the written bytes durable under `path`.
    func commit() throws {
        guard !done else { return }
        guard fsync(fd) == 0 else { throw failure("cannot fsync \(temporaryPath)") }
        let closed = close(fd)
        fd = -1
        guard closed == 0 else { throw failure("cannot close \(temporaryPath)") }
        guard rename(temporaryPath, path) == 0 else { throw failure("cannot rename \(temporaryPath) to \(path)") }
        done = true
        let dir = Self.directory(of: path)
        let dfd = open(dir, O_RDONLY | O_CLOEXEC)
        guard dfd >= 0 else { throw ToolError.io("cannot open directory \(dir)", errno: errno) }
        defer { POSIX.close(dfd) }
        guard fsync(dfd) == 0 else { throw ToolError.io("cannot fsync directory \(dir)", errno: errno) }
    }

    /// Removes the temporary file (nothing to do after a commit).
    func abandon() {
        guard !done else { return }
        done = true
        if fd >= 0 { POSIX.close(fd) }
        fd = -1
        unlink(temporaryPath)
    }

    private func failure(_ what: String) -> ToolError {
        let error = ToolError.io(what, errno: errno)
        abandon()
        return error
    }

    static func directory(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        let dir = path[..<slash]
        return dir.isEmpty ? "/" : String(dir)
    }
}
