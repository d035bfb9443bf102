@testable import CairnStorage
import Foundation
import Testing

/// A decoded compact entry, owned.
enum DecodedEntry: Equatable, CustomStringConvertible {
    case bytes([UInt8])
    case int(Int64)

    init(_ e: CompactEntry) {
        switch e {
        case .bytes(let b): self = .bytes(Array(b))
        case .int(let v): self = .int(v)
        }
    }

    /// The entry as Redis serves it.
    var text: [UInt8] {
        switch self {
        case .bytes(let b): return b
        case .int(let v): return Array(String(v).utf8)
        }
    }

    var description: String {
        switch self {
        case .bytes(let b): return b.count > 40 ? "bytes(\(b.count))" : "bytes(\(String(decoding: b, as: UTF8.self)))"
        case .int(let v): return "int(\(v))"
        }
    }
}

func decodeListpack(_ blob: [UInt8]) throws -> [DecodedEntry] {
    var out: [DecodedEntry] = []
    try blob.withUnsafeBytes { try RedisListpack.forEach($0) { out.append(DecodedEntry($0)) } }
    return out
}

func decodeZiplist(_ blob: [UInt8]) throws -> [DecodedEntry] {
    var out: [DecodedEntry] = []
    try blob.withUnsafeBytes { try RedisZiplist.forEach($0) { out.append(DecodedEntry($0)) } }
    return out
}

func decodeIntset(_ blob: [UInt8]) throws -> [Int64] {
    var out: [Int64] = []
    try blob.withUnsafeBytes { try RedisIntset.forEach($0) { out.append($0) } }
    return out
}

func decodeZipmap(_ blob: [UInt8]) throws -> [[UInt8]] {
    var out: [[UInt8]] = []
    try blob.withUnsafeBytes { try RedisZipmap.forEach($0) { f, v in out.append(Array(f)); out.append(Array(v)) } }
    return out
}

/// Blobs written or loaded by real Redis 7.0 (Fixtures/rdb/compact/, made by tools/make-rdb-fixtures
/// and tools/make-legacy-rdb; blobs.json lists each with the entries Redis serves).
struct CompactFixture {
    var file: String
    var kind: String
    var blob: [UInt8]
    var entries: [[UInt8]]
    /// Per entry, "i" when Redis stores it as an integer.
    var encodings: [Character]
    var encode: Bool

    static let directory = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/rdb/compact")

    static func all() throws -> [CompactFixture] {
        let data = try Data(contentsOf: directory.appendingPathComponent("blobs.json"))
        guard let records = try JSONSerialization.jsonObject(with: data) as? [[String: Any]] else {
            throw CompactEncodingError("blobs.json is not a list of objects", offset: 0)
        }
        return try records.map { r in
            guard let file = r["file"] as? String, let kind = r["kind"] as? String,
                  let entries = r["entries"] as? [String], let encodings = r["encodings"] as? String else {
                throw CompactEncodingError("blobs.json record without file/kind/entries/encodings", offset: 0)
            }
            let blob = try [UInt8](Data(contentsOf: directory.appendingPathComponent(file)))
            // Entries are Latin-1 strings: each scalar is one byte.
            let bytes = entries.map { $0.unicodeScalars.map { UInt8(truncatingIfNeeded: $0.value) } }
            return CompactFixture(file: file, kind: kind, blob: blob, entries: bytes, encodings: Array(encodings),
                                  encode: r["encode"] as? Bool ?? false)
        }
    }
}

@Suite struct CompactEncodingTests {
    func b(_ s: String) -> [UInt8] { Array(s.utf8) }

    // MARK: real Redis blobs

    /// Compares entry lists, reporting the first difference briefly (entries can be kilobytes).
    func expectSame(_ got: [[UInt8]], _ want: [[UInt8]], _ file: String) {
        guard got != want else { return }
        let i = zip(got, want).enumerated().first { $0.element.0 != $0.element.1 }?.offset ?? min(got.count, want.count)
        func show(_ e: [[UInt8]]) -> String {
            i < e.count ? "\(e[i].count) bytes \(String(decoding: e[i].prefix(40), as: UTF8.self))" : "nothing"
        }
        Issue.record("\(file): \(got.count) entries, expected \(want.count); entry \(i) is \(show(got)), expected \(show(want))")
    }

