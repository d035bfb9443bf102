// The 512-byte ustar header and pax extended records (POSIX.1-2001; docs/format-backup.md, "The
// tar layer"): what cairn-backup writes and the subset it reads back. GNU tar lists and extracts
// these archives.

/// One member: a regular file or a directory.
struct TarEntry: Equatable, Sendable {
    enum Kind: Sendable { case file, directory }
    var path: String
    var kind: Kind
    var size: Int64
    var mode: UInt32
    var mtime: Int64

    init(path: String, kind: Kind = .file, size: Int64, mode: UInt32 = 0o644, mtime: Int64 = 0) {
        self.path = path
        self.kind = kind
        self.size = size
        self.mode = mode
        self.mtime = mtime
    }
}

enum TarFormat {
    static let blockBytes = 512
    /// Largest size the 12-byte octal field holds (11 digits); bigger sizes go in a pax record.
    static let octalSizeMax: Int64 = 0o77777777777
    static let nameBytesMax = 100
    /// A pax header longer than this is not one cairn-backup wrote.
    static let paxBytesMax = 64 * 1024

    static let typeFile: UInt8 = 0x30        // "0"
    static let typeFileOld: UInt8 = 0        // NUL, pre-POSIX regular file
    static let typeDirectory: UInt8 = 0x35   // "5"
    static let typePax: UInt8 = 0x78         // "x"
    static let typeGlobalPax: UInt8 = 0x67   // "g"

    // Field offsets and widths in the header block.
    static let nameField = (0, 100), modeField = (100, 8), uidField = (108, 8), gidField = (116, 8)
    static let sizeField = (124, 12), mtimeField = (136, 12), checksumField = (148, 8), typeflagOffset = 156
    static let magicField = (257, 6), versionField = (263, 2)

    /// A header block for `entry` (names must fit in 100 bytes: longer ones go through pax).
    static func header(name: [UInt8], typeflag: UInt8, size: Int64, mode: UInt32, mtime: Int64) -> [UInt8] {
        var block = [UInt8](repeating: 0, count: blockBytes)
        block.replaceSubrange(0..<min(name.count, nameBytesMax), with: name.prefix(nameBytesMax))
        putOctal(&block, modeField, Int64(mode & 0o7777))
        putOctal(&block, uidField, 0)
        putOctal(&block, gidField, 0)
        putOctal(&block, sizeField, min(size, octalSizeMax))
        putOctal(&block, mtimeField, max(0, min(mtime, octalSizeMax)))
        block[typeflagOffset] = typeflag
        block.replaceSubrange(257..<265, with: Array("ustar\u{0}00".utf8))
        let sum = checksum(of: block)
        // Six octal digits, NUL, space: the layout GNU tar and POSIX agree on.
        let digits = octalDigits(Int64(sum), width: 6)
        block.replaceSubrange(148..<154, with: digits)
        block[154] = 0
        block[155] = 0x20
        return block
    }

    /// The sum of the header's bytes with the checksum field read as spaces.
    static func checksum(of block: [UInt8]) -> Int {
        var sum = 0
        for (i, b) in block.enumerated() { sum += (i >= 148 && i < 156) ? 0x20 : Int(b) }
        return sum
    }

    static func octalDigits(_ value: Int64, width: Int) -> [UInt8] {
        var digits = [UInt8](repeating: 0x30, count: width)
        var v = value
        var i = width - 1
        while v > 0 && i >= 0 {
            digits[i] = 0x30 + UInt8(v & 7)
            v >>= 3
            i -= 1
        }
        return digits
    }

    /// `width - 1` octal digits and a NUL terminator.
    private static func putOctal(_ block: inout [UInt8], _ field: (Int, Int), _ value: Int64) {
        block.replaceSubrange(field.0..<(field.0 + field.1 - 1), with: octalDigits(value, width: field.1 - 1))
        block[field.0 + field.1 - 1] = 0
    }

    /// A numeric field: octal digits (spaces and NULs around them), or GNU's base-256 form
    /// (high bit set). Nil when malformed.
    static func number(_ block: ArraySlice<UInt8>) -> Int64? {
        guard let first = block.first else { return nil }
        if first & 0x80 != 0 {
            guard first == 0x80 else { return nil }  // negative or too large
            var v: Int64 = 0
            for b in block.dropFirst() {
                guard v <= Int64.max >> 8 else { return nil }
                v = v << 8 | Int64(b)
            }
            return v
        }
        var v: Int64 = 0
        var seenDigit = false
        var ended = false
        for b in block {
            if b >= 0x30 && b <= 0x37 {
                guard !ended, v <= Int64.max >> 3 else { return nil }
                v = v << 3 | Int64(b - 0x30)
                seenDigit = true
            } else if b == 0x20 || b == 0 {
                if seenDigit { ended = true }
            } else {
                return nil
            }
        }
        return v
    }

    /// One pax record, `"<len> <key>=<value>\n"`, where len counts the whole record.
    static func paxRecord(_ key: String, _ value: [UInt8]) -> [UInt8] {
        let body = Array(" \(key)=".utf8) + value + [0x0A]
        var length = body.count + 1
        while String(length).utf8.count + body.count > length { length += 1 }
        return Array(String(length).utf8) + body
    }

    /// Parses pax records into key/value pairs; nil when malformed.
    static func paxRecords(_ data: [UInt8]) -> [String: [UInt8]]? {
        var result: [String: [UInt8]] = [:]
        var i = 0
        while i < data.count {
            var length = 0
            var j = i
            while j < data.count && data[j] != 0x20 {
                guard data[j] >= 0x30 && data[j] <= 0x39, length < 1_000_000 else { return nil }
                length = length * 10 + Int(data[j] - 0x30)
                j += 1
            }
            guard j < data.count, length > j - i + 1, i + length <= data.count, data[i + length - 1] == 0x0A else { return nil }
            let record = data[(j + 1)..<(i + length - 1)]
            guard let eq = record.firstIndex(of: 0x3D) else { return nil }
            result[String(decoding: record[record.startIndex..<eq], as: UTF8.self)] = Array(record[(eq + 1)...])
            i += length
        }
        return result
    }
}
