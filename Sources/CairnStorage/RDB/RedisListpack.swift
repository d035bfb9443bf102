// Redis's listpack blob, as stored in RDB types 16/17/20 and in quicklist-2 packed nodes (type 18).
// Byte layout: docs/format-rdb.md, "listpack". This is Redis's format, not Cairn's in-memory
// Listpack (Collections/Listpack.swift), which uses a simpler private encoding.
//
// The blobs come from files anyone may hand us, so every read is bounds-checked and the whole blob
// is validated before the first callback: a caller never sees half of a corrupt collection.

/// One element of a ziplist or listpack: raw bytes (borrowed, valid only during the callback) or an integer.
public enum CompactEntry {
    case bytes(UnsafeRawBufferPointer)
    case int(Int64)
}

/// A ziplist, listpack, intset or zipmap blob that breaks its format. `offset` is the position
/// inside the blob where the problem was found.
public struct CompactEncodingError: Error, CustomStringConvertible, Sendable {
    public var message: String
    public var offset: Int
    public var description: String { "\(message) at blob offset \(offset)" }

    public init(_ message: String, offset: Int) {
        self.message = message
        self.offset = offset
    }
}

public enum RedisListpack {
    static let headerSize = 6
    static let end: UInt8 = 0xFF
    /// Header count meaning "too many to count in 16 bits: walk the entries".
    static let countUnknown = 0xFFFF

    public static func forEach(_ blob: UnsafeRawBufferPointer, _ body: (CompactEntry) throws -> Void) throws {
        try walk(blob, deliver: false) { _ in }
        try walk(blob, deliver: true, body)
    }

    /// One pass over the entries; with `deliver` false it only validates. The second pass of
    /// `forEach` repeats the checks of the first, so it cannot fail after a callback ran.
    private static func walk(_ blob: UnsafeRawBufferPointer, deliver: Bool, _ body: (CompactEntry) throws -> Void) throws {
        let last = try CompactBytes.checkFrame(blob, kind: "listpack", totalField: "total-bytes", headerSize: headerSize)
        let headerCount = Int(CompactBytes.le(blob, 4, 2))
        var p = headerSize
        var count = 0
        while p < last {
            let b = blob[p]
            // Bytes needed before the entry's length is known, and where a string's data starts.
            let lengthBytes: Int = b == 0xF0 ? 5 : (b & 0xE0) == 0xC0 || (b & 0xF0) == 0xE0 ? 2 : 1
            guard lengthBytes <= last - p else {
                throw CompactEncodingError("listpack entry header runs past the end", offset: p)
            }
            let entryLength: Int  // encoding byte(s) + data, without the backlen
            switch b {
            case 0x00...0x7F: entryLength = 1
            case 0x80...0xBF: entryLength = 1 + Int(b & 0x3F)
            case 0xC0...0xDF: entryLength = 2
            case 0xE0...0xEF: entryLength = 2 + (Int(b & 0x0F) << 8 | Int(blob[p + 1]))
            case 0xF0: entryLength = 5 + Int(CompactBytes.le(blob, p + 1, 4))
            case 0xF1: entryLength = 3
            case 0xF2: entryLength = 4
            case 0xF3: entryLength = 5
            case 0xF4: entryLength = 9
            case end:
                throw CompactEncodingError("listpack terminator 0xFF before the end of the blob", offset: p)
            default:
                throw CompactEncodingError("listpack entry has invalid encoding byte 0x\(String(b, radix: 16))", offset: p)
            }
            let backlenSize = backlenByteCount(entryLength)
            guard entryLength + backlenSize <= last - p else {
                throw CompactEncodingError("listpack entry of \(entryLength) bytes runs past the end", offset: p)
            }
            // Redis checks the backlen's value; comparing with the bytes it would write also
            // rejects stray high bits.
            for i in 0..<backlenSize where blob[p + entryLength + i] != backlenByte(entryLength, i, of: backlenSize) {
                throw CompactEncodingError("listpack backlen does not match the entry's \(entryLength) bytes",
                                           offset: p + entryLength)
            }
            if deliver { try body(value(blob, p, entryLength, dataStart: lengthBytes)) }
            p += entryLength + backlenSize
            count += 1
        }
        if headerCount != countUnknown && headerCount != count {
            throw CompactEncodingError("listpack header counts \(headerCount) entries but holds \(count)", offset: 4)
        }
    }

