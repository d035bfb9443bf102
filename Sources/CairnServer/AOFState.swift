import CairnStorage
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// What the node knows about its append-only file (docs/operations.md, "AOF"; Redis 7.0's
// aof_* server fields). Touched only on the event loop, like the rest of the server.

final class AOFState {
    enum Status {
        case off
        case on
        /// Switched on at run time: the first base is being written by a rewrite; commands go to
        /// a temporary increment that becomes the first real one when the rewrite succeeds.
        case waitRewrite
    }

    var status = Status.off
    /// Absolute path of the AOF directory, fixed when the AOF was opened (CONFIG SET dir changes
    /// the working directory, not where an open AOF lives).
    var directory = ""
    var manifest = AOFManifest()
    var writer: AOFWriter?
    /// fsyncs of the increment (a test may put one with a stand-in disk here before the AOF opens).
    var fsyncThread = AOFFsyncThread()
    /// The propagation sink is installed (once; it ignores batches while the AOF is off).
    var sinkInstalled = false

    // Group commit: a turn that fed the buffer writes it (and fsyncs, under `always`) in one task
    // after the turn's reads; replies produced meanwhile wait for that task.
    var turnPending = false
    var heldReplies: [ConnectionHandler] = []

    // Sizes (INFO aof_current_size, aof_base_size; auto rewrite).
    /// Bytes of the base and of the increments before the current one.
    var otherFilesBytes: Int64 = 0
    /// aof_current_size at the last rewrite (or the base size at start-up): Redis's
    /// aof_rewrite_base_size, what auto-aof-rewrite-percentage compares against.
    var sizeAtLastRewrite: Int64 = 0

    // The rewrite (BGREWRITEAOF, auto rewrite, CONFIG SET appendonly yes).
    var child: ForkedChild?
    var childTemporaryPath = ""
    var childDirectory = ""
    var childRdbPreamble = true
    var rewriteStartedSeconds: Int64 = -1
    var rewriteScheduled = false
    var lastRewriteDurationSeconds: Int64 = -1
    var lastRewriteOK = true
    var rewrites: Int64 = 0
    var consecutiveFailures = 0
    var lastCowBytes: Int64 = 0
    var warmedUp = false
    /// Back-off of automatic rewrites after repeated failures (Redis's aofRewriteLimited).
    var retryDelayMinutes = 0
    var nextRetrySeconds: Int64 = 0

    /// Redis's AOF_REWRITE_LIMITE_THRESHOLD and _MAX_MINUTES.
    static let failuresBeforeBackOff = 3
    static let backOffMinutesMax = 60

    var currentSize: Int64 { otherFilesBytes + (writer?.incrementBytes ?? 0) }

    /// The temporary increment used while the first base is written (Redis's getTempIncrAofName).
    static func temporaryIncrementName(_ prefix: String) -> String { "temp-\(prefix).incr" }

    /// The file a rewrite child writes, in the AOF directory (Redis: temp-rewriteaof-bg-<pid>.aof).
    static func temporaryBasePath(directory: String, pid: pid_t) -> String {
        directory + "/temp-rewriteaof-bg-\(pid).aof"
    }

    /// INFO persistence lines (Redis 7.0's order); the size lines only while the AOF is on.
    func infoLines(nowSeconds: Int64) -> [String] {
        var lines = [
            "aof_enabled:\(status == .off ? 0 : 1)",
            "aof_rewrite_in_progress:\(child == nil ? 0 : 1)",
            "aof_rewrite_scheduled:\(rewriteScheduled ? 1 : 0)",
            "aof_last_rewrite_time_sec:\(lastRewriteDurationSeconds)",
            "aof_current_rewrite_time_sec:\(child == nil ? -1 : nowSeconds - rewriteStartedSeconds)",
            "aof_last_bgrewrite_status:\(lastRewriteOK ? "ok" : "err")",
            "aof_rewrites:\(rewrites)",
            "aof_rewrites_consecutive_failures:\(consecutiveFailures)",
            "aof_last_write_status:\(writer?.healthy ?? true ? "ok" : "err")",
            "aof_last_cow_size:\(lastCowBytes)",
            "module_fork_in_progress:0",
            "module_fork_last_cow_size:0",
        ]
        if status != .off {
            lines += [
                "aof_current_size:\(currentSize)",
                "aof_base_size:\(sizeAtLastRewrite)",
                "aof_pending_rewrite:\(rewriteScheduled ? 1 : 0)",
                "aof_buffer_length:\(writer?.buffer.count ?? 0)",
                "aof_pending_bio_fsync:\(fsyncThread.pendingFsyncs)",
                "aof_delayed_fsync:\(writer?.delayedFsyncs ?? 0)",
            ]
        }
        return lines
    }
}

extension AOFManifest {
    /// A new increment after the last one (Redis's getNewIncrAofName).
    mutating func addIncrement(prefix: String) -> Entry {
        let seq = max(lastIncrSeq, history.filter { $0.name.hasSuffix(".incr.aof") }.map(\.seq).max() ?? 0) + 1
        let entry = Entry(name: Self.incrName(prefix, seq: seq), seq: seq, type: .incr)
        increments.append(entry)
        return entry
    }

    /// A new base after the current one, which becomes history (Redis's
    /// getNewBaseFileNameAndMarkPreAsHistory).
    mutating func replaceBase(prefix: String, rdbPreamble: Bool) -> Entry {
        let seq = (base?.seq ?? 0) + 1
        if var old = base {
            old.type = .history
            history.append(old)
        }
        let entry = Entry(name: Self.baseName(prefix, seq: seq, rdbPreamble: rdbPreamble), seq: seq, type: .base)
        base = entry
        return entry
    }

    /// Increments the new base covers become history; the one being written stays when
    /// `keepingLast` (Redis's markRewrittenIncrAofAsHistory).
    mutating func markRewrittenIncrementsAsHistory(keepingLast: Bool) {
        let keep = keepingLast && !increments.isEmpty ? 1 : 0
        let rewritten = increments.dropLast(keep)
        history += rewritten.map { Entry(name: $0.name, seq: $0.seq, type: .history) }
        increments.removeFirst(rewritten.count)
    }
}