    @Test func fixturesFromRedisDecode() throws {
        let fixtures = try CompactFixture.all()
        #expect(Set(fixtures.map(\.kind)) == ["listpack", "ziplist", "intset", "zipmap"])
        for f in fixtures {
            switch f.kind {
            case "listpack", "ziplist":
                let got = f.kind == "listpack" ? try decodeListpack(f.blob) : try decodeZiplist(f.blob)
                expectSame(got.map(\.text), f.entries, f.file)
                let kinds = got.map { e -> Character in if case .int = e { return "i" } else { return "s" } }
                #expect(kinds == f.encodings, "\(f.file): integer entries")
            case "intset":
                expectSame(try decodeIntset(f.blob).map { b(String($0)) }, f.entries, f.file)
            case "zipmap":
                expectSame(try decodeZipmap(f.blob), f.entries, f.file)
            default:
                Issue.record("unknown kind \(f.kind) in \(f.file)")
            }
        }
    }

    /// `encode` writes exactly the bytes Redis 7.0 wrote for the same entries (lpAppend's choices).
    @Test func encodeMatchesRedis() throws {
        let fixtures = try CompactFixture.all().filter(\.encode)
        #expect(fixtures.count >= 3)
        for f in fixtures {
            #expect(RedisListpack.encode(f.entries) == f.blob, "\(f.file)")
        }
    }

    // MARK: hand-built ziplists (ziplist.c layout)

    /// Encoding + data of a ziplist string entry with the smallest header.
    func zlString(_ s: [UInt8]) -> [UInt8] {
        if s.count <= 0x3F { return [UInt8(s.count)] + s }
        if s.count <= 0x3FFF { return [0x40 | UInt8(s.count >> 8), UInt8(s.count & 0xFF)] + s }
        return [0x80] + withUnsafeBytes(of: UInt32(s.count).bigEndian, Array.init) + s
    }

    func le<T: FixedWidthInteger>(_ v: T) -> [UInt8] { withUnsafeBytes(of: v.littleEndian, Array.init) }

    /// A ziplist of already encoded entries; prevlens, tail and count are filled in.
    func ziplist(_ entries: [[UInt8]], longPrevlenAt: Set<Int> = [], count: Int? = nil) -> [UInt8] {
        var body: [UInt8] = []
        var prev = 0
        var tail = 10
        for (i, e) in entries.enumerated() {
            tail = 10 + body.count
            let prevlen: [UInt8] = prev < 254 && !longPrevlenAt.contains(i) ? [UInt8(prev)] : [0xFE] + le(UInt32(prev))
            body += prevlen + e
            prev = prevlen.count + e.count
        }
        return le(UInt32(11 + body.count)) + le(UInt32(tail)) + le(UInt16(count ?? min(entries.count, 0xFFFF))) + body + [0xFF]
    }

    @Test func ziplistEveryEncoding() throws {
        let long = [UInt8](repeating: 0x6C, count: 300)
        let huge = [UInt8](repeating: 0x68, count: 20000)
        let entries: [[UInt8]] = [
            [0xF1], [0xFD],                              // immediate 0 and 12
            [0xFE, 0x80],                                // int8 -128
            [0xC0] + le(Int16(-32768)),                  // int16
            [0xF0, 0xFF, 0xFF, 0x7F],                    // int24 8388607
            [0xF0, 0x00, 0x00, 0x80],                    // int24 -8388608
            [0xD0] + le(Int32.min),                      // int32
            [0xE0] + le(Int64.max), [0xE0] + le(Int64.min),
            [0xE0] + le(Int64(5)),                       // a wider encoding than needed is still valid
            zlString([]), zlString(b("a")), zlString(long), zlString(b("after long")), zlString(huge),
            [0x40, 0x03] + b("abc"),                     // 14-bit header for a short string
            [0x80, 0, 0, 0, 2] + b("xy"),                // 32-bit header
            [0xBF, 0, 0, 0, 1] + b("z"),                 // Redis ignores the low bits of 10xxxxxx
        ]
        let expected: [DecodedEntry] = [
            .int(0), .int(12), .int(-128), .int(-32768), .int(8_388_607), .int(-8_388_608), .int(Int64(Int32.min)),
            .int(.max), .int(.min), .int(5), .bytes([]), .bytes(b("a")), .bytes(long), .bytes(b("after long")),
            .bytes(huge), .bytes(b("abc")), .bytes(b("xy")), .bytes(b("z")),
        ]
        #expect(try decodeZiplist(ziplist(entries)) == expected)
        // A 5-byte prevlen holding a small length (left behind by Redis's cascade updates).
        #expect(try decodeZiplist(ziplist(entries, longPrevlenAt: [1, 2])) == expected)
        // The 16-bit count saturates at 0xFFFF: "walk to count".
        #expect(try decodeZiplist(ziplist(entries, count: 0xFFFF)) == expected)
        #expect(try decodeZiplist(ziplist([])) == [])
    }

