// `cairn-aof check PATH` and `cairn-aof fix PATH` (docs/tools-cairn-aof.md): read every file of
// an AOF as the server would load it, say where each is good up to, and give a verdict; `fix`
// cuts a torn tail of the last file after copying it aside, as the server does with
// aof-load-truncated yes.

import CairnStorage
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

public struct AOFCheckOptions: Sendable {
    public var path: String
    public var prefix: String?
    public init(path: String, prefix: String? = nil) {
        self.path = path
        self.prefix = prefix
    }
}

/// What `check` concluded.
struct AOFVerdict {
    var target: AOFTarget
    var reports: [AOFFileReport]
    /// The report with a problem (checking stops there), if any.
    var failed: AOFFileReport? { reports.last.flatMap { $0.problem == nil ? nil : $0 } }
    /// The failing file is the last one and only its tail is torn: the server (and `fix`) cut it.
    var tailIsFixable: Bool {
        guard let failed, failed.hasTornTail else { return false }
        return reports.count == target.files.count
    }
}

public enum AOFCheckCommand {
    public static func main(_ options: AOFCheckOptions) -> Int32 {
        ToolRunner.main(tool: "cairn-aof", file: options.path) { try run(options, output: $0) }
    }

    public static func mainFix(_ options: AOFCheckOptions) -> Int32 {
        ToolRunner.main(tool: "cairn-aof", file: options.path) { try fix(options, output: $0) }
    }

    /// Prints one line per file and the verdict; throws (exit 1 or 3) when the AOF would not load
    /// as it is.
    public static func run(_ options: AOFCheckOptions, output: ByteOutput) throws {
        let verdict = try examine(options, output: output)
        guard let failed = verdict.failed else {
            let keys = verdict.reports.compactMap(\.rdbKeys).reduce(0, +)
            let commands = verdict.reports.reduce(0) { $0 + $1.commands }
            let files = verdict.reports.count
            try output.write("AOF ok: \(files) file\(files == 1 ? "" : "s"), \(keys) keys in RDB, \(commands) commands\n")
            return
        }
        if verdict.tailIsFixable {
            let cut = failed.size - failed.okUpTo
            try output.write("AOF not valid: the last file \(failed.name) has a torn tail (\(cut) bytes after offset \(failed.okUpTo)); "
                + "the server cuts it when aof-load-truncated is yes, or run `cairn-aof fix`\n")
        } else {
            try output.write("AOF not valid: \(failed.name): \(failed.problemText ?? "")\n")
        }
        throw failure(failed)
    }

    /// Truncates the last file to its last good command, after copying it to
    /// `<file>.bak-<unix seconds>`. Refuses any other damage.
    public static func fix(_ options: AOFCheckOptions, output: ByteOutput) throws {
        let verdict = try examine(options, output: output)
        guard let failed = verdict.failed else {
            try output.write("AOF ok: nothing to fix\n")
            return
        }
        guard verdict.tailIsFixable else {
            let why = failed.hasTornTail ? "it is not the last file: the files after it depend on it" : (failed.problemText ?? "")
            try output.write("Refusing to fix \(failed.name): \(why)\n")
            throw ToolError(failure(failed).exit, "cannot fix \(failed.name): only a torn tail of the last file can be cut")
        }
        guard let file = verdict.target.files.last else { return }
        let backup = try AOFFileOps.backUp(file.path)
        try AOFFileOps.truncate(file.path, to: failed.okUpTo)
        try output.write("Copied \(file.name) to \(AOFTarget.baseName(backup))\n")
        try output.write("Truncated \(file.name) from \(failed.size) to \(failed.okUpTo) bytes (\(failed.size - failed.okUpTo) bytes dropped)\n")
    }

