#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// The base file of an AOF rewrite (docs/format-aof.md, "Base file"): the whole dataset, either
// as an RDB (aof-use-rdb-preamble yes: `<prefix>.<seq>.base.rdb`, AUX aof-base=1) or as the
// commands that recreate it (`.base.aof`), as Redis's rewriteAppendOnlyFileRio. This runs in
// the fork()ed rewrite child: it logs nothing and touches nothing that is initialised lazily the
// first time (warmUp runs every path once in the parent before it forks).

public enum AOFBase {
    /// Elements per RPUSH / SADD / ZADD / HSET command (Redis's AOF_REWRITE_ITEMS_PER_CMD).
    public static let itemsPerCommand = 64
    /// Bytes gathered before each write(2).
    static let writeChunkBytes = 1 << 20

    /// Writes a base file for the current dataset to `fd`: an RDB (with AUX aof-base=1, in
    /// `rdb.compression`) when `rdbPreamble`, else the commands that recreate it (SELECT,
    /// SET/RPUSH/SADD/ZADD/HSET in batches, PEXPIREAT). Not fsynced, not closed.
    public static func write(_ engine: Engine, to fd: Int32, rdbPreamble: Bool, rdb: RDBSaveOptions,
                             fileSystem: any FileSystem = POSIXFileSystem()) throws {
        if rdbPreamble {
            var options = rdb
            options.aux.removeAll { $0.key == "aof-base" }
            options.aux.append(("aof-base", [UInt8(ascii: "1")]))
            try RDBSnapshot.write(engine, to: fd, options: options, fileSystem: fileSystem)
            return
        }
        var buffer: [UInt8] = []
        buffer.reserveCapacity(writeChunkBytes + 4096)
        var stream = CommandStreamEncoder()
        for db in engine.databases where db.count > 0 {
            stream.select(db.id, to: &buffer)
            for i in db.table.indices {
                let entry = db.table[i]
                // Redis never writes a key that holds an empty collection.
                if entry.value.isEmptyCollection { continue }
                try KeyCommands.append(key: db.table.key(at: i), value: entry.value, expireAt: entry.expireAt,
                                       itemsPerCommand: itemsPerCommand, to: &buffer) {
                    try write(&$0, to: fd, beyond: writeChunkBytes, fileSystem: fileSystem)
                }
            }
        }
        try write(&buffer, to: fd, beyond: 0, fileSystem: fileSystem)
    }

    /// Writes out and empties `buffer` once it holds more than `bytes`.
    private static func write(_ buffer: inout [UInt8], to fd: Int32, beyond bytes: Int, fileSystem: any FileSystem) throws {
        guard buffer.count > bytes else { return }
        try buffer.withUnsafeBytes { try AtomicFile.writeAll(fd, $0, path: "AOF base", fileSystem: fileSystem) }
        buffer.removeAll(keepingCapacity: true)
    }

    /// Runs both kinds of base over every value type once, into /dev/null, so that a forked child
    /// instantiates no generic metadata and initialises no global for the first time.
    public static func warmUp() {
        RDBSnapshot.warmUp()
        let engine = RDBSnapshot.warmUpEngine()
        let fd = open("/dev/null", O_WRONLY | O_CLOEXEC)
        guard fd >= 0 else { return }
        defer { close(fd) }
        for preamble in [false, true] {
            for compression in RDBCompression.allCases {
                var options = RDBSaveOptions()
                options.compression = compression
                try? write(engine, to: fd, rdbPreamble: preamble, rdb: options)
            }
        }
    }
}
