import CairnRESP

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
        var out = CommandOutput(fd: fd, fileSystem: fileSystem)
        for db in engine.databases where db.count > 0 {
            out.command([selectWord, Decimal.bytes(Int64(db.id))])
            for i in db.table.indices {
                let entry = db.table[i]
                try writeKey(db.table.key(at: i), entry.value, expireAt: entry.expireAt, to: &out)
            }
        }
        try out.flush()
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

    // MARK: commands

    /// The commands that recreate one key (Redis's rewriteListObject etc.).
    static func writeKey(_ key: [UInt8], _ value: Value, expireAt: Int64, to out: inout CommandOutput) throws {
        if value.isEmptyCollection { return }
        switch value {
        case .int(let v):
            out.command([setWord, key, Decimal.bytes(v)])
        case .string(let s):
            out.command([setWord, key, s.bytes])
        case .list(let list):
            var batch = Batch(word: rpushWord, key: key, total: list.count, perElement: 1)
            var failure: Error?
            list.forEach(from: 0, through: list.count - 1) { element in
                batch.begin(&out)
                out.bulk(element)
                do { try batch.end(&out) } catch { failure = error; return false }
                return true
            }
            if let failure { throw failure }
        case .set(let set):
            var batch = Batch(word: saddWord, key: key, total: set.count, perElement: 1)
            var failure: Error?
            set.forEach { member in
                guard failure == nil else { return }
                batch.begin(&out)
                switch member {
                case .int(let v): out.bulk(Decimal.bytes(v))
                case .bytes(let b): out.bulk(b)
                }
                do { try batch.end(&out) } catch { failure = error }
            }
            if let failure { throw failure }
        case .hash(let hash):
            var batch = Batch(word: hsetWord, key: key, total: hash.count, perElement: 2)
            var failure: Error?
            hash.forEach { field, value in
                guard failure == nil else { return }
                batch.begin(&out)
                out.bulk(field)
                out.bulk(value)
                do { try batch.end(&out) } catch { failure = error }
            }
            if let failure { throw failure }
        case .zset(let zset):
            var batch = Batch(word: zaddWord, key: key, total: zset.count, perElement: 2)
            var failure: Error?
            var score = [UInt8]()
            score.reserveCapacity(ScoreFormat.maxLength)
            zset.forEachInOrder { member, value in
                guard failure == nil else { return }
                batch.begin(&out)
                // %.17g round-trips every double, and ZADD reads "inf" / "-inf".
                out.bulk(ScoreFormat.bytes(value))
                out.bulk(member)
                do { try batch.end(&out) } catch { failure = error }
            }
            if let failure { throw failure }
        }
        if expireAt != noExpiry {
            out.command([pexpireatWord, key, Decimal.bytes(expireAt)])
        }
        try out.flushIfFull()
    }

    /// Groups the elements of one collection into commands of at most `itemsPerCommand`.
    struct Batch {
        let word: [UInt8]
        let key: [UInt8]
        var remaining: Int
        let perElement: Int
        var inCommand = 0

        init(word: [UInt8], key: [UInt8], total: Int, perElement: Int) {
            self.word = word
            self.key = key
            self.remaining = total
            self.perElement = perElement
        }

        mutating func begin(_ out: inout CommandOutput) {
            guard inCommand == 0 else { return }
            let elements = min(remaining, AOFBase.itemsPerCommand)
            out.arrayHeader(2 + elements * perElement)
            out.bulk(word)
            out.bulk(key)
        }

        mutating func end(_ out: inout CommandOutput) throws {
            inCommand += 1
            remaining -= 1
            if inCommand == AOFBase.itemsPerCommand || remaining == 0 {
                inCommand = 0
                try out.flushIfFull()
            }
        }
    }

    static let selectWord = Array("SELECT".utf8)
    static let setWord = Array("SET".utf8)
    static let rpushWord = Array("RPUSH".utf8)
    static let saddWord = Array("SADD".utf8)
    static let hsetWord = Array("HSET".utf8)
    static let zaddWord = Array("ZADD".utf8)
    static let pexpireatWord = Array("PEXPIREAT".utf8)
}

/// RESP commands gathered in a buffer and written to a descriptor in large chunks.
struct CommandOutput {
    let fd: Int32
    let fileSystem: any FileSystem
    var buffer: [UInt8] = []

    init(fd: Int32, fileSystem: any FileSystem) {
        self.fd = fd
        self.fileSystem = fileSystem
        buffer.reserveCapacity(AOFBase.writeChunkBytes + 4096)
    }

    mutating func arrayHeader(_ count: Int) {
        buffer.append(UInt8(ascii: "*"))
        buffer.append(contentsOf: Decimal.bytes(Int64(count)))
        buffer.append(13)
        buffer.append(10)
    }

    mutating func bulk<C: Collection>(_ bytes: C) where C.Element == UInt8 {
        buffer.append(UInt8(ascii: "$"))
        buffer.append(contentsOf: Decimal.bytes(Int64(bytes.count)))
        buffer.append(13)
        buffer.append(10)
        buffer.append(contentsOf: bytes)
        buffer.append(13)
        buffer.append(10)
    }

    mutating func command(_ args: [[UInt8]]) {
        arrayHeader(args.count)
        for a in args { bulk(a) }
    }

    mutating func flushIfFull() throws {
        if buffer.count >= AOFBase.writeChunkBytes { try flush() }
    }

    mutating func flush() throws {
        guard !buffer.isEmpty else { return }
        try buffer.withUnsafeBytes { try AtomicFile.writeAll(fd, $0, path: "AOF base", fileSystem: fileSystem) }
        buffer.removeAll(keepingCapacity: true)
    }
}
