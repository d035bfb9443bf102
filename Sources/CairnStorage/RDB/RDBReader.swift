import CairnRESP
#if canImport(Glibc)
import Glibc
#endif

// Reads an RDB stream record by record (docs/format-rdb.md): every value type Redis 5–7.2
// writes, in any outer layer Cairn writes. Damage is reported as an `RDBError` naming the
// offset in the inner stream (and the key, once known); unsupported content (streams, modules,
// functions, newer versions) as `.unsupported`. Nothing here traps on bad input.

/// One record of an RDB stream, in file order.
public enum RDBRecord {
    case aux(key: [UInt8], value: [UInt8])
    case selectDB(Int)
    case resizeDB(keys: Int, expires: Int)
    case entry(RDBEntry)
}

public struct RDBEntry {
    public var db: Int
    public var key: [UInt8]
    public var value: Value
    /// Unix ms, or `noExpiry`.
    public var expireAt: Int64
    /// OBJECT IDLETIME in seconds, when the file carries it (LRU maxmemory policies).
    public var idleSeconds: Int64?
    /// LFU counter, when the file carries it.
    public var frequency: UInt8?
    /// The RDB type code the value was stored with.
    public var typeCode: UInt8
    /// Offset of the entry's first byte (its expiry or type) in the inner stream, and its length.
    public var offset: Int
    public var byteCount: Int
}

public final class RDBReader {
    public private(set) var version = 0
    /// The outer layer found by its magic: `.lz4`, `.zlib` or `.none` (plain; it may hold LZF strings).
    public let outer: RDBCompression
    /// The stored and computed checksums, once the end was read (stored 0 = not checked).
    public private(set) var checksums: (stored: UInt64, computed: UInt64)?
    private let input: RDBInput
    private let fileSource: FileSource?
    private let settings: EngineSettings
    private let verifyChecksum: Bool
    private var db = 0
    private var finished = false
    /// Accept bytes after the checksum (an AOF whose RDB preamble is followed by commands);
    /// `offset` then says where the RDB ended.
    public var allowsTrailingData = false

    /// Position in the inner (decompressed) stream.
    public var offset: Int { input.offset }
    /// Bytes consumed from the underlying file (for progress bars).
    public var fileBytesRead: Int64 { fileSource?.bytesRead ?? Int64(input.offset) }

    /// Reads from `fd` (not closed by the reader). Throws `RDBError` for a bad header.
    public convenience init(fd: Int32, settings: EngineSettings = EngineSettings(), verifyChecksum: Bool = true) throws {
        let file = FileSource(fd: fd)
        try self.init(source: file, file: file, settings: settings, verifyChecksum: verifyChecksum)
    }

    /// Reads an in-memory file image.
    public convenience init(bytes: [UInt8], settings: EngineSettings = EngineSettings(), verifyChecksum: Bool = true) throws {
        try self.init(source: MemorySource(bytes), file: nil, settings: settings, verifyChecksum: verifyChecksum)
    }

    /// Reads any byte stream, e.g. a member of a backup archive (the outer layer is detected as
    /// for a file).
    public convenience init(source: ByteSource, settings: EngineSettings = EngineSettings(), verifyChecksum: Bool = true) throws {
        try self.init(source: source, file: nil, settings: settings, verifyChecksum: verifyChecksum)
    }

    private init(source: ByteSource, file: FileSource?, settings: EngineSettings, verifyChecksum: Bool) throws {
        let (inner, outer) = try OuterFormat.open(source)
        self.outer = outer
        self.fileSource = file
        self.settings = settings
        self.verifyChecksum = verifyChecksum
        self.input = RDBInput(source: inner, checksum: verifyChecksum)
        try readHeader()
    }

    /// A reader of one bare value (type byte + value), as in a DUMP payload.
    private init(value bytes: ArraySlice<UInt8>, settings: EngineSettings) {
        self.outer = .none
        self.fileSource = nil
        self.settings = settings
        self.verifyChecksum = false
        self.input = RDBInput(source: MemorySource(Array(bytes)), checksum: false)
    }

    /// Decodes a type byte and value that must span `bytes` exactly (RESTORE).
    static func decodeValue(_ bytes: ArraySlice<UInt8>, settings: EngineSettings) throws -> Value {
        let reader = RDBReader(value: bytes, settings: settings)
        let type = try reader.input.byte()
        let value = try reader.readValue(type: type, at: 0)
        guard try reader.input.atEnd() else { throw RDBError(.corrupt, "bytes after the value", offset: reader.input.offset) }
        return value
    }

