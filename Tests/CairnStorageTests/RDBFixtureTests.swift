@testable import CairnStorage
import CairnRESP
import Foundation
import Testing

// The RDB files real Redis 7.0 wrote (Fixtures/rdb/, made by tools/make-rdb-fixtures) load with
// exactly the content Redis served from them (<name>.expected.json, Tests/Integration/rdbdump.py),
// and survive a Cairn save and load in every compression mode unchanged.

enum RDBFixture {
    static let directory = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/rdb")

    /// Every `*.rdb` in the fixture directory, sorted.
    static let rdbFiles: [String] = {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        return names.filter { $0.hasSuffix(".rdb") }.sorted()
    }()

    /// Fixtures holding valid Redis data Cairn refuses as unsupported, and the word its error names.
    static let unsupported = ["stream.redis7.rdb": "stream", "function.redis7.rdb": "function"]

    static func bytes(_ name: String) throws -> [UInt8] {
        try Array(Data(contentsOf: directory.appendingPathComponent(name)))
    }

    static func expected(_ name: String) throws -> ExpectedKeyspace {
        let json = name.replacingOccurrences(of: ".rdb", with: ".expected.json")
        return try ExpectedKeyspace(json: Data(contentsOf: directory.appendingPathComponent(json)))
    }
}

/// A key's content as rdbdump.py records it, with the Latin-1 strings turned back into bytes.
enum ExpectedValue: Equatable, CustomStringConvertible {
    case string([UInt8])
    case list([[UInt8]])
    /// Field → value.
    case hash([[UInt8]: [UInt8]])
    case set(Set<[UInt8]>)
    /// Members in ZRANGE order with their scores.
    case zset([[UInt8]], [Double])
    /// A type Cairn does not load (stream).
    case other(String)

    var description: String {
        func s(_ b: [UInt8]) -> String { String(decoding: b.prefix(40), as: UTF8.self) + (b.count > 40 ? "…(\(b.count))" : "") }
        switch self {
        case .string(let b): return "string \(s(b))"
        case .list(let l): return "list of \(l.count): \(l.prefix(5).map(s))"
        case .hash(let h): return "hash of \(h.count)"
        case .set(let m): return "set of \(m.count)"
        case .zset(let m, let sc): return "zset of \(m.count): \(zip(m.prefix(5).map(s), sc.prefix(5)).map { "\($0)@\($1)" })"
        case .other(let t): return t
        }
    }

    /// What the engine holds for `value`, in the same shape.
    init(_ value: Value) {
        switch value {
        case .int(let v): self = .string(Decimal.bytes(v))
        case .string(let b): self = .string(b.bytes)
        case .list(let l): self = .list(l.elements)
        case .hash(let h):
            var d: [[UInt8]: [UInt8]] = [:]
            for p in h.pairs { d[Array(p.field)] = Array(p.value) }
            self = .hash(d)
        case .set(let s): self = .set(Set(s.members.map(\.bytes)))
        case .zset(let z):
            var members: [[UInt8]] = [], scores: [Double] = []
            z.forEachInOrder { m, score in
                members.append(Array(m))
                scores.append(score)
            }
            self = .zset(members, scores)
        }
    }
}

struct ExpectedEntry: Equatable {
    var value: ExpectedValue
    /// Unix ms, or -1 (`noExpiry`).
    var expireAt: Int64
}

/// A keyspace's content (no encodings) in a shape that compares cheaply, even with megabyte values.
struct ExpectedKeyspace: Equatable {
    /// Database → key → entry.
    var dbs: [Int: [[UInt8]: ExpectedEntry]] = [:]

    struct FormatError: Error, CustomStringConvertible {
        var description: String
    }

    init() {}

    init(json: Data) throws {
        guard let top = try JSONSerialization.jsonObject(with: json) as? [String: Any],
              let dbs = top["dbs"] as? [String: Any] else { throw FormatError(description: "no \"dbs\" object") }
        for (dbName, keys) in dbs {
            guard let db = Int(dbName), let keys = keys as? [String: Any] else { throw FormatError(description: "bad db \(dbName)") }
            var entries: [[UInt8]: ExpectedEntry] = [:]
            for (keyName, entry) in keys {
                guard let entry = entry as? [String: Any], let type = entry["type"] as? String,
                      let expire = entry["expire_ms"] as? NSNumber else { throw FormatError(description: "bad entry \(keyName)") }
                entries[try Self.latin1(keyName)] = ExpectedEntry(value: try Self.value(type, entry["value"]), expireAt: expire.int64Value)
            }
            self.dbs[db] = entries
        }
    }

