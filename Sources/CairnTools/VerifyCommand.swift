// `cairn-rdb verify FILE`: read everything, check the checksum, say OK or what is wrong
// (docs/tools-cairn-rdb.md, "verify").

import CairnStorage

public struct VerifyOptions: Sendable {
    public var path: String
    public init(path: String) { self.path = path }
}

public enum VerifyCommand {
    public static func main(_ options: VerifyOptions) -> Int32 {
        ToolRunner.main(file: options.path) { try run(options, output: $0) }
    }

    /// Prints `OK: N keys in D databases (...)`; a damaged file throws the reader's error, whose
    /// text names the offset and the key being read.
    public static func run(_ options: VerifyOptions, output: ByteOutput) throws {
        let input = try RDBFile(path: options.path)
        var keys = 0
        var expires = 0
        var databases = Set<Int>()
        try input.forEachRecord { record in
            guard case .entry(let e) = record else { return }
            keys += 1
            if e.expireAt != noExpiry { expires += 1 }
            databases.insert(e.db)
        }
        let checksum = input.checksumStatus()
        try output.write("OK: \(keys) keys (\(expires) with expiry) in \(databases.count) database\(databases.count == 1 ? "" : "s"), "
            + "RDB version \(input.reader.version), compression \(InfoCommand.compressionName(input.reader.outer)), "
            + "checksum \(checksum.rawValue)\n")
    }
}
