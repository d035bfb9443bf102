import Logging
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// An RDB stream written by a forked child straight to the descriptors of replicas (a diskless
// full sync, `repl-diskless-sync yes`; Redis 7.0's rdbSaveToSlavesSockets). Every replica of the
// sync gets the same bytes: the caller's framing prefix (e.g. `$EOF:<mark>\r\n`), the RDB, the
// framing suffix (the mark again). A replica whose descriptor fails is dropped and the others go
// on; the job fails only when none is left. The child uses the one child slot like any other job.

/// Writes every chunk to each descriptor, waiting (poll) while one is full: descriptors shared
/// with the parent may be non-blocking.
final class FanOutSink: ByteSink {
    private var descriptors: [Int32]
    /// Descriptors that failed (EPIPE, ECONNRESET, ...), left out from then on.
    private(set) var failed: [Int32] = []
    private(set) var bytesWritten: Int64 = 0
    /// A replica that takes nothing for this long is dropped (repl-timeout), so that one stuck
    /// reader cannot hold the child, and every later sync, forever.
    private let stallLimitMillis: Int32

    init(descriptors: [Int32], stallLimitMillis: Int32 = 60_000) {
        self.descriptors = descriptors
        self.stallLimitMillis = stallLimitMillis
    }

    var live: Int { descriptors.count }

    func consume(_ bytes: UnsafeRawBufferPointer) throws {
        var i = 0
        while i < descriptors.count {
            if Self.writeAll(descriptors[i], bytes, stallLimitMillis: stallLimitMillis) {
                i += 1
            } else {
                failed.append(descriptors.remove(at: i))
            }
        }
        bytesWritten += Int64(bytes.count)
        guard !descriptors.isEmpty else { throw FileError(.write, "replica sockets", code: EPIPE) }
    }

    func finish() throws {}

    /// Writes `bytes` whole to `fd`; false when the descriptor failed.
    private static func writeAll(_ fd: Int32, _ bytes: UnsafeRawBufferPointer, stallLimitMillis: Int32) -> Bool {
        var written = 0
        var stalledMillis: Int32 = 0
        while written < bytes.count {
            let n = write(fd, bytes.baseAddress.map { $0 + written }, bytes.count - written)
            if n >= 0 {
                written += n
                stalledMillis = 0
                continue
            }
            switch errno {
            case EINTR: continue
            case EAGAIN:
                guard stalledMillis < stallLimitMillis else { return false }
                var p = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
                let wait = min(1000, stallLimitMillis - stalledMillis)
                if poll(&p, 1, wait) == 0 { stalledMillis += wait }
            default: return false
            }
        }
        return true
    }
}

extension Persistence {
    /// Forks a child that writes `prefix`, the RDB stream of the dataset and `suffix` to each of
    /// `descriptors` (they stay the caller's: the parent closes nothing). False when the child
    /// slot is taken or the fork failed. `compression` overrides rdbcompression; a descriptor that
    /// takes nothing for `stallLimitMillis` is dropped. The end of the job is reported as any RDB
    /// child's (`whenBackgroundSaveEnds`).
    @discardableResult
    public func startSnapshot(toDescriptors descriptors: [Int32], prefix: [UInt8] = [], suffix: [UInt8] = [],
                              compression: RDBCompression? = nil, stallLimitMillis: Int32 = 60_000) -> Bool {
        guard child == nil, !descriptors.isEmpty else { return false }
        warmUpRDBChild()
        var options = rdbSaveOptions
        // A replica that cannot read Cairn's whole-file compression gets a plain (LZF) RDB.
        if let compression { options.compression = compression }
        let process: ForkedChild
        do {
            process = try ForkedChild.spawn(keeping: descriptors) { [engine] reporter in
                Self.writeSnapshot(engine, to: descriptors, prefix: prefix, suffix: suffix, options: options,
                                   stallLimitMillis: stallLimitMillis, reporter: reporter)
            }
        } catch {
            logger.warning("Can't save in background: fork: \(error)")
            return false
        }
        occupy(ChildJob(kind: .rdbToDescriptors, process: process, temporaryPath: "", startedSeconds: Self.unixSeconds(),
                        dirtyAtFork: engine.dirty, keysAtFork: Int64(engine.totalKeys)))
        logger.notice("Background RDB transfer started by pid \(process.pid)")
        return true
    }

    /// The child's job. Exit code 0 when at least one descriptor got the whole stream.
    static func writeSnapshot(_ engine: Engine, to descriptors: [Int32], prefix: [UInt8], suffix: [UInt8],
                              options: RDBSaveOptions, stallLimitMillis: Int32 = 60_000, reporter: ChildReporter) -> Int32 {
        reporter.progress(keys: 0, bytes: 0)
        let sink = FanOutSink(descriptors: descriptors, stallLimitMillis: stallLimitMillis)
        do {
            if !prefix.isEmpty { try prefix.withUnsafeBytes { try sink.consume($0) } }
            let written = try RDBSnapshot.write(engine, to: sink, options: options) {
                reporter.progress(keys: $0.keys, bytes: $0.bytes)
            }
            if !suffix.isEmpty { try suffix.withUnsafeBytes { try sink.consume($0) } }
            reporter.finish(keys: written.keys, bytes: sink.bytesWritten)
            return 0
        } catch let error as FileError {
            reporter.fail(step: SnapshotSave.Step(error.operation).rawValue, code: Int64(error.code))
            return 1
        } catch {
            reporter.fail(step: SnapshotSave.Step.write.rawValue, code: 0)
            return 1
        }
    }
}
