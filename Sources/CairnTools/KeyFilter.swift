// Which keys `dump`, `biggest` and `info` look at: `--db N` (repeatable) and `--match GLOB`,
// the glob matched as Redis's KEYS and SCAN MATCH match it.

import CairnStorage

public struct KeyFilter: Sendable {
    /// Databases to keep; empty keeps all.
    public var databases: Set<Int>
    /// A Redis glob over the key's bytes; nil keeps all.
    public var pattern: [UInt8]?

    public init(databases: [Int] = [], pattern: [UInt8]? = nil) {
        self.databases = Set(databases)
        self.pattern = pattern
    }

    /// A filter from command-line values; a negative database is a usage error.
    public init(databases: [Int], match: String?) throws {
        if let bad = databases.first(where: { $0 < 0 }) {
            throw ToolError.usage("--db must be 0 or more, got \(bad)")
        }
        self.init(databases: databases, pattern: match.map { Array($0.utf8) })
    }

    public var keepsEverything: Bool { databases.isEmpty && pattern == nil }

    public func includes(db: Int) -> Bool { databases.isEmpty || databases.contains(db) }

    public func includes(db: Int, key: [UInt8]) -> Bool {
        guard includes(db: db) else { return false }
        guard let pattern else { return true }
        return GlobPattern.matches(pattern, key)
    }
}
