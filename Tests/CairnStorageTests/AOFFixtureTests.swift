@testable import CairnStorage
import Foundation
import Logging
import Testing

/// Appendonlydirs written by real Redis 7.0 (Fixtures/aof/, tools/make-aof-fixtures) load to exactly
/// the content Redis served (expected.json, in Tests/Integration/rdbdump.py's snapshot format).
@Suite struct AOFFixtureTests {
    static let directory = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/aof")

    enum Content: Equatable, CustomStringConvertible {
        case string(String)
        case list([String])
        case pairs([[String]])
        case unknown

        var description: String {
            switch self {
            case .string(let s): return "string(\(s.prefix(60)))"
            case .list(let l): return "list(\(l.count): \(l.prefix(5)))"
            case .pairs(let p): return "pairs(\(p.count): \(p.prefix(5)))"
            case .unknown: return "unknown"
            }
        }
    }

    struct Entry: Equatable {
        var type: String
        var value: Content
        var expireMs: Int64
    }

    typealias Snapshot = [Int: [String: Entry]]

    static func latin1<C: Sequence>(_ bytes: C) -> String where C.Element == UInt8 {
        String(String.UnicodeScalarView(bytes.map { Unicode.Scalar($0) }))
    }

    static func expected(_ name: String) throws -> Snapshot {
        let data = try Data(contentsOf: directory.appendingPathComponent(name).appendingPathComponent("expected.json"))
        let root = try JSONSerialization.jsonObject(with: data) as? [String: Any]
        let dbs = root?["dbs"] as? [String: [String: [String: Any]]] ?? [:]
        var snapshot: Snapshot = [:]
        for (db, keys) in dbs {
            var entries: [String: Entry] = [:]
            for (key, e) in keys {
                let content: Content
                if let s = e["value"] as? String { content = .string(s) }
                else if let p = e["value"] as? [[String]] { content = .pairs(p) }
                else if let l = e["value"] as? [String] { content = .list(l) }
                else { content = .unknown }
                entries[key] = Entry(type: e["type"] as? String ?? "", value: content, expireMs: (e["expire_ms"] as? NSNumber)?.int64Value ?? -2)
            }
            snapshot[Int(db) ?? -1] = entries
        }
        return snapshot
    }

    static func snapshot(_ engine: Engine) -> Snapshot {
        var snapshot: Snapshot = [:]
        for db in engine.databases where db.count > 0 {
            var entries: [String: Entry] = [:]
            for i in db.table.indices {
                let e = db.table[i]
                let content: Content
                switch e.value {
                case .int(let v): content = .string(String(v))
                case .string(let s): content = .string(latin1(s.bytes))
                case .list(let l): content = .list(l.elements.map { latin1($0) })
                case .set(let s): content = .list(s.members.map(\.bytes).sorted { $0.lexicographicallyPrecedes($1) }.map { latin1($0) })
                case .hash(let h):
                    content = .pairs(h.pairs.sorted { $0.field.lexicographicallyPrecedes($1.field) }.map { [latin1($0.field), latin1($0.value)] })
                case .zset(let z):
                    var pairs: [[String]] = []
                    z.forEachInOrder { m, score in pairs.append([latin1(m), latin1(ScoreFormat.bytes(score))]) }
                    content = .pairs(pairs)
                }
                entries[latin1(db.table.key(at: i))] = Entry(type: "\(e.value.typeName)", value: content,
                                                               expireMs: e.expireAt == noExpiry ? -1 : e.expireAt)
            }
            snapshot[db.id] = entries
        }
        return snapshot
    }

    /// A scratch copy (loading may truncate files).
    static func copy(_ name: String) throws -> String {
        let target = AOFTestFiles.makeDirectory()
        let source = directory.appendingPathComponent(name).path
        for file in try FileManager.default.contentsOfDirectory(atPath: source) where file != "expected.json" {
            AOFTestFiles.write(target + "/" + file, AOFTestFiles.read(source + "/" + file) ?? [])
        }
        return target
    }

    @Test(arguments: ["rdb-base", "aof-base", "multi-incr"])
    func redisDirectoryLoads(_ name: String) throws {
        let dir = try Self.copy(name)
        defer { AOFTestFiles.remove(dir) }
        let engine = Engine()
        let summary = try AOFLoader.load(directory: dir, prefix: "appendonly.aof", into: engine, options: AOFLoadOptions(),
                                         logger: Logger(label: "aof-fixture"))
        #expect(summary?.truncatedFile == nil)
        let got = Self.snapshot(engine)
        let want = try Self.expected(name)
        #expect(Set(got.keys) == Set(want.keys))
        var differences = 0
        for (db, keys) in want {
            let gotKeys = got[db].map { Array($0.keys) } ?? []
            for key in Set(keys.keys).union(gotKeys) where got[db]?[key] != keys[key] {
                differences += 1
                if differences <= 10 {
                    Issue.record("\(name) db \(db) key \(key.prefix(60)): expected \(String(describing: keys[key])), got \(String(describing: got[db]?[key]))")
                }
            }
        }
        #expect(differences == 0)
    }
}
