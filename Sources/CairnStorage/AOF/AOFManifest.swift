// The manifest of a Redis 7 multi-part AOF (docs/format-aof.md): one line per file,
// `file <name> seq <n> type <b|h|i>`, base first, then history, then increments in order.
// Replaced only atomically (AtomicFile: temp, fsync, rename, fsync dir), as Redis does.

public struct AOFError: Error, CustomStringConvertible, Sendable {
    public enum Kind: Sendable {
        /// Damage or a torn tail: `file` and `offset` say where.
        case corrupt
        /// A manifest Cairn cannot use (bad grammar, missing files).
        case badManifest
        case io
    }
    public var kind: Kind
    public var message: String
    public var file: String?
    public var offset: Int64?

    public init(_ kind: Kind, _ message: String, file: String? = nil, offset: Int64? = nil) {
        self.kind = kind
        self.message = message
        self.file = file
        self.offset = offset
    }

    public var description: String {
        var text = message
        if let file { text += " in \(file)" }
        if let offset { text += " at offset \(offset)" }
        return text
    }
}

public struct AOFManifest: Equatable, Sendable {
    public enum FileType: UInt8, Sendable {
        case base = 98       // "b"
        case history = 104   // "h"
        case incr = 105      // "i"
    }

    public struct Entry: Equatable, Sendable {
        public var name: String
        public var seq: Int64
        public var type: FileType
        public init(name: String, seq: Int64, type: FileType) {
            self.name = name
            self.seq = seq
            self.type = type
        }
    }

    public var base: Entry?
    public var history: [Entry] = []
    public var increments: [Entry] = []

    public init(base: Entry? = nil, history: [Entry] = [], increments: [Entry] = []) {
        self.base = base
        self.history = history
        self.increments = increments
    }

    /// Redis's AOF_MANIFEST line limit.
    public static let lineBytesMax = 1024

    // MARK: names (appendfilename = prefix)

    public static func manifestName(_ prefix: String) -> String { "\(prefix).manifest" }
    public static func baseName(_ prefix: String, seq: Int64, rdbPreamble: Bool) -> String {
        "\(prefix).\(seq).base.\(rdbPreamble ? "rdb" : "aof")"
    }
    public static func incrName(_ prefix: String, seq: Int64) -> String { "\(prefix).\(seq).incr.aof" }

    /// The files to load, in order: the base, then every increment.
    public var loadOrder: [Entry] { (base.map { [$0] } ?? []) + increments }

    public var lastIncrSeq: Int64 { increments.last?.seq ?? 0 }

    // MARK: text

    public func serialized() -> [UInt8] {
        var out = ""
        for e in (base.map { [$0] } ?? []) + history + increments {
            out += "file \(Self.quoted(e.name)) seq \(e.seq) type \(Character(UnicodeScalar(e.type.rawValue)))\n"
        }
        return Array(out.utf8)
    }

    /// Names with spaces or unusual bytes are written quoted (Redis uses sdscatrepr).
    static func quoted(_ name: String) -> String {
        let plain = name.utf8.allSatisfy { $0 > 32 && $0 < 127 && $0 != UInt8(ascii: "\"") && $0 != UInt8(ascii: "'") && $0 != UInt8(ascii: "\\") }
        if plain && !name.isEmpty { return name }
        var s = "\""
        for b in name.utf8 {
            switch b {
            case UInt8(ascii: "\\"): s += "\\\\"
            case UInt8(ascii: "\""): s += "\\\""
            case 10: s += "\\n"
            case 13: s += "\\r"
            case 9: s += "\\t"
            case 32..<127: s += String(UnicodeScalar(b))
            default: s += "\\x" + (b < 16 ? "0" : "") + String(b, radix: 16)
            }
        }
        return s + "\""
    }

    /// Parses a manifest with Redis's rules: `#` comments and blank lines skipped, key/value
    /// pairs in any order, unknown keys ignored, `file`, `seq` and `type` required, at most one
    /// base, names without `/`, increment sequence numbers strictly increasing.
    public static func parse(_ bytes: [UInt8], name: String = "manifest") throws -> AOFManifest {
        var manifest = AOFManifest()
        var lineNumber = 0
        var start = 0
        func bad(_ why: String) -> AOFError {
            AOFError(.badManifest, "Invalid AOF manifest file format (line \(lineNumber): \(why))", file: name)
        }
        while start < bytes.count {
            var end = start
            while end < bytes.count && bytes[end] != 10 { end += 1 }
            lineNumber += 1
            guard end - start <= lineBytesMax else { throw bad("line too long") }
            var line = Array(bytes[start..<end])
            start = end + 1
            if line.last == 13 { line.removeLast() }
            let trimmed = line.drop { $0 == 32 || $0 == 9 }
            if trimmed.isEmpty || trimmed.first == UInt8(ascii: "#") { continue }
            guard let words = ConfigWords.split(Array(trimmed)), words.count % 2 == 0 else { throw bad("unbalanced quotes or key without value") }
            var file: String?, seq: Int64?, type: FileType?
            var i = 0
            while i < words.count {
                let key = String(decoding: words[i], as: UTF8.self).lowercased()
                let value = words[i + 1]
                switch key {
                case "file": file = String(decoding: value, as: UTF8.self)
                case "seq":
                    guard let v = CairnRESP.Decimal.parseInt64(value), v > 0 else { throw bad("bad seq") }
                    seq = v
                case "type":
                    guard value.count == 1, let t = FileType(rawValue: value[0]) else { throw bad("bad type") }
                    type = t
                default: break
                }
                i += 2
            }
            guard let file, let seq, let type else { throw bad("file, seq and type are required") }
            guard !file.isEmpty, !file.contains("/") else { throw bad("file names may not contain '/'") }
            let entry = Entry(name: file, seq: seq, type: type)
            switch type {
            case .base:
                guard manifest.base == nil else { throw bad("more than one base file") }
                manifest.base = entry
            case .history:
                manifest.history.append(entry)
            case .incr:
                if let last = manifest.increments.last, last.seq >= seq { throw bad("increment sequence numbers must increase") }
                manifest.increments.append(entry)
            }
        }
        guard manifest.base != nil || !manifest.increments.isEmpty else {
            throw AOFError(.badManifest, "Invalid AOF manifest file format (no base and no increment files)", file: name)
        }
        return manifest
    }
}

