import CairnStorage

// The test of the rdb-plain, rdb-lz4 and rdb-gzip targets: the input is a whole RDB file, loaded
// as the server loads dump.rdb at start-up (Server.loadRDB: RDBReader over the file, the outer
// layer found by its magic, RDBSnapshot.load into empty databases, the checksum verified, keys
// already expired skipped); whatever loaded is then used (FuzzEngine.exerciseAllKeys).

public enum RDBTarget {
    public static func test(_ input: UnsafeRawBufferPointer) throws {
        let reader = try RDBReader(bytes: Array(input))
        let fuzz = FuzzEngine()
        var options = RDBLoadOptions()
        options.skipExpiredBefore = Clock.unixMillis()
        _ = try RDBSnapshot.load(from: reader, into: fuzz.engine, options: options)
        fuzz.exerciseAllKeys()
    }
}
