import CairnRESP

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// Reads the commands of one AOF file (docs/format-aof.md, "Command encoding") in bounded chunks:
// RESP arrays of bulk strings, and `#` annotation lines between them. The rules are the union of
// Redis's loader (aof.c, loadSingleAppendOnlyFile) and redis-check-aof: a file that either
// refuses is refused here, and every refusal says whether the file merely ends early (a torn
// tail, which may be truncated away) or holds bytes that are not a command (damage).

/// Why the scanner stopped before the end of the file.
public enum AOFScanProblem: Error, Equatable, Sendable {
    /// The file ends inside the command that starts at `offset`.
    case truncated(offset: Int64)
    /// The bytes at `offset` are not a command; `commandStart` is where that command began.
    case malformed(offset: Int64, commandStart: Int64, reason: String)
    /// The operating system refused a read.
    case io(String)
}

public final class AOFScanner {
    public enum Item {
        /// A whole command. Its arguments point into the scanner's buffer: valid until the next call.
        case command(Arguments)
        /// An annotation line without its line end (e.g. `#TS:1700000000`); valid until the next call.
        case annotation(UnsafeRawBufferPointer)
        /// The clean end of the file.
        case end
    }

    /// Redis reads annotations with fgets into AOF_ANNOTATION_LINE_MAX_LEN (1024) bytes: a longer
    /// line would be read as an annotation plus a line that is not a command.
    public static let annotationBytesMax = 1023
    /// Argument ranges are 32-bit: one command (all its arguments) stays below 2 GiB.
    public static let commandBytesMax = Int(Int32.max)
    static let chunkBytes = 1 << 20

    private let fd: Int32
    private let fileSize: Int64
    /// Bytes of the file in memory: buffer[0..<filled] holds file bytes from `bufferOffset`.
    private var buffer: UnsafeMutableRawBufferPointer
    private var bufferOffset: Int64
    private var filled = 0
    /// Where the next item starts, as an index into `buffer`.
    private var position = 0
    private var ranges: UnsafeMutableBufferPointer<ArgumentRange>

    /// File offset where the item returned last began.
    public private(set) var itemStart: Int64
    /// File offset just after the item returned last (where the next one begins).
    public var offset: Int64 { bufferOffset + Int64(position) }

    /// Scans `fd` (not closed here) from `startOffset`; `fileSize` bounds what a damaged length
    /// may make the scanner allocate.
    public init(fd: Int32, startOffset: Int64 = 0, fileSize: Int64) {
        self.fd = fd
        self.fileSize = fileSize
        bufferOffset = startOffset
        itemStart = startOffset
        buffer = .allocate(byteCount: Self.chunkBytes, alignment: 16)
        ranges = .allocate(capacity: 64)
    }

    deinit {
        buffer.deallocate()
        ranges.deallocate()
    }

    /// The next item, or a problem. After a problem the scanner must not be used again.
    public func next() throws(AOFScanProblem) -> Item {
        while true {
            itemStart = offset
            switch parse() {
            case .done(let item): return item
            case .failed(let problem): throw problem
            case .needBytes(let total):
                // `total` bytes from the item start are needed (a lower bound of its size). A file
                // too short for them has a torn tail: found without allocating what a damaged
                // length asks for.
                let filledEnough = itemStart + Int64(total) <= fileSize ? try fill(total) : false
                if !filledEnough {
                    if filled == position { return .end }
                    throw .truncated(offset: itemStart)
                }
            }
        }
    }

    // MARK: parsing (restarts at the item start whenever bytes run out)

    private enum Step {
        case done(Item)
        case needBytes(Int)
        case failed(AOFScanProblem)
    }