    /// The entry at `p`, already validated.
    private static func value(_ blob: UnsafeRawBufferPointer, _ p: Int, _ entryLength: Int, dataStart: Int) -> CompactEntry {
        let b = blob[p]
        switch b {
        case 0x00...0x7F: return .int(Int64(b))
        case 0xC0...0xDF:
            let raw = Int64(b & 0x1F) << 8 | Int64(blob[p + 1])
            return .int(raw >= 4096 ? raw - 8192 : raw)  // 13-bit two's complement
        case 0xF1...0xF4: return .int(CompactBytes.signed(blob, p + 1, entryLength - 1))
        default: return .bytes(UnsafeRawBufferPointer(rebasing: blob[(p + dataStart)..<(p + entryLength)]))
        }
    }

    /// Bytes of the backlen of an entry of `length` bytes (Redis's thresholds, including its
    /// `< 16383` rather than `<= 16383`).
    static func backlenByteCount(_ length: Int) -> Int {
        if length <= 127 { return 1 }
        if length < 16383 { return 2 }
        if length < 2_097_151 { return 3 }
        if length < 268_435_455 { return 4 }
        return 5
    }

    /// Byte `i` of the `n`-byte backlen of `length`: the most significant 7-bit group first with
    /// its high bit clear, the others with it set, so a reader walking backwards knows where to stop.
    static func backlenByte(_ length: Int, _ i: Int, of n: Int) -> UInt8 {
        let group = UInt8((length >> (7 * (n - 1 - i))) & 0x7F)
        return i == 0 ? group : group | 0x80
    }

    /// A listpack Redis 7.0 accepts (for quicklist-2 nodes / listpack types Cairn may write): encode entries,
    /// integers in their smallest integer encoding, strings that are canonical integers (as Redis lpAppend would) too.
    /// The result must fit Redis's 32-bit total-bytes field; callers only pack small collections.
    public static func encode(_ entries: [[UInt8]]) -> [UInt8] {
        var out: [UInt8] = [0, 0, 0, 0, 0, 0]
        out.reserveCapacity(headerSize + 1 + entries.reduce(0) { $0 + $1.count + 3 })
        for e in entries {
            let start = out.count
            if let v = CompactBytes.canonicalInt64(e) { appendInt(v, to: &out) } else { appendString(e, to: &out) }
            let length = out.count - start
            let n = backlenByteCount(length)
            for i in 0..<n { out.append(backlenByte(length, i, of: n)) }
        }
        out.append(end)
        precondition(out.count <= Int(UInt32.max), "listpack larger than 4 GiB")
        let total = UInt32(out.count)
        let count = UInt16(min(entries.count, countUnknown))
        for i in 0..<4 { out[i] = UInt8(truncatingIfNeeded: total >> (8 * i)) }
        out[4] = UInt8(truncatingIfNeeded: count)
        out[5] = UInt8(truncatingIfNeeded: count >> 8)
        return out
    }

    private static func appendInt(_ v: Int64, to out: inout [UInt8]) {
        func le(_ code: UInt8, _ width: Int) {
            out.append(code)
            for i in 0..<width { out.append(UInt8(truncatingIfNeeded: v >> (8 * i))) }
        }
        switch v {
        case 0...127: out.append(UInt8(v))
        case -4096...4095:
            let u = UInt16(truncatingIfNeeded: v) & 0x1FFF
            out.append(0xC0 | UInt8(u >> 8))
            out.append(UInt8(truncatingIfNeeded: u))
        case -32768...32767: le(0xF1, 2)
        case -8_388_608...8_388_607: le(0xF2, 3)
        case Int64(Int32.min)...Int64(Int32.max): le(0xF3, 4)
        default: le(0xF4, 8)
        }
    }

