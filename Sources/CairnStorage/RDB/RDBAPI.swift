// TEMPORARY CONTRACT FILE: the public surface of the RDB layer, with stub bodies, so that
// parallel work can compile against it. Replaced by RDBWriter.swift / RDBReader.swift /
// RDBSnapshot.swift (same signatures) as they land.

public struct RDBSaveOptions: Sendable {
    public var compression: RDBCompression = .lz4
    /// `rdb-compression-level`: zlib 1...9, lz4 frame 0...12 (0 and 1 are LZ4's fast mode).
    public var compressionLevel: Int = 1
    /// `rdbchecksum`: when false the trailer is eight zero bytes (as Redis).
    public var checksum = true
    /// Extra AUX fields written after the standard ones (repl-id, repl-offset, aof-base, ...).
    public var aux: [(key: String, value: [UInt8])] = []
    /// `rdb-key-save-delay`: microseconds to sleep after each key (tests of slow saves).
    public var keySaveDelayMicros = 0
    public init() {}
}

public struct RDBSaveProgress: Sendable {
    public var keys: Int64 = 0
    /// Bytes written to the file descriptor so far (after compression).
    public var bytes: Int64 = 0
    public init() {}
}

public struct RDBLoadOptions: Sendable {
    public var verifyChecksum = true
    /// Keys whose expiry time is before this (unix ms) are skipped, as a Redis master does.
    /// `nil` keeps every key.
    public var skipExpiredBefore: Int64? = nil
    public init() {}
}

public struct RDBLoadSummary: Sendable {
    public var keys = 0
    public var expiredSkipped = 0
    public var version = 0
    public var aux: [(key: String, value: [UInt8])] = []
    public var seconds = 0.0
    public init() {}
}

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
    /// OBJECT IDLETIME in seconds, when the file carries it (maxmemory-policy LRU).
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
    /// The outer frame found by its magic: `.lz4`, `.zlib` or `.none` (plain; it may hold LZF strings).
    public private(set) var outer: RDBCompression = .none
    /// Position in the inner (decompressed) stream.
    public var offset: Int { 0 }
    /// Bytes consumed from the underlying file (for progress bars).
    public var fileBytesRead: Int64 { 0 }

    /// Reads from `fd` (not closed by the reader). Throws `RDBError` for a bad header.
    public init(fd: Int32, settings: EngineSettings = EngineSettings(), verifyChecksum: Bool = true) throws {
        throw RDBError(.unsupported, "RDB reader not implemented yet")
    }
    /// Reads an in-memory file image.
    public init(bytes: [UInt8], settings: EngineSettings = EngineSettings(), verifyChecksum: Bool = true) throws {
        throw RDBError(.unsupported, "RDB reader not implemented yet")
    }
    /// The next record; nil once EOF and the checksum were read and verified.
    public func next() throws -> RDBRecord? { nil }
}

public final class RDBWriter {
    /// Bytes handed to the file descriptor so far (after compression).
    public var bytesWritten: Int64 { 0 }
    public init(fd: Int32, options: RDBSaveOptions) {}
    /// Magic, version and the AUX fields (redis-ver, redis-bits, ctime, used-mem, then `aux`).
    public func writeHeader(aux: [(key: String, value: [UInt8])]) throws {}
    public func selectDB(_ id: Int, keys: Int, expires: Int) throws {}
    public func writeEntry(key: [UInt8], value: Value, expireAt: Int64) throws {}
    /// EOF opcode, checksum, and the end of the outer frame. Does not fsync or close.
    public func finish() throws {}
}

public enum RDBSnapshot {
    /// Writes every database of `engine` as one RDB stream to `fd` (not fsynced, not closed).
    /// `progress` is called after every few hundred keys.
    @discardableResult
    public static func write(_ engine: Engine, to fd: Int32, options: RDBSaveOptions,
                             progress: ((RDBSaveProgress) -> Void)? = nil) throws -> RDBSaveProgress {
        throw RDBError(.unsupported, "RDB writer not implemented yet")
    }
    /// Loads the RDB file at `path` into `engine`'s (empty) databases.
    public static func load(path: String, into engine: Engine, options: RDBLoadOptions) throws -> RDBLoadSummary {
        throw RDBError(.unsupported, "RDB loader not implemented yet")
    }
    /// Runs every save path once in this process (each type, each compression) so that a forked
    /// child never instantiates generic metadata or initialises a global for the first time.
    public static func warmUp() {}
}
