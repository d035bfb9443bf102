@testable import CairnStorage
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// The AOF manifest is replaced atomically (docs/format-aof.md, "Manifest"): after a failure or
/// a crash at any step of writing a new one (temporary written, fsynced, renamed, directory
/// fsynced), the manifest on disk parses and is the old one or the new one.
@Suite struct AOFManifestFaultTests {
    static let prefix = "appendonly.aof"

    static let old = AOFManifest(base: .init(name: "appendonly.aof.1.base.rdb", seq: 1, type: .base),
                                 increments: [.init(name: "appendonly.aof.1.incr.aof", seq: 1, type: .incr)])
    /// After a rewrite: a new base and increment, the old files as history.
    static let new = AOFManifest(base: .init(name: "appendonly.aof.2.base.rdb", seq: 2, type: .base),
                                 history: [.init(name: "appendonly.aof.1.base.rdb", seq: 1, type: .history),
                                           .init(name: "appendonly.aof.1.incr.aof", seq: 1, type: .history)],
                                 increments: [.init(name: "appendonly.aof.2.incr.aof", seq: 2, type: .incr)])

    static func disk() throws -> FaultyFileSystem {
        let fs = FaultyFileSystem()
        try old.write(directory: fs.root, prefix: prefix, fileSystem: fs)
        return fs
    }

    static func loaded(_ fs: FaultyFileSystem) throws -> AOFManifest? {
        try AOFManifest.load(directory: fs.root, prefix: prefix)
    }

    @Test(arguments: [FaultyFileSystem.CrashMode.dropUnsynced, .keepUnsynced(bytes: 20)])
    func replacementIsAtomicUnderACrashAtAnyCall(_ mode: FaultyFileSystem.CrashMode) throws {
        let reference = try Self.disk()
        let before = reference.calls.count
        try Self.new.write(directory: reference.root, prefix: Self.prefix, fileSystem: reference)
        let calls = reference.calls(since: before)
        let durableAfter = try #require(calls.firstIndex { $0.operation == .syncDirectory })
        #expect(calls.contains { $0.operation == .rename })
        for crashAt in 0...calls.count {
            let fs = try Self.disk()
            fs.crash(afterCalls: crashAt, mode: mode)
            try? Self.new.write(directory: fs.root, prefix: Self.prefix, fileSystem: fs)
            if fs.down {
                fs.restart()
            } else {
                fs.simulateCrash(mode)
            }
            let expected = crashAt > durableAfter ? Self.new : Self.old
            #expect(try Self.loaded(fs) == expected, "crash before call \(crashAt)")
        }
    }

    @Test(arguments: [FaultyFileSystem.Operation.open, .write, .sync, .close, .rename])
    func aFailedStepKeepsTheOldManifestAndLeavesNoTemporary(_ operation: FaultyFileSystem.Operation) throws {
        let fs = try Self.disk()
        fs.fail(operation, with: EIO)
        #expect(throws: FileError.self) { try Self.new.write(directory: fs.root, prefix: Self.prefix, fileSystem: fs) }
        #expect(try Self.loaded(fs) == Self.old)
        #expect(FaultyFileSystem.entries(fs.root) == [AOFManifest.manifestName(Self.prefix)])
    }

    @Test func aFailedDirectoryFsyncIsReportedAndTheNewManifestIsNotYetDurable() throws {
        let fs = try Self.disk()
        fs.fail(.syncDirectory, with: EIO)
        #expect(throws: FileError.self) { try Self.new.write(directory: fs.root, prefix: Self.prefix, fileSystem: fs) }
        #expect(try Self.loaded(fs) == Self.new)
        fs.simulateCrash()
        #expect(try Self.loaded(fs) == Self.old)
    }
}
