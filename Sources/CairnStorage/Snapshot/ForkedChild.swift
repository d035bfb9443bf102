import CPosix
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// A forked child process that does one job and reports to its parent through a pipe
// (docs/operations.md, "Persistence"; Redis's rdbSaveBackground and childinfo.c). The child is a
// copy of the parent frozen at the fork: it serialises that copy while the parent keeps serving.
//
// Only the forking thread exists in the child, so the child must not wait for a lock another
// thread of the parent may have held at the fork (logging, NIO, the Swift runtime's metadata
// caches: the parent runs the child's code paths once before the first fork). glibc's malloc is
// safe to use after fork (its locks are reset in the child). Reports are fixed-size records
// written with plain write(2); the copy-on-write measurement reads /proc with a buffer allocated
// before the fork and parses it in place.
//
// A child never outlives its parent: the kernel kills it when the forking thread ends
// (PR_SET_PDEATHSIG), a report that finds the pipe closed ends it, and a job checks
// `requireParent()` before it publishes anything (a restarted server may own the files by then).

/// Why a fork could not be started.
public struct ForkError: Error, CustomStringConvertible, Sendable {
    public let code: Int32
    public init(code: Int32) { self.code = code }
    public var description: String { String(cString: strerror(code)) }
}

/// One report from the child: four native-endian Int64 (parent and child are the same program).
public struct ChildRecord: Sendable, Equatable {
    public enum Kind: Int64, Sendable {
        /// keys and bytes done so far; `cow` when it was measured (else -1).
        case progress = 1
        /// The job failed: `keys` holds the failing step, `bytes` the errno (0 if none).
        case failure = 2
        /// The job finished: final keys, bytes and copy-on-write size.
        case done = 3
    }
    public var kind: Kind
    public var keys: Int64
    public var bytes: Int64
    public var cow: Int64

    public init(kind: Kind, keys: Int64, bytes: Int64, cow: Int64) {
        self.kind = kind
        self.keys = keys
        self.bytes = bytes
        self.cow = cow
    }

    public static let size = 4 * MemoryLayout<Int64>.size
}

/// How the child ended.
public enum ChildExit: Equatable, Sendable {
    case exited(Int32)
    case signaled(Int32)
    /// waitpid no longer knows the child (someone else reaped it).
    case vanished

    init(waitStatus status: Int32) {
        let signal = status & 0x7f
        self = signal == 0 ? .exited((status >> 8) & 0xff) : .signaled(signal)
    }
}

/// Thrown in a child whose parent has gone: it must stop without publishing anything.
public struct OrphanedChild: Error {}

/// The child's side of the pipe. Created by the parent before the fork (so that the buffer the
/// copy-on-write measurement reads into already exists) and used only in the child.
public final class ChildReporter {
    let fd: Int32
    /// The process that forked this child.
    let parentPID: pid_t
    private let buffer: UnsafeMutableRawBufferPointer
    private var lastCowMicros: Int64 = 0
    private var cow: Int64 = -1
    /// How often a progress report also measures copy-on-write memory (reading /proc costs
    /// about a millisecond on a large process).
    public static let cowIntervalMicros: Int64 = 1_000_000
    static let bufferBytes = 16 * 1024

