// MANIFEST.json, the first member of every archive (docs/format-backup.md, "MANIFEST.json"): what
// the archive holds and how to check it. Fields are only ever added; a reader refuses a
// `format_version` above the one it knows.

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

public struct BackupManifest: Codable, Equatable, Sendable {
    public static let memberName = "MANIFEST.json"
    public static let formatName = "cairn-backup"
    public static let formatVersion = 1
    /// A MANIFEST.json larger than this was not written by cairn-backup.
    static let bytesMax = 16 * 1024 * 1024

    public enum Role: String, Codable, Sendable {
        case rdb
        case aofManifest = "aof-manifest"
        case aofBase = "aof-base"
        case aofIncr = "aof-incr"
        case aofHistory = "aof-history"
        case nodesConf = "nodes-conf"
    }

    public struct File: Codable, Equatable, Sendable {
        /// Relative to the data directory, `/`-separated.
        public var path: String
        public var role: Role
        public var size: Int64
        public var sha256: String
        public var mode: UInt32
        public var mtime: Int64
    }

    public struct Source: Codable, Equatable, Sendable {
        /// "node" (BGSAVE through the network) or "data-dir".
        public var kind: String
        /// HOST:PORT, for kind "node".
        public var address: String?
        /// The data directory the files came from.
        public var dir: String
        public var dbfilename: String?
        public var appenddirname: String?
    }

    public struct RDBSummary: Codable, Equatable, Sendable {
        public var path: String
        public var version: Int
        /// The outer layer: lz4, zlib or none (plain, maybe with LZF strings).
        public var compression: String
        public var keys: Int
        public var expires: Int
        /// Keys per database number (as a string: JSON object keys).
        public var keysPerDb: [String: Int]
    }

    public var format = BackupManifest.formatName
    public var formatVersion = BackupManifest.formatVersion
    public var cairnVersion: String
    public var createdAt: String
    public var createdAtMs: Int64
    public var nodeId: String?
    public var source: Source
    public var files: [File]
    public var rdb: RDBSummary?

    public var keys: Int { rdb?.keys ?? 0 }

    func encoded() throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return Array(try encoder.encode(self)) + [0x0A]
    }

    static func decode(_ bytes: [UInt8]) throws -> BackupManifest {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        struct Head: Decodable { var format: String?; var formatVersion: Int? }
        let head: Head
        do { head = try decoder.decode(Head.self, from: Data(bytes)) } catch {
            throw BackupError.damaged("\(memberName) is not valid JSON")
        }
        guard head.format == formatName else { throw BackupError.damaged("\(memberName) is not a cairn-backup manifest") }
        guard let version = head.formatVersion, version <= formatVersion else {
            throw BackupError(.unsupported, "archive format version \(head.formatVersion.map(String.init) ?? "?"); this cairn-backup reads up to \(formatVersion)")
        }
        do { return try decoder.decode(BackupManifest.self, from: Data(bytes)) } catch {
            throw BackupError.damaged("\(memberName) lacks a field or has a bad value: \(error)")
        }
    }
}

/// Codable output for `--json`: one compact object per line.
enum JSONOutput {
    static func line<T: Encodable>(_ value: T) throws -> String {
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(value), as: UTF8.self) + "\n"
    }
}
