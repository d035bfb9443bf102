import CairnRESP
import CairnStorage

// Redis 7 key specifications, as COMMAND INFO shows them (element 9 of an entry). A command
// registered with the key positions Redis gives it shows Redis's own key specs (RedisKeySpecs.swift,
// generated); any other is described from its KeyPositions: where the keys begin and how they run.

struct KeySpec {
    enum BeginSearch {
        case index(Int)
        case keyword(String, startFrom: Int)
        case unknown
    }

    enum FindKeys {
        case range(lastKey: Int, step: Int, limit: Int)
        case keyNumber(index: Int, firstKey: Int, step: Int)
        case unknown
    }

    var flags: [String]
    var begin: BeginSearch
    var find: FindKeys
    var notes: String?

    init(_ flags: [String], _ begin: BeginSearch, _ find: FindKeys, notes: String? = nil) {
        self.flags = flags
        self.begin = begin
        self.find = find
        self.notes = notes
    }

    /// The key specs of `spec` registered as `fullName`.
    static func specs(for fullName: String, _ spec: CommandSpec) -> [KeySpec] {
        let movable = spec.findKeys != nil || spec.flags.contains(.movableKeys)
        guard spec.keys.first > 0 || movable else { return [] }
        if let known = RedisKeySpecs.byName[fullName],
           known.first == spec.keys.first && (known.first == 0 || (known.last == spec.keys.last && known.step == spec.keys.step)) {
            return known.specs
        }
        let access = derivedFlags(spec)
        var out: [KeySpec] = []
        let k = spec.keys
        if k.first > 0 {
            out.append(KeySpec(access, .index(k.first), .range(lastKey: k.last < 0 ? k.last : k.last - k.first,
                                                               step: max(1, k.step), limit: 0)))
        }
        if movable {
            // Keys found by the command's own logic: say so rather than guess a shape.
            out.append(KeySpec(access + ["incomplete"], .unknown, .unknown))
        }
        return out
    }

    /// Read-only commands read the value; writers are assumed to read and update it.
    static func derivedFlags(_ spec: CommandSpec) -> [String] {
        if spec.flags.contains(.readonly) { return ["RO", "access"] }
        if spec.flags.contains(.write) { return ["RW", "update"] }
        return ["RO"]
    }

    /// Whether a concrete key at argument `index` (of `argc`) falls under this spec's range.
    func covers(_ index: Int, argc: Int) -> Bool {
        guard case .index(let first) = begin, case .range(let lastKey, let step, _) = find else { return false }
        let last = lastKey < 0 ? argc + lastKey : first + lastKey
        return index >= first && index <= last && (index - first) % max(1, step) == 0
    }

    /// Whether argument `index` (of `argc`) is a key that a command with these specs only reads:
    /// a read-only spec covers it, or no writing spec can and every writing spec is a plain
    /// index range (so keys found by a key count, e.g. ZUNIONSTORE's sources, count as read).
    static func isReadOnly(_ specs: [KeySpec], index: Int, argc: Int) -> Bool {
        let writers = specs.filter { !$0.flags.contains("RO") }
        if writers.contains(where: { $0.covers(index, argc: argc) }) { return false }
        if specs.contains(where: { $0.flags.contains("RO") && $0.covers(index, argc: argc) }) { return true }
        return writers.allSatisfy { w in
            if case .index = w.begin, case .range = w.find { return true }
            return false
        }
    }

    /// One key spec as a map (Redis's addReplyCommandKeySpecs).
    func write(_ reply: inout ReplyWriter) {
        reply.mapHeader(notes == nil ? 3 : 4)
        if let notes {
            reply.bulk("notes")
            reply.bulk(notes)
        }
        reply.bulk("flags")
        reply.setHeader(flags.count)
        for f in flags { reply.simpleString(f) }
        reply.bulk("begin_search")
        reply.mapHeader(2)
        reply.bulk("type")
        switch begin {
        case .index(let position):
            reply.bulk("index")
            reply.bulk("spec")
            reply.mapHeader(1)
            reply.bulk("index"); reply.integer(position)
        case .keyword(let keyword, let startFrom):
            reply.bulk("keyword")
            reply.bulk("spec")
            reply.mapHeader(2)
            reply.bulk("keyword"); reply.bulk(keyword)
            reply.bulk("startfrom"); reply.integer(startFrom)
        case .unknown:
            reply.bulk("unknown")
            reply.bulk("spec")
            reply.mapHeader(0)
        }
        reply.bulk("find_keys")
        reply.mapHeader(2)
        reply.bulk("type")
        switch find {
        case .range(let lastKey, let step, let limit):
            reply.bulk("range")
            reply.bulk("spec")
            reply.mapHeader(3)
            reply.bulk("lastkey"); reply.integer(lastKey)
            reply.bulk("keystep"); reply.integer(step)
            reply.bulk("limit"); reply.integer(limit)
        case .keyNumber(let index, let firstKey, let step):
            reply.bulk("keynum")
            reply.bulk("spec")
            reply.mapHeader(3)
            reply.bulk("keynumidx"); reply.integer(index)
            reply.bulk("firstkey"); reply.integer(firstKey)
            reply.bulk("keystep"); reply.integer(step)
        case .unknown:
            reply.bulk("unknown")
            reply.bulk("spec")
            reply.mapHeader(0)
        }
    }
}