    private func parse() -> Step {
        let start = position
        let available = filled - start
        guard available > 0 else { return .needBytes(1) }
        let p = UnsafeRawBufferPointer(rebasing: buffer[start..<filled])
        switch p[0] {
        case UInt8(ascii: "#"):
            var i = 1
            while i < available && p[i] != 10 {
                i += 1
                if i > Self.annotationBytesMax { return malformed(start, at: start, "annotation line longer than \(Self.annotationBytesMax) bytes") }
            }
            if i == available {
                // A last line without its newline: Redis's fgets still returns it as a line.
                if offset + Int64(available) < fileSize { return .needBytes(available + 1) }
                position = filled
                return .done(.annotation(UnsafeRawBufferPointer(rebasing: p[1..<i])))
            }
            position = start + i + 1
            let end = i > 1 && p[i - 1] == 13 ? i - 1 : i
            return .done(.annotation(UnsafeRawBufferPointer(rebasing: p[1..<end])))
        case UInt8(ascii: "*"):
            break
        default:
            return malformed(start, at: start, "expected '*' or '#', got \(Self.describe(p[0]))")
        }
        var cursor = 1
        let argc: Int
        switch number(p, &cursor) {
        case .value(let v): argc = v
        case .short: return .needBytes(cursor + 1)
        case .bad(let why): return malformed(start, at: start, "bad argument count (\(why))")
        }
        guard argc >= 1 else { return malformed(start, at: start, "argument count \(argc) is less than 1") }
        var count = 0
        while count < argc {
            guard cursor < available else { return .needBytes(cursor + 1) }
            guard p[cursor] == UInt8(ascii: "$") else {
                return malformed(start, at: start + cursor, "expected '$', got \(Self.describe(p[cursor]))")
            }
            let header = cursor
            cursor += 1
            let length: Int
            switch number(p, &cursor) {
            case .value(let v): length = v
            case .short: return .needBytes(cursor + 1)
            case .bad(let why): return malformed(start, at: start + header, "bad bulk length (\(why))")
            }
            guard length >= 0 else { return malformed(start, at: start + header, "negative bulk length") }
            // A length running past the end of the file is a torn tail, as Redis's short read.
            if bufferOffset + Int64(start + cursor + length + 2) > fileSize { return .needBytes(cursor + length + 2) }
            guard length <= Self.commandBytesMax - cursor - 2 else {
                return malformed(start, at: start + header, "bulk length \(length) out of range")
            }
            guard cursor + length + 2 <= available else { return .needBytes(cursor + length + 2) }
            guard p[cursor + length] == 13, p[cursor + length + 1] == 10 else {
                return malformed(start, at: start + cursor + length, "expected CRLF after a bulk string of \(length) bytes")
            }
            if count == ranges.count { growRanges() }
            ranges[count] = ArgumentRange(start: cursor, count: length)
            count += 1
            cursor += length + 2
        }
        position = start + cursor
        return .done(.command(Arguments(base: p.baseAddress, ranges: UnsafeBufferPointer(rebasing: ranges[0..<count]))))
    }

    private enum Number {
        case value(Int)
        case short
        case bad(String)
    }

    /// A decimal integer from `cursor` up to CRLF (redis-check-aof: strtol, then CRLF at once).
    /// On `.short`, `cursor` is the last index the line may need.
    private func number(_ p: UnsafeRawBufferPointer, _ cursor: inout Int) -> Number {
        var i = cursor
        var negative = false
        if i < p.count && p[i] == UInt8(ascii: "-") {
            negative = true
            i += 1
        }
        var value = 0
        var digits = 0
        while i < p.count, p[i] &- 48 < 10 {
            digits += 1
            guard digits <= 18 else { return .bad("too many digits") }
            value = value * 10 + Int(p[i] &- 48)
            i += 1
        }
        if i < p.count && p[i] != 13 {
            return .bad(digits == 0 ? "no digits" : "expected CRLF, got \(Self.describe(p[i]))")
        }
        guard i + 1 < p.count else {
            cursor = i + 1
            return .short
        }
        guard digits > 0 else { return .bad("no digits") }
        guard p[i + 1] == 10 else { return .bad("expected CRLF, got CR and \(Self.describe(p[i + 1]))") }
        cursor = i + 2
        return .value(negative ? -value : value)
    }

    private func malformed(_ start: Int, at: Int, _ reason: String) -> Step {
        .failed(.malformed(offset: bufferOffset + Int64(at), commandStart: bufferOffset + Int64(start), reason: reason))
    }

    static func describe(_ byte: UInt8) -> String {
        byte >= 32 && byte < 127 ? "'\(Character(UnicodeScalar(byte)))'" : "byte 0x" + String(byte, radix: 16)
    }

    // MARK: buffer

    private func growRanges() {
        let bigger = UnsafeMutableBufferPointer<ArgumentRange>.allocate(capacity: ranges.count * 2)
        _ = bigger.initialize(from: ranges)
        ranges.deallocate()
        ranges = bigger
    }

    /// Moves the unread bytes to the front and reads until `total` bytes from there are present;
    /// false when the file ends first.
    private func fill(_ total: Int) throws(AOFScanProblem) -> Bool {
        compact()
        if total > buffer.count {
            let bigger = UnsafeMutableRawBufferPointer.allocate(byteCount: max(total, buffer.count * 2), alignment: 16)
            if filled > 0 { bigger.baseAddress!.copyMemory(from: buffer.baseAddress!, byteCount: filled) }
            buffer.deallocate()
            buffer = bigger
        }
        while filled < total {
            if try readMore() == 0 { return false }
        }
        return true
    }

    private func compact() {
        guard position > 0 else { return }
        let live = filled - position
        if live > 0 { buffer.baseAddress!.copyMemory(from: buffer.baseAddress! + position, byteCount: live) }
        bufferOffset += Int64(position)
        filled = live
        position = 0
    }

    private func readMore() throws(AOFScanProblem) -> Int {
        while true {
            let n = pread(fd, buffer.baseAddress! + filled, buffer.count - filled, off_t(bufferOffset + Int64(filled)))
            if n < 0 {
                if errno == EINTR { continue }
                throw .io(String(cString: strerror(errno)))
            }
            filled += n
            return n
        }
    }
}
