import CairnRESP
import Logging
import NIOCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// Start-up loading of a multi-part AOF (docs/format-aof.md, "Loading"), as Redis 7.0's
// loadAppendOnlyFiles / loadSingleAppendOnlyFile: the manifest, then the base (an RDB, possibly
// in Cairn's LZ4/gzip frame, or commands, or an RDB preamble followed by commands), then every
// increment in order. Commands run through the engine's own dispatch with a dedicated session
// whose replies are thrown away. Only the last file may end early: with aof-load-truncated its
// torn tail (or an unfinished MULTI) is cut off on disk and the load goes on.

public struct AOFLoadOptions: Sendable {
    /// `aof-load-truncated`: truncate a torn tail of the last file instead of refusing it.
    public var loadTruncated = true
    public init() {}
}

public struct AOFLoadSummary: Sendable {
    /// Commands replayed from increments (and a command-form base).
    public var commands = 0
    /// Keys loaded from an RDB base (or RDB preamble).
    public var baseKeys = 0
    /// The last file, if its torn tail was cut.
    public var truncatedFile: String?
    public var truncatedBytes: Int64 = 0
    public var rolledBackTransaction = false
    public var seconds = 0.0
    public init() {}
}

public enum AOFLoader {
    /// Loads <directory>/<prefix>.manifest → base → increments into `engine` (empty databases, no
    /// propagation sinks). Returns nil when there is no manifest. Throws AOFError naming file and
    /// offset for damage it may not repair. The cut of a torn tail goes through `fileSystem`.
    public static func load(directory: String, prefix: String, into engine: Engine, options: AOFLoadOptions,
                            logger: Logger, fileSystem: any FileSystem = POSIXFileSystem()) throws -> AOFLoadSummary? {
        guard let manifest = try AOFManifest.load(directory: directory, prefix: prefix) else { return nil }
        let started = Clock.monotonicMicros()
        let files = manifest.loadOrder
        var sizes: [Int64] = []
        for entry in files {
            var info = stat()
            guard stat(directory + "/" + entry.name, &info) == 0 else {
                let code = errno
                if code == ENOENT {
                    throw AOFError(.badManifest, "the AOF file \(entry.name) named by the manifest does not exist", file: entry.name)
                }
                throw AOFError(.io, "cannot stat the AOF file: \(String(cString: strerror(code)))", file: entry.name)
            }
            sizes.append(Int64(info.st_size))
        }
        var summary = AOFLoadSummary()
        guard sizes.contains(where: { $0 > 0 }) else { return summary }

        let replay = Replay(engine: engine)
        defer { replay.finish() }
        for (i, entry) in files.enumerated() {
            let fileStarted = Clock.monotonicMicros()
            let outcome = try loadFile(directory: directory, name: entry.name, size: sizes[i], isLast: i == files.count - 1,
                                       options: options, replay: replay, logger: logger, fileSystem: fileSystem)
            summary.commands += outcome.commands
            summary.baseKeys += outcome.rdbKeys
            if let cut = outcome.cut {
                summary.truncatedFile = entry.name
                summary.truncatedBytes = cut.bytes
                summary.rolledBackTransaction = cut.rolledBack
            }
            let seconds = Double(Clock.monotonicMicros() - fileStarted) / 1e6
            let kind = entry.type == .base ? "base" : "incr"
            logger.notice("DB loaded from \(kind) file \(entry.name): \(Self.secondsText(seconds)) seconds")
        }
        if replay.errorReplies > 0 {
            logger.warning("\(replay.errorReplies) commands of the AOF replied with an error (first: \(replay.firstError ?? ""))")
        }
        summary.seconds = Double(Clock.monotonicMicros() - started) / 1e6
        return summary
    }

    /// "%.3f" without Foundation.
    static func secondsText(_ seconds: Double) -> String {
        let millis = Int64((seconds * 1000).rounded())
        let fraction = String(millis % 1000)
        return "\(millis / 1000)." + String(repeating: "0", count: 3 - fraction.count) + fraction
    }

    /// What loading one file did.
    struct FileOutcome {
        var commands = 0
        var rdbKeys = 0
        /// Set when the file's tail was cut off.
        var cut: (bytes: Int64, rolledBack: Bool)?
    }

