// Codes of the Redis RDB format (docs/format-rdb.md gives the byte layout). These values are
// stored on disk: never renumber one (Redis's src/rdb.h says the same of its own).

public enum RDBFormat {
    /// The version Cairn writes (`REDIS0010`, what Redis 7.0 writes and loads).
    public static let writtenVersion = 10
    /// Versions the reader accepts (Redis 5.0 wrote 9, 7.0 writes 10, 7.2 writes 11).
    public static let readableVersions = 1...11
    public static let magic: [UInt8] = Array("REDIS".utf8)

    // Value types (the byte before a key).
    public static let typeString: UInt8 = 0
    public static let typeList: UInt8 = 1
    public static let typeSet: UInt8 = 2
    public static let typeZSet: UInt8 = 3
    public static let typeHash: UInt8 = 4
    public static let typeZSet2: UInt8 = 5
    public static let typeModule: UInt8 = 6
    public static let typeModule2: UInt8 = 7
    public static let typeHashZipmap: UInt8 = 9
    public static let typeListZiplist: UInt8 = 10
    public static let typeSetIntset: UInt8 = 11
    public static let typeZSetZiplist: UInt8 = 12
    public static let typeHashZiplist: UInt8 = 13
    public static let typeListQuicklist: UInt8 = 14
    public static let typeStreamListpacks: UInt8 = 15
    public static let typeHashListpack: UInt8 = 16
    public static let typeZSetListpack: UInt8 = 17
    public static let typeListQuicklist2: UInt8 = 18
    public static let typeStreamListpacks2: UInt8 = 19
    public static let typeSetListpack: UInt8 = 20
    public static let typeStreamListpacks3: UInt8 = 21

    // Opcodes (a byte where a value type would be).
    public static let opFunction2: UInt8 = 245
    public static let opFunction: UInt8 = 246
    public static let opModuleAux: UInt8 = 247
    public static let opIdle: UInt8 = 248
    public static let opFreq: UInt8 = 249
    public static let opAux: UInt8 = 250
    public static let opResizeDB: UInt8 = 251
    public static let opExpireTimeMs: UInt8 = 252
    public static let opExpireTime: UInt8 = 253
    public static let opSelectDB: UInt8 = 254
    public static let opEOF: UInt8 = 255

    // Length encoding: the top two bits of the first byte.
    public static let len6Bit: UInt8 = 0
    public static let len14Bit: UInt8 = 1
    public static let len32Bit: UInt8 = 0x80
    public static let len64Bit: UInt8 = 0x81
    public static let lenEncoded: UInt8 = 3
    // Special string encodings (low six bits after `lenEncoded`).
    public static let encodingInt8 = 0
    public static let encodingInt16 = 1
    public static let encodingInt32 = 2
    public static let encodingLZF = 3

    // Quicklist 2 node containers.
    public static let quicklistNodePlain = 1
    public static let quicklistNodePacked = 2

    /// Human name of a value type code, for errors and `cairn-rdb`.
    public static func typeName(_ code: UInt8) -> String {
        switch code {
        case typeString: return "string"
        case typeList, typeListZiplist, typeListQuicklist, typeListQuicklist2: return "list"
        case typeSet, typeSetIntset, typeSetListpack: return "set"
        case typeZSet, typeZSet2, typeZSetZiplist, typeZSetListpack: return "zset"
        case typeHash, typeHashZipmap, typeHashZiplist, typeHashListpack: return "hash"
        case typeModule, typeModule2: return "module"
        case typeStreamListpacks, typeStreamListpacks2, typeStreamListpacks3: return "stream"
        default: return "unknown(\(code))"
        }
    }
}

/// The outer layer of an RDB file (`rdbcompression`). `lzf` is Redis's own per-string
/// compression inside a plain RDB; `lz4` and `zlib` wrap the whole plain stream in one LZ4 frame
/// or one gzip stream.
public enum RDBCompression: String, Sendable, CaseIterable {
    case lz4, zlib, lzf, none = "no"

    /// A `rdbcompression` directive value: `yes` means lzf, as in Redis.
    public init?(directive: String) {
        switch directive.lowercased() {
        case "yes": self = .lzf
        case "lz4": self = .lz4
        case "zlib", "gzip": self = .zlib
        case "lzf": self = .lzf
        case "no": self = .none
        default: return nil
        }
    }
}

/// Why an RDB stream was refused. `offset` is the position in the inner (decompressed) RDB
/// stream where the problem was found; `key` the key being read, when there was one.
public struct RDBError: Error, CustomStringConvertible, Sendable {
    public enum Kind: Sendable {
        /// Damaged or truncated data, a bad checksum.
        case corrupt
        /// Valid RDB data Cairn does not load (streams, modules, newer versions).
        case unsupported
        /// The operating system refused a read or write.
        case io
    }
    public var kind: Kind
    public var message: String
    public var offset: Int?
    public var key: [UInt8]?

    public init(_ kind: Kind, _ message: String, offset: Int? = nil, key: [UInt8]? = nil) {
        self.kind = kind
        self.message = message
        self.offset = offset
        self.key = key
    }

    static let endOfInputMessage = "unexpected end of file"

    /// The stream ended cleanly before the bytes a value needs.
    static func endOfInput(offset: Int) -> RDBError { RDBError(.corrupt, endOfInputMessage, offset: offset) }

    var isEndOfInput: Bool { kind == .corrupt && message == Self.endOfInputMessage }

    public var description: String {
        var text = message
        if let key { text += " (key '\(String(decoding: key.prefix(128), as: UTF8.self))')" }
        if let offset { text += " at offset \(offset)" }
        return text
    }
}
