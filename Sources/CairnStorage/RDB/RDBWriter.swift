#if canImport(Glibc)
import Glibc
#endif

// Writes an RDB stream (docs/format-rdb.md): header, AUX fields, databases, entries, EOF and
// checksum, through the outer layer `RDBSaveOptions.compression` selects. Cairn writes value
// types 0 STRING, 1 LIST, 2 SET / 11 INTSET, 4 HASH and 5 ZSET_2: all loadable by Redis 7.0.

public struct RDBSaveOptions: Sendable {
    public var compression: RDBCompression = .lz4
    /// `rdb-compression-level`: zlib 1...9, lz4 frame 0...12 (0–2 are LZ4's fast mode).
    public var compressionLevel: Int = 1
    /// `rdbchecksum`: when false the trailer is eight zero bytes (as Redis).
    public var checksum = true
    /// AUX fields written after redis-ver, redis-bits and ctime (used-mem, repl-id,
    /// repl-offset, aof-base, ...).
    public var aux: [(key: String, value: [UInt8])] = []
    /// `rdb-key-save-delay`: microseconds to sleep after each key (tests of slow saves).
    public var keySaveDelayMicros = 0
    public init() {}
}

public final class RDBWriter {
    private let output: RDBOutput
    private let fileSink: FileSink?
    private let options: RDBSaveOptions
    /// The version AUX field: the Redis release whose format this is.
    public static let redisVersionAux = "7.0.15"

    /// Bytes handed to the file descriptor so far (after compression).
    public var bytesWritten: Int64 { fileSink?.bytesWritten ?? output.offset }

    public convenience init(fd: Int32, options: RDBSaveOptions, fileSystem: any FileSystem = POSIXFileSystem()) throws {
        let file = FileSink(fd: fd, fileSystem: fileSystem)
        try self.init(sink: options.compression.outerSink(over: file, level: options.compressionLevel), file: file, options: options)
    }

    /// Writes into `sink` (memory, tests). The outer layer of `options` is applied on top.
    public convenience init(sink: ByteSink, options: RDBSaveOptions) throws {
        try self.init(sink: options.compression.outerSink(over: sink, level: options.compressionLevel), file: nil, options: options)
    }

    private init(sink: ByteSink, file: FileSink?, options: RDBSaveOptions) {
        self.output = RDBOutput(sink: sink, checksum: options.checksum, lzf: options.compression == .lzf)
        self.fileSink = file
        self.options = options
    }

    /// Magic, version and the AUX fields: redis-ver, redis-bits, ctime, then `aux`.
    public func writeHeader(aux: [(key: String, value: [UInt8])]) throws {
        try output.bytes(RDBFormat.magic + Self.versionDigits(RDBFormat.writtenVersion))
        try writeAux("redis-ver", Array(Self.redisVersionAux.utf8))
        try writeAux("redis-bits", Array(String(Int.bitWidth).utf8))
        try writeAux("ctime", Array(String(Clock.unixMillis() / 1000).utf8))
        for (key, value) in aux { try writeAux(key, value) }
    }

    private func writeAux(_ key: String, _ value: [UInt8]) throws {
        try output.byte(RDBFormat.opAux)
        try output.string(Array(key.utf8))
        try output.string(value)
    }

    public func selectDB(_ id: Int, keys: Int, expires: Int) throws {
        try output.byte(RDBFormat.opSelectDB)
        try output.length(id)
        try output.byte(RDBFormat.opResizeDB)
        try output.length(keys)
        try output.length(expires)
    }

    public func writeEntry(key: [UInt8], value: Value, expireAt: Int64) throws {
        if expireAt != noExpiry {
            try output.byte(RDBFormat.opExpireTimeMs)
            try output.littleEndian(expireAt)
        }
        try output.byte(Self.typeCode(of: value))
        try output.string(key)
        try Self.writeValue(value, to: output)
        if options.keySaveDelayMicros > 0 { usleep(UInt32(clamping: options.keySaveDelayMicros)) }
    }