    /// Inspects the files in order, printing a line for each, up to the first with a problem.
    static func examine(_ options: AOFCheckOptions, output: ByteOutput, timestampLimit: Int64? = nil) throws -> AOFVerdict {
        let target = try AOFTarget.resolve(options.path, prefix: options.prefix)
        let commands = Engine().commands
        var reports: [AOFFileReport] = []
        if let name = target.manifestName {
            try output.write("Manifest \(name): \(target.files.count) file\(target.files.count == 1 ? "" : "s") to load\n")
        }
        for file in target.files {
            let report = AOFInspector.inspect(file, commands: commands, timestampLimit: timestampLimit)
            reports.append(report)
            try output.write(line(for: report, kind: file.kind) + "\n")
            if report.problem != nil || report.timestampCut != nil { break }
        }
        return AOFVerdict(target: target, reports: reports)
    }

    static func line(for r: AOFFileReport, kind: String) -> String {
        var parts: [String] = []
        if let keys = r.rdbKeys { parts.append("RDB with \(keys) key\(keys == 1 ? "" : "s")") }
        parts.append("\(r.commands) command\(r.commands == 1 ? "" : "s")")
        var text = "\(r.name) (\(kind)): \(parts.joined(separator: ", ")), ok up to offset \(r.okUpTo) of \(r.size)"
        if let problem = r.problemText { text += ": " + problem }
        return text
    }

    /// The exit status of a failed check: 3 for content the server does not load, 4 for a system
    /// failure, else 1.
    static func failure(_ report: AOFFileReport) -> ToolError {
        switch report.problem {
        case .unknownCommand: return ToolError(.unsupported, "\(report.name): \(report.problemText ?? "")")
        case .rdb(let e) where e.kind == .unsupported: return ToolError(.unsupported, "\(report.name): \(report.problemText ?? "")")
        case .io: return ToolError(.io, "\(report.name): \(report.problemText ?? "")")
        default: return ToolError(.damaged, "\(report.name): \(report.problemText ?? "the AOF is not valid")")
        }
    }
}

/// Copies and truncations of AOF files, each made durable before the tool goes on.
enum AOFFileOps {
    /// Copies `path` to `<path>.bak-<unix seconds>` (or `-<n>` after it when taken) and fsyncs it.
    static func backUp(_ path: String) throws -> String {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        var backup = "\(path).bak-\(now.tv_sec)"
        var n = 1
        var st = stat()
        while stat(backup, &st) == 0 {
            backup = "\(path).bak-\(now.tv_sec)-\(n)"
            n += 1
        }
        let input = open(path, O_RDONLY | O_CLOEXEC)
        guard input >= 0 else { throw ToolError.io("cannot open \(path)", errno: errno) }
        defer { POSIX.close(input) }
        let out = open(backup, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard out >= 0 else { throw ToolError.io("cannot create \(backup)", errno: errno) }
        var ok = false
        defer {
            POSIX.close(out)
            if !ok { unlink(backup) }
        }
        var chunk = [UInt8](repeating: 0, count: 1 << 20)
        while true {
            let got = chunk.withUnsafeMutableBytes { read(input, $0.baseAddress, $0.count) }
            if got < 0 {
                if errno == EINTR { continue }
                throw ToolError.io("cannot read \(path)", errno: errno)
            }
            if got == 0 { break }
            if let code = chunk.withUnsafeBytes({ POSIX.writeAll(out, UnsafeRawBufferPointer(rebasing: $0[0..<got])) }) {
                throw ToolError.io("cannot write \(backup)", errno: code)
            }
        }
        guard fsync(out) == 0 else { throw ToolError.io("cannot fsync \(backup)", errno: errno) }
        try syncDirectory(of: backup)
        ok = true
        return backup
    }

    static func truncate(_ path: String, to length: Int64) throws {
        let fd = open(path, O_WRONLY | O_CLOEXEC)
        guard fd >= 0 else { throw ToolError.io("cannot open \(path)", errno: errno) }
        defer { POSIX.close(fd) }
        guard ftruncate(fd, off_t(length)) == 0 else { throw ToolError.io("cannot truncate \(path)", errno: errno) }
        guard fsync(fd) == 0 else { throw ToolError.io("cannot fsync \(path)", errno: errno) }
    }

    static func syncDirectory(of path: String) throws {
        do { try AtomicFile.syncDirectory(of: path) } catch let e as FileError {
            throw ToolError(.io, "cannot \(e.detail)")
        }
    }
}
