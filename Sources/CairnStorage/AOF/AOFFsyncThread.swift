#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// The AOF's background fsync thread (docs/operations.md, "AOF"; Redis's bio.c jobs
// BIO_AOF_FSYNC and BIO_CLOSE_AOF): with `appendfsync everysec` the event loop hands the fsync
// of the current increment to this thread so that a slow disk never stalls command execution,
// and an increment that is no longer written is fsynced and closed here too.
//
// One thread, jobs in order. The event loop asks how many fsyncs are pending (to postpone
// writes while one runs, as Redis does) and whether the last one failed (writes are refused
// with MISCONF until one succeeds). A forked child never touches this object.

public final class AOFFsyncThread: @unchecked Sendable {
    private enum Job {
        case fsync(Int32)
        case fsyncAndClose(Int32)
        case stop
    }

    private let lock: UnsafeMutablePointer<pthread_mutex_t>
    private let wake: UnsafeMutablePointer<pthread_cond_t>
    private let idle: UnsafeMutablePointer<pthread_cond_t>
    // Guarded by `lock`.
    private var jobs: [Job] = []
    private var fsyncsPending = 0
    private var working = false
    private var failureCode: Int32 = 0
    private var thread: pthread_t?
    /// Where the fsyncs and closes go (docs/file-system.md); the AOFWriter writes through it too.
    public let fileSystem: any FileSystem
    /// The file system's fdatasync, or a test's stand-in: 0, or the errno.
    private let sync: @Sendable (Int32) -> Int32

    public convenience init(fileSystem: any FileSystem = POSIXFileSystem()) {
        self.init(fileSystem: fileSystem) { fd in
            do throws(Errno) {
                try fileSystem.fdatasync(fd)
                return 0
            } catch {
                return error.code
            }
        }
    }

    /// fdatasync replaced by `sync`, which returns -1 and sets errno on failure as fdatasync
    /// does: a test's slow or failing disk.
    public convenience init(sync: @escaping @Sendable (Int32) -> Int32) {
        self.init(fileSystem: POSIXFileSystem()) { fd in sync(fd) == 0 ? 0 : errno }
    }

    private init(fileSystem: any FileSystem, syncReturningErrno sync: @escaping @Sendable (Int32) -> Int32) {
        self.fileSystem = fileSystem
        self.sync = sync
        lock = .allocate(capacity: 1)
        wake = .allocate(capacity: 1)
        idle = .allocate(capacity: 1)
        pthread_mutex_init(lock, nil)
        pthread_cond_init(wake, nil)
        pthread_cond_init(idle, nil)
    }

    deinit {
        stop()
        pthread_cond_destroy(idle)
        pthread_cond_destroy(wake)
        pthread_mutex_destroy(lock)
        idle.deallocate()
        wake.deallocate()
        lock.deallocate()
    }

    /// fsyncs queued or running (INFO aof_pending_bio_fsync; Redis's aofFsyncInProgress).
    public var pendingFsyncs: Int {
        pthread_mutex_lock(lock)
        defer { pthread_mutex_unlock(lock) }
        return fsyncsPending
    }

    /// errno of the last background fsync if it failed, else 0 (Redis's aof_bio_fsync_status).
    public var lastErrorCode: Int32 {
        pthread_mutex_lock(lock)
        defer { pthread_mutex_unlock(lock) }
        return failureCode
    }

    /// fdatasync of `fd` on the calling thread (`always`, shutdown): 0, or the errno. A file
    /// that cannot be synced (EINVAL: a pipe, /dev/null) has nothing to lose and counts as done.
    public func syncNow(_ fd: Int32) -> Int32 {
        while true {
            let code = sync(fd)
            if code == EINTR { continue }
            return code == EINVAL ? 0 : code
        }
    }

    /// Queues an fsync (fdatasync) of `fd`; the caller keeps the descriptor open.
    public func fsync(_ fd: Int32) { submit(.fsync(fd)) }

    /// Queues an fsync of `fd` followed by its close: the descriptor now belongs to this thread.
    public func fsyncAndClose(_ fd: Int32) { submit(.fsyncAndClose(fd)) }

    /// Blocks until every queued job has run (shutdown, switching policies, tests).
    public func drain() {
        pthread_mutex_lock(lock)
        while !jobs.isEmpty || working { pthread_cond_wait(idle, lock) }
        pthread_mutex_unlock(lock)
    }

    /// Runs the queued jobs, then ends the thread. Later jobs start a new one.
    public func stop() {
        pthread_mutex_lock(lock)
        guard let running = thread else {
            pthread_mutex_unlock(lock)
            return
        }
        jobs.append(.stop)
        pthread_cond_signal(wake)
        pthread_mutex_unlock(lock)
        pthread_join(running, nil)
        pthread_mutex_lock(lock)
        thread = nil
        pthread_mutex_unlock(lock)
    }

    private func submit(_ job: Job) {
        pthread_mutex_lock(lock)
        defer { pthread_mutex_unlock(lock) }
        jobs.append(job)
        if case .fsync = job { fsyncsPending += 1 }
        if thread == nil { startThread() }
        pthread_cond_signal(wake)
    }

    /// Called with `lock` held.
    private func startThread() {
        let context = Unmanaged.passRetained(self).toOpaque()
        var handle = pthread_t()
        let created = pthread_create(&handle, nil, { raw in
            guard let raw else { return nil }
            let worker = Unmanaged<AOFFsyncThread>.fromOpaque(raw).takeRetainedValue()
            worker.run()
            return nil
        }, context)
        if created == 0 {
            thread = handle
        } else {
            // No thread: run the jobs on the caller's thread rather than lose an fsync.
            Unmanaged<AOFFsyncThread>.fromOpaque(context).release()
            let pending = jobs
            jobs = []
            for job in pending { perform(job, locked: true) }
        }
    }

    private func run() {
        pthread_mutex_lock(lock)
        while true {
            while jobs.isEmpty { pthread_cond_wait(wake, lock) }
            let job = jobs.removeFirst()
            if case .stop = job {
                pthread_cond_broadcast(idle)
                pthread_mutex_unlock(lock)
                return
            }
            working = true
            pthread_mutex_unlock(lock)
            perform(job, locked: false)
            pthread_mutex_lock(lock)
            working = false
            if jobs.isEmpty { pthread_cond_broadcast(idle) }
        }
    }

    private func perform(_ job: Job, locked: Bool) {
        let fd: Int32
        switch job {
        case .fsync(let d), .fsyncAndClose(let d): fd = d
        case .stop: return
        }
        let code = syncNow(fd)
        if case .fsyncAndClose = job { try? fileSystem.close(fd) }
        if !locked { pthread_mutex_lock(lock) }
        if case .fsync = job {
            fsyncsPending -= 1
            failureCode = code
        } else if code != 0 {
            failureCode = code
        }
        if !locked { pthread_mutex_unlock(lock) }
    }
}