    /// The entry at `index` of `table`, read in place: a string's key and bytes go from its record
    /// to the output without a copy, a reference count or an allocation (a forked child that
    /// saves must not write to the pages it shares with the server).
    func writeEntry(_ table: KeyTable, at index: Int) throws {
        let r = table.record(index)
        if r.hasExpiry {
            try output.byte(RDBFormat.opExpireTimeMs)
            try output.littleEndian(r.expireAt)
        }
        switch r.kind {
        case .int:
            try output.byte(RDBFormat.typeString)
            try output.string(r.key)
            try output.string(int: r.scalar)
        case .embstr, .raw:
            try output.byte(RDBFormat.typeString)
            try output.string(r.key)
            try output.string(r.stringBytes)
        case .packedHash:
            // A plain hash (type 4) read off the packed listpack: field, value, field, value.
            try output.byte(RDBFormat.typeHash)
            try output.string(r.key)
            try output.length(r.packedCount / 2)
            try Listpack.forEachPayload(in: r.stringBytes) { try output.string($0); return true }
        case .list:
            // A plain list (type 1) read off the nodes in place: no reference count changes.
            try Unmanaged<QuickList>.fromOpaque(r.object)._withUnsafeGuaranteedRef { list in
                try output.byte(RDBFormat.typeList)
                try output.string(r.key)
                try output.length(list.count)
                try list.forEachNodeBytes { node in
                    try Listpack.forEachPayload(in: node) { try output.string($0); return true }
                }
            }
        case .packedZset:
            // A sorted set (type 5) read off the packed listpack: member, then the score entry
            // (SortedSetValue's encoding) written as the binary double; already in score order.
            try output.byte(RDBFormat.typeZSet2)
            try output.string(r.key)
            try output.length(r.packedCount / 2)
            var member = true
            try Listpack.forEachPayload(in: r.stringBytes) { e in
                if member {
                    try output.string(e)
                } else {
                    try output.double(SortedSetValue.score(ofEntry: e))
                }
                member.toggle()
                return true
            }
        default:
            let value = r.value
            try output.byte(Self.typeCode(of: value))
            try output.string(r.key)
            try Self.writeValue(value, to: output)
        }
        if options.keySaveDelayMicros > 0 { usleep(UInt32(clamping: options.keySaveDelayMicros)) }
    }

    /// EOF opcode, checksum, and the end of the outer frame. Does not fsync or close.
    public func finish() throws {
        try output.byte(RDBFormat.opEOF)
        try output.finish()
    }

    // MARK: values (shared with DUMP)

    static func typeCode(of value: Value) -> UInt8 {
        switch value {
        case .int, .string: return RDBFormat.typeString
        case .list: return RDBFormat.typeList
        case .set(let s): return s.isIntset ? RDBFormat.typeSetIntset : RDBFormat.typeSet
        case .hash: return RDBFormat.typeHash
        case .zset: return RDBFormat.typeZSet2
        }
    }

    static func writeValue(_ value: Value, to out: RDBOutput) throws {
        switch value {
        case .int(let v):
            try out.string(int: v)
        case .string(let s):
            try out.string(s.bytes)
        case .list(let list):
            try out.length(list.count)
            var failure: Error?
            list.forEach(from: 0, through: list.count - 1) { element in
                do { try out.string(element) } catch { failure = error; return false }
                return true
            }
            if let failure { throw failure }
        case .set(let set):
            if set.isIntset {
                try writeIntset(set, to: out)
            } else {
                try out.length(set.count)
                var failure: Error?
                set.forEach { member in
                    guard failure == nil else { return }
                    do {
                        switch member {
                        case .int(let v): try out.string(int: v)
                        case .bytes(let b): try out.string(b)
                        }
                    } catch { failure = error }
                }
                if let failure { throw failure }
            }
        case .hash(let hash):
            try out.length(hash.count)
            var failure: Error?
            hash.forEach { field, value in
                guard failure == nil else { return }
                do {
                    try out.string(field)
                    try out.string(value)
                } catch { failure = error }
            }
            if let failure { throw failure }
        case .zset(let zset):
            try out.length(zset.count)
            var failure: Error?
            zset.forEachInOrder { member, score in
                guard failure == nil else { return }
                do {
                    try out.string(member)
                    try out.double(score)
                } catch { failure = error }
            }
            if let failure { throw failure }
        }
    }

    /// Redis's intset blob: encoding width (2, 4 or 8) and count as 32-bit little-endian, then
    /// the sorted values little-endian at that width.
    private static func writeIntset(_ set: SetValue, to out: RDBOutput) throws {
        var low: Int64 = 0, high: Int64 = 0
        set.forEach { m in
            if case .int(let v) = m {
                low = min(low, v)
                high = max(high, v)
            }
        }
        let width: Int
        if low >= Int64(Int16.min) && high <= Int64(Int16.max) { width = 2 }
        else if low >= Int64(Int32.min) && high <= Int64(Int32.max) { width = 4 }
        else { width = 8 }
        var blob = [UInt8]()
        blob.reserveCapacity(8 + width * set.count)
        func append<T: FixedWidthInteger>(_ v: T) { withUnsafeBytes(of: v.littleEndian) { blob.append(contentsOf: $0) } }
        append(UInt32(width))
        append(UInt32(set.count))
        set.forEach { m in
            guard case .int(let v) = m else { return }
            switch width {
            case 2: append(Int16(truncatingIfNeeded: v))
            case 4: append(Int32(truncatingIfNeeded: v))
            default: append(v)
            }
        }
        try out.string(blob)
    }

    /// The header's four zero-padded version digits.
    static func versionDigits(_ v: Int) -> [UInt8] {
        let digits = Array(String(v).utf8)
        return [UInt8](repeating: UInt8(ascii: "0"), count: max(0, 4 - digits.count)) + digits
    }
}