    private func readHeader() throws {
        let head: [UInt8]
        do { head = try input.array(9) } catch let error as RDBError where error.isEndOfInput {
            // Only a clean end of the stream means "too short": a damaged outer frame says so.
            throw RDBError(.corrupt, "not an RDB file (too short for the REDIS header)", offset: 0)
        }
        guard head.starts(with: RDBFormat.magic) else {
            throw RDBError(.corrupt, "not an RDB file (wrong signature)", offset: 0)
        }
        var v = 0
        for b in head[5...] {
            guard b >= 0x30 && b <= 0x39 else { throw RDBError(.corrupt, "not an RDB file (bad version digits)", offset: 5) }
            v = v * 10 + Int(b - 0x30)
        }
        guard RDBFormat.readableVersions.contains(v) else {
            throw RDBError(.unsupported, "can't handle RDB format version \(v) (this build reads up to \(RDBFormat.readableVersions.upperBound))", offset: 5)
        }
        version = v
    }

    /// The next record; nil once EOF and the checksum were read (and verified).
    public func next() throws -> RDBRecord? {
        guard case .other(let record)? = try read(stringsAsRecords: false) else { return nil }
        return record
    }

    /// The one reading loop of `next()` and `nextForLoading()`.
    private func read(stringsAsRecords: Bool) throws -> LoadItem? {
        guard !finished else { return nil }
        let entryStart = input.offset
        var expireAt = noExpiry
        var idle: Int64? = nil
        var frequency: UInt8? = nil
        while true {
            let at = input.offset
            let type = try input.byte()
            switch type {
            case RDBFormat.opExpireTimeMs:
                expireAt = try input.littleEndian(Int64.self)
            case RDBFormat.opExpireTime:
                expireAt = Int64(try input.littleEndian(Int32.self)) * 1000
            case RDBFormat.opIdle:
                idle = Int64(try input.plainLength())
            case RDBFormat.opFreq:
                frequency = try input.byte()
            case RDBFormat.opSelectDB:
                let id = try input.plainLength()
                guard id < Int(Int32.max) else { throw RDBError(.corrupt, "bad database number \(id)", offset: at) }
                db = id
                return .other(.selectDB(id))
            case RDBFormat.opResizeDB:
                let keys = try input.plainLength()
                let expires = try input.plainLength()
                return .other(.resizeDB(keys: keys, expires: expires))
            case RDBFormat.opAux:
                let key = try input.string()
                let value = try input.string()
                return .other(.aux(key: key, value: value))
            case RDBFormat.opModuleAux:
                throw RDBError(.unsupported, "module auxiliary data is not supported (type module-aux)", offset: at)
            case RDBFormat.opFunction, RDBFormat.opFunction2:
                throw RDBError(.unsupported, "functions in RDB files are not supported (FUNCTION libraries)", offset: at)
            case RDBFormat.opEOF:
                try readTrailer()
                return nil
            case RDBFormat.typeString where stringsAsRecords:
                return .string(StringRecord(db: db, record: try readStringRecord(expireAt: expireAt, at: at),
                                            idleSeconds: idle, offset: entryStart))
            default:
                let key: [UInt8]
                do { key = try input.string() } catch var e as RDBError {
                    e.offset = e.offset ?? at
                    throw e
                }
                let value: Value
                do {
                    value = try readValue(type: type, at: at)
                } catch var e as RDBError {
                    e.key = key
                    e.offset = e.offset ?? at
                    throw e
                }
                return .other(.entry(RDBEntry(db: db, key: key, value: value, expireAt: expireAt, idleSeconds: idle,
                                              frequency: frequency, typeCode: type, offset: entryStart,
                                              byteCount: input.offset - entryStart)))
            }
        }
    }

    /// What the loader reads: a string entry built straight into a key record (no key or value
    /// array: the key goes through a scratch buffer, the value from the input buffer into the
    /// record), or any other record as `next()` reads it.
    enum LoadItem {
        case string(StringRecord)
        case other(RDBRecord)
    }

    /// A string entry as a key record (owned by the receiver: insert it or free it).
    struct StringRecord {
        var db: Int
        var record: KeyRecord
        var idleSeconds: Int64?
        var offset: Int
    }

    /// Reusable key bytes for `nextForLoading`.
    private var keyScratch: [UInt8] = []
    /// Reusable buffers for reading a small sorted set (its members' bytes, the pairs, an order).
    private var zsetBytes: [UInt8] = []
    private var zsetMembers: [SortedSetValue.LoadedMember] = []
    private var zsetOrder: [Int] = []