    /// Replays one file of the AOF. A file that starts with an RDB (plain "REDIS", or Cairn's
    /// LZ4/gzip frame) is loaded as one, then the commands after a plain RDB are replayed.
    static func loadFile(directory: String, name: String, size: Int64, isLast: Bool, options: AOFLoadOptions,
                         replay: Replay, logger: Logger, fileSystem: any FileSystem) throws -> FileOutcome {
        var outcome = FileOutcome()
        guard size > 0 else { return outcome }
        let path = directory + "/" + name
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            throw AOFError(.io, "cannot open the AOF file: \(String(cString: strerror(errno)))", file: name)
        }
        defer { close(fd) }

        var start: Int64 = 0
        switch try AOFFileKind.detect(fd: fd, file: name) {
        case .commands:
            break
        case .rdb(let framed):
            logger.notice("Reading RDB \(framed ? "base" : "preamble") from AOF file \(name)...")
            let reader: RDBReader
            let loaded: RDBLoadSummary
            do {
                reader = try RDBReader(fd: fd, settings: replay.engine.settings)
                reader.allowsTrailingData = !framed
                loaded = try RDBSnapshot.load(from: reader, into: replay.engine, options: RDBLoadOptions())
            } catch let e as RDBError {
                let kind: AOFError.Kind = e.kind == .io ? .io : .corrupt
                throw AOFError(kind, "error reading the RDB preamble of the AOF file: \(e.message)",
                               file: name, offset: e.offset.map(Int64.init))
            }
            outcome.rdbKeys = loaded.keys
            if framed { return outcome }
            start = Int64(reader.offset)
            if start < size { logger.notice("Reading the remaining AOF tail...") }
        }

        // Each file starts in database 0, as Redis loads each with a new client.
        replay.client.db = 0
        let scanner = AOFScanner(fd: fd, startOffset: start, fileSize: size)
        var validUpTo = start
        var validBeforeMulti = start
        var torn: Int64? = nil
        loop: while true {
            let item: AOFScanner.Item
            do {
                item = try scanner.next()
            } catch {
                switch error {
                case .truncated(let at):
                    torn = at
                    break loop
                case .malformed(let at, _, let reason):
                    replay.abandonTransaction()
                    throw AOFError(.corrupt, "Bad file format reading the append only file (\(reason))", file: name, offset: at)
                case .io(let text):
                    replay.abandonTransaction()
                    throw AOFError(.io, "error reading the append only file: \(text)", file: name, offset: scanner.itemStart)
                }
            }
            switch item {
            case .end: break loop
            case .annotation: continue
            case .command(let args):
                let beganTransaction = !replay.inTransaction
                switch replay.run(args) {
                case .ok: break
                case .unknownCommand:
                    replay.abandonTransaction()
                    let word = String(decoding: args[0].prefix(128), as: UTF8.self)
                    throw AOFError(.corrupt, "Unknown command '\(word)' reading the append only file", file: name, offset: scanner.itemStart)
                }
                outcome.commands += 1
                if beganTransaction && replay.inTransaction { validBeforeMulti = validUpTo }
                validUpTo = scanner.offset
            }
        }

        // The end of the file: a torn command, or an unfinished MULTI, is a short read.
        let rolledBack = replay.inTransaction
        guard torn != nil || rolledBack else { return outcome }
        replay.abandonTransaction()
        let cutAt = rolledBack ? validBeforeMulti : validUpTo
        let problemAt = torn ?? validBeforeMulti
        let what = torn != nil ? "the file ends inside a command" : "the file ends inside a MULTI/EXEC transaction"
        guard isLast else {
            throw AOFError(.corrupt, "Fatal error: \(what) and the truncated file is not the last file", file: name, offset: problemAt)
        }
        guard options.loadTruncated else {
            throw AOFError(.corrupt, "Unexpected end of file reading the append only file (\(what)). You can: 1) Make a backup "
                + "of your AOF directory, then use cairn-aof fix. 2) Alternatively you can set the 'aof-load-truncated' "
                + "configuration option to yes and restart the server.", file: name, offset: problemAt)
        }
        if rolledBack { logger.warning("Revert incomplete MULTI/EXEC transaction in AOF file \(name)") }
        logger.warning("!!! Warning: short read while loading the AOF file \(name)!!!")
        logger.warning("!!! Truncating the AOF \(name) at offset \(cutAt) (\(size - cutAt) bytes dropped) !!!")
        try truncate(path: path, name: name, to: cutAt, fileSystem: fileSystem)
        logger.warning("AOF \(name) loaded anyway because aof-load-truncated is enabled")
        outcome.cut = (size - cutAt, rolledBack)
        return outcome
    }

    /// Cuts `path` to `length` bytes and makes that durable before new writes are appended.
    static func truncate(path: String, name: String, to length: Int64, fileSystem: any FileSystem) throws {
        let fd: Int32
        do throws(Errno) {
            fd = try fileSystem.open(path, flags: O_WRONLY | O_CLOEXEC, mode: 0)
        } catch {
            throw AOFError(.io, "cannot open the AOF file to truncate it: \(error)", file: name)
        }
        defer { try? fileSystem.close(fd) }
        do throws(Errno) {
            try fileSystem.ftruncate(fd, length: length)
        } catch {
            throw AOFError(.io, "Error truncating the AOF file: \(error)", file: name, offset: length)
        }
        do throws(Errno) {
            try fileSystem.fsync(fd)
        } catch {
            throw AOFError(.io, "cannot fsync the truncated AOF file: \(error)", file: name)
        }
    }
}

