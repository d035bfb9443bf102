// `cairn-aof truncate-to-timestamp PATH TS` (docs/tools-cairn-aof.md): a point-in-time cut, as
// redis-check-aof --truncate-to-timestamp. The log is cut at the first `#TS:` annotation later
// than TS, which must lie in the last file (earlier files are what later ones build on).

import CairnStorage

public struct AOFTimestampOptions: Sendable {
    public var path: String
    public var prefix: String?
    public var timestamp: Int64
    public init(path: String, timestamp: Int64, prefix: String? = nil) {
        self.path = path
        self.timestamp = timestamp
        self.prefix = prefix
    }
}

public enum AOFTimestampCommand {
    public static func main(_ options: AOFTimestampOptions) -> Int32 {
        ToolRunner.main(tool: "cairn-aof", file: options.path) { try run(options, output: $0) }
    }

    public static func run(_ options: AOFTimestampOptions, output: ByteOutput) throws {
        let verdict = try AOFCheckCommand.examine(AOFCheckOptions(path: options.path, prefix: options.prefix), output: output,
                                                  timestampLimit: options.timestamp)
        if let failed = verdict.failed {
            try output.write("AOF not valid before timestamp \(options.timestamp): \(failed.name): \(failed.problemText ?? "")\n")
            throw AOFCheckCommand.failure(failed)
        }
        guard let last = verdict.reports.last, let cut = last.timestampCut else {
            try output.write("Nothing to truncate: no annotation later than \(options.timestamp)\n")
            return
        }
        guard verdict.reports.count == verdict.target.files.count, let file = verdict.target.files.last else {
            throw ToolError(.damaged, "cannot truncate \(last.name) to timestamp \(options.timestamp) at offset \(cut): it is not the "
                + "last file. To cut there anyway, remove the later files from the manifest (and the directory) by hand, then run this again")
        }
        guard cut > 0 else {
            throw ToolError(.damaged, "\(last.name) has nothing before timestamp \(options.timestamp): refusing to empty it")
        }
        let backup = try AOFFileOps.backUp(file.path)
        try AOFFileOps.truncate(file.path, to: cut)
        try output.write("Copied \(file.name) to \(AOFTarget.baseName(backup))\n")
        try output.write("Truncated \(file.name) to timestamp \(options.timestamp): from \(last.size) to \(cut) bytes\n")
    }
}
