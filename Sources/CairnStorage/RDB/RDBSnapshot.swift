#if canImport(Glibc)
import Glibc
#endif

// The whole keyspace to and from an RDB file (docs/format-rdb.md). `write` is what SAVE and
// the BGSAVE child run; `load` runs at start-up and for DEBUG RELOAD.

public struct RDBSaveProgress: Sendable {
    public var keys: Int64 = 0
    /// Bytes written to the file descriptor so far (after compression).
    public var bytes: Int64 = 0
    public init() {}
}

public struct RDBLoadOptions: Sendable {
    /// What a key already in memory means.
    public enum ExistingKeys: Sendable {
        /// A damaged file (a load into empty databases, or DEBUG RELOAD NOFLUSH).
        case refuse
        /// The file's value replaces it (DEBUG RELOAD NOFLUSH MERGE).
        case replace
    }

    public var verifyChecksum = true
    /// Keys whose expiry time is before this (unix ms) are skipped, as a Redis master does.
    /// `nil` keeps every key.
    public var skipExpiredBefore: Int64? = nil
    public var existingKeys = ExistingKeys.refuse
    public init() {}
}

public struct RDBLoadSummary: Sendable {
    public var keys = 0
    public var expiredSkipped = 0
    public var emptySkipped = 0
    public var version = 0
    public var outer: RDBCompression = .none
    public var aux: [(key: String, value: [UInt8])] = []
    public var seconds = 0.0
    /// Keeps the batch reads of the loader observable (never meaningful).
    var touchedSink = 0
    public init() {}
}

public enum RDBSnapshot {
    /// Keys between two progress reports.
    static let progressInterval: Int64 = 1024

    /// Writes every database of `engine` as one RDB stream to `fd` (not fsynced, not closed).
    @discardableResult
    public static func write(_ engine: Engine, to fd: Int32, options: RDBSaveOptions,
                             fileSystem: any FileSystem = POSIXFileSystem(),
                             progress: ((RDBSaveProgress) -> Void)? = nil) throws -> RDBSaveProgress {
        try write(engine, with: RDBWriter(fd: fd, options: options, fileSystem: fileSystem), options: options, progress: progress)
    }

    /// As `write(_:to:...)`, into any sink (the descriptors of a diskless replica sync).
    @discardableResult
    public static func write(_ engine: Engine, to sink: ByteSink, options: RDBSaveOptions,
                             progress: ((RDBSaveProgress) -> Void)? = nil) throws -> RDBSaveProgress {
        try write(engine, with: RDBWriter(sink: sink, options: options), options: options, progress: progress)
    }

    private static func write(_ engine: Engine, with writer: RDBWriter, options: RDBSaveOptions,
                              progress: ((RDBSaveProgress) -> Void)?) throws -> RDBSaveProgress {
        var aux = options.aux
        if !aux.contains(where: { $0.key == "aof-base" }) { aux.append(("aof-base", [UInt8(ascii: "0")])) }
        try writer.writeHeader(aux: aux)
        var done = RDBSaveProgress()
        for db in engine.databases where db.count > 0 {
            try writer.selectDB(db.id, keys: db.count, expires: db.table.volatileCount)
            for i in db.table.indices {
                try writer.writeEntry(db.table, at: i)
                done.keys += 1
                if done.keys % progressInterval == 0, let progress {
                    done.bytes = writer.bytesWritten
                    progress(done)
                }
            }
        }
        try writer.finish()
        done.bytes = writer.bytesWritten
        progress?(done)
        return done
    }

