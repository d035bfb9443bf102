#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// What the node knows about its append-only file (docs/operations.md, "AOF"; Redis 7.0's
// aof_* server fields). Touched only on the thread that owns the engine.

public final class AOFState {
    public enum Status: Sendable {
        case off
        case on
        /// Switched on at run time: the first base is being written by a rewrite; commands go to
        /// a temporary increment that becomes the first real one when the rewrite succeeds.
        case waitRewrite
    }

    public internal(set) var status = Status.off
    /// Absolute path of the AOF directory, fixed when the AOF was opened (CONFIG SET dir changes
    /// the working directory, not where an open AOF lives).
    var directory = ""
    public internal(set) var manifest = AOFManifest()
    public internal(set) var writer: AOFWriter?
    /// fsyncs of the increment (a test may put one with a stand-in disk here before the AOF opens).
    public var fsyncThread = AOFFsyncThread()
    /// The propagation sink is installed (once; it ignores batches while the AOF is off).
    var sinkInstalled = false

    /// Group commit: a turn that fed the buffer writes it (and fsyncs, under `always`) in one
    /// task after the turn's reads; replies produced meanwhile wait for that task (the server
    /// holds them until `onTurnWritten`).
    public internal(set) var turnPending = false

    // Sizes (INFO aof_current_size, aof_base_size; auto rewrite).
    /// Bytes of the base and of the increments before the current one.
    var otherFilesBytes: Int64 = 0
    /// aof_current_size at the last rewrite (or the base size at start-up): Redis's
    /// aof_rewrite_base_size, what auto-aof-rewrite-percentage compares against.
    var sizeAtLastRewrite: Int64 = 0

    // The rewrite (BGREWRITEAOF, auto rewrite, CONFIG SET appendonly yes); its child is
    // Persistence.child with kind .aofRewrite.
    public internal(set) var rewriteScheduled = false
    var lastRewriteDurationSeconds: Int64 = -1
    public internal(set) var lastRewriteOK = true
    var rewrites: Int64 = 0
    public internal(set) var consecutiveFailures = 0
    var lastCowBytes: Int64 = 0
    var warmedUp = false
    /// Back-off of automatic rewrites after repeated failures (Redis's aofRewriteLimited).
    public internal(set) var retryDelayMinutes = 0
    var nextRetrySeconds: Int64 = 0

    /// Redis's AOF_REWRITE_LIMITE_THRESHOLD and _MAX_MINUTES.
    static let failuresBeforeBackOff = 3
    static let backOffMinutesMax = 60

    public var currentSize: Int64 { otherFilesBytes + (writer?.incrementBytes ?? 0) }

    /// The temporary increment used while the first base is written (Redis's getTempIncrAofName).
    static func temporaryIncrementName(_ prefix: String) -> String { "temp-\(prefix).incr" }

    /// The file a rewrite child writes, in the AOF directory (Redis: temp-rewriteaof-bg-<pid>.aof).
    static func temporaryBasePath(directory: String, pid: pid_t) -> String {
        directory + "/temp-rewriteaof-bg-\(pid).aof"
    }
}