    init(fd: Int32, parentPID: pid_t) {
        self.fd = fd
        self.parentPID = parentPID
        buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: Self.bufferBytes, alignment: 16)
    }

    deinit { buffer.deallocate() }

    /// Keys and bytes written so far. Dropped rather than waited for when the pipe is full.
    public func progress(keys: Int64, bytes: Int64) {
        let now = Clock.monotonicMicros()
        if now - lastCowMicros >= Self.cowIntervalMicros {
            cow = copyOnWriteBytes()
            lastCowMicros = now
        }
        send(ChildRecord(kind: .progress, keys: keys, bytes: bytes, cow: cow), wait: false)
    }

    /// The job failed at `step` (a number the job defines) with `code` (an errno, or 0).
    public func fail(step: Int64, code: Int64) {
        send(ChildRecord(kind: .failure, keys: step, bytes: code, cow: -1), wait: true)
    }

    /// The job is done; also measures the final copy-on-write size.
    public func finish(keys: Int64, bytes: Int64) {
        send(ChildRecord(kind: .done, keys: keys, bytes: bytes, cow: copyOnWriteBytes()), wait: true)
    }

    /// Throws `OrphanedChild` when the parent that forked this child is no longer its parent
    /// (it died and the child was adopted). Call right before publishing a file.
    public func requireParent() throws {
        if getppid() != parentPID { throw OrphanedChild() }
    }

    /// Exit status of a child that stopped because its parent is gone.
    public static let orphanedExitCode: Int32 = 3

    private func send(_ record: ChildRecord, wait: Bool) {
        var raw = (record.kind.rawValue, record.keys, record.bytes, record.cow)
        withUnsafeBytes(of: &raw) { bytes in
            while true {
                let n = write(fd, bytes.baseAddress, bytes.count)
                if n == bytes.count { return }
                // Records are smaller than PIPE_BUF, so a write is all or nothing.
                if n < 0 && errno == EINTR { continue }
                // The read end closed: the parent is gone (Redis's child exits the same way).
                if n < 0 && errno == EPIPE { _exit(Self.orphanedExitCode) }
                if n < 0 && errno == EAGAIN && wait {
                    var p = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
                    _ = poll(&p, 1, 1000)
                    continue
                }
                return
            }
        }
    }

    /// Bytes this process has dirtied privately since the fork: the sum of Private_Dirty in
    /// /proc/self/smaps_rollup (or smaps), as Redis's zmalloc_get_private_dirty. -1 if unreadable.
    /// Parses in place without allocating.
    public func copyOnWriteBytes() -> Int64 {
        var fd = Self.openPath("/proc/self/smaps_rollup")
        if fd < 0 { fd = Self.openPath("/proc/self/smaps") }
        guard fd >= 0 else { return -1 }
        defer { close(fd) }
        let key: StaticString = "Private_Dirty:"
        var scanner = SmapsScanner()
        while true {
            let n = read(fd, buffer.baseAddress, buffer.count)
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { break }
            scanner.scan(UnsafeRawBufferPointer(rebasing: buffer[0..<n]), key: key)
        }
        return scanner.finish() * 1024
    }

    private static func openPath(_ path: StaticString) -> Int32 {
        path.utf8Start.withMemoryRebound(to: CChar.self, capacity: path.utf8CodeUnitCount + 1) {
            open($0, O_RDONLY | O_CLOEXEC)
        }
    }
}

/// Sums the kB values of the lines that start with a key, across reads that may split lines.
struct SmapsScanner {
    private enum State { case matching, number, skipping }
    private var state = State.matching
    private var matched = 0
    private var value: Int64 = 0
    private var total: Int64 = 0

    mutating func scan(_ bytes: UnsafeRawBufferPointer, key: StaticString) {
        let keyBytes = UnsafeRawBufferPointer(start: key.utf8Start, count: key.utf8CodeUnitCount)
        for b in bytes {
            if b == UInt8(ascii: "\n") {
                endLine()
                continue
            }
            switch state {
            case .matching:
                if b == keyBytes[matched] {
                    matched += 1
                    if matched == keyBytes.count { state = .number }
                } else {
                    state = .skipping
                }
            case .number:
                if b >= UInt8(ascii: "0") && b <= UInt8(ascii: "9") {
                    value = value &* 10 &+ Int64(b - UInt8(ascii: "0"))
                } else if b != UInt8(ascii: " ") && b != UInt8(ascii: "\t") {
                    total += value
                    value = 0
                    state = .skipping
                }
            case .skipping:
                break
            }
        }
    }

    private mutating func endLine() {
        if state == .number { total += value }
        state = .matching
        matched = 0
        value = 0
    }

    mutating func finish() -> Int64 {
        endLine()
        return total
    }
}

