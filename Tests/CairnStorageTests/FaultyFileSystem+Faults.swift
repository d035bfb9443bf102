@testable import CairnStorage
#if canImport(Glibc)
import Glibc
#endif

// The fault rules of FaultyFileSystem: which call fails, how, and the log of calls that lets a
// test crash before each call of a run in turn (LevelDB's fault_injection_test does the same
// with its own env).

extension FaultyFileSystem {
    enum Action: Sendable {
        /// The call fails with this errno and does nothing.
        case fail(Int32)
        /// A write writes its first `keeping` bytes and returns that count (a short write, as a
        /// filling disk gives); the next write on the descriptor fails with `then`.
        case shortWrite(keeping: Int, then: Int32)
        /// The process dies just before the call: `simulateCrash(mode)`, then this and every
        /// later call fail with EIO (and do nothing) until `restart()`.
        case crash(CrashMode)
    }

    /// One call, as the fault rules see it: the path is the file a descriptor was opened on,
    /// and for a rename the destination.
    struct Call: Equatable, Sendable {
        let operation: Operation
        let path: String
    }

    struct Fault {
        let operation: Operation?
        let path: @Sendable (String) -> Bool
        /// Matching calls still to let through before the action applies.
        var skip: Int
        /// Matching calls the action still applies to.
        var times: Int
        let action: Action
    }

    /// From now on, the first `after` calls of `operation` (any when nil) on a path `path`
    /// accepts run normally, the `times` after them get `action`.
    func inject(_ action: Action, on operation: Operation?, path: @escaping @Sendable (String) -> Bool = { _ in true },
                after: Int = 0, times: Int = 1) {
        locked { faults.append(Fault(operation: operation, path: path, skip: after, times: times, action: action)) }
    }

    func fail(_ operation: Operation, with code: Int32, path: @escaping @Sendable (String) -> Bool = { _ in true },
              after: Int = 0, times: Int = 1) {
        inject(.fail(code), on: operation, path: path, after: after, times: times)
    }

    /// Crashes before the call that comes after the next `calls` ones (0: the very next).
    func crash(afterCalls calls: Int, mode: CrashMode = .dropUnsynced) {
        inject(.crash(mode), on: nil, after: calls)
    }

    /// Every call so far, in order.
    var calls: [Call] { locked { callLog } }

    /// Calls made since the log had `count` entries.
    func calls(since count: Int) -> [Call] { locked { Array(callLog[count...]) } }

    var down: Bool { locked { isDown } }

    /// Called with the mutex held at the start of every call: refuses it while down, logs it and
    /// applies the first fault that matches.
    func begin(_ operation: Operation, _ path: String) throws(Errno) -> Action? {
        if isDown { throw Errno(EIO) }
        callLog.append(Call(operation: operation, path: path))
        var action: Action?
        for i in faults.indices where faults[i].operation.map({ $0 == operation }) ?? true && faults[i].path(path) {
            if faults[i].skip > 0 {
                faults[i].skip -= 1
            } else if action == nil {
                action = faults[i].action
                faults[i].times -= 1
            }
        }
        faults.removeAll { $0.times <= 0 }
        switch action {
        case .fail(let code): throw Errno(code)
        case .crash(let mode):
            crashLocked(mode)
            throw Errno(EIO)
        case .shortWrite, nil: return action
        }
    }
}
