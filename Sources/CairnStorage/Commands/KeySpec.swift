// Redis 7 key specifications: where a command's keys are and what it does with them. They are
// part of each command's CommandSpec (the `keys:` argument of its registration), copied from
// Redis 7.0.15's COMMAND INFO, so a command describes its keys once. Everything else is derived
// from them: the legacy (first, last, step) triple of COMMAND INFO, the movablekeys flag, the key
// positions that eviction, WATCH and ACL use (CommandSpec.keyIndices), and the key-by-key
// read/write flags of ACL and GETKEYSANDFLAGS.

/// Redis's key-spec flags (CMD_KEY_*), named as COMMAND INFO prints them. The first four say what
/// happens to the key as a whole (RO read-only, RW read-write, OW overwrite, RM remove); the rest
/// what happens to the data in it, and how reliable the spec is.
public struct KeySpecFlags: OptionSet, Sendable, Hashable {
    public let rawValue: UInt16
    public init(rawValue: UInt16) { self.rawValue = rawValue }

    public static let RO = KeySpecFlags(rawValue: 1 << 0)
    public static let RW = KeySpecFlags(rawValue: 1 << 1)
    public static let OW = KeySpecFlags(rawValue: 1 << 2)
    public static let RM = KeySpecFlags(rawValue: 1 << 3)
    public static let access = KeySpecFlags(rawValue: 1 << 4)
    public static let update = KeySpecFlags(rawValue: 1 << 5)
    public static let insert = KeySpecFlags(rawValue: 1 << 6)
    public static let delete = KeySpecFlags(rawValue: 1 << 7)
    /// The argument looks like a key (for cluster routing) but is not one (SPUBLISH's channel).
    public static let notKey = KeySpecFlags(rawValue: 1 << 8)
    /// The spec may miss keys: a complete answer needs the command's own logic.
    public static let incomplete = KeySpecFlags(rawValue: 1 << 9)
    /// The flags depend on the arguments (SET ... GET, BITFIELD): the command decides per call.
    public static let variableFlags = KeySpecFlags(rawValue: 1 << 10)

    /// Names in Redis's order (addReplyFlagsForKeyArgs), which is the order COMMAND prints them in.
    static let names: [(KeySpecFlags, String)] = [
        (.RO, "RO"), (.RW, "RW"), (.OW, "OW"), (.RM, "RM"), (.access, "access"), (.update, "update"),
        (.insert, "insert"), (.delete, "delete"), (.notKey, "not_key"), (.incomplete, "incomplete"),
        (.variableFlags, "variable_flags"),
    ]

    public var names: [String] { Self.names.filter { contains($0.0) }.map(\.1) }

    /// ACL's reading of the flags (ACLSelectorCheckKey): `access` needs read permission; `insert`,
    /// `delete` and `update` need write permission.
    public var readsData: Bool { contains(.access) }
    public var writesData: Bool { !intersection([.insert, .delete, .update]).isEmpty }
}

public struct KeySpec: Sendable, Equatable {
    /// Where the search for keys starts.
    public enum BeginSearch: Sendable, Equatable {
        /// At this argument.
        case index(Int)
        /// After the first `keyword` found from argument `startFrom` (negative: from the end, searching backwards).
        case keyword(String, startFrom: Int)
        /// Only the command knows.
        case unknown
    }

    /// How the keys run from there.
    public enum FindKeys: Sendable, Equatable {
        /// To `lastKey` (relative to the start; negative: from the end) every `step`; `limit` > 1
        /// stops at 1/limit of the remaining arguments (XREAD's streams).
        case range(lastKey: Int, step: Int, limit: Int)
        /// The argument at `index` (relative to the start) counts the keys, which begin at `firstKey`.
        case keyNumber(index: Int, firstKey: Int, step: Int)
        case unknown
    }

    public var flags: KeySpecFlags
    public var begin: BeginSearch
    public var find: FindKeys
    public var notes: String?

