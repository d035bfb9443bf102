// Archives of format version 1 (Fixtures/backup/README.md) still verify and restore to exactly
// the files they were made from; the damaged ones are refused.

@testable import CairnBackup
import CairnStorage
import CairnTools
import Foundation
import Testing

@Suite struct FixtureTests {
    static let root = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
    static func fixture(_ name: String) -> String { root + "/Fixtures/backup/" + name }

    /// The data directory the archives were made from.
    static func expectedTree() throws -> [String: [UInt8]] {
        var tree = ["dump.rdb": try readFile(root + "/Fixtures/rdb/types.redis7.rdb")]
        for name in ["appendonly.aof.manifest", "appendonly.aof.1.base.rdb", "appendonly.aof.1.incr.aof", "appendonly.aof.2.incr.aof"] {
            tree["appendonlydir/" + name] = try readFile(root + "/Fixtures/aof/multi-incr/" + name)
        }
        return tree
    }

    @Test(arguments: ["v1-gzip.tar.gz", "v1-lz4.tar.lz4", "v1-lz4-encrypted.tar.lz4.enc"])
    func goldenArchiveVerifiesAndRestores(name: String) throws {
        let keyFile = Self.fixture("fixture.key")
        var verify = VerifyOptions(archive: Self.fixture(name))
        verify.keyFile = keyFile
        verify.progress = false
        let verified = try VerifyCommand.run(verify, output: ByteOutput())
        #expect(verified.keys == 97 && verified.rdbVersion == 10)
        #expect(verified.keysPerDb == ["0": 52, "1": 43, "15": 2])
        let scratch = try Scratch()
        var restore = RestoreOptions(archive: Self.fixture(name), target: scratch.file("data"))
        restore.keyFile = keyFile
        restore.progress = false
        try RestoreCommand.run(restore, output: ByteOutput())
        #expect(try tree(scratch.file("data")) == Self.expectedTree())
    }

    @Test func benignFlipIsCaughtByTheTrailer() throws {
        do {
            try check(readFile(Self.fixture("corrupt-lz4-benign-flip.tar.lz4")))
            Issue.record("accepted")
        } catch let e as BackupError {
            #expect(e.exit == .damaged && e.message.contains("integrity trailer"))
        }
    }

    @Test func missingFinalChunkIsTruncation() throws {
        let key = try BackupKey.load(path: Self.fixture("fixture.key"))
        do {
            try check(readFile(Self.fixture("corrupt-encrypted-final-chunk-missing.tar.lz4.enc")), key: key)
            Issue.record("accepted")
        } catch let e as BackupError {
            #expect(e.exit == .damaged && e.message.contains("without the final one"))
        }
    }
}