    /// rdbdump.py writes byte b as U+00bb.
    static func latin1(_ s: String) throws -> [UInt8] {
        try s.unicodeScalars.map { u in
            guard u.value <= 0xFF else { throw FormatError(description: "not Latin-1: U+\(String(u.value, radix: 16))") }
            return UInt8(u.value)
        }
    }

    static func strings(_ any: Any?) throws -> [[UInt8]] {
        guard let list = any as? [String] else { throw FormatError(description: "not a list of strings") }
        return try list.map(latin1)
    }

    static func pairs(_ any: Any?) throws -> [([UInt8], String)] {
        guard let list = any as? [[String]] else { throw FormatError(description: "not a list of pairs") }
        return try list.map { p in
            guard p.count == 2 else { throw FormatError(description: "pair of \(p.count)") }
            return (try latin1(p[0]), p[1])
        }
    }

    static func value(_ type: String, _ any: Any?) throws -> ExpectedValue {
        switch type {
        case "string":
            guard let s = any as? String else { throw FormatError(description: "string value") }
            return .string(try latin1(s))
        case "list": return .list(try strings(any))
        case "set": return .set(Set(try strings(any)))
        case "hash":
            var d: [[UInt8]: [UInt8]] = [:]
            for (f, v) in try pairs(any) { d[f] = try latin1(v) }
            return .hash(d)
        case "zset":
            let p = try pairs(any)
            // Scores are Redis's reply strings ("inf", "-inf", "0.10000000000000001", ...).
            let scores = try p.map { m, s in
                guard let d = Double(s) else { throw FormatError(description: "score \(s)") }
                return d
            }
            return .zset(p.map(\.0), scores)
        default: return .other(type)
        }
    }

    /// The engine's content in the same shape.
    init(_ engine: Engine) {
        for db in engine.databases where db.count > 0 {
            var entries: [[UInt8]: ExpectedEntry] = [:]
            for i in db.table.indices {
                let e = db.table[i]
                entries[db.table.key(at: i)] = ExpectedEntry(value: ExpectedValue(e.value), expireAt: e.expireAt)
            }
            dbs[db.id] = entries
        }
    }

    var keyCount: Int { dbs.values.reduce(0) { $0 + $1.count } }

    /// Each key's OBJECT ENCODING, to compare how values were rebuilt.
    static func encodings(_ engine: Engine) -> [Int: [[UInt8]: String]] {
        var out: [Int: [[UInt8]: String]] = [:]
        for db in engine.databases where db.count > 0 {
            for i in db.table.indices { out[db.id, default: [:]][db.table.key(at: i)] = "\(db.table.value(at: i).encodingName)" }
        }
        return out
    }

    /// Readable differences (at most `limit`), empty when equal.
    func differences(from actual: ExpectedKeyspace, limit: Int = 10) -> [String] {
        var out: [String] = []
        for db in Set(dbs.keys).union(actual.dbs.keys).sorted() {
            let e = dbs[db] ?? [:], a = actual.dbs[db] ?? [:]
            for key in Set(e.keys).union(a.keys).sorted(by: { $0.lexicographicallyPrecedes($1) }) where e[key] != a[key] {
                let name = String(decoding: key.prefix(60), as: UTF8.self)
                out.append("db \(db) key '\(name)': expected \(e[key].map { "\($0.value), expiry \($0.expireAt)" } ?? "nothing"), "
                           + "got \(a[key].map { "\($0.value), expiry \($0.expireAt)" } ?? "nothing")")
                if out.count >= limit { return out }
            }
        }
        return out
    }
}

@Suite struct RDBFixtureTests {
    static let loadable = RDBFixture.rdbFiles.filter { RDBFixture.unsupported[$0] == nil }

    @Test func fixturesArePresent() {
        for name in ["types.redis7.rdb", "nocompress.redis7.rdb", "nochecksum.redis7.rdb", "empty.redis7.rdb"] + RDBFixture.unsupported.keys {
            #expect(RDBFixture.rdbFiles.contains(name), "missing \(name) in \(RDBFixture.directory.path)")
        }
    }

