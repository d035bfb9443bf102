// `cairn-aof rewrite DIR` (docs/tools-cairn-aof.md): offline compaction of a multi-part AOF, as
// BGREWRITEAOF does online. Replays the files into an engine, writes a new base and an empty
// increment, then swaps the manifest atomically; the old files are deleted only once the new
// manifest is durable. A crash at any point leaves a directory that loads the same data.

import CairnStorage
import Logging
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

public struct AOFRewriteOptions: Sendable {
    public var directory: String
    public var prefix: String?
    /// Write the base as an RDB (aof-use-rdb-preamble yes) or as commands.
    public var rdbPreamble = true
    public var compression: RDBCompression = .lz4
    public var level: Int?

    public init(directory: String, prefix: String? = nil) {
        self.directory = directory
        self.prefix = prefix
    }
}

public enum AOFRewriteCommand {
    public static func main(_ options: AOFRewriteOptions) -> Int32 {
        ToolRunner.main(tool: "cairn-aof", file: options.directory) { try run(options, output: $0) }
    }

    public static func run(_ options: AOFRewriteOptions, output: ByteOutput) throws {
        let target = try AOFTarget.resolve(options.directory, prefix: options.prefix)
        guard let manifest = target.manifest, let prefix = target.prefix else {
            throw ToolError.usage("\(options.directory) is a single AOF file: rewrite works on a multi-part AOF directory")
        }
        let directory = target.directory

        // Replay exactly what the server would load; a torn tail must be fixed explicitly first.
        let engine = Engine()
        var loadOptions = AOFLoadOptions()
        loadOptions.loadTruncated = false
        let summary: AOFLoadSummary
        do {
            guard let loaded = try AOFLoader.load(directory: directory, prefix: prefix, into: engine, options: loadOptions,
                                                  logger: Logger(label: "cairn-aof", factory: { _ in SwiftLogNoOpLogHandler() })) else {
                throw ToolError(.damaged, "\(directory): no manifest")
            }
            summary = loaded
        } catch let e as AOFError {
            throw ToolError(e.kind == .io ? .io : .damaged, "cannot replay the AOF: \(e)"
                + (e.kind == .corrupt ? " (run `cairn-aof check` for details, `cairn-aof fix` for a torn tail)" : ""))
        }

        // The transitions the server's rewrite makes: a new base, every increment rewritten
        // into it (history), a new empty increment.
        var next = manifest
        let baseName = next.replaceBase(prefix: prefix, rdbPreamble: options.rdbPreamble).name
        next.markRewrittenIncrementsAsHistory(keepingLast: false)
        let incrName = next.addIncrement(prefix: prefix).name
        let existing = Set(try AOFTarget.listDirectory(directory))
        for name in [baseName, incrName] where existing.contains(name) {
            throw ToolError(.damaged, "\(directory)/\(name) already exists but the manifest does not name it; move it away first")
        }

        var rdb = RDBSaveOptions()
        rdb.compression = options.compression
        if let level = options.level { rdb.compressionLevel = level }
        do {
            try AtomicFile.replace(directory + "/" + baseName) { fd in
                try AOFBase.write(engine, to: fd, rdbPreamble: options.rdbPreamble, rdb: rdb)
            }
            try AtomicFile.replace(directory + "/" + incrName, with: [])
        } catch let e as FileError {
            throw ToolError(.io, "cannot \(e.detail)")
        }

        // First the new files with the old ones as history (a crash after this loads the new
        // base and leaves the history to delete), then the manifest without them.
        try writeManifest(next, directory: directory, prefix: prefix)
        var removed = 0
        var kept: [AOFManifest.Entry] = []
        for entry in next.history {
            if unlink(directory + "/" + entry.name) == 0 || errno == ENOENT {
                removed += 1
            } else {
                kept.append(entry)
                ToolRunner.printError("cairn-aof: cannot delete \(entry.name): \(errorText(errno)) (left in the manifest as history)")
            }
        }
        next.history = kept
        try writeManifest(next, directory: directory, prefix: prefix)

        try output.write("Replayed \(summary.baseKeys) keys from RDB and \(summary.commands) commands: \(engine.totalKeys) keys\n")
        try output.write("New base \(baseName) (\(options.rdbPreamble ? "RDB, \(options.compression.rawValue)" : "commands")), "
            + "new increment \(incrName); removed \(removed) old file\(removed == 1 ? "" : "s")\n")
    }

    private static func writeManifest(_ manifest: AOFManifest, directory: String, prefix: String) throws {
        do { try manifest.write(directory: directory, prefix: prefix) } catch let e as FileError {
            throw ToolError(.io, "cannot \(e.detail)")
        }
    }
}
