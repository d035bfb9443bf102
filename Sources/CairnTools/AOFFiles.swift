// The files of an AOF as cairn-aof sees them (docs/tools-cairn-aof.md): a multi-part directory
// named by its manifest, or one old-style file; and the inspection of one file, with the same
// rules as the server's loader (AOFLoader) and redis-check-aof: where the file is good up to,
// and what is wrong after that.

import CairnStorage
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// What a cairn-aof command works on.
struct AOFTarget {
    struct File {
        var name: String
        var path: String
        var kind: String  // "base", "incr" or "aof" (an old-style single file)
    }
    var directory: String
    /// The manifest's file name; nil for an old-style single file.
    var manifestName: String?
    var manifest: AOFManifest?
    var prefix: String?
    /// Base then increments, in load order.
    var files: [File]

    /// `path` is an AOF directory (holding one `*.manifest`), a data directory holding
    /// `appendonlydir`, a manifest, or a single old-style AOF file.
    static func resolve(_ path: String, prefix: String? = nil) throws -> AOFTarget {
        var st = stat()
        guard stat(path, &st) == 0 else { throw ToolError.io("cannot open \(path)", errno: errno) }
        if (st.st_mode & S_IFMT) == S_IFDIR {
            let manifests = try listDirectory(path).filter { $0.hasSuffix(".manifest") }
            let chosen: String
            if let prefix {
                chosen = AOFManifest.manifestName(prefix)
                guard manifests.contains(chosen) else { throw ToolError(.damaged, "\(path): no \(chosen) in this directory") }
            } else if manifests.count == 1 {
                chosen = manifests[0]
            } else if manifests.isEmpty {
                var sub = stat()
                if stat(path + "/appendonlydir", &sub) == 0 && (sub.st_mode & S_IFMT) == S_IFDIR {
                    return try resolve(path + "/appendonlydir", prefix: prefix)
                }
                throw ToolError(.damaged, "\(path): no AOF manifest (*.manifest) in this directory")
            } else {
                throw ToolError.usage("\(path) holds several manifests (\(manifests.joined(separator: ", "))): choose one with --prefix")
            }
            return try multiPart(directory: path, manifestName: chosen)
        }
        let name = baseName(path)
        if name.hasSuffix(".manifest") || looksLikeManifest(path) {
            return try multiPart(directory: directoryName(path), manifestName: name)
        }
        return AOFTarget(directory: directoryName(path), manifestName: nil, manifest: nil, prefix: nil,
                         files: [File(name: name, path: path, kind: "aof")])
    }

    private static func multiPart(directory: String, manifestName: String) throws -> AOFTarget {
        let prefix = String(manifestName.dropLast(".manifest".count))
        let manifest: AOFManifest
        do {
            guard let loaded = try AOFManifest.load(directory: directory, prefix: prefix) else {
                throw ToolError.io("cannot open \(directory)/\(manifestName)", errno: ENOENT)
            }
            manifest = loaded
        } catch let e as AOFError {
            throw e.toolError
        }
        let files = manifest.loadOrder.map {
            File(name: $0.name, path: directory + "/" + $0.name, kind: $0.type == .base ? "base" : "incr")
        }
        return AOFTarget(directory: directory, manifestName: manifestName, manifest: manifest, prefix: prefix, files: files)
    }

    /// redis-check-aof's test: a `file` line before anything but comments.
    private static func looksLikeManifest(_ path: String) -> Bool {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return false }
        defer { POSIX.close(fd) }
        var head = [UInt8](repeating: 0, count: 4)
        let n = head.withUnsafeMutableBytes { read(fd, $0.baseAddress, 4) }
        return n == 4 && head == Array("file".utf8)
    }

    static func listDirectory(_ path: String) throws -> [String] {
        guard let names = DirectoryEntries.names(in: path) else { throw ToolError.io("cannot list \(path)", errno: errno) }
        return names
    }

    static func baseName(_ path: String) -> String {
        path.split(separator: "/", omittingEmptySubsequences: true).last.map(String.init) ?? path
    }

    static func directoryName(_ path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }
}

/// What inspecting one file found.
struct AOFFileReport {
    enum Problem {
        /// The file ends inside the command starting at `offset`.
        case torn(offset: Int64)
        /// The file ends inside the MULTI/EXEC block starting at `offset`.
        case unfinishedMulti(offset: Int64)
        /// Bytes that are not a command (or a MULTI/EXEC out of place).
        case malformed(offset: Int64, reason: String)
        /// A command the server does not know: it would refuse to load the file.
        case unknownCommand(offset: Int64, name: String)
        /// The RDB part is damaged or holds what Cairn does not load.
        case rdb(RDBError)
        /// The manifest names a file that does not exist (the server refuses to start).
        case missing
        case io(String)
    }

    var name: String
    var size: Int64 = 0
    /// Keys of an RDB base or preamble; nil when the file has none.
    var rdbKeys: Int?
    var commands = 0
    /// Where everything before is good: after the last command outside an unfinished MULTI
    /// (redis-check-aof's ok_up_to).
    var okUpTo: Int64 = 0
    var problem: Problem?
    /// With a timestamp limit: where the first `#TS:` annotation past it starts.
    var timestampCut: Int64?