    /// As `next()`, but a string entry comes back as a record (see `LoadItem`).
    func nextForLoading() throws -> LoadItem? { try read(stringsAsRecords: true) }

    /// A string entry's key and value, read into a new record with `expireAt`.
    private func readStringRecord(expireAt: Int64, at: Int) throws -> KeyRecord {
        do {
            keyScratch.removeAll(keepingCapacity: true)
            try input.withString { keyScratch.append(contentsOf: $0) }
        } catch var e as RDBError {
            e.offset = e.offset ?? at
            throw e
        }
        do {
            return try keyScratch.withUnsafeBytes { key in
                func make(_ bytes: UnsafeRawBufferPointer, _ parts: RecordValue) -> KeyRecord {
                    KeyRecord.make(key: key, value: parts, stringBytes: bytes, expireAt: expireAt, accessClock: 0)
                }
                switch try input.stringField() {
                case .int(let v):
                    return make(UnsafeRawBufferPointer(start: nil, count: 0), RecordValue(kind: .int, scalar: v))
                case .bytes(let n):
                    if n <= RDBInput.bufferBytes { return try input.withBytes(n) { make($0, RecordValue(stringFrom: $0)) } }
                    return try input.array(n).withUnsafeBytes { make($0, RecordValue(stringFrom: $0)) }
                case .lzf(let c, let n):
                    return try input.lzfString(compressed: c, length: n).withUnsafeBytes { make($0, RecordValue(stringFrom: $0)) }
                }
            }
        } catch var e as RDBError {
            e.key = keyScratch
            e.offset = e.offset ?? at
            throw e
        }
    }

    private func readTrailer() throws {
        let computed = input.checksum()
        if version >= 5 {
            let at = input.offset
            let stored = try input.littleEndian(UInt64.self)
            checksums = (stored, computed)
            if verifyChecksum && !DumpPayload.skipChecksumValidation && stored != 0 && stored != computed {
                throw RDBError(.corrupt, "wrong RDB checksum (stored \(hex(stored)), computed \(hex(computed)))", offset: at)
            }
        }
        guard try allowsTrailingData || input.atEnd() else {
            throw RDBError(.corrupt, "unexpected bytes after the end of the RDB", offset: input.offset)
        }
        finished = true
    }

    private func hex(_ v: UInt64) -> String { "0x" + String(v, radix: 16) }

    // MARK: values

    private var hashLimits: HashLimits { HashLimits(settings) }
    private var zsetLimits: SortedSetValue.Limits { SortedSetValue.Limits(settings) }