    @Test func ziplistOver65534Entries() throws {
        let entries = (0..<70000).map { _ in [UInt8]([0xF2]) }
        let got = try decodeZiplist(ziplist(entries))
        #expect(got.count == 70000 && got.allSatisfy { $0 == .int(1) })
    }

    // MARK: hand-built listpacks (listpack.c layout)

    func listpack(_ encoded: [[UInt8]], count: Int? = nil) -> [UInt8] {
        var body: [UInt8] = []
        for e in encoded {
            body += e
            let n = RedisListpack.backlenByteCount(e.count)
            for i in 0..<n { body.append(RedisListpack.backlenByte(e.count, i, of: n)) }
        }
        return le(UInt32(7 + body.count)) + le(UInt16(count ?? min(encoded.count, 0xFFFF))) + body + [0xFF]
    }

    @Test func listpackEveryEncoding() throws {
        let s100 = [UInt8](repeating: 0x61, count: 100)
        let s5000 = [UInt8](repeating: 0x62, count: 5000)
        let entries: [[UInt8]] = [
            [0x00], [0x7F],                                      // 7-bit unsigned
            [0xC0, 0x80], [0xDF, 0xFF], [0xCF, 0xFF], [0xD0, 0x00],  // 13-bit: 128, -1, 4095, -4096
            [0xF1] + le(Int16.min), [0xF2, 0x00, 0x00, 0x80], [0xF2, 0xFF, 0xFF, 0x7F],
            [0xF3] + le(Int32.min), [0xF4] + le(Int64.min), [0xF4] + le(Int64.max),
            [0x80], [0x83] + b("abc"), [0xBF] + [UInt8](repeating: 0x63, count: 63),
            [0xE0, 100] + s100, [0xE1, 0x00] + [UInt8](repeating: 0x64, count: 256),
            [0xF0] + le(UInt32(5000)) + s5000, [0xF0] + le(UInt32(1)) + b("w"),
        ]
        let expected: [DecodedEntry] = [
            .int(0), .int(127), .int(128), .int(-1), .int(4095), .int(-4096), .int(-32768), .int(-8_388_608),
            .int(8_388_607), .int(Int64(Int32.min)), .int(.min), .int(.max), .bytes([]), .bytes(b("abc")),
            .bytes([UInt8](repeating: 0x63, count: 63)), .bytes(s100), .bytes([UInt8](repeating: 0x64, count: 256)),
            .bytes(s5000), .bytes(b("w")),
        ]
        #expect(try decodeListpack(listpack(entries)) == expected)
        #expect(try decodeListpack(listpack(entries, count: 0xFFFF)) == expected)
        #expect(try decodeListpack(listpack([])) == [])
    }

    /// Entry lengths at the backlen size boundaries, including Redis's 3-byte backlen for 16383.
    @Test func listpackBacklenBoundaries() throws {
        for dataLength in [121, 122, 123, 16376, 16377, 16378, 16379, 200_000] {
            let s = [UInt8](repeating: 0x71, count: dataLength)
            let lp = RedisListpack.encode([s, b("end")])
            #expect(try decodeListpack(lp) == [.bytes(s), .bytes(b("end"))])
        }
        #expect(RedisListpack.backlenByteCount(127) == 1 && RedisListpack.backlenByteCount(128) == 2)
        #expect(RedisListpack.backlenByteCount(16382) == 2 && RedisListpack.backlenByteCount(16383) == 3)
    }