    /// A torn tail or an unfinished MULTI: what the server truncates (if it is the last file).
    var hasTornTail: Bool {
        switch problem {
        case .torn, .unfinishedMulti: return true
        default: return false
        }
    }

    var problemText: String? {
        switch problem {
        case nil: return nil
        case .torn(let at): return "the file ends inside the command at offset \(at)"
        case .unfinishedMulti(let at): return "the file ends inside the MULTI/EXEC block at offset \(at)"
        case .malformed(let at, let reason): return "bad format at offset \(at): \(reason)"
        case .unknownCommand(let at, let name): return "unknown command '\(name)' at offset \(at)"
        case .rdb(let e): return "RDB part: \(e)"
        case .missing: return "the manifest names this file but it does not exist"
        case .io(let text): return "read error: \(text)"
        }
    }
}

enum AOFInspector {
    /// Reads all of `file`. `commands` (when given) is the command table used to flag commands
    /// the server would refuse; `timestampLimit` stops at the first `#TS:` annotation past it.
    static func inspect(_ file: AOFTarget.File, commands: CommandTable?, timestampLimit: Int64? = nil) -> AOFFileReport {
        var report = AOFFileReport(name: file.name)
        let fd = open(file.path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            report.problem = errno == ENOENT ? .missing : .io("cannot open \(file.path): \(errorText(errno))")
            return report
        }
        defer { POSIX.close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else {
            report.problem = .io("cannot stat \(file.path): \(errorText(errno))")
            return report
        }
        report.size = Int64(st.st_size)
        guard report.size > 0 else { return report }

        var start: Int64 = 0
        let head = readHead(fd)
        let framed = head.starts(with: [0x04, 0x22, 0x4D, 0x18]) || head.starts(with: [0x1F, 0x8B])
        if framed || head.starts(with: Array("REDIS".utf8)) {
            do {
                let reader = try RDBReader(fd: fd)
                reader.allowsTrailingData = !framed
                var keys = 0
                while let record = try reader.next() {
                    if case .entry = record { keys += 1 }
                }
                report.rdbKeys = keys
                start = framed ? report.size : Int64(reader.offset)
                report.okUpTo = start
            } catch let e as RDBError {
                report.problem = .rdb(e)
                return report
            } catch {
                report.problem = .io("\(error)")
                return report
            }
            if framed { return report }
        }

        let scanner = AOFScanner(fd: fd, startOffset: start, fileSize: report.size)
        var multiStart: Int64? = nil
        while true {
            let item: AOFScanner.Item
            do {
                item = try scanner.next()
            } catch {
                switch error {
                case .truncated(let at): report.problem = multiStart.map { .unfinishedMulti(offset: $0) } ?? .torn(offset: at)
                case .malformed(let at, _, let reason): report.problem = .malformed(offset: at, reason: reason)
                case .io(let text): report.problem = .io(text)
                }
                return report
            }
            switch item {
            case .end:
                if let open = multiStart { report.problem = .unfinishedMulti(offset: open) }
                return report
            case .annotation(let text):
                if let limit = timestampLimit, let ts = AOFTimestamp.seconds(text), ts > limit {
                    report.timestampCut = scanner.itemStart
                    return report
                }
            case .command(let args):
                let at = scanner.itemStart
                if let commands, !isKnown(args, commands) {
                    report.problem = .unknownCommand(offset: at, name: String(decoding: args[0].prefix(128), as: UTF8.self))
                    return report
                }
                // redis-check-aof's rules: no MULTI inside MULTI, no EXEC outside one.
                if args.matches(0, "multi") {
                    if multiStart != nil {
                        report.problem = .malformed(offset: at, reason: "MULTI inside MULTI")
                        return report
                    }
                    multiStart = at
                } else if args.matches(0, "exec") {
                    guard multiStart != nil else {
                        report.problem = .malformed(offset: at, reason: "EXEC without MULTI")
                        return report
                    }
                    multiStart = nil
                }
                report.commands += 1
                if multiStart == nil { report.okUpTo = scanner.offset }
            }
        }
    }

    private static func readHead(_ fd: Int32) -> [UInt8] {
        var head = [UInt8](repeating: 0, count: 5)
        let n = head.withUnsafeMutableBytes { pread(fd, $0.baseAddress, 5, 0) }
        return Array(head.prefix(max(0, n)))
    }

    /// As the engine's lookup: the command, and its subcommand when it has them.
    static func isKnown(_ args: Arguments, _ table: CommandTable) -> Bool {
        guard let command = table.lookup(args[0]) else { return false }
        if let subs = command.subcommands, args.count >= 2 { return subs.lookup(args[1]) != nil }
        return true
    }
}

extension AOFError {
    /// The tool's view: damage and bad manifests exit 1, system failures 4.
    var toolError: ToolError {
        ToolError(kind == .io ? .io : .damaged, description)
    }
}