    private func readValue(type: UInt8, at: Int) throws -> Value {
        switch type {
        case RDBFormat.typeString:
            switch try input.stringField() {
            case .int(let v): return .int(v)
            case .bytes(let n): return Value.string(fromStored: try input.array(n))
            case .lzf(let c, let n): return Value.string(fromStored: try input.lzfString(compressed: c, length: n))
            }
        case RDBFormat.typeList:
            let list = QuickList()
            let n = try input.plainLength()
            for _ in 0..<n { try input.withString { list.pushBack($0) } }
            list.trimEnds()
            return .list(list)
        case RDBFormat.typeSet:
            let set = SetValue()
            let n = try input.plainLength()
            if n > settings.setMaxIntsetEntries { set.convertToTable(extra: min(n, 1 << 20)) }
            for _ in 0..<n {
                let added = try input.withString { set.add($0, maxIntsetEntries: settings.setMaxIntsetEntries) }
                if !added { throw RDBError(.corrupt, "duplicate set member") }
            }
            return .set(set)
        case RDBFormat.typeZSet, RDBFormat.typeZSet2:
            let n = try input.plainLength()
            if n <= zsetLimits.maxEntries {
                // Small: read every pair (the members into one reused buffer, no array each),
                // then build the listpack in one sorted pass.
                zsetBytes.removeAll(keepingCapacity: true)
                zsetMembers.removeAll(keepingCapacity: true)
                for _ in 0..<n {
                    let start = zsetBytes.count
                    try input.withString { zsetBytes.append(contentsOf: $0) }
                    let score = type == RDBFormat.typeZSet2 ? Double(bitPattern: try input.littleEndian(UInt64.self)) : try readStringDouble()
                    zsetMembers.append(SortedSetValue.LoadedMember(start: start, count: zsetBytes.count - start, score: score))
                }
                let built = zsetBytes.withUnsafeBytes {
                    SortedSetValue.listpackLoaded(bytes: $0, zsetMembers, limits: zsetLimits, order: &zsetOrder)
                }
                if let built { return .zset(built) }
                // Long members, a NaN or a repeated member: the general path decides (and reports).
                let zset = SortedSetValue(expecting: n, longest: 0, limits: zsetLimits)
                for m in zsetMembers { try addScored(zset, Array(zsetBytes[m.start..<(m.start + m.count)]), m.score) }
                return .zset(zset)
            }
            // The count comes from the file: presize for at most 2^20 members, so a damaged count
            // fails when the data runs out instead of allocating (or overflowing) up front.
            let zset = SortedSetValue(expecting: min(n, 1 << 20), longest: 0, limits: zsetLimits)
            for _ in 0..<n {
                let member = try input.string()
                let score = type == RDBFormat.typeZSet2 ? Double(bitPattern: try input.littleEndian(UInt64.self)) : try readStringDouble()
                try addScored(zset, member, score)
            }
            return .zset(zset)
        case RDBFormat.typeHash:
            let n = try input.plainLength()
            if n <= settings.hashMaxListpackEntries {
                // Small: the pairs go straight into a listpack (no array per field or value), then
                // one check of lengths and repeated fields.
                var pack = Listpack()
                for _ in 0..<(2 * n) { try input.withString { pack.append($0) } }
                if let hash = HashValue.listpackLoaded(pack, limits: hashLimits) { return .hash(hash) }
                var entries: [[UInt8]] = []
                entries.reserveCapacity(2 * n)
                pack.forEach { entries.append(Array($0)); return true }
                let hash = HashValue()
                for k in stride(from: 0, to: entries.count, by: 2) { try addField(hash, entries[k], entries[k + 1]) }
                return .hash(hash)
            }
            let hash = HashValue()
            hash.convertToTable()
            for _ in 0..<n {
                let field = try input.string()
                let value = try input.string()
                try addField(hash, field, value)
            }
            return .hash(hash)
        case RDBFormat.typeSetIntset:
            let set = SetValue()
            try blob("intset") { b in
                try RedisIntset.forEach(b) { v in
                    if !set.add(int: v, maxIntsetEntries: self.settings.setMaxIntsetEntries) {
                        throw RDBError(.corrupt, "duplicate intset member")
                    }
                }
            }
            return try nonEmpty(.set(set), set.count)
        case RDBFormat.typeSetListpack:
            let set = SetValue()
            try blob("listpack") { b in
                try RedisListpack.forEach(b) { e in
                    let added = Self.withEntry(e) { set.add($0, maxIntsetEntries: self.settings.setMaxIntsetEntries) }
                    if !added { throw RDBError(.corrupt, "duplicate set member") }
                }
            }
            return try nonEmpty(.set(set), set.count)
        case RDBFormat.typeListZiplist:
            let list = QuickList()
            try blob("ziplist") { b in try RedisZiplist.forEach(b) { e in Self.withEntry(e) { list.pushBack($0) } } }
            list.trimEnds()
            return try nonEmpty(.list(list), list.count)
        case RDBFormat.typeListQuicklist, RDBFormat.typeListQuicklist2:
            let list = QuickList()
            let nodes = try input.plainLength()
            for _ in 0..<nodes {
                var container = RDBFormat.quicklistNodePacked
                if type == RDBFormat.typeListQuicklist2 {
                    container = try input.plainLength()
                    guard container == RDBFormat.quicklistNodePlain || container == RDBFormat.quicklistNodePacked else {
                        throw RDBError(.corrupt, "bad quicklist node container \(container)")
                    }
                }
                if container == RDBFormat.quicklistNodePlain {
                    try input.withString { list.pushBack($0) }
                    continue
                }
                // An empty node is skipped, as Redis 7.0 does; an empty list as a whole is
                // skipped by the loader like any empty key.
                if type == RDBFormat.typeListQuicklist {
                    try blob("ziplist") { b in try RedisZiplist.forEach(b) { e in Self.withEntry(e) { list.pushBack($0) } } }
                } else {
                    try blob("listpack") { b in try RedisListpack.forEach(b) { e in Self.withEntry(e) { list.pushBack($0) } } }
                }
            }
            list.trimEnds()
            return try nonEmpty(.list(list), list.count)
        case RDBFormat.typeHashZipmap:
            let hash = HashValue()
            try blob("zipmap") { b in try RedisZipmap.forEach(b) { f, v in try self.addField(hash, Array(f), Array(v)) } }
            return try nonEmpty(.hash(hash), hash.count)
        case RDBFormat.typeHashZiplist, RDBFormat.typeHashListpack:
            let hash = HashValue()
            let kind = type == RDBFormat.typeHashZiplist ? "ziplist" : "listpack"
            try blob(kind) { b in
                var field: [UInt8]? = nil
                let visit: (CompactEntry) throws -> Void = { e in
                    let bytes = Self.withEntry(e) { Array($0) }
                    if let f = field {
                        try self.addField(hash, f, bytes)
                        field = nil
                    } else {
                        field = bytes
                    }
                }
                if type == RDBFormat.typeHashZiplist { try RedisZiplist.forEach(b, visit) } else { try RedisListpack.forEach(b, visit) }
                if field != nil { throw RDBError(.corrupt, "\(kind) hash with an odd number of entries") }
            }
            return try nonEmpty(.hash(hash), hash.count)
        case RDBFormat.typeZSetZiplist, RDBFormat.typeZSetListpack:
            let kind = type == RDBFormat.typeZSetZiplist ? "ziplist" : "listpack"
            let zset = SortedSetValue()
            try blob(kind) { b in
                var member: [UInt8]? = nil
                let visit: (CompactEntry) throws -> Void = { e in
                    if let m = member {
                        let score: Double
                        switch e {
                        case .int(let v): score = Double(v)
                        case .bytes(let p):
                            guard let d = ScoreFormat.parseScore(p) else { throw RDBError(.corrupt, "bad score in \(kind) sorted set") }
                            score = d
                        }
                        try self.addScored(zset, m, score)
                        member = nil
                    } else {
                        member = Self.withEntry(e) { Array($0) }
                    }
                }
                if type == RDBFormat.typeZSetZiplist { try RedisZiplist.forEach(b, visit) } else { try RedisListpack.forEach(b, visit) }
                if member != nil { throw RDBError(.corrupt, "\(kind) sorted set with an odd number of entries") }
            }
            return try nonEmpty(.zset(zset), zset.count)
        case RDBFormat.typeModule, RDBFormat.typeModule2:
            throw RDBError(.unsupported, "module values are not supported (type \(type) module)", offset: at)
        case RDBFormat.typeStreamListpacks, RDBFormat.typeStreamListpacks2, RDBFormat.typeStreamListpacks3:
            throw RDBError(.unsupported, "stream values are not supported (type \(type) stream)", offset: at)
        default:
            throw RDBError(.corrupt, "unknown value type \(type)", offset: at)
        }
    }