/// The parent's handle on a running child: reads its reports, reaps it, enforces the watchdog.
/// Used only on the thread that forked it.
public final class ForkedChild {
    public let pid: pid_t
    /// How long fork() took in the parent (INFO latest_fork_usec).
    public let forkMicros: Int64
    public let startedMicros: Int64
    /// When the last report arrived (or the fork, before any), monotonic µs.
    public private(set) var lastReportMicros: Int64
    public private(set) var keys: Int64 = 0
    public private(set) var bytes: Int64 = 0
    /// Latest and highest copy-on-write size reported, and when the latest arrived (unix ms).
    public private(set) var cowBytes: Int64 = 0
    public private(set) var cowPeakBytes: Int64 = 0
    public private(set) var cowUpdatedMillis: Int64 = 0
    public private(set) var failure: (step: Int64, code: Int64)?
    public private(set) var finished = false
    /// The watchdog killed the child for making no progress.
    public private(set) var killedByWatchdog = false
    private var readFD: Int32
    private var partial: [UInt8] = []

    private init(pid: pid_t, readFD: Int32, forkMicros: Int64, startedMicros: Int64) {
        self.pid = pid
        self.readFD = readFD
        self.forkMicros = forkMicros
        self.startedMicros = startedMicros
        lastReportMicros = startedMicros
    }

    deinit { if readFD >= 0 { close(readFD) } }

    /// Forks; the child runs `job` and `_exit`s with the code it returns. The child closes every
    /// descriptor it inherited but the pipe and `keeping` (listening sockets and client
    /// connections stay the parent's alone: a connection the parent closes must not be held open
    /// by the child; `keeping` is for a job that writes to descriptors it was given, such as the
    /// sockets of replicas in a diskless sync).
    public static func spawn(keeping: [Int32] = [], _ job: (ChildReporter) -> Int32) throws -> ForkedChild {
        var fds: [Int32] = [0, 0]
        guard pipe(&fds) == 0 else { throw ForkError(code: errno) }
        let (readFD, writeFD) = (fds[0], fds[1])
        _ = fcntl(readFD, F_SETFD, FD_CLOEXEC)
        _ = fcntl(writeFD, F_SETFD, FD_CLOEXEC)
        _ = fcntl(readFD, F_SETFL, fcntl(readFD, F_GETFL) | O_NONBLOCK)
        let parentPID = getpid()
        let reporter = ChildReporter(fd: writeFD, parentPID: parentPID)
        let closeFrom = DescriptorCloser.shared
        // Sorted before the fork: the child does as little as it can.
        let kept = (keeping + [writeFD]).sorted()
        let start = Clock.monotonicMicros()
        let pid = fork()
        if pid == 0 {
            // Die with the parent; if it died before this call, stop now.
            _ = cairn_set_parent_death_signal(SIGKILL)
            if getppid() != parentPID { _exit(ChildReporter.orphanedExitCode) }
            close(readFD)
            DescriptorCloser.resetSignals()
            closeFrom.closeAll(except: kept)
            _ = fcntl(writeFD, F_SETFL, fcntl(writeFD, F_GETFL) | O_NONBLOCK)
            _exit(job(reporter))
        }
        let forkMicros = Clock.monotonicMicros() - start
        close(writeFD)
        guard pid > 0 else {
            let code = errno
            close(readFD)
            throw ForkError(code: code)
        }
        return ForkedChild(pid: pid, readFD: readFD, forkMicros: forkMicros, startedMicros: start)
    }

    /// Reads the reports waiting in the pipe and reaps the child if it has exited, without
    /// blocking. Kills the child (SIGKILL) when `watchdogMicros` > 0 and no report came for that
    /// long. Returns how the child ended, once it has.
    public func poll(watchdogMicros: Int64, now: Int64 = Clock.monotonicMicros()) -> ChildExit? {
        drain(now: now)
        var status: Int32 = 0
        let r = waitpid(pid, &status, WNOHANG)
        if r == pid {
            drain(now: now)
            closePipe()
            return ChildExit(waitStatus: status)
        }
        if r < 0 && errno != EINTR {
            closePipe()
            return .vanished
        }
        if watchdogMicros > 0 && !killedByWatchdog && now - lastReportMicros > watchdogMicros {
            killedByWatchdog = true
            kill(SIGKILL)
        }
        return nil
    }

    public func kill(_ signal: Int32 = SIGKILL) {
        signalProcess(pid, signal)
    }

