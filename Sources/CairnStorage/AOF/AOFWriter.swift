import Logging
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// The append side of the AOF (docs/format-aof.md, docs/operations.md "AOF"; Redis 7.0's
// feedAppendOnlyFile and flushAppendOnlyFile). Propagated commands are encoded into an
// in-memory buffer; once per event-loop turn, before any reply of that turn leaves, the server
// calls `flush`, which writes the buffer to the current increment and applies the fsync policy:
//   always   write + fdatasync on the calling thread: one fsync covers the whole turn.
//   everysec write; an fsync on the background thread at most once a second. While one is still
//            running, writes are postponed (the buffer grows) for up to 2 s, then written anyway
//            (aof_delayed_fsync), so a stalled disk neither blocks the loop nor grows memory
//            without bound.
//   no       write; the kernel decides when the data reaches the disk.
// Write errors keep the buffer for the next try and make the server refuse writes (MISCONF)
// until a write succeeds; under `always` Redis exits instead, since the turn's replies cannot
// be sent and the dataset already changed, and so does Cairn (the caller sees `.fatal`).

public enum AOFFsyncPolicy: String, Sendable, CaseIterable {
    case always, everysec, no
}

public final class AOFWriter {
    public enum FlushOutcome: Equatable, Sendable {
        /// Written (or nothing to write), the policy's fsync done or queued.
        case done
        /// everysec: an fsync is running; the buffer waits (for at most 2 s).
        case postponed
        /// The write failed; the buffer is kept and writes are refused until one succeeds.
        case failed(Int32)
        /// `always` could not write or fsync: the server must exit (message for the log).
        case fatal(String)
    }

    /// The increment being appended to, and its name (for logs).
    public private(set) var fd: Int32
    public var name: String
    public var policy: AOFFsyncPolicy
    public var encoder: CommandStreamEncoder
    /// Encoded commands not yet written (INFO aof_buffer_length).
    public private(set) var buffer: [UInt8] = []
    /// Bytes in the current increment (Redis's aof_last_incr_size).
    public private(set) var incrementBytes: Int64
    /// Bytes of the increment known to be on disk or handed to an fsync (aof_fsync_offset).
    public private(set) var fsyncedBytes: Int64
    /// Unix seconds of the last fsync issued.
    public private(set) var lastFsyncSeconds: Int64
    /// When the current postponement started (0: none).
    public private(set) var postponedSinceSeconds: Int64 = 0
    /// Writes done while an fsync was still running (INFO aof_delayed_fsync).
    public private(set) var delayedFsyncs: Int64 = 0
    /// errno of the last failed write, 0 once a write succeeds (aof_last_write_status).
    public private(set) var writeErrorCode: Int32 = 0
    public let fsyncThread: AOFFsyncThread
    /// The fsync thread's: writes, fsyncs and truncations of the AOF share one seam
    /// (docs/file-system.md).
    public let fileSystem: any FileSystem
    private let logger: Logger
    /// When a failed write was last logged: the cron retries often, the log says it rarely.
    private var lastErrorLogSeconds: Int64 = 0

    /// Redis's AOF_WRITE_LOG_ERROR_RATE: seconds between two logs of failing writes.
    static let errorLogIntervalSeconds: Int64 = 30

    /// A buffer whose capacity grew past this is released after a write rather than kept.
    static let bufferRetainedBytesMax = 64 * 1024
    /// How long everysec postpones writes while a background fsync runs (Redis: 2 s).
    public static let postponeSecondsMax: Int64 = 2

    /// Takes over `fd`, an increment opened for appending that already holds `existingBytes`.
    public init(fd: Int32, name: String, existingBytes: Int64, policy: AOFFsyncPolicy, timestamps: Bool,
                fsyncThread: AOFFsyncThread, logger: Logger, nowSeconds: Int64) {
        self.fd = fd
        self.name = name
        self.policy = policy
        self.encoder = CommandStreamEncoder(timestamps: timestamps)
        self.incrementBytes = existingBytes
        self.fsyncedBytes = existingBytes
        self.lastFsyncSeconds = nowSeconds
        self.fsyncThread = fsyncThread
        self.fileSystem = fsyncThread.fileSystem
        self.logger = logger
    }

    /// Appends one propagated batch to the buffer.
    @inline(__always)
    public func append(_ batch: PropagatedCommands, nowMillis: Int64) {
        encoder.append(batch, nowMillis: nowMillis, to: &buffer)
    }

    /// As above, for commands kept in arrays of their own (tests).
    public func append(_ batch: [PropagatedCommand], nowMillis: Int64) {
        encoder.append(batch, nowMillis: nowMillis, to: &buffer)
    }

    /// errno of the last background fsync if it failed, as of the last `flush` (every command
    /// checks `healthy`; the fsync thread's lock is taken once per flush instead).
    public private(set) var fsyncErrorCode: Int32 = 0

    /// The last write and background fsync went well (no MISCONF).
    public var healthy: Bool { writeErrorCode == 0 && fsyncErrorCode == 0 }

    /// The errno behind a MISCONF refusal, or 0.
    public var failureCode: Int32 { writeErrorCode != 0 ? writeErrorCode : fsyncErrorCode }

