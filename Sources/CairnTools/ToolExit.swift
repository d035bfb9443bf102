// Exit statuses of the offline tools (docs/tools-cairn-rdb.md lists them for users). Scripts
// branch on these numbers: never renumber one.

import CairnStorage
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

public enum ToolExit: Int32, Sendable {
    case ok = 0
    /// The file is damaged (bad checksum, truncated, undecodable): the tool refuses it.
    case damaged = 1
    /// Bad arguments.
    case usage = 2
    /// Valid data the engine does not load (streams, modules, a newer RDB version).
    case unsupported = 3
    /// The operating system refused: a missing file, a failed write, a full disk.
    case io = 4

    /// The status a failure maps to.
    public static func forError(_ error: any Error) -> ToolExit {
        switch error {
        case let e as ToolError: return e.exit
        case is FileError: return .io
        case let e as RDBError:
            switch e.kind {
            case .corrupt: return .damaged
            case .unsupported: return .unsupported
            case .io: return .io
            }
        default: return .damaged
        }
    }
}

/// A failure of the tool itself (arguments, files), with the status it exits with.
public struct ToolError: Error, CustomStringConvertible, Sendable {
    public var exit: ToolExit
    public var message: String

    public init(_ exit: ToolExit, _ message: String) {
        self.exit = exit
        self.message = message
    }

    public var description: String { message }

    static func usage(_ message: String) -> ToolError { ToolError(.usage, message) }

    /// An I/O failure from `errno`, naming what was being done.
    static func io(_ what: String, errno code: Int32) -> ToolError {
        ToolError(.io, "\(what): \(errorText(code))")
    }
}

func errorText(_ code: Int32) -> String {
    guard let text = strerror(code) else { return "errno \(code)" }
    return String(cString: text)
}
