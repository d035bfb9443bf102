#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// Writing the keyspace to the RDB file (docs/operations.md, "Persistence"), in the foreground
// (SAVE, SHUTDOWN, DEBUG RELOAD) or in a forked child (BGSAVE, save points). Both write
// `temp-<pid>.rdb` beside the target and replace the target atomically, as Redis's rdbSave.

public enum SnapshotSave {
    /// The step a failed save stopped at, as the child reports it to the parent.
    public enum Step: Int64, Sendable {
        case open = 1, write, fsync, rename, syncDirectory, fork

        public init(_ operation: FileError.Operation) {
            switch operation {
            case .open: self = .open
            case .write: self = .write
            case .fsync, .close: self = .fsync
            case .rename: self = .rename
            case .openDirectory, .fsyncDirectory: self = .syncDirectory
            }
        }
    }

    /// The temporary file of process `pid` for a save to `path`: Redis's `temp-<pid>.rdb`, in
    /// the directory of `path`.
    public static func temporaryPath(beside path: String, pid: pid_t) -> String {
        let name = "temp-\(pid).rdb"
        guard let slash = path.lastIndex(of: "/") else { return name }
        return String(path[...slash]) + name
    }

    /// Writes `engine` to `path` through `temporary` (in the same directory) and replaces `path`
    /// unless `beforeCommit` throws. Every call goes through `fileSystem` (tests inject faults).
    @discardableResult
    public static func save(_ engine: Engine, to path: String, temporary: String, options: RDBSaveOptions,
                            fileSystem: any FileSystem = POSIXFileSystem(), beforeCommit: () throws -> Void = {},
                            progress: ((RDBSaveProgress) -> Void)? = nil) throws -> RDBSaveProgress {
        var written = RDBSaveProgress()
        try AtomicFile.replace(path, temporary: temporary, fileSystem: fileSystem, beforeCommit: beforeCommit) { fd in
            written = try RDBSnapshot.write(engine, to: fd, options: options, fileSystem: fileSystem, progress: progress)
        }
        return written
    }

    /// Forks a child that saves `engine` to `path` (relative paths resolve in the current
    /// directory at the fork) and exits 0 on success, 1 on failure after removing its temporary
    /// file. The child reports progress, a failed step with its errno, and copy-on-write bytes.
    /// A child whose parent died (it is killed with it, but may be past that point) never
    /// renames its file over `path`: a newer server may have saved there since.
    public static func startInBackground(_ engine: Engine, to path: String, options: RDBSaveOptions) throws -> ForkedChild {
        // Decided here, before the fork: a lazy global set in the child would be one more write.
        _ = QuickList.rawNodeLayoutHolds
        return try ForkedChild.spawn { reporter in
            reporter.progress(keys: 0, bytes: 0)
            do {
                let temporary = temporaryPath(beside: path, pid: getpid())
                let written = try save(engine, to: path, temporary: temporary, options: options,
                                       beforeCommit: reporter.requireParent) {
                    reporter.progress(keys: $0.keys, bytes: $0.bytes)
                }
                reporter.finish(keys: written.keys, bytes: written.bytes)
                return 0
            } catch is OrphanedChild {
                return 1
            } catch let error as FileError {
                reporter.fail(step: Step(error.operation).rawValue, code: Int64(error.code))
                return 1
            } catch {
                reporter.fail(step: Step.write.rawValue, code: 0)
                return 1
            }
        }
    }
}
