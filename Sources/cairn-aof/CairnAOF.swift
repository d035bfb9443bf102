// cairn-aof: the offline AOF tool. Each subcommand parses its arguments and calls one function of
// CairnTools; docs/tools-cairn-aof.md is the manual.

import ArgumentParser
import CairnStorage
import CairnTools

@main
struct CairnAOF: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cairn-aof",
        abstract: "Check, repair, compact and cut append-only files (Cairn's and Redis 7's multi-part AOF) offline.",
        discussion: """
        PATH is an AOF directory (appendonlydir, holding one *.manifest), a data directory that \
        holds appendonlydir, a manifest file, or one old-style AOF file.

        Exit status:
          0  success (check: the AOF loads as it is)
          1  the AOF is damaged, or the requested change was refused
          2  usage error
          3  the AOF holds data Cairn does not load (unknown commands, streams, modules)
          4  I/O error (cannot open, read or write a file)
        """,
        subcommands: [Check.self, Fix.self, Rewrite.self, TruncateToTimestamp.self]
    )

    /// No subcommand is a usage error, not a request for help.
    func run() throws {
        ToolRunner.printError(Self.helpMessage())
        throw ExitCode(ToolExit.usage.rawValue)
    }

    /// Bad arguments exit 2, as documented (ToolMain).
    static func main() { ToolMain.run(Self.self) }
}

/// Turns a subcommand's status into the process's.
func finish(_ status: Int32) throws {
    if status != 0 { throw ExitCode(status) }
}

struct PrefixOption: ParsableArguments {
    @Option(help: "appendfilename: the manifest is <prefix>.manifest (default: the one manifest in the directory).")
    var prefix: String?
}

extension CairnAOF {
    struct Check: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Read every file as the server loads it; print where each is good up to and a verdict.")
        @Argument(help: "The AOF directory, manifest or file.") var path: String
        @OptionGroup var prefix: PrefixOption

        func run() throws {
            try finish(AOFCheckCommand.main(AOFCheckOptions(path: path, prefix: prefix.prefix)))
        }
    }

    struct Fix: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Cut a torn tail (or unfinished MULTI) of the last file, after copying it to <file>.bak-<time>.")
        @Argument(help: "The AOF directory, manifest or file.") var path: String
        @OptionGroup var prefix: PrefixOption

        func run() throws {
            try finish(AOFCheckCommand.mainFix(AOFCheckOptions(path: path, prefix: prefix.prefix)))
        }
    }

    struct Rewrite: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Compact a multi-part AOF directory into a new base and an empty increment, atomically.")
        @Argument(help: "The AOF directory (or its manifest).") var directory: String
        @OptionGroup var prefix: PrefixOption
        @Option(help: "Compression of the RDB base: lz4, zlib, lzf or no (lzf keeps it loadable by Redis 7.0).")
        var compression: String = "lz4"
        @Option(help: "Compression level: lz4 0...12, zlib 1...9.") var level: Int?
        @Flag(help: "Write the base as commands (aof-use-rdb-preamble no) instead of an RDB.") var noRdbPreamble = false

        func validate() throws {
            do {
                try ConvertCommand.checkLevel(level, for: ConvertCommand.parseCompression(compression))
            } catch let e as ToolError {
                throw ValidationError(e.message)
            }
        }

        func run() throws {
            var options = AOFRewriteOptions(directory: directory, prefix: prefix.prefix)
            options.compression = try ConvertCommand.parseCompression(compression)
            options.level = level
            options.rdbPreamble = !noRdbPreamble
            try finish(AOFRewriteCommand.main(options))
        }
    }

    struct TruncateToTimestamp: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "truncate-to-timestamp",
            abstract: "Cut the last file at the first #TS: annotation later than TS (unix seconds), keeping a copy.")
        @Argument(help: "The AOF directory, manifest or file.") var path: String
        @Argument(help: "Unix time in seconds.") var timestamp: Int64
        @OptionGroup var prefix: PrefixOption

        func run() throws {
            try finish(AOFTimestampCommand.main(AOFTimestampOptions(path: path, timestamp: timestamp, prefix: prefix.prefix)))
        }
    }
}