    /// Empty values are passed on; the loader skips them as Redis does ("skipping empty key").
    private func nonEmpty(_ v: Value, _ count: Int) throws -> Value { v }

    /// Reads a string holding a compact blob and decodes it, turning decoder errors into
    /// `RDBError`s at the blob's offset.
    private func blob(_ kind: String, _ decode: (UnsafeRawBufferPointer) throws -> Void) throws {
        let at = input.offset
        do {
            try input.withString { try decode($0) }
        } catch let e as CompactEncodingError {
            throw RDBError(.corrupt, "damaged \(kind): \(e.message) (blob offset \(e.offset))", offset: at)
        }
    }

    static func withEntry<R>(_ e: CompactEntry, _ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        switch e {
        case .bytes(let p): return try body(p)
        case .int(let v): return try Decimal.bytes(v).withUnsafeBytes { try body($0) }
        }
    }

    private func addField(_ hash: HashValue, _ field: [UInt8], _ value: [UInt8]) throws {
        if !hash.set(field, value, limits: hashLimits) { throw RDBError(.corrupt, "duplicate hash field") }
    }

    private func addScored(_ zset: SortedSetValue, _ member: [UInt8], _ score: Double) throws {
        guard !score.isNaN else { throw RDBError(.corrupt, "sorted set score is NaN") }
        let (outcome, _) = member.withUnsafeBytes { zset.add($0, score: score, flags: .nx, limits: zsetLimits) }
        if outcome != .added { throw RDBError(.corrupt, "duplicate sorted set member") }
    }

    /// Type 3's score: a length byte (253 NaN, 254 +inf, 255 -inf) then that many ASCII bytes.
    private func readStringDouble() throws -> Double {
        let n = try input.byte()
        switch n {
        case 253: return .nan
        case 254: return .infinity
        case 255: return -.infinity
        default:
            return try input.withBytes(Int(n)) { p in
                guard let d = ScoreFormat.parseScore(p) else { throw RDBError(.corrupt, "bad sorted set score") }
                return d
            }
        }
    }
}