    @Test func encodeRoundTrip() throws {
        var rng = CompactFuzzRandom(seed: 11)
        let samples: [[UInt8]] = ["0", "-0", "00", "1", "-1", "127", "128", "4095", "4096", "-4096", "-4097", "32767",
                                  "32768", "-32768", "-32769", "8388607", "8388608", "-8388608", "-8388609",
                                  "2147483647", "2147483648", "-2147483648", "-2147483649", "9223372036854775807",
                                  "9223372036854775808", "-9223372036854775808", "-9223372036854775809", "+1", " 1",
                                  "1 ", "1.0", "0x10", "", "-", "a"].map { b($0) }
        for round in 0..<200 {
            var entries: [[UInt8]] = []
            for _ in 0..<Int(rng.next() % 40) {
                switch rng.next() % 4 {
                case 0: entries.append(samples[Int(rng.next() % UInt64(samples.count))])
                case 1: entries.append(b(String(Int64(bitPattern: rng.next()) >> (rng.next() % 64))))
                case 2: entries.append((0..<Int(rng.next() % 100)).map { _ in UInt8(truncatingIfNeeded: rng.next()) })
                default: entries.append([UInt8](repeating: 0x5A, count: Int(rng.next() % 6000)))
                }
            }
            let got = try decodeListpack(RedisListpack.encode(entries))
            #expect(got.map(\.text) == entries, "round \(round)")
            for (e, g) in zip(entries, got) {
                let isInt: Bool
                if case .int = g { isInt = true } else { isInt = false }
                #expect(isInt == (CompactBytes.canonicalInt64(e) != nil), "round \(round): \(g)")
            }
        }
        let many = (0..<70000).map { b(String($0 % 300)) }
        let lp = RedisListpack.encode(many)
        #expect(lp[4] == 0xFF && lp[5] == 0xFF)  // count saturates at 65535 = unknown
        #expect(try decodeListpack(lp).map(\.text) == many)
    }

    // MARK: intset and zipmap

    @Test func intsetWidths() throws {
        func intset(_ width: Int, _ values: [Int64]) -> [UInt8] {
            var out = le(UInt32(width)) + le(UInt32(values.count))
            for v in values { out += le(v).prefix(width) }
            return out
        }
        #expect(try decodeIntset(intset(2, [-32768, 0, 32767])) == [-32768, 0, 32767])
        #expect(try decodeIntset(intset(4, [Int64(Int32.min), -1, Int64(Int32.max)])) == [Int64(Int32.min), -1, Int64(Int32.max)])
        #expect(try decodeIntset(intset(8, [.min, 1, .max])) == [.min, 1, .max])
        #expect(throws: CompactEncodingError.self) { try decodeIntset(intset(2, [])) }
        #expect(throws: CompactEncodingError.self) { try decodeIntset(intset(2, [1, 1])) }
        #expect(throws: CompactEncodingError.self) { try decodeIntset(intset(2, [2, 1])) }
        #expect(throws: CompactEncodingError.self) { try decodeIntset(intset(3, [1])) }
        #expect(throws: CompactEncodingError.self) { try decodeIntset(Array(intset(2, [1, 2]).dropLast())) }
        #expect(throws: CompactEncodingError.self) { try decodeIntset(intset(2, [1, 2]) + [0]) }
        #expect(throws: CompactEncodingError.self) { try decodeIntset([2, 0, 0, 0, 1, 0, 0]) }
    }