    /// Loads the RDB file at `path` into `engine`'s databases.
    public static func load(path: String, into engine: Engine, options: RDBLoadOptions) throws -> RDBLoadSummary {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw RDBError(.io, "cannot open \(path): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        let started = Clock.monotonicMicros()
        let reader = try RDBReader(fd: fd, settings: engine.settings, verifyChecksum: options.verifyChecksum)
        var summary = try load(from: reader, into: engine, options: options)
        summary.seconds = Double(Clock.monotonicMicros() - started) / 1e6
        return summary
    }

    /// Keys inserted together: their hash-table reads are issued before any lookup (see
    /// `ByteMap.touch(hash:)`), which hides most of the cache misses of a large load.
    static let loadBatchKeys = 64

    /// Loads every record of `reader` into `engine`: the one RDB loader (start-up, DEBUG RELOAD,
    /// the RDB preamble of an AOF base), its rules in `options`.
    public static func load(from reader: RDBReader, into engine: Engine, options: RDBLoadOptions) throws -> RDBLoadSummary {
        var summary = RDBLoadSummary()
        summary.version = reader.version
        summary.outer = reader.outer
        let clock = engine.lruClock
        var currentDB = 0
        // Entries wait in a small batch (see `loadBatchKeys`); strings as ready-made records (no
        // reference count to touch), which are freed if loading stops before they are inserted.
        enum Pending {
            case record(RDBReader.StringRecord, hash: Int)
            case entry(RDBEntry, hash: Int)
        }
        var batch: [Pending] = []
        batch.reserveCapacity(loadBatchKeys)
        var touched = 0

        func insertBatch() throws {
            for i in batch.indices {
                switch batch[i] {
                case .record(let r, let hash): touched &+= engine.databases[r.db].table.touch(hash: hash)
                case .entry(let e, let hash): touched &+= engine.databases[e.db].table.touch(hash: hash)
                }
            }
            for i in batch.indices {
                do {
                    switch batch[i] {
                    case .record(let r, let hash):
                        let db = engine.databases[r.db]
                        try makeRoom(db, key: r.record.key, hash: hash, offset: r.offset)
                        r.record.accessClock = accessClock(idleSeconds: r.idleSeconds)
                        db.table.insert(record: r.record, hash: hash)
                    case .entry(let e, let hash):
                        let db = engine.databases[e.db]
                        try e.key.withUnsafeBytes { try makeRoom(db, key: $0, hash: hash, offset: e.offset) }
                        db.table.insert(key: e.key, hash: hash, value: e.value, expireAt: e.expireAt,
                                        accessClock: accessClock(idleSeconds: e.idleSeconds))
                    }
                } catch {
                    // The table owns what went in; the rest stays pending for `dropPending`.
                    batch.removeFirst(i)
                    throw error
                }
                summary.keys += 1
            }
            batch.removeAll(keepingCapacity: true)
        }

        /// A key already in `db` is refused, unless its time ran out or the options replace it.
        func makeRoom(_ db: Database, key: UnsafeRawBufferPointer, hash: Int, offset: Int) throws {
            guard let existing = db.table.find(key, hash: hash) else { return }
            guard options.existingKeys == .replace || db.isLogicallyExpired(existing) else {
                throw RDBError(.corrupt, "duplicate key in database \(db.id)", offset: offset, key: Array(key))
            }
            db.table.remove(at: existing)
        }

        func accessClock(idleSeconds: Int64?) -> UInt32 {
            guard let idle = idleSeconds else { return clock }
            return UInt32(truncatingIfNeeded: Int64(clock) - idle) & 0xFF_FFFF
        }

        /// Frees the records still waiting when loading stops on an error.
        func dropPending() {
            for case .record(let r, _) in batch { r.record.free() }
            batch.removeAll()
        }

        do {
            try loadItems()
        } catch {
            dropPending()
            throw error
        }
        summary.touchedSink = touched
        return summary

        func loadItems() throws {
        while let item = try reader.nextForLoading() {
            let record: RDBRecord
            switch item {
            case .string(let r):
                guard r.db < engine.databases.count else {
                    r.record.free()
                    continue
                }
                if let limit = options.skipExpiredBefore, r.record.expireAt != noExpiry, r.record.expireAt < limit {
                    summary.expiredSkipped += 1
                    r.record.free()
                    continue
                }
                batch.append(.record(r, hash: KeyTable.hash(r.record.key)))
                if batch.count == loadBatchKeys { try insertBatch() }
                continue
            case .other(let r):
                record = r
            }
            switch record {
            case .aux(let key, let value):
                summary.aux.append((String(decoding: key, as: UTF8.self), value))
            case .selectDB(let id):
                try insertBatch()
                guard id < engine.databases.count else {
                    throw RDBError(.unsupported, "the file uses database \(id) but this server has \(engine.databases.count) databases", offset: reader.offset)
                }
                currentDB = id
            case .resizeDB(let keys, let expires):
                try insertBatch()
                // A size hint (as Redis's dictExpand on RESIZEDB), capped so that a damaged hint
                // cannot make the loader allocate much before the damage is found.
                let cap = 1 << 22
                engine.databases[currentDB].table.reserveCapacity(min(keys, cap), volatileCount: min(expires, keys, cap))
            case .entry(let e):
                guard e.db < engine.databases.count else { continue }
                if let limit = options.skipExpiredBefore, e.expireAt != noExpiry, e.expireAt < limit {
                    summary.expiredSkipped += 1
                    continue
                }
                if e.value.isEmptyCollection {
                    summary.emptySkipped += 1
                    continue
                }
                batch.append(.entry(e, hash: KeyTable.hash(e.key)))
                if batch.count == loadBatchKeys { try insertBatch() }
            }
        }
        try insertBatch()
        }
    }

    /// An engine holding one key of every type and encoding (and an expiry), for warm-ups.
    static func warmUpEngine() -> Engine {
        let engine = Engine()
        let db = engine.databases[0]
        let list = QuickList()
        list.pushBack(Array("element".utf8))
        let hash = HashValue()
        _ = hash.set(Array("f".utf8), Array("v".utf8), limits: HashLimits(engine.settings))
        let small = SetValue()
        _ = small.add(int: 1, maxIntsetEntries: 512)
        let large = SetValue()
        _ = large.add(Array("member".utf8), maxIntsetEntries: 512)
        let zset = SortedSetValue()
        _ = Array("m".utf8).withUnsafeBytes { zset.add($0, score: 1.5, flags: [], limits: SortedSetValue.Limits(engine.settings)) }
        let values: [Value] = [.int(7), .int(1 << 40), .string(StringBytes(Array(repeating: 97, count: 64), raw: true)),
                               .list(list), .hash(hash), .set(small), .set(large), .zset(zset)]
        for (i, v) in values.enumerated() {
            db.insert(Array("warm-\(i)".utf8), v, expireAt: i == 0 ? Clock.unixMillis() + 1_000_000 : noExpiry)
        }
        return engine
    }

    /// Runs every save path once in this process (each type, each compression) so that a forked
    /// child never instantiates generic metadata or initialises a global for the first time.
    public static func warmUp() {
        let engine = warmUpEngine()
        let fd = open("/dev/null", O_WRONLY | O_CLOEXEC)
        guard fd >= 0 else { return }
        defer { close(fd) }
        for compression in RDBCompression.allCases {
            var options = RDBSaveOptions()
            options.compression = compression
            // The fan-out path of a diskless replica sync too.
            _ = try? write(engine, to: FanOutSink(descriptors: [fd]), options: options)
            _ = try? write(engine, to: fd, options: options) { _ in }
        }
    }
}