    public init(_ flags: KeySpecFlags, _ begin: BeginSearch, _ find: FindKeys, notes: String? = nil) {
        self.flags = flags
        self.begin = begin
        self.find = find
        self.notes = notes
    }

    // The shapes nearly every command uses, so a registration reads as one short line.

    /// One key, at argument `index`.
    public static func at(_ index: Int, _ flags: KeySpecFlags, notes: String? = nil) -> KeySpec {
        KeySpec(flags, .index(index), .range(lastKey: 0, step: 1, limit: 0), notes: notes)
    }

    /// Keys from argument `index` to `lastKey` (negative counts from the end), every `step`.
    public static func from(_ index: Int, lastKey: Int, step: Int = 1, _ flags: KeySpecFlags,
                            notes: String? = nil) -> KeySpec {
        KeySpec(flags, .index(index), .range(lastKey: lastKey, step: step, limit: 0), notes: notes)
    }

    /// A key count at argument `index`, the keys right after it (ZUNION's `numkeys key ...`).
    public static func numkeys(at index: Int, _ flags: KeySpecFlags, notes: String? = nil) -> KeySpec {
        KeySpec(flags, .index(index), .keyNumber(index: 0, firstKey: 1, step: 1), notes: notes)
    }

    /// An index start and a range: the only shape the legacy triple can describe.
    var isPlainRange: Bool {
        if case .index = begin, case .range = find { return true }
        return false
    }

    /// Whether a concrete key at argument `index` (of `argc`) falls under this spec's range.
    public func covers(_ index: Int, argc: Int) -> Bool {
        guard case .index(let first) = begin, case .range(let lastKey, let step, _) = find else { return false }
        let last = lastKey < 0 ? argc + lastKey : first + lastKey
        return index >= first && index <= last && (index - first) % max(1, step) == 0
    }
}

extension [KeySpec] {
    /// Redis's legacy (first, last, step) triple for these specs (populateCommandLegacyRangeSpec in
    /// Redis 7.0): a lone index/range spec as it is; otherwise the span of the index/range specs
    /// with step 1, or none if one of them steps by more. Redis compares the last keys as unsigned
    /// numbers, so a negative (from the end) last key wins over any positive one.
    var legacyKeyPositions: KeyPositions {
        if count == 1, let only = first, case .index(let index) = only.begin, case .range(let lastKey, let step, _) = only.find {
            return KeyPositions(first: index, last: lastKey < 0 ? lastKey : index + lastKey, step: step)
        }
        var firstKey = Int.max
        var lastKey: Int32 = 0
        for spec in self {
            guard case .index(let index) = spec.begin, case .range(let relativeLast, let step, _) = spec.find else { continue }
            guard step == 1 else { return .none }
            firstKey = Swift.min(firstKey, index)
            let absoluteLast = Int32(truncatingIfNeeded: relativeLast < 0 ? relativeLast : relativeLast + index)
            if UInt32(bitPattern: absoluteLast) > UInt32(bitPattern: lastKey) { lastKey = absoluteLast }
        }
        guard firstKey != Int.max else { return .none }
        return KeyPositions(first: firstKey, last: Int(lastKey), step: 1)
    }

    /// Whether argument `index` (of `argc`) is a key that a command with these specs only reads:
    /// a read-only spec covers it, or no writing spec can and every writing spec is a plain index
    /// range (so keys found by a key count, e.g. ZUNIONSTORE's sources, count as read). WATCH uses
    /// it so that a write does not invalidate watches on keys it did not change.
    public func isReadOnlyKey(at index: Int, argc: Int) -> Bool {
        var coveredByReader = false
        var writersArePlainRanges = true
        for spec in self {
            if spec.flags.contains(.RO) {
                if spec.covers(index, argc: argc) { coveredByReader = true }
            } else {
                if spec.covers(index, argc: argc) { return false }
                if !spec.isPlainRange { writersArePlainRanges = false }
            }
        }
        return coveredByReader || writersArePlainRanges
    }
}
