// `cairn-rdb convert IN OUT --compression lz4|zlib|lzf|no`: rewrite a file in another
// compression, keeping AUX fields, databases and expiry times (docs/tools-cairn-rdb.md, "convert").

import CairnStorage

public struct ConvertOptions: Sendable {
    public var input: String
    public var output: String
    public var compression: RDBCompression
    public var level: Int?
    public var checksum: Bool

    public init(input: String, output: String, compression: RDBCompression, level: Int? = nil, checksum: Bool = true) {
        self.input = input
        self.output = output
        self.compression = compression
        self.level = level
        self.checksum = checksum
    }
}

public enum ConvertCommand {
    /// AUX fields RDBWriter.writeHeader writes itself: copying them too would store each twice.
    static let writerAuxKeys: Set<[UInt8]> = Set(["redis-ver", "redis-bits", "ctime"].map { Array($0.utf8) })

    /// `--compression`'s values: the four modes, and `none` as the spec spells `no`.
    public static func parseCompression(_ text: String) throws -> RDBCompression {
        switch text.lowercased() {
        case "lz4": return .lz4
        case "zlib": return .zlib
        case "lzf": return .lzf
        case "no", "none": return .none
        default: throw ToolError.usage("--compression must be lz4, zlib, lzf or no, got '\(text)'")
        }
    }

    /// `--level` is LZ4's (0...12) or zlib's (1...9); the other modes have none.
    public static func checkLevel(_ level: Int?, for compression: RDBCompression) throws {
        guard let level else { return }
        switch compression {
        case .lz4:
            guard (0...12).contains(level) else { throw ToolError.usage("--level for lz4 must be 0...12, got \(level)") }
        case .zlib:
            guard (1...9).contains(level) else { throw ToolError.usage("--level for zlib must be 1...9, got \(level)") }
        case .lzf, .none:
            throw ToolError.usage("--level applies to lz4 and zlib only")
        }
    }

    public static func main(_ options: ConvertOptions) -> Int32 {
        ToolRunner.main(file: options.input) { try run(options, output: $0) }
    }

    public static func run(_ options: ConvertOptions, output: ByteOutput) throws {
        try checkLevel(options.level, for: options.compression)
        let input = try RDBFile(path: options.input)
        var save = RDBSaveOptions()
        save.compression = options.compression
        if let level = options.level { save.compressionLevel = level }
        save.checksum = options.checksum

        var keys = 0
        var bytesWritten: Int64 = 0
        // Temp file, fsync, rename, fsync of the directory: a failed convert leaves OUT untouched.
        try AtomicFile.replace(options.output) { fd in
            let writer = try RDBWriter(fd: fd, options: save)
            var aux: [(key: String, value: [UInt8])] = []
            var headerWritten = false
            var hints: [Int: (keys: Int, expires: Int)] = [:]
            var hintDB = 0
            var writtenDB: Int? = nil
            try input.forEachRecord { record in
                switch record {
                case .aux(let key, let value):
                    if !writerAuxKeys.contains(key) { aux.append((String(decoding: key, as: UTF8.self), value)) }
                    return
                case .selectDB(let db):
                    hintDB = db
                    return
                case .resizeDB(let k, let e):
                    hints[hintDB] = (k, e)
                    return
                case .entry(let e):
                    if !headerWritten {
                        try writer.writeHeader(aux: aux)
                        headerWritten = true
                    }
                    if writtenDB != e.db {
                        let hint = hints[e.db] ?? (0, 0)
                        try writer.selectDB(e.db, keys: hint.keys, expires: hint.expires)
                        writtenDB = e.db
                    }
                    try writer.writeEntry(key: e.key, value: e.value, expireAt: e.expireAt)
                    keys += 1
                }
            }
            if !headerWritten { try writer.writeHeader(aux: aux) }
            try writer.finish()
            bytesWritten = writer.bytesWritten
        }
        try output.write("converted \(keys) keys: \(options.input) (\(InfoCommand.compressionName(input.reader.outer))) -> "
            + "\(options.output) (\(options.compression.rawValue), \(bytesWritten) bytes)\n")
    }
}