/// What an AOF file starts with.
enum AOFFileKind {
    case commands
    /// An RDB: `framed` when in Cairn's LZ4 or gzip frame (nothing may follow it), else a plain
    /// RDB, possibly followed by commands (Redis 5/6 RDB-preamble AOFs).
    case rdb(framed: Bool)

    static func detect(fd: Int32, file: String) throws -> AOFFileKind {
        var head = [UInt8](repeating: 0, count: 5)
        var got = 0
        while got < head.count {
            let n = head.withUnsafeMutableBytes { pread(fd, $0.baseAddress! + got, $0.count - got, off_t(got)) }
            if n < 0 {
                if errno == EINTR { continue }
                throw AOFError(.io, "cannot read the AOF file: \(String(cString: strerror(errno)))", file: file)
            }
            if n == 0 { break }
            got += n
        }
        if got == 5 && head.starts(with: RDBFormat.magic) { return .rdb(framed: false) }
        if got >= 4 && head.starts(with: [0x04, 0x22, 0x4D, 0x18]) { return .rdb(framed: true) }
        if got >= 2 && head.starts(with: [0x1F, 0x8B]) { return .rdb(framed: true) }
        return .commands
    }
}

/// The engine side of a replay: a client of origin `.replay` (no admission checks, no blocking,
/// no propagation, no statistics or observers, as Redis runs AOF commands without call()), whose
/// replies only serve to notice errors.
final class Replay {
    enum Result { case ok, unknownCommand }

    let engine: Engine
    let client: ClientSession
    private let savedDirty: Int64
    private let wasLoading: Bool
    private(set) var errorReplies = 0
    private(set) var firstError: String?

    /// The AOF client's id (Redis: CLIENT_ID_AOF, UINT64_MAX).
    static let clientID = Int64.max

    init(engine: Engine) {
        self.engine = engine
        client = ClientSession(id: Self.clientID, authenticated: true, buffer: ByteBufferAllocator().buffer(capacity: 256),
                               origin: .replay)
        client.name = Array("aof-loader".utf8)
        savedDirty = engine.dirty
        wasLoading = engine.loading
        engine.loading = true
    }

    /// Ends the replay, keeping the loaded data (which is already on disk: it does not count as
    /// changes since the last save).
    func finish() {
        abandonTransaction()
        engine.clientClosed(client)
        engine.dirty = savedDirty
        engine.loading = wasLoading
    }

    var inTransaction: Bool { client.transaction != nil }

    /// Forgets a MULTI whose EXEC never came: its queued commands never ran.
    func abandonTransaction() { client.transaction = nil }

    @inline(__always)
    func run(_ args: Arguments) -> Result {
        engine.execute(client, args)
        let reply = client.reply.buffer
        defer { client.reply.buffer.clear() }
        guard reply.readableBytes > 0, reply.getInteger(at: reply.readerIndex, as: UInt8.self) == UInt8(ascii: "-") else { return .ok }
        return noteError(reply)
    }

    private func noteError(_ reply: ByteBuffer) -> Result {
        let text = reply.getString(at: reply.readerIndex + 1, length: min(reply.readableBytes - 1, 200)) ?? ""
        if text.hasPrefix("ERR unknown command") || text.hasPrefix("ERR unknown subcommand") { return .unknownCommand }
        errorReplies += 1
        if firstError == nil { firstError = text.split(separator: "\r", maxSplits: 1).first.map(String.init) ?? text }
        return .ok
    }
}
