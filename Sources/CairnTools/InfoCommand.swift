// `cairn-rdb info FILE`: what a file holds, without printing its data
// (docs/tools-cairn-rdb.md, "info").

import CairnStorage

public struct InfoOptions: Sendable {
    public var path: String
    public var json: Bool
    public var filter: KeyFilter
    public init(path: String, json: Bool = false, filter: KeyFilter = KeyFilter()) {
        self.path = path
        self.json = json
        self.filter = filter
    }
}

/// Counts over the keys of one database.
public struct DatabaseCounts: Sendable, Equatable {
    public var keys = 0
    public var expires = 0
    /// Serialized bytes of the entries (RDBEntry.byteCount).
    public var bytes = 0
    public init(keys: Int = 0, expires: Int = 0, bytes: Int = 0) {
        self.keys = keys
        self.expires = expires
        self.bytes = bytes
    }
}

public struct RDBFileSummary: Sendable {
    public var path = ""
    public var fileBytes: Int64 = 0
    public var compression = RDBCompression.none
    public var version = 0
    public var aux: [(key: [UInt8], value: [UInt8])] = []
    public var databases: [Int: DatabaseCounts] = [:]
    /// Value types (TYPE's names) and the RDB types they were stored as.
    public var types: [String: Int] = [:]
    public var storedTypes: [String: Int] = [:]
    public var checksum = ChecksumStatus.verified
    public var filtered = false

    public var keys: Int { databases.values.reduce(0) { $0 + $1.keys } }
    public var expires: Int { databases.values.reduce(0) { $0 + $1.expires } }
    public var entryBytes: Int { databases.values.reduce(0) { $0 + $1.bytes } }
}

public enum InfoCommand {
    public static func main(_ options: InfoOptions) -> Int32 {
        ToolRunner.main(file: options.path) { try run(options, output: $0) }
    }

    public static func run(_ options: InfoOptions, output: ByteOutput) throws {
        let summary = try summarize(options)
        try output.write(options.json ? json(summary) : text(summary))
    }

    /// Reads the whole file (checksum included) and counts what the filter keeps.
    public static func summarize(_ options: InfoOptions) throws -> RDBFileSummary {
        let input = try RDBFile(path: options.path)
        var s = RDBFileSummary()
        s.path = options.path
        s.fileBytes = input.fileBytes
        s.filtered = !options.filter.keepsEverything
        try input.forEachRecord { record in
            switch record {
            case .aux(let key, let value):
                s.aux.append((key, value))
            case .selectDB, .resizeDB:
                break
            case .entry(let e):
                guard options.filter.includes(db: e.db, key: e.key) else { return }
                var counts = s.databases[e.db] ?? DatabaseCounts()
                counts.keys += 1
                if e.expireAt != noExpiry { counts.expires += 1 }
                counts.bytes += e.byteCount
                s.databases[e.db] = counts
                s.types[ValueFacts.typeName(e.value), default: 0] += 1
                s.storedTypes[ValueFacts.storedTypeName(e.typeCode), default: 0] += 1
            }
        }
        // The reader knows these once the header was read; they are final after the last record.
        s.version = input.reader.version
        s.compression = input.reader.outer
        s.checksum = input.checksumStatus()
        return s
    }

    /// `lz4`, `zlib` or `plain` (a plain file may still hold LZF-compressed strings).
    public static func compressionName(_ outer: RDBCompression) -> String {
        switch outer {
        case .lz4: return "lz4"
        case .zlib: return "zlib"
        case .lzf, .none: return "plain"
        }
    }

    static let typeOrder = ["string", "list", "set", "zset", "hash"]

    public static func text(_ s: RDBFileSummary) -> [UInt8] {
        var out: [UInt8] = []
        func line(_ text: String) { out.append(contentsOf: text.utf8); out.append(10) }
        line("file:        \(s.path)")
        line("size:        \(s.fileBytes) bytes (\(ProgressBar.byteCount(s.fileBytes)))")
        line("compression: \(compressionName(s.compression))")
        line("rdb version: \(s.version)")
        line("checksum:    \(s.checksum.rawValue)")
        line("aux fields:  \(s.aux.count)")
        for (key, value) in s.aux {
            out.append(contentsOf: "  ".utf8)
            appendReadable(key, to: &out)
            out.append(contentsOf: " = ".utf8)
            appendReadable(value, to: &out)
            out.append(10)
        }
        line("keys:        \(s.keys) (\(s.expires) with expiry), \(s.entryBytes) bytes of entries\(s.filtered ? " (filtered)" : "")")
        for db in s.databases.keys.sorted() {
            guard let c = s.databases[db] else { continue }
            line("  db\(db): keys=\(c.keys) expires=\(c.expires) bytes=\(c.bytes)")
        }
        line("types:")
        for name in typeOrder where s.types[name] != nil { line("  \(name): \(s.types[name] ?? 0)") }
        line("stored as:")
        for name in s.storedTypes.keys.sorted() { line("  \(name): \(s.storedTypes[name] ?? 0)") }
        return out
    }

    /// One JSON object (and a newline); bytes as Latin-1 strings, as `dump --json`.
    public static func json(_ s: RDBFileSummary) -> [UInt8] {
        var out: [UInt8] = []
        func raw(_ text: String) { out.append(contentsOf: text.utf8) }
        raw(#"{"file":"#)
        ByteEscaping.appendJSONString(Array(s.path.utf8), to: &out)
        raw(#","size_bytes":\#(s.fileBytes),"compression":"\#(compressionName(s.compression))","#)
        raw(#""version":\#(s.version),"checksum":"\#(s.checksum.rawValue)","aux":{"#)
        for (i, (key, value)) in s.aux.enumerated() {
            if i > 0 { raw(",") }
            ByteEscaping.appendJSONString(key, to: &out)
            raw(":")
            ByteEscaping.appendJSONString(value, to: &out)
        }
        raw(#"},"keys":\#(s.keys),"expires":\#(s.expires),"entry_bytes":\#(s.entryBytes),"filtered":\#(s.filtered),"databases":["#)
        for (i, db) in s.databases.keys.sorted().enumerated() {
            let c = s.databases[db] ?? DatabaseCounts()
            if i > 0 { raw(",") }
            raw(#"{"db":\#(db),"keys":\#(c.keys),"expires":\#(c.expires),"bytes":\#(c.bytes)}"#)
        }
        raw(#"],"types":{"#)
        raw(typeOrder.filter { s.types[$0] != nil }.map { #""\#($0)":\#(s.types[$0] ?? 0)"# }.joined(separator: ","))
        raw(#"},"stored_types":{"#)
        raw(s.storedTypes.keys.sorted().map { #""\#($0)":\#(s.storedTypes[$0] ?? 0)"# }.joined(separator: ","))
        raw("}}\n")
        return out
    }

    /// Printable ASCII as it is, anything else quoted with escapes.
    static func appendReadable(_ bytes: [UInt8], to out: inout [UInt8]) {
        if !bytes.isEmpty && bytes.allSatisfy({ $0 > 0x20 && $0 < 0x7f }) {
            out.append(contentsOf: bytes)
        } else {
            ByteEscaping.appendQuoted(bytes, to: &out)
        }
    }
}
