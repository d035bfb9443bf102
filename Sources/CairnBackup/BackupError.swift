// The one error type of cairn-backup and the exit statuses it maps to (docs/tools-cairn-backup.md,
// "Exit status"). Scripts branch on these numbers: never renumber one.

import CairnStorage

public enum BackupExit: Int32, Sendable, CaseIterable {
    case ok = 0
    /// The archive is damaged: truncated, a flipped byte, a bad checksum, a member missing.
    case damaged = 1
    /// Bad arguments.
    case usage = 2
    /// A newer archive format, or RDB content Cairn does not read.
    case unsupported = 3
    /// The operating system refused: a missing file, a failed write, a full disk.
    case io = 4
    /// The key: none given for an encrypted archive, the wrong one, or an unreadable key file.
    case key = 5
    /// The node: cannot connect, AUTH refused, BGSAVE failed or did not finish in time.
    case node = 6
    /// `restore` into a directory that is not empty, without `--force`.
    case targetNotEmpty = 7
}

public struct BackupError: Error, CustomStringConvertible, Sendable {
    public var exit: BackupExit
    public var message: String

    public init(_ exit: BackupExit, _ message: String) {
        self.exit = exit
        self.message = message
    }

    public var description: String { message }

    static func usage(_ message: String) -> BackupError { BackupError(.usage, message) }
    static func damaged(_ message: String) -> BackupError { BackupError(.damaged, "damaged archive: \(message)") }

    /// An I/O failure from `errno`, naming what was being done.
    static func io(_ what: String, errno code: Int32) -> BackupError {
        BackupError(.io, "\(what): \(SystemText.error(code))")
    }

    /// Any error as a BackupError: compression and RDB errors from CairnStorage say what they are.
    static func from(_ error: any Error, member: String? = nil) -> BackupError {
        let prefix = member.map { "\($0): " } ?? ""
        switch error {
        case let e as BackupError: return e
        case let e as FileError: return BackupError(.io, "cannot \(e.detail)")
        case let e as RDBError:
            switch e.kind {
            case .corrupt: return .damaged("\(prefix)\(e)")
            case .unsupported: return BackupError(.unsupported, "\(prefix)unsupported RDB content: \(e)")
            case .io: return BackupError(.io, "\(prefix)\(e)")
            }
        case let e as AOFError:
            return BackupError(e.kind == .io ? .io : .damaged, "\(prefix)\(e)")
        default: return BackupError(.damaged, "\(prefix)\(error)")
        }
    }
}