    @Test func zipmapLayouts() throws {
        let long = [UInt8](repeating: 0x4C, count: 300)
        // count, "f" -> "v" with 2 free bytes, long field -> "" , then the end marker
        let zm: [UInt8] = [2, 1] + b("f") + [1, 2] + b("v") + [0, 0] + [0xFE] + le(UInt32(300)) + long + [0, 0] + [0xFF]
        #expect(try decodeZipmap(zm) == [b("f"), b("v"), long, []])
        var unknownCount = zm
        unknownCount[0] = 254
        #expect(try decodeZipmap(unknownCount) == [b("f"), b("v"), long, []])
        #expect(throws: CompactEncodingError.self) { try decodeZipmap([0, 0xFF]) }  // empty
        var wrongCount = zm
        wrongCount[0] = 3
        #expect(throws: CompactEncodingError.self) { try decodeZipmap(wrongCount) }
        #expect(throws: CompactEncodingError.self) { try decodeZipmap(zm + [0xFF]) }  // bytes after the end
        #expect(throws: CompactEncodingError.self) { try decodeZipmap([1, 1] + b("f") + [1, 9] + b("v") + [0xFF]) }  // free past end
        #expect(throws: CompactEncodingError.self) { try decodeZipmap([1, 1] + b("f") + [0xFF]) }  // no value
        #expect(throws: CompactEncodingError.self) { try decodeZipmap([1, 1] + b("f") + [1, 0] + b("v")) }  // no end
    }

    // MARK: one test per kind of damage

