@testable import CairnStorage
import Testing
#if canImport(Glibc)
import Glibc
#endif

// These tests fork the test process itself: each child runs a small closure and `_exit`s.

@Suite struct ForkedChildTests {
    /// Polls as the server's cron does until the child has gone (bounded: a hung child fails).
    static func pollUntilExit(_ child: ForkedChild, watchdogMicros: Int64 = 0) -> ChildExit? {
        for _ in 0..<3000 {
            if let exit = child.poll(watchdogMicros: watchdogMicros) { return exit }
            usleep(10_000)
        }
        child.kill()
        _ = child.wait()
        return nil
    }

    @Test func successReportsProgressAndFinalCounts() throws {
        let child = try ForkedChild.spawn { reporter in
            reporter.progress(keys: 10, bytes: 100)
            reporter.progress(keys: 20, bytes: 200)
            reporter.finish(keys: 25, bytes: 260)
            return 0
        }
        #expect(child.pid > 0)
        #expect(child.forkMicros >= 0)
        #expect(Self.pollUntilExit(child) == .exited(0))
        #expect(child.finished)
        #expect(child.keys == 25)
        #expect(child.bytes == 260)
        #expect(child.failure == nil)
        #expect(!child.killedByWatchdog)
        #expect(child.cowBytes >= 0)
    }

    @Test func exitCodeAndFailureRecord() throws {
        let child = try ForkedChild.spawn { reporter in
            reporter.fail(step: SnapshotSave.Step.rename.rawValue, code: Int64(EISDIR))
            return 1
        }
        #expect(Self.pollUntilExit(child) == .exited(1))
        #expect(child.failure?.step == SnapshotSave.Step.rename.rawValue)
        #expect(child.failure?.code == Int64(EISDIR))
        #expect(!child.finished)
    }

    @Test func killedChild() throws {
        let child = try ForkedChild.spawn { _ in
            sleep(60)
            return 0
        }
        #expect(child.poll(watchdogMicros: 0) == nil, "still running")
        child.kill()
        #expect(child.wait() == .signaled(SIGKILL))
        #expect(!child.killedByWatchdog)
    }

    @Test func terminationSignalIsNotInherited() throws {
        // The server ignores SIGTERM (a dispatch source handles it); its child must not.
        let old = signal(SIGTERM, SIG_IGN)
        defer { signal(SIGTERM, old) }
        let child = try ForkedChild.spawn { _ in
            sleep(60)
            return 0
        }
        child.kill(SIGTERM)
        #expect(child.wait() == .signaled(SIGTERM))
    }

    @Test func watchdogKillsAChildWithoutProgress() throws {
        let child = try ForkedChild.spawn { reporter in
            reporter.progress(keys: 1, bytes: 1)
            sleep(60)
            return 0
        }
        #expect(Self.pollUntilExit(child, watchdogMicros: 200_000) == .signaled(SIGKILL))
        #expect(child.killedByWatchdog)
        #expect(child.keys == 1)
    }

    @Test func steadyProgressKeepsTheWatchdogAway() throws {
        let child = try ForkedChild.spawn { reporter in
            for i in 1...40 {
                reporter.progress(keys: Int64(i), bytes: Int64(i))
                usleep(20_000)
            }
            reporter.finish(keys: 40, bytes: 40)
            return 0
        }
        // Between reports there are 20 ms; the watchdog allows 400.
        #expect(Self.pollUntilExit(child, watchdogMicros: 400_000) == .exited(0))
        #expect(!child.killedByWatchdog)
        #expect(child.keys == 40)
    }

    @Test func copyOnWriteIsMeasured() throws {
        // 8 MiB the parent has touched: shared with the child after the fork until the child
        // writes to it, when each page becomes a private copy.
        let size = 8 << 20
        let memory = UnsafeMutableRawPointer.allocate(byteCount: size, alignment: 4096)
        defer { memory.deallocate() }
        memset(memory, 1, size)
        let child = try ForkedChild.spawn { reporter in
            memset(memory, 2, size)
            reporter.finish(keys: 0, bytes: 0)
            return 0
        }
        #expect(Self.pollUntilExit(child) == .exited(0))
        #expect(child.cowBytes >= Int64(size))
        #expect(child.cowPeakBytes >= child.cowBytes)
        #expect(child.cowUpdatedMillis > 0)
    }

    @Test func smapsScannerSumsPrivateDirtyAcrossSplitReads() {
        let text = Array("""
        Rss:                1000 kB
        Private_Dirty:        12 kB
        Shared_Dirty:          4 kB
        Private_Dirty:         30 kB
        Private_Clean:         7 kB
        Private_Dirty:5 kB
        """.utf8)
        let key: StaticString = "Private_Dirty:"
        for split in [1, 3, 17, text.count] {
            var scanner = SmapsScanner()
            var start = 0
            while start < text.count {
                let end = min(text.count, start + split)
                text[start..<end].withUnsafeBytes { scanner.scan($0, key: key) }
                start = end
            }
            #expect(scanner.finish() == 47, "chunks of \(split)")
        }
    }
}
