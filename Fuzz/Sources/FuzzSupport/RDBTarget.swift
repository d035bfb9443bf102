import CairnStorage
#if canImport(Glibc)
import Glibc
#endif

// The test of the rdb-plain, rdb-lz4 and rdb-gzip targets: the input is a whole RDB file, loaded
// as the server loads dump.rdb at start-up (Server.loadRDB, RDBSnapshot.load(path:)): RDBReader
// over the file's descriptor, the outer layer found by its magic, RDBSnapshot.load into empty
// databases, keys already expired skipped. One input in four is loaded with the checksum
// verified (`rdbchecksum yes`); the others as with `rdbchecksum no`, or almost no mutated file
// would load whole and reach what comes next: whatever loaded is used (FuzzEngine.exerciseAllKeys).

public enum RDBTarget {
    nonisolated(unsafe) static let file = ScratchFile()

    public static func test(_ input: UnsafeRawBufferPointer) throws {
        file.replace(with: input)
        var options = RDBLoadOptions()
        options.verifyChecksum = Chunking.fnv1a(input) % 4 == 0
        options.skipExpiredBefore = Clock.unixMillis()
        let reader = try RDBReader(fd: file.fd, verifyChecksum: options.verifyChecksum)
        let fuzz = FuzzEngine()
        _ = try RDBSnapshot.load(from: reader, into: fuzz.engine, options: options)
        fuzz.exerciseAllKeys()
    }
}