    private static func appendString(_ s: [UInt8], to out: inout [UInt8]) {
        let n = s.count
        if n < 64 {
            out.append(0x80 | UInt8(n))
        } else if n < 4096 {
            out.append(0xE0 | UInt8(n >> 8))
            out.append(UInt8(truncatingIfNeeded: n))
        } else {
            out.append(0xF0)
            for i in 0..<4 { out.append(UInt8(truncatingIfNeeded: n >> (8 * i))) }
        }
        out.append(contentsOf: s)
    }
}

/// Bounded reads shared by the compact-blob decoders. Callers check the range first.
enum CompactBytes {
    /// The frame a ziplist and a listpack share: a header of `headerSize` bytes starting with a
    /// 32-bit total size that must equal the blob's, and a 0xFF end marker as the last byte.
    /// Returns the end marker's offset.
    static func checkFrame(_ blob: UnsafeRawBufferPointer, kind: String, totalField: String, headerSize: Int) throws -> Int {
        let size = blob.count
        guard size >= headerSize + 1 else {
            throw CompactEncodingError("\(kind) of \(size) bytes is shorter than its \(headerSize + 1)-byte minimum", offset: 0)
        }
        let total = le(blob, 0, 4)
        guard total == UInt64(size) else {
            throw CompactEncodingError("\(kind) \(totalField) field says \(total) but the blob has \(size)", offset: 0)
        }
        let last = size - 1
        guard blob[last] == 0xFF else {
            throw CompactEncodingError("\(kind) does not end with 0xFF", offset: last)
        }
        return last
    }

    /// Unsigned little-endian integer of `width` (1...8) bytes at `offset`.
    static func le(_ blob: UnsafeRawBufferPointer, _ offset: Int, _ width: Int) -> UInt64 {
        var v: UInt64 = 0
        for i in 0..<width { v |= UInt64(blob[offset + i]) << (8 * i) }
        return v
    }

    /// Signed little-endian two's-complement integer of `width` (1...8) bytes at `offset`.
    static func signed(_ blob: UnsafeRawBufferPointer, _ offset: Int, _ width: Int) -> Int64 {
        let shift = 64 - 8 * width
        return Int64(bitPattern: le(blob, offset, width) << shift) >> shift
    }

    /// The value of `s` if it is an integer exactly as Redis prints it (no sign but '-', no
    /// leading zeros, no "-0", fits in Int64): what lpStringToInt64/string2ll accept.
    static func canonicalInt64(_ s: [UInt8]) -> Int64? {
        guard let first = s.first, s.count <= 20 else { return nil }
        if s.count == 1 && first == UInt8(ascii: "0") { return 0 }
        let negative = first == UInt8(ascii: "-")
        let digits = negative ? s.dropFirst() : s[...]
        guard let lead = digits.first, lead >= UInt8(ascii: "1"), lead <= UInt8(ascii: "9") else { return nil }
        var magnitude: UInt64 = 0
        for d in digits {
            guard d >= UInt8(ascii: "0"), d <= UInt8(ascii: "9") else { return nil }
            let (m, o1) = magnitude.multipliedReportingOverflow(by: 10)
            let (a, o2) = m.addingReportingOverflow(UInt64(d - UInt8(ascii: "0")))
            guard !o1, !o2 else { return nil }
            magnitude = a
        }
        if negative {
            guard magnitude <= UInt64(Int64.max) + 1 else { return nil }
            return magnitude == UInt64(Int64.max) + 1 ? Int64.min : -Int64(magnitude)
        }
        guard magnitude <= UInt64(Int64.max) else { return nil }
        return Int64(magnitude)
    }
}
