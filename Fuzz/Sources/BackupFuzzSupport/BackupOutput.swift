@testable import CairnBackup
import CairnStorage
import FuzzSupport

// What the backup targets share: the fixtures' key, and a restore side that writes nothing but
// checks, independently of ArchivePath, that no member could land outside the target directory.

public enum BackupFuzz {
    /// Fixtures/backup/fixture.key: the bytes 00 01 ... 1f. A test key, not a secret.
    public static let fixtureKey: BackupKey? = try? BackupKey(bytes: (0..<32).map { UInt8($0) })
}

public final class CheckingOutput: MemberOutput {
    public init() {}

    public func directory(_ path: String, mode: UInt32) throws { check(path) }

    public func beginFile(_ path: String, role: BackupManifest.Role, mode: UInt32, mtime: Int64) throws -> ByteSink? {
        check(path)
        return MemorySink()
    }

    public func endFile(_ path: String) throws { check(path) }

    private func check(_ path: String) {
        let parts = path.split(separator: "/", omittingEmptySubsequences: false)
        let safe = !path.hasPrefix("/") && !path.utf8.contains(0) && !parts.isEmpty
            && parts.allSatisfy { !$0.isEmpty && $0 != "." && $0 != ".." }
        FuzzCheck.require(safe, "the restore side was handed the unsafe path '\(path)'")
    }
}