    /// Redis's flushAppendOnlyFile. `force` writes even while an fsync runs (rewrites, shutdown);
    /// `skipFsync` is no-appendfsync-on-rewrite with a child running.
    public func flush(force: Bool, nowSeconds: Int64, skipFsync: Bool = false) -> FlushOutcome {
        let fsyncError = fsyncThread.lastErrorCode
        if fsyncError != 0 && fsyncErrorCode == 0 {
            logger.warning("Fail to fsync the AOF file: \(String(cString: strerror(fsyncError)))")
        }
        fsyncErrorCode = fsyncError
        var syncInProgress = false
        if buffer.isEmpty {
            // everysec issues its fsync only after writes; a write whose fsync was skipped (one
            // was running) gets it here once the second has passed, and so does a failed fsync
            // (writes are refused meanwhile, so no write would bring another).
            guard policy == .everysec, fsyncedBytes != incrementBytes || fsyncErrorCode != 0,
                  nowSeconds > lastFsyncSeconds else { return .done }
            if fsyncThread.pendingFsyncs > 0 { return .done }
        } else {
            if policy == .everysec { syncInProgress = fsyncThread.pendingFsyncs > 0 }
            if policy == .everysec && !force && syncInProgress {
                if postponedSinceSeconds == 0 {
                    postponedSinceSeconds = nowSeconds
                    return .postponed
                }
                if nowSeconds - postponedSinceSeconds < Self.postponeSecondsMax { return .postponed }
                delayedFsyncs += 1
                logger.notice("Asynchronous AOF fsync is taking too long (disk is busy?). Writing the AOF buffer without waiting for fsync to complete, this may slow down Redis.")
            }
            postponedSinceSeconds = 0
            if let outcome = writeBuffer(nowSeconds: nowSeconds) { return outcome }
        }
        if skipFsync { return .done }
        switch policy {
        case .always:
            let code = fsyncThread.syncNow(fd)
            if code != 0 {
                return .fatal("Can't persist AOF for fsync error when the AOF fsync policy is 'always': \(String(cString: strerror(code))). Exiting...")
            }
            fsyncedBytes = incrementBytes
            lastFsyncSeconds = nowSeconds
        case .everysec:
            if nowSeconds > lastFsyncSeconds {
                if !syncInProgress {
                    fsyncThread.fsync(fd)
                    fsyncedBytes = incrementBytes
                }
                lastFsyncSeconds = nowSeconds
            }
        case .no:
            break
        }
        return .done
    }

    /// Writes the whole buffer; nil on success, else what `flush` reports.
    private func writeBuffer(nowSeconds: Int64) -> FlushOutcome? {
        let wanted = buffer.count
        var written = 0
        var code: Int32 = 0
        buffer.withUnsafeBytes { raw in
            do throws(Errno) {
                try fileSystem.writeAll(fd, raw, written: &written)
            } catch {
                code = error.code
            }
        }
        if written == wanted {
            if writeErrorCode != 0 {
                logger.warning("AOF write error looks solved, Redis can write again.")
                writeErrorCode = 0
            }
            incrementBytes += Int64(written)
            if buffer.capacity > Self.bufferRetainedBytesMax {
                buffer = []
            } else {
                buffer.removeAll(keepingCapacity: true)
            }
            return nil
        }
        // A partial command in the file would break loading: cut it off again if we can.
        let logNow = policy == .always || nowSeconds - lastErrorLogSeconds > Self.errorLogIntervalSeconds
        if logNow { lastErrorLogSeconds = nowSeconds }
        if written > 0 {
            if logNow { logger.warning("Short write while writing to the AOF file: (nwritten=\(written), expected=\(wanted))") }
            do throws(Errno) {
                try fileSystem.ftruncate(fd, length: incrementBytes)
                written = 0
                code = ENOSPC
            } catch {
                if logNow {
                    logger.warning("Could not remove short write from the append-only file. Redis may refuse to load the AOF the next time it starts. ftruncate: \(error)")
                }
            }
        } else if logNow {
            logger.warning("Error writing to the AOF file: \(String(cString: strerror(code)))")
        }
        if written > 0 {
            incrementBytes += Int64(written)
            buffer.removeFirst(written)
        }
        writeErrorCode = code == 0 ? EIO : code
        if policy == .always {
            return .fatal("Can't recover from AOF write error when the AOF fsync policy is 'always'. Exiting...")
        }
        return .failed(writeErrorCode)
    }

    /// Hands the current increment to the fsync thread (to be fsynced and closed) and continues
    /// in `newFD`, an empty file. The buffer must have been flushed first.
    public func switchTo(fd newFD: Int32, name newName: String, nowSeconds: Int64) {
        fsyncThread.fsyncAndClose(fd)
        fd = newFD
        name = newName
        incrementBytes = 0
        fsyncedBytes = 0
        lastFsyncSeconds = nowSeconds
        // The new file must say which database its first command is for.
        encoder.forgetSelectedDB()
    }

    /// Writes what is buffered and fsyncs on the calling thread (shutdown, CONFIG SET appendonly
    /// no). Returns the errno of a failure, or 0.
    @discardableResult
    public func flushAndSync(nowSeconds: Int64) -> Int32 {
        var code: Int32 = 0
        if !buffer.isEmpty && flush(force: true, nowSeconds: nowSeconds, skipFsync: true) != .done {
            code = writeErrorCode != 0 ? writeErrorCode : EIO
        }
        let synced = fsyncThread.syncNow(fd)
        if synced != 0 { code = synced }
        if code == 0 { fsyncedBytes = incrementBytes }
        fsyncThread.drain()
        return code
    }

    /// Flushes, fsyncs and closes the increment; the writer is unusable afterwards.
    @discardableResult
    public func close(nowSeconds: Int64) -> Int32 {
        guard fd >= 0 else { return 0 }
        let code = flushAndSync(nowSeconds: nowSeconds)
        try? fileSystem.close(fd)
        fd = -1
        return code
    }
}
