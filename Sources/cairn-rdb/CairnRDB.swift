// cairn-rdb: the offline RDB inspector. Each subcommand parses its arguments and calls one
// function of CairnTools; docs/tools-cairn-rdb.md is the manual.

import ArgumentParser
import CairnStorage
import CairnTools

@main
struct CairnRDB: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cairn-rdb",
        abstract: "Inspect, verify, dump and convert RDB files (Cairn's and Redis's) offline.",
        discussion: """
        Exit status:
          0  success
          1  the file is damaged (bad checksum, truncated, undecodable)
          2  usage error
          3  the file holds data Cairn does not load (streams, modules, a newer RDB version)
          4  I/O error (cannot open, read or write a file)
        """,
        subcommands: [Info.self, Dump.self, Verify.self, Biggest.self, Convert.self]
    )

    /// No subcommand is a usage error, not a request for help.
    func run() throws {
        ToolRunner.printError(Self.helpMessage())
        throw ExitCode(ToolExit.usage.rawValue)
    }

    /// Bad arguments exit 2, as documented (ToolMain).
    static func main() { ToolMain.run(Self.self) }
}

/// `--db` and `--match`, shared by the subcommands that read keys.
struct FilterOptions: ParsableArguments {
    @Option(name: .customLong("db"), help: "Only this database (repeat for several).")
    var databases: [Int] = []

    @Option(name: .customLong("match"), help: "Only keys matching this Redis glob pattern.")
    var pattern: String?

    func validate() throws {
        if let bad = databases.first(where: { $0 < 0 }) { throw ValidationError("--db must be 0 or more, got \(bad)") }
    }

    var filter: KeyFilter { KeyFilter(databases: databases, pattern: pattern.map { Array($0.utf8) }) }
}

/// Turns a subcommand's status into the process's.
func finish(_ status: Int32) throws {
    if status != 0 { throw ExitCode(status) }
}

extension CairnRDB {
    struct Info: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Compression, RDB version, AUX fields, keys per database and type, checksum.")
        @Argument(help: "The RDB file.") var file: String
        @Flag(help: "Print one JSON object.") var json = false
        @OptionGroup var filters: FilterOptions

        func run() throws {
            try finish(InfoCommand.main(InfoOptions(path: file, json: json, filter: filters.filter)))
        }
    }

    struct Dump: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Every key: text lines, JSON lines (--json) or commands for redis-cli --pipe (--resp).")
        @Argument(help: "The RDB file.") var file: String
        @Flag(help: #"One JSON object per key: {"db","key","type","value","expire_at_ms"}; bytes as Latin-1."#)
        var json = false
        @Flag(help: "RESP commands (SELECT, SET/RPUSH/SADD/ZADD/HSET, PEXPIREAT) that recreate the data.")
        var resp = false
        @OptionGroup var filters: FilterOptions

        func validate() throws {
            if json && resp { throw ValidationError("--json and --resp cannot be combined") }
        }

        func run() throws {
            let format: DumpFormat = json ? .json : resp ? .resp : .text
            try finish(DumpCommand.main(DumpOptions(path: file, format: format, filter: filters.filter)))
        }
    }

    struct Verify: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Read every record and check the checksum; print OK or where the file is damaged.")
        @Argument(help: "The RDB file.") var file: String

        func run() throws {
            try finish(VerifyCommand.main(VerifyOptions(path: file)))
        }
    }

    struct Biggest: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "The largest keys by serialized size, with type and element count.")
        @Argument(help: "The RDB file.") var file: String
        @Option(help: "How many keys to list.") var top = 10
        @Flag(help: "One JSON object per key.") var json = false
        @OptionGroup var filters: FilterOptions

        func validate() throws {
            guard top >= 1 && top <= BiggestCommand.topMax else {
                throw ValidationError("--top must be between 1 and \(BiggestCommand.topMax)")
            }
        }

        func run() throws {
            try finish(BiggestCommand.main(BiggestOptions(path: file, top: top, json: json, filter: filters.filter)))
        }
    }

    struct Convert: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Rewrite IN as OUT with another compression (OUT is replaced atomically).")
        @Argument(help: "The RDB file to read.") var input: String
        @Argument(help: "The file to write.") var output: String
        @Option(help: "lz4, zlib, lzf or no.") var compression: String
        @Option(help: "Compression level: lz4 0...12, zlib 1...9.") var level: Int?
        @Flag(help: "Write eight zero bytes instead of the CRC64 (rdbchecksum no).") var noChecksum = false

        func validate() throws {
            do {
                try ConvertCommand.checkLevel(level, for: ConvertCommand.parseCompression(compression))
            } catch let e as ToolError {
                throw ValidationError(e.message)
            }
        }

        func run() throws {
            let mode = try ConvertCommand.parseCompression(compression)
            try finish(ConvertCommand.main(ConvertOptions(input: input, output: output, compression: mode,
                                                         level: level, checksum: !noChecksum)))
        }
    }
}