    /// Blocks until the child has exited (after `kill`, at shutdown, in tests).
    public func wait() -> ChildExit {
        var status: Int32 = 0
        while true {
            let r = waitpid(pid, &status, 0)
            if r == pid { break }
            if r < 0 && errno == EINTR { continue }
            closePipe()
            return .vanished
        }
        drain(now: Clock.monotonicMicros())
        closePipe()
        return ChildExit(waitStatus: status)
    }

    private func closePipe() {
        if readFD >= 0 { close(readFD) }
        readFD = -1
    }

    private func drain(now: Int64) {
        guard readFD >= 0 else { return }
        var chunk = [UInt8](repeating: 0, count: 64 * ChildRecord.size)
        while true {
            let n = chunk.withUnsafeMutableBytes { read(readFD, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { return }
            partial.append(contentsOf: chunk[0..<n])
            var offset = 0
            while partial.count - offset >= ChildRecord.size {
                let fields = partial.withUnsafeBytes { raw in
                    (0..<4).map { raw.loadUnaligned(fromByteOffset: offset + $0 * 8, as: Int64.self) }
                }
                offset += ChildRecord.size
                if let kind = ChildRecord.Kind(rawValue: fields[0]) {
                    receive(ChildRecord(kind: kind, keys: fields[1], bytes: fields[2], cow: fields[3]), now: now)
                }
            }
            partial.removeFirst(offset)
        }
    }

    private func receive(_ record: ChildRecord, now: Int64) {
        lastReportMicros = now
        switch record.kind {
        case .progress, .done:
            keys = record.keys
            bytes = record.bytes
            finished = finished || record.kind == .done
        case .failure:
            failure = (record.keys, record.bytes)
        }
        if record.cow >= 0 {
            cowBytes = record.cow
            cowPeakBytes = max(cowPeakBytes, record.cow)
            cowUpdatedMillis = Clock.unixMillis()
        }
    }
}

private func signalProcess(_ pid: pid_t, _ signal: Int32) {
    _ = kill(pid, signal)
}

/// Closes every inherited descriptor in the child. close_range(2) when the C library has it
/// (looked up once in the parent: dlsym takes a lock), else a loop up to the descriptor limit.
final class DescriptorCloser: @unchecked Sendable {
    private typealias CloseRange = @convention(c) (UInt32, UInt32, Int32) -> Int32
    private let closeRange: CloseRange?
    private let limit: Int32

    static let shared = DescriptorCloser()

    private init() {
        let handle = dlopen(nil, RTLD_NOW)
        closeRange = dlsym(handle, "close_range").map { unsafeBitCast($0, to: CloseRange.self) }
        var rl = rlimit()
        getrlimit(Int32(RLIMIT_NOFILE.rawValue), &rl)
        limit = Int32(clamping: min(rl.rlim_cur, 65536))
    }

    /// Closes every descriptor from 3 up, but those in `keep` (sorted ascending).
    func closeAll(except keep: [Int32]) {
        if let closeRange {
            var from: Int32 = 3
            for fd in keep where fd >= from {
                if fd > from { _ = closeRange(UInt32(from), UInt32(fd - 1), 0) }
                from = fd + 1
            }
            if closeRange(UInt32(from), UInt32.max, 0) == 0 { return }
        }
        var fd: Int32 = 3
        while fd < limit {
            if !keep.contains(fd) { close(fd) }
            fd += 1
        }
    }

    /// The parent may ignore or block signals (SIGTERM is handled on a dispatch queue); the
    /// child takes the defaults so that it can be stopped. A write to a closed pipe or socket
    /// must be an EPIPE the job handles (a replica gone mid-sync, a dead parent), not a signal
    /// that kills the child.
    static func resetSignals() {
        signal(SIGPIPE, SIG_IGN)
        signal(SIGTERM, SIG_DFL)
        signal(SIGINT, SIG_DFL)
        signal(SIGUSR1, SIG_DFL)
        signal(SIGHUP, SIG_DFL)
        var none = sigset_t()
        sigemptyset(&none)
        pthread_sigmask(SIG_SETMASK, &none, nil)
    }
}