    /// The reader's records: the header, then the databases in file order, each entry once.
    @Test(arguments: loadable)
    func readerSeesEveryKey(_ name: String) throws {
        let expected = try RDBFixture.expected(name)
        let reader = try RDBReader(bytes: try RDBFixture.bytes(name))
        #expect(reader.version == (name.contains("legacy-v9") ? 9 : 10))
        var seen: [Int: Set<[UInt8]>] = [:]
        var aux: [String] = []
        var lastDB = -1
        while let record = try reader.next() {
            switch record {
            case .aux(let key, _): aux.append(String(decoding: key, as: UTF8.self))
            case .selectDB(let db):
                #expect(db > lastDB, "databases in ascending order")
                lastDB = db
            case .resizeDB(let keys, _):
                #expect(keys == expected.dbs[lastDB]?.count, "RESIZEDB of db \(lastDB)")
            case .entry(let e):
                #expect(e.db == lastDB)
                #expect(seen[e.db, default: []].insert(e.key).inserted, "key read twice")
                let want = expected.dbs[e.db]?[e.key]
                #expect(want != nil, "unexpected key \(String(decoding: e.key, as: UTF8.self)) in db \(e.db)")
                if let want {
                    #expect(ExpectedEntry(value: ExpectedValue(e.value), expireAt: e.expireAt) == want,
                            "db \(e.db) key \(String(decoding: e.key.prefix(60), as: UTF8.self))")
                }
            }
        }
        #expect(seen.mapValues(\.count) == expected.dbs.mapValues(\.count))
        if name.contains("redis7") { #expect(aux.contains("redis-ver")) }
        if let sums = reader.checksums {
            if name.hasPrefix("nochecksum") { #expect(sums.stored == 0) } else { #expect(sums.stored == sums.computed) }
        }
    }

    /// Loading into an engine gives exactly what Redis served: every value in full, every expiry.
    @Test(arguments: loadable)
    func loadMatchesExpectedContent(_ name: String) throws {
        let expected = try RDBFixture.expected(name)
        let engine = try loadFromBytes(try RDBFixture.bytes(name))
        let actual = ExpectedKeyspace(engine)
        #expect(actual.keyCount == expected.keyCount)
        let diffs = expected.differences(from: actual)
        #expect(diffs.isEmpty, Comment(rawValue: "\(name):\n" + diffs.joined(separator: "\n")))
    }

    /// Valid Redis content Cairn does not load is refused as unsupported, naming what and where;
    /// any key before it reads normally.
    @Test(arguments: RDBFixture.unsupported.keys.sorted())
    func unsupportedContentIsNamed(_ name: String) throws {
        let expected = try RDBFixture.expected(name)
        let reader = try RDBReader(bytes: try RDBFixture.bytes(name))
        do {
            while let record = try reader.next() {
                if case .entry(let e) = record { #expect(expected.dbs[e.db]?[e.key]?.value == ExpectedValue(e.value)) }
            }
            Issue.record("\(name) loaded")
        } catch let e as RDBError {
            #expect(e.kind == .unsupported)
            #expect(e.description.contains(RDBFixture.unsupported[name] ?? "?"), "\(e)")
            #expect(e.offset != nil)
        }
    }

    /// Cairn writes each fixture in every compression mode and reads back the same keyspace
    /// (encodings included), and the same content Redis served.
    @Test(arguments: loadable, RDBCompression.allCases)
    func rewriteRoundTrips(_ name: String, _ compression: RDBCompression) throws {
        let engine = try loadFromBytes(try RDBFixture.bytes(name))
        let bytes = try saveToBytes(engine, compression)
        let reader = try RDBReader(bytes: bytes)
        #expect(reader.outer == (compression == .lz4 || compression == .zlib ? compression : .none))
        let back = try loadFromBytes(bytes)
        #expect(ExpectedKeyspace.encodings(back) == ExpectedKeyspace.encodings(engine))
        let diffs = try RDBFixture.expected(name).differences(from: ExpectedKeyspace(back))
        #expect(diffs.isEmpty, Comment(rawValue: "\(name) via \(compression):\n" + diffs.joined(separator: "\n")))
    }
}
