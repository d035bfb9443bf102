import CairnStorage
import Logging
import Testing
#if canImport(Glibc)
import Glibc
#endif

// AOFWriter and AOFFsyncThread on their own: what reaches the file, when fsyncs happen under
// each policy, everysec's postponement while a background fsync runs, and write errors. Time
// is passed in (`nowSeconds`), so no test waits for a clock.

@Suite struct AOFWriterTests {
    /// A file in a fresh directory, opened for appending.
    final class File {
        let dir: String
        let path: String
        let fd: Int32

        init() {
            var template = Array("/tmp/cairn-aofw-XXXXXX".utf8CString)
            dir = mkdtemp(&template).map { String(cString: $0) } ?? "/tmp"
            path = dir + "/appendonly.aof.1.incr.aof"
            fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o644)
        }

        deinit {
            unlink(path)
            rmdir(dir)
        }

        var contents: String {
            let fd = open(path, O_RDONLY)
            defer { close(fd) }
            var bytes: [UInt8] = []
            var chunk = [UInt8](repeating: 0, count: 4096)
            while true {
                let n = read(fd, &chunk, chunk.count)
                if n <= 0 { break }
                bytes += chunk[0..<n]
            }
            return String(decoding: bytes, as: UTF8.self)
        }
    }

    /// A stand-in disk whose fsyncs block while `blocked`, fail with `failure`, and are counted.
    final class SlowDisk: @unchecked Sendable {
        private let lock = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
        private var isBlocked = false
        private var calls = 0
        private var failWith: Int32 = 0

        init() { pthread_mutex_init(lock, nil) }
        deinit {
            pthread_mutex_destroy(lock)
            lock.deallocate()
        }

        private func locked<T>(_ body: () -> T) -> T {
            pthread_mutex_lock(lock)
            defer { pthread_mutex_unlock(lock) }
            return body()
        }

        var blocked: Bool {
            get { locked { isBlocked } }
            set { locked { isBlocked = newValue } }
        }

        var failure: Int32 {
            get { locked { failWith } }
            set { locked { failWith = newValue } }
        }

        var count: Int { locked { calls } }

        func sync(_ fd: Int32) -> Int32 {
            while blocked { usleep(1000) }
            let code: Int32 = locked {
                calls += 1
                return failWith
            }
            if code != 0 {
                errno = code
                return -1
            }
            return 0
        }
    }

    static let logger = Logger(label: "cairn.test") { _ in SilentLogHandler() }

    static func set(_ key: String, _ value: String, db: Int = 0) -> [PropagatedCommand] {
        [PropagatedCommand(db: db, args: [Array("SET".utf8), Array(key.utf8), Array(value.utf8)])]
    }

    static func makeWriter(_ file: File, _ policy: AOFFsyncPolicy, thread: AOFFsyncThread = AOFFsyncThread()) -> AOFWriter {
        AOFWriter(fd: file.fd, name: "appendonly.aof.1.incr.aof", existingBytes: 0, policy: policy, timestamps: false,
                  fsyncThread: thread, logger: logger, nowSeconds: 100)
    }

    @Test func bufferedCommandsReachTheFileOnlyWhenFlushed() {
        let file = File()
        let writer = Self.makeWriter(file, .no)
        writer.append(Self.set("a", "1"), nowMillis: 0)
        writer.append(Self.set("b", "2", db: 3), nowMillis: 0)
        #expect(file.contents == "")
        #expect(writer.flush(force: false, nowSeconds: 100) == .done)
        #expect(file.contents == "*2\r\n$6\r\nSELECT\r\n$1\r\n0\r\n*3\r\n$3\r\nSET\r\n$1\r\na\r\n$1\r\n1\r\n"
            + "*2\r\n$6\r\nSELECT\r\n$1\r\n3\r\n*3\r\n$3\r\nSET\r\n$1\r\nb\r\n$1\r\n2\r\n")
        #expect(writer.buffer.isEmpty)
        #expect(writer.incrementBytes == Int64(file.contents.utf8.count))
        writer.close(nowSeconds: 100)
    }

    @Test func alwaysSyncsEveryFlushOnTheCallingThread() {
        let file = File()
        let disk = SlowDisk()
        let thread = AOFFsyncThread(sync: { disk.sync($0) })
        let writer = Self.makeWriter(file, .always, thread: thread)
        writer.append(Self.set("a", "1"), nowMillis: 0)
        #expect(writer.flush(force: false, nowSeconds: 100) == .done)
        #expect(writer.fsyncedBytes == writer.incrementBytes)
        #expect(writer.fsyncedBytes > 0)
        // Synced before flush returned, not queued for the background thread.
        #expect(disk.count == 1)
        #expect(thread.pendingFsyncs == 0)
        writer.close(nowSeconds: 100)
    }

    @Test func everysecSyncsInTheBackgroundAtMostOncePerSecond() {
        let file = File()
        let disk = SlowDisk()
        let thread = AOFFsyncThread(sync: { disk.sync($0) })
        let writer = Self.makeWriter(file, .everysec, thread: thread)
        writer.append(Self.set("a", "1"), nowMillis: 0)
        #expect(writer.flush(force: false, nowSeconds: 100) == .done)
        thread.drain()
        #expect(disk.count == 0, "same second as the last fsync: none yet")
        #expect(writer.fsyncedBytes == 0)
        // A quiet turn in the next second: the owed fsync is issued.
        #expect(writer.flush(force: false, nowSeconds: 101) == .done)
        thread.drain()
        #expect(disk.count == 1)
        #expect(writer.fsyncedBytes == writer.incrementBytes)
        writer.append(Self.set("b", "2"), nowMillis: 0)
        #expect(writer.flush(force: false, nowSeconds: 101) == .done)
        writer.append(Self.set("c", "3"), nowMillis: 0)
        #expect(writer.flush(force: false, nowSeconds: 101) == .done)
        thread.drain()
        #expect(disk.count == 1, "one fsync per second at most")
        writer.append(Self.set("d", "4"), nowMillis: 0)
        #expect(writer.flush(force: false, nowSeconds: 102) == .done)
        thread.drain()
        #expect(disk.count == 2)
        writer.close(nowSeconds: 102)
        thread.stop()
    }

    @Test func everysecPostponesWritesWhileAnFsyncRunsThenWritesAfterTwoSeconds() {
        let file = File()
        let disk = SlowDisk()
        let thread = AOFFsyncThread(sync: { disk.sync($0) })
        let writer = Self.makeWriter(file, .everysec, thread: thread)
        writer.append(Self.set("a", "1"), nowMillis: 0)
        disk.blocked = true
        #expect(writer.flush(force: false, nowSeconds: 101) == .done)
        #expect(thread.pendingFsyncs == 1)
        let written = file.contents
        writer.append(Self.set("b", "2"), nowMillis: 0)
        #expect(writer.flush(force: false, nowSeconds: 101) == .postponed)
        #expect(writer.flush(force: false, nowSeconds: 102) == .postponed)
        #expect(file.contents == written, "nothing written while the fsync runs")
        #expect(writer.delayedFsyncs == 0)
        // Two seconds of postponement: written anyway, and counted.
        #expect(writer.flush(force: false, nowSeconds: 103) == .done)
        #expect(writer.delayedFsyncs == 1)
        #expect(file.contents.hasSuffix("$1\r\nb\r\n$1\r\n2\r\n"))
        // A forced flush (rewrite, shutdown) never waits.
        writer.append(Self.set("c", "3"), nowMillis: 0)
        #expect(writer.flush(force: true, nowSeconds: 103) == .done)
        #expect(file.contents.hasSuffix("$1\r\nc\r\n$1\r\n3\r\n"))
        disk.blocked = false
        thread.drain()
        #expect(thread.pendingFsyncs == 0)
        writer.close(nowSeconds: 104)
        thread.stop()
    }

    @Test func aFailedBackgroundFsyncMakesTheWriterUnhealthyUntilOneSucceeds() {
        let file = File()
        let disk = SlowDisk()
        disk.failure = EIO
        let thread = AOFFsyncThread(sync: { disk.sync($0) })
        let writer = Self.makeWriter(file, .everysec, thread: thread)
        writer.append(Self.set("a", "1"), nowMillis: 0)
        #expect(writer.flush(force: false, nowSeconds: 101) == .done)
        thread.drain()
        // The writer learns of the fsync's result at its next flush (a turn or the cron).
        #expect(writer.flush(force: false, nowSeconds: 101) == .done)
        #expect(!writer.healthy)
        #expect(writer.failureCode == EIO)
        // No write comes (they are refused); the cron's flush in a later second fsyncs again.
        disk.failure = 0
        #expect(writer.flush(force: false, nowSeconds: 102) == .done)
        thread.drain()
        #expect(writer.flush(force: false, nowSeconds: 102) == .done)
        #expect(writer.healthy)
        #expect(disk.count == 2)
        writer.close(nowSeconds: 102)
        thread.stop()
    }

    @Test func aFailedWriteKeepsTheBufferAndRecoversWhenTheDiskDoes() {
        let file = File()
        let full = open("/dev/full", O_WRONLY | O_CLOEXEC)
        #expect(full >= 0)
        let writer = AOFWriter(fd: full, name: "full", existingBytes: 0, policy: .everysec, timestamps: false,
                               fsyncThread: AOFFsyncThread(), logger: Self.logger, nowSeconds: 100)
        writer.append(Self.set("a", "1"), nowMillis: 0)
        #expect(writer.flush(force: false, nowSeconds: 100) == .failed(ENOSPC))
        #expect(!writer.healthy)
        #expect(!writer.buffer.isEmpty)
        #expect(writer.incrementBytes == 0)
        // The disk has room again (the descriptor now points at a real file).
        dup2(file.fd, full)
        #expect(writer.flush(force: false, nowSeconds: 100) == .done)
        #expect(writer.healthy)
        #expect(file.contents.hasSuffix("$1\r\na\r\n$1\r\n1\r\n"))
        writer.close(nowSeconds: 100)
    }

    @Test func underAlwaysAFailedWriteIsFatal() {
        let full = open("/dev/full", O_WRONLY | O_CLOEXEC)
        let writer = AOFWriter(fd: full, name: "full", existingBytes: 0, policy: .always, timestamps: false,
                               fsyncThread: AOFFsyncThread(), logger: Self.logger, nowSeconds: 100)
        writer.append(Self.set("a", "1"), nowMillis: 0)
        guard case .fatal(let message) = writer.flush(force: false, nowSeconds: 100) else {
            Issue.record("expected a fatal outcome")
            return
        }
        #expect(message.contains("'always'"))
        close(full)
    }

    @Test func switchingIncrementsSelectsTheDatabaseAgain() {
        let first = File()
        let second = File()
        let writer = Self.makeWriter(first, .no)
        writer.append(Self.set("a", "1", db: 2), nowMillis: 0)
        _ = writer.flush(force: true, nowSeconds: 100)
        writer.switchTo(fd: second.fd, name: "second", nowSeconds: 100)
        #expect(writer.incrementBytes == 0)
        writer.append(Self.set("b", "2", db: 2), nowMillis: 0)
        _ = writer.flush(force: true, nowSeconds: 100)
        #expect(second.contents.hasPrefix("*2\r\n$6\r\nSELECT\r\n$1\r\n2\r\n"))
        writer.fsyncThread.drain()
        writer.close(nowSeconds: 100)
    }
}