    func expectCorrupt(_ what: String, offset: Int? = nil, _ decode: () throws -> Void) {
        do {
            try decode()
            Issue.record("\(what): decoded a corrupt blob")
        } catch let e as CompactEncodingError {
            if let offset { #expect(e.offset == offset, "\(what): \(e)") }
            #expect(e.description.contains("offset \(e.offset)"))
        } catch {
            Issue.record("\(what): unexpected error \(error)")
        }
    }

    @Test func ziplistDamage() {
        let good = ziplist([zlString(b("ab")), [0xF3], zlString(b("cd"))])  // entries at 10, 14, 16
        func patched(_ at: Int, _ v: UInt8) -> [UInt8] { var z = good; z[at] = v; return z }
        expectCorrupt("too short", offset: 0) { _ = try decodeZiplist([10, 0, 0, 0, 10, 0, 0, 0, 0, 0]) }
        expectCorrupt("zlbytes", offset: 0) { _ = try decodeZiplist(patched(0, good[0] &+ 1)) }
        expectCorrupt("truncated", offset: 0) { _ = try decodeZiplist(Array(good.dropLast())) }
        expectCorrupt("no terminator", offset: good.count - 1) { _ = try decodeZiplist(patched(good.count - 1, 0)) }
        expectCorrupt("tail past end", offset: 4) { _ = try decodeZiplist(patched(4, 200)) }
        expectCorrupt("tail not last entry", offset: 4) { _ = try decodeZiplist(patched(4, 14)) }
        expectCorrupt("count", offset: 8) { _ = try decodeZiplist(patched(8, 4)) }
        expectCorrupt("first prevlen not 0", offset: 10) { _ = try decodeZiplist(patched(10, 1)) }
        expectCorrupt("prevlen", offset: 14) { _ = try decodeZiplist(patched(14, 3)) }
        expectCorrupt("bad encoding", offset: 15) { _ = try decodeZiplist(patched(15, 0xC1)) }
        expectCorrupt("string past end", offset: 16) { _ = try decodeZiplist(patched(17, 0x3F)) }
        expectCorrupt("early terminator", offset: 14) { _ = try decodeZiplist(patched(14, 0xFF)) }
        expectCorrupt("long prevlen cut", offset: 10) {
            _ = try decodeZiplist(self.le(UInt32(14)) + self.le(UInt32(10)) + [1, 0, 0xFE, 0, 0, 0xFF])
        }
    }

    @Test func listpackDamage() {
        let good = RedisListpack.encode([b("ab"), b("5"), b("cd")])  // entries at 6, 10, 12
        func patched(_ at: Int, _ v: UInt8) -> [UInt8] { var z = good; z[at] = v; return z }
        expectCorrupt("too short", offset: 0) { _ = try decodeListpack([6, 0, 0, 0, 0, 0]) }
        expectCorrupt("total bytes", offset: 0) { _ = try decodeListpack(patched(0, good[0] &+ 1)) }
        expectCorrupt("truncated", offset: 0) { _ = try decodeListpack(Array(good.dropLast())) }
        expectCorrupt("no terminator", offset: good.count - 1) { _ = try decodeListpack(patched(good.count - 1, 0)) }
        expectCorrupt("count", offset: 4) { _ = try decodeListpack(patched(4, 2)) }
        expectCorrupt("backlen", offset: 9) { _ = try decodeListpack(patched(9, 4)) }
        expectCorrupt("backlen high bit", offset: 11) { _ = try decodeListpack(patched(11, 0x82)) }
        expectCorrupt("unused encoding", offset: 10) { _ = try decodeListpack(patched(10, 0xF5)) }
        expectCorrupt("early terminator", offset: 10) { _ = try decodeListpack(patched(10, 0xFF)) }
        expectCorrupt("string past end", offset: 12) { _ = try decodeListpack(patched(12, 0xBF)) }
        expectCorrupt("12-bit header cut", offset: 6) {
            _ = try decodeListpack(self.le(UInt32(8)) + self.le(UInt16(1)) + [0xE0, 0xFF])
        }
        expectCorrupt("32-bit length huge", offset: 6) {
            _ = try decodeListpack(self.le(UInt32(13)) + self.le(UInt16(1)) + [0xF0, 0xFF, 0xFF, 0xFF, 0xFF, 1, 0xFF])
        }
    }

    @Test func intsetAndZipmapDamageOffsets() {
        expectCorrupt("intset encoding", offset: 0) { _ = try decodeIntset([3, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0]) }
        expectCorrupt("intset order", offset: 10) { _ = try decodeIntset([2, 0, 0, 0, 2, 0, 0, 0, 5, 0, 5, 0]) }
        expectCorrupt("intset length", offset: 4) { _ = try decodeIntset([2, 0, 0, 0, 0xFF, 0xFF, 0xFF, 0xFF, 1, 0]) }
        expectCorrupt("zipmap value length is end", offset: 3) { _ = try decodeZipmap([1, 1, 0x66, 0xFF, 0, 0xFF]) }
        expectCorrupt("zipmap big length cut", offset: 1) { _ = try decodeZipmap([1, 0xFE, 1, 0, 0xFF]) }
    }

    /// A body's own error reaches the caller unchanged; a corrupt blob never reaches the body.
    @Test func bodyErrorsPropagateAndCorruptBlobsNeverCallBody() throws {
        struct Stop: Error, Equatable { var n: Int }
        let lp = RedisListpack.encode([b("a"), b("b")])
        #expect(throws: Stop(n: 1)) {
            try lp.withUnsafeBytes { try RedisListpack.forEach($0) { _ in throw Stop(n: 1) } }
        }
        let zl = ziplist([zlString(b("a"))])
        #expect(throws: Stop(n: 2)) {
            try zl.withUnsafeBytes { try RedisZiplist.forEach($0) { _ in throw Stop(n: 2) } }
        }
        #expect(throws: Stop(n: 3)) {
            try ([2, 0, 0, 0, 1, 0, 0, 0, 1, 0] as [UInt8]).withUnsafeBytes { try RedisIntset.forEach($0) { _ in throw Stop(n: 3) } }
        }
        #expect(throws: Stop(n: 4)) {
            try ([1, 1, 0x66, 1, 0, 0x76, 0xFF] as [UInt8]).withUnsafeBytes { try RedisZipmap.forEach($0) { _, _ in throw Stop(n: 4) } }
        }
        // Damage after the first entries: the count is wrong, found only at the end of the walk.
        var calls = 0
        var badCount = lp
        badCount[4] = 3
        #expect(throws: CompactEncodingError.self) {
            try badCount.withUnsafeBytes { try RedisListpack.forEach($0) { _ in calls += 1 } }
        }
        var badTail = ziplist([zlString(b("a")), zlString(b("b"))])
        badTail[4] = 10
        #expect(throws: CompactEncodingError.self) {
            try badTail.withUnsafeBytes { try RedisZiplist.forEach($0) { _ in calls += 1 } }
        }
        #expect(throws: CompactEncodingError.self) {
            try ([2, 0, 0, 0, 2, 0, 0, 0, 1, 0, 1, 0] as [UInt8]).withUnsafeBytes { try RedisIntset.forEach($0) { _ in calls += 1 } }
        }
        #expect(throws: CompactEncodingError.self) {
            try ([2, 1, 0x66, 1, 0, 0x76, 0xFF] as [UInt8]).withUnsafeBytes { try RedisZipmap.forEach($0) { _, _ in calls += 1 } }
        }
        #expect(calls == 0)
    }

    // MARK: fuzz

    /// Seeded random damage to valid blobs: every result is a decode or a CompactEncodingError,
    /// never a trap or an out-of-bounds read (run under the debug build's bounds checks).
    @Test func fuzzedBlobsNeverCrash() throws {
        var seeds: [(kind: String, blob: [UInt8])] = try CompactFixture.all()
            .filter { $0.blob.count <= 6000 }
            .map { ($0.kind, $0.blob) }
        seeds.append(("ziplist", ziplist([[0xF1], [0xFE, 0x80], [0xC0, 1, 2], [0xF0, 1, 2, 3], [0xD0, 1, 2, 3, 4],
                                          [0xE0] + le(Int64.max), zlString(b("abc")), [0x40, 0x01, 0x61],
                                          zlString([UInt8](repeating: 1, count: 260)), [0x80, 0, 0, 0, 1, 0x62]],
                                         longPrevlenAt: [1])))
        seeds.append(("listpack", RedisListpack.encode(["1", "-100", "1000", "100000", "10000000000", "", "xyz",
                                                        String(repeating: "q", count: 200)].map { b($0) })))
        seeds.append(("zipmap", [2, 1, 0x66, 1, 2, 0x76, 0, 0, 0xFE, 4, 0, 0, 0, 0x61, 0x62, 0x63, 0x64, 0, 0, 0xFF]))
        seeds.append(("intset", [4, 0, 0, 0, 2, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0]))
        #expect(Set(seeds.map(\.kind)) == ["listpack", "ziplist", "intset", "zipmap"])

        var rng = CompactFuzzRandom(seed: 0xC0FFEE)
        var decoded = 0, refused = 0
        for _ in 0..<10_000 {
            let seed = seeds[Int(rng.next() % UInt64(seeds.count))]
            let blob = mutate(seed.blob, kind: seed.kind, &rng)
            do {
                try blob.withUnsafeBytes { buf in
                    switch seed.kind {
                    case "listpack": try RedisListpack.forEach(buf) { _ in }
                    case "ziplist": try RedisZiplist.forEach(buf) { _ in }
                    case "intset": try RedisIntset.forEach(buf) { _ in }
                    default: try RedisZipmap.forEach(buf) { _, _ in }
                    }
                }
                decoded += 1
            } catch is CompactEncodingError {
                refused += 1
            }
        }
        // Both outcomes happen: the mutations get past the header checks often enough.
        #expect(decoded > 100 && refused > 1000, "decoded \(decoded), refused \(refused)")
    }

    func mutate(_ blob: [UInt8], kind: String, _ rng: inout CompactFuzzRandom) -> [UInt8] {
        var out = blob
        let interesting: [UInt8] = [0x00, 0x01, 0x3F, 0x40, 0x7F, 0x80, 0xBF, 0xC0, 0xD0, 0xE0, 0xEF, 0xF0, 0xF4,
                                    0xF5, 0xFD, 0xFE, 0xFF]
        for _ in 0..<(1 + Int(rng.next() % 3)) {
            guard !out.isEmpty else { break }
            let at = Int(rng.next() % UInt64(out.count))
            switch rng.next() % 6 {
            case 0: out[at] ^= UInt8(1) << (rng.next() % 8)
            case 1: out[at] = interesting[Int(rng.next() % UInt64(interesting.count))]
            case 2: out = Array(out.prefix(at))
            case 3: out.insert(contentsOf: (0..<Int(1 + rng.next() % 8)).map { _ in UInt8(truncatingIfNeeded: rng.next()) }, at: at)
            case 4: out.removeSubrange(at..<min(out.count, at + 1 + Int(rng.next() % 8)))
            default: out[at] = UInt8(truncatingIfNeeded: rng.next())
            }
        }
        // Usually repair the size header so the damage is seen past the first check.
        if rng.next() % 4 != 0 && out.count >= 6 && (kind == "listpack" || kind == "ziplist") {
            let n = UInt32(out.count)
            for i in 0..<4 { out[i] = UInt8(truncatingIfNeeded: n >> (8 * UInt32(i))) }
        }
        return out
    }
}

/// Small deterministic RNG for the fuzz tests (SplitMix64).
struct CompactFuzzRandom: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