/// Splits a line into words as Redis's sdssplitargs does: spaces separate, "double quotes" take
/// \n \r \t \b \a \\ \" and \xHH escapes, 'single quotes' take \' only; a closing quote must be
/// followed by a space or the end. Nil for unbalanced quotes.
enum ConfigWords {
    static func split(_ line: [UInt8]) -> [[UInt8]]? {
        var words: [[UInt8]] = []
        var i = 0
        let n = line.count
        func isSpace(_ b: UInt8) -> Bool { b == 32 || b == 9 || b == 10 || b == 13 || b == 11 || b == 12 }
        func hex(_ b: UInt8) -> UInt8? {
            switch b {
            case 48...57: return b - 48
            case 97...102: return b - 87
            case 65...70: return b - 55
            default: return nil
            }
        }
        while true {
            while i < n && isSpace(line[i]) { i += 1 }
            if i >= n { return words }
            var word: [UInt8] = []
            var inDouble = false, inSingle = false
            var done = false
            while !done {
                if inDouble {
                    guard i < n else { return nil }
                    let b = line[i]
                    if b == 92, i + 3 < n, line[i + 1] == UInt8(ascii: "x"), let h = hex(line[i + 2]), let l = hex(line[i + 3]) {
                        word.append(h << 4 | l)
                        i += 3
                    } else if b == 92, i + 1 < n {
                        i += 1
                        switch line[i] {
                        case UInt8(ascii: "n"): word.append(10)
                        case UInt8(ascii: "r"): word.append(13)
                        case UInt8(ascii: "t"): word.append(9)
                        case UInt8(ascii: "b"): word.append(8)
                        case UInt8(ascii: "a"): word.append(7)
                        default: word.append(line[i])
                        }
                    } else if b == UInt8(ascii: "\"") {
                        if i + 1 < n && !isSpace(line[i + 1]) { return nil }
                        done = true
                    } else {
                        word.append(b)
                    }
                } else if inSingle {
                    guard i < n else { return nil }
                    let b = line[i]
                    if b == 92, i + 1 < n, line[i + 1] == UInt8(ascii: "'") {
                        word.append(UInt8(ascii: "'"))
                        i += 1
                    } else if b == UInt8(ascii: "'") {
                        if i + 1 < n && !isSpace(line[i + 1]) { return nil }
                        done = true
                    } else {
                        word.append(b)
                    }
                } else {
                    if i >= n { done = true; break }
                    let b = line[i]
                    if isSpace(b) { done = true; break }
                    if b == UInt8(ascii: "\"") { inDouble = true }
                    else if b == UInt8(ascii: "'") { inSingle = true }
                    else { word.append(b) }
                }
                if i < n { i += 1 }
            }
            words.append(word)
        }
    }
}

import CairnRESP

#if canImport(Glibc)
import Glibc
#endif

extension AOFManifest {
    /// Reads `<dir>/<prefix>.manifest`; nil when there is none.
    public static func load(directory: String, prefix: String) throws -> AOFManifest? {
        let path = directory + "/" + manifestName(prefix)
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        if fd < 0 {
            if errno == ENOENT { return nil }
            throw AOFError(.io, "cannot open the AOF manifest: \(String(cString: strerror(errno)))", file: path)
        }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw AOFError(.io, "cannot read the AOF manifest: \(String(cString: strerror(errno)))", file: path)
            }
            if n == 0 { break }
            bytes.append(contentsOf: chunk[0..<n])
            guard bytes.count <= 64 * 1024 * 1024 else { throw AOFError(.badManifest, "AOF manifest too large", file: path) }
        }
        return try parse(bytes, name: path)
    }

    /// Replaces `<dir>/<prefix>.manifest` atomically (temp file, fsync, rename, fsync dir).
    public func write(directory: String, prefix: String, fileSystem: any FileSystem = POSIXFileSystem()) throws {
        try AtomicFile.replace(directory + "/" + Self.manifestName(prefix), with: serialized(), fileSystem: fileSystem)
    }
}
