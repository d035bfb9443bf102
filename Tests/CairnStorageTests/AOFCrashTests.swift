@testable import CairnStorage
import Testing

/// What survives a crash of a node appending to its AOF (docs/operations.md, "AOF"): LevelDB's
/// fault_injection_test loop, crashing before each file-system call of a run in turn, with the
/// unsynced bytes dropped or a few of them kept (a torn command at the end of the increment).
@Suite struct AOFCrashTests {
    static let commands = 12

    /// Ends the run: restarts after a crash by a fault, or crashes now.
    static func crashOrRestart(_ aof: FaultyAOF, _ mode: FaultyFileSystem.CrashMode) {
        aof.thread.drain()
        if aof.fs.down {
            aof.fs.restart()
        } else {
            aof.fs.simulateCrash(mode)
        }
    }

    /// How many calls a run without faults makes, once the AOF is set up.
    static func callsOfARun(_ policy: AOFFsyncPolicy, _ run: (FaultyAOF) -> Void) throws -> Int {
        let aof = try FaultyAOF(policy)
        let before = aof.fs.calls.count
        run(aof)
        aof.thread.drain()
        return aof.fs.calls(since: before).count
    }

    /// appendfsync always: a reply leaves only after its write is fsynced, so every command whose
    /// flush returned is loaded after a crash; at most the one being flushed is added, and a torn
    /// copy of it is cut by aof-load-truncated.
    @Test(arguments: [FaultyFileSystem.CrashMode.dropUnsynced, .keepUnsynced(bytes: 7)])
    func alwaysKeepsEveryAcknowledgedCommandThroughACrashAtAnyCall(_ mode: FaultyFileSystem.CrashMode) throws {
        let calls = try Self.callsOfARun(.always) { aof in
            for i in 0..<Self.commands {
                aof.append(i)
                #expect(aof.flush() == .done)
            }
        }
        #expect(calls == 2 * Self.commands, "one write and one fdatasync per flush")
        var tornTails = 0
        for crashAt in 0...calls {
            let aof = try FaultyAOF(.always)
            aof.fs.crash(afterCalls: crashAt, mode: mode)
            var acknowledged = 0
            for i in 0..<Self.commands {
                aof.append(i)
                guard aof.flush() == .done else { break }
                acknowledged = i + 1
            }
            Self.crashOrRestart(aof, mode)
            let (loaded, summary) = try aof.load()
            #expect(loaded >= acknowledged && loaded <= acknowledged + 1, "crash before call \(crashAt)")
            if summary.truncatedFile != nil { tornTails += 1 }
        }
        if case .keepUnsynced = mode { #expect(tornTails > 0, "some runs ended in a torn command") }
    }

    /// appendfsync everysec: what the last background fsync covered survives; what came after may
    /// be lost (all of it when the unsynced bytes are dropped), and the increment always loads.
    @Test(arguments: [FaultyFileSystem.CrashMode.dropUnsynced, .keepUnsynced(bytes: 7)])
    func everysecLosesOnlyWhatWasNotFsyncedAndStaysLoadable(_ mode: FaultyFileSystem.CrashMode) throws {
        // A new second every 4 commands; the background fsync finishes before the next turn, so
        // no write is postponed and the run is the same every time.
        func run(_ aof: FaultyAOF, _ i: Int) -> AOFWriter.FlushOutcome {
            aof.now = 100 + Int64(i / 4)
            aof.append(i)
            let outcome = aof.flush()
            aof.thread.drain()
            return outcome
        }
        let calls = try Self.callsOfARun(.everysec) { aof in
            for i in 0..<Self.commands { #expect(run(aof, i) == .done) }
        }
        for crashAt in 0...calls {
            let aof = try FaultyAOF(.everysec)
            aof.fs.crash(afterCalls: crashAt, mode: mode)
            var ends: [Int64] = []
            var durableBytes: Int64 = 0
            for i in 0..<Self.commands {
                guard run(aof, i) == .done, !aof.fs.down else { break }
                ends.append(aof.writer.incrementBytes)
                // Queued, and (drained) done without a crash: durable.
                durableBytes = aof.writer.fsyncedBytes
            }
            Self.crashOrRestart(aof, mode)
            let (loaded, _) = try aof.load()
            let durable = ends.filter { $0 <= durableBytes }.count
            if case .dropUnsynced = mode {
                #expect(loaded == durable, "crash before call \(crashAt)")
            } else {
                #expect(loaded >= durable && loaded <= ends.count + 1, "crash before call \(crashAt)")
            }
        }
    }
}
