import CairnStorage
import Foundation

// [security] The names ACL rules may use (issue 16): every command, `container|subcommand` and
// category Redis 7.0.15 knows, as Redis's ACL code sees its command table (server.orig_commands).
// Cairn's own command table supplies the commands it has; `ACLRedisCommands.absent` the Redis 7.0
// ones it lacks, with the ACL categories Redis gives them (implicit ones from the command flags
// included, as COMMAND INFO shows them). Rules naming an absent command are accepted, stored and
// described back as Redis does (a team moving from Redis keeps its ACL file) and take effect when
// the command exists; categories count them too, so `+@read` covers XRANGE and GETUSER prints
// `-@all +@read +sort` for `+@read +sort`, as Redis.

enum ACLRedisCommands {
    /// Redis 7.0 commands and subcommands absent from Cairn's command table when this was written
    /// (from redis-server 7.0.15: COMMAND LIST, COMMAND INFO), with their ACL categories. Used only
    /// for names Cairn's table does not hold; an entry for a command Cairn has since gained is
    /// ignored. Each has a fixed bit, counted down from the bit below `ACLSelector.futureBit`, so
    /// its bit does not depend on Cairn's table (whose ids stay far below).
    static let absent: [(String, ACLCategories)] = [
        ("bitfield", [.write, .bitmap, .slow]), ("bitfield_ro", [.read, .bitmap, .fast]),
        ("cluster|help", [.slow]), ("eval", [.slow, .scripting]), ("eval_ro", [.slow, .scripting]),
        ("evalsha", [.slow, .scripting]), ("evalsha_ro", [.slow, .scripting]), ("fcall", [.slow, .scripting]),
        ("fcall_ro", [.slow, .scripting]), ("function", [.slow]),
        ("function|delete", [.write, .slow, .scripting]), ("function|dump", [.slow, .scripting]),
        ("function|flush", [.write, .slow, .scripting]), ("function|help", [.slow, .scripting]),
        ("function|kill", [.slow, .scripting]), ("function|list", [.slow, .scripting]),
        ("function|load", [.write, .slow, .scripting]), ("function|restore", [.write, .slow, .scripting]),
        ("function|stats", [.slow, .scripting]), ("geoadd", [.write, .geo, .slow]),
        ("geodist", [.read, .geo, .slow]), ("geohash", [.read, .geo, .slow]), ("geopos", [.read, .geo, .slow]),
        ("georadius", [.write, .geo, .slow]), ("georadius_ro", [.read, .geo, .slow]),
        ("georadiusbymember", [.write, .geo, .slow]), ("georadiusbymember_ro", [.read, .geo, .slow]),
        ("geosearch", [.read, .geo, .slow]), ("geosearchstore", [.write, .geo, .slow]),
        ("latency|doctor", [.admin, .slow, .dangerous]), ("latency|graph", [.admin, .slow, .dangerous]),
        ("latency|histogram", [.admin, .slow, .dangerous]), ("lolwut", [.read, .fast]), ("module", [.slow]),
        ("module|help", [.slow]), ("module|list", [.admin, .slow, .dangerous]),
        ("module|load", [.admin, .slow, .dangerous]), ("module|loadex", [.admin, .slow, .dangerous]),
        ("module|unload", [.admin, .slow, .dangerous]), ("pfadd", [.write, .hyperloglog, .fast]),
        ("pfcount", [.read, .hyperloglog, .slow]),
        ("pfdebug", [.write, .hyperloglog, .admin, .slow, .dangerous]),
        ("pfmerge", [.write, .hyperloglog, .slow]), ("pfselftest", [.hyperloglog, .admin, .slow, .dangerous]),
        ("script", [.slow]), ("script|debug", [.slow, .scripting]), ("script|exists", [.slow, .scripting]),
        ("script|flush", [.slow, .scripting]), ("script|help", [.slow, .scripting]),
        ("script|kill", [.slow, .scripting]), ("script|load", [.slow, .scripting]),
        ("sort", [.write, .set, .sortedset, .list, .slow, .dangerous]),
        ("sort_ro", [.read, .set, .sortedset, .list, .slow, .dangerous]), ("xack", [.write, .stream, .fast]),
        ("xadd", [.write, .stream, .fast]), ("xautoclaim", [.write, .stream, .fast]),
        ("xclaim", [.write, .stream, .fast]), ("xdel", [.write, .stream, .fast]), ("xgroup", [.slow]),
        ("xgroup|create", [.write, .stream, .slow]), ("xgroup|createconsumer", [.write, .stream, .slow]),
        ("xgroup|delconsumer", [.write, .stream, .slow]), ("xgroup|destroy", [.write, .stream, .slow]),
        ("xgroup|help", [.stream, .slow]), ("xgroup|setid", [.write, .stream, .slow]), ("xinfo", [.slow]),
        ("xinfo|consumers", [.read, .stream, .slow]), ("xinfo|groups", [.read, .stream, .slow]),
        ("xinfo|help", [.stream, .slow]), ("xinfo|stream", [.read, .stream, .slow]),
        ("xlen", [.read, .stream, .fast]), ("xpending", [.read, .stream, .slow]),
        ("xrange", [.read, .stream, .slow]), ("xread", [.read, .stream, .slow, .blocking]),
        ("xreadgroup", [.write, .stream, .slow, .blocking]), ("xrevrange", [.read, .stream, .slow]),
        ("xsetid", [.write, .stream, .fast]), ("xtrim", [.write, .stream, .slow]),
    ]

    /// The selector bit of `absent[index]`.
    static func bit(_ index: Int) -> Int { ACLSelector.futureBit - 1 - index }
}

/// Every command name an ACL rule may use: Cairn's table plus the absent Redis 7.0 ones, in one
/// list where each command is followed by its subcommands (Cairn's in table order, then absent
/// ones). Built once per command table (and again if commands are registered later).
final class ACLCommandSet: @unchecked Sendable {
    struct Node {
        /// Selector bit: Cairn's command id, or the fixed bit of an absent Redis command.
        let id: Int
        /// `get` or `config|get`, as Redis prints it.
        let fullName: String
        let categories: ACLCategories
        let isSubcommand: Bool
        /// Indices in `nodes` of its subcommands; non-empty for a container.
        var subcommands: [Int] = []
    }

    private(set) var nodes: [Node] = []
    /// ASCII-lowercased full name -> index in `nodes`.
    private var byName: [String: Int] = [:]
    /// Category raw value -> indices in `nodes` of its commands, in order.
    private var byCategory: [UInt32: [Int]] = [:]

    private init(_ table: CommandTable) {
        var absentSubs: [String: [Int]] = [:]
        var absentTop: [Int] = []
        for (i, entry) in ACLRedisCommands.absent.enumerated() {
            let parts = entry.0.split(separator: "|")
            if parts.count == 2 {
                absentSubs[String(parts[0]), default: []].append(i)
            } else {
                absentTop.append(i)
            }
        }
        func addAbsent(_ i: Int, isSubcommand: Bool) -> Int {
            let (name, categories) = ACLRedisCommands.absent[i]
            return add(Node(id: ACLRedisCommands.bit(i), fullName: name, categories: categories, isSubcommand: isSubcommand))
        }
        let lowestAbsentBit = ACLRedisCommands.bit(ACLRedisCommands.absent.count - 1)
        for command in table.all {
            // Cairn's ids (a few hundred) must stay below the absent commands' bits.
            assert(command.id < lowestAbsentBit && (command.subcommands?.all ?? []).allSatisfy { $0.id < lowestAbsentBit })
            let index = add(Node(id: command.id, fullName: command.fullName, categories: command.spec.categories,
                                 isSubcommand: false))
            var subs: [Int] = []
            for sub in command.subcommands?.all ?? [] {
                subs.append(add(Node(id: sub.id, fullName: sub.fullName, categories: sub.spec.categories, isSubcommand: true)))
            }
            for i in absentSubs[command.spec.name] ?? [] where byName[ACLRedisCommands.absent[i].0] == nil {
                subs.append(addAbsent(i, isSubcommand: true))
            }
            nodes[index].subcommands = subs
        }
        for i in absentTop where byName[ACLRedisCommands.absent[i].0] == nil {
            let index = addAbsent(i, isSubcommand: false)
            let subs = (absentSubs[ACLRedisCommands.absent[i].0] ?? []).map { addAbsent($0, isSubcommand: true) }
            nodes[index].subcommands = subs
        }
    }

    private func add(_ node: Node) -> Int {
        let index = nodes.count
        nodes.append(node)
        byName[Self.lower(node.fullName)] = index
        for (category, _) in ACLCategories.names where node.categories.contains(category) {
            byCategory[category.rawValue, default: []].append(index)
        }
        return index
    }

    /// The commands and subcommands of `category` (one category), in `nodes` order.
    func members(_ category: ACLCategories) -> [Int] { byCategory[category.rawValue] ?? [] }

    static func lower(_ s: String) -> String {
        String(decoding: s.utf8.map { ASCII.lower($0) }, as: UTF8.self)
    }

    /// Redis's ACLLookupCommand (lookupCommandBySdsLogic, strict): `name` or `container|sub`,
    /// case-insensitively; nil for more than one '|' or a first argument of a plain command.
    func lookup(_ name: String) -> Int? {
        let lowered = Self.lower(name)
        let parts = lowered.split(separator: "|", omittingEmptySubsequences: false)
        guard parts.count <= 2, let top = byName[String(parts[0])] else { return nil }
        if parts.count == 1 { return top }
        guard !nodes[top].subcommands.isEmpty, let sub = byName[lowered], nodes[sub].isSubcommand else { return nil }
        return sub
    }

    // MARK: the cache

    private final class Cached {
        weak var table: CommandTable?
        let count: Int
        let lastID: Int
        let set: ACLCommandSet
        init(_ table: CommandTable, _ set: ACLCommandSet) {
            self.table = table
            count = table.all.count
            lastID = table.all.last?.id ?? -1
            self.set = set
        }
    }

    private static let lock = NSLock()
    nonisolated(unsafe) private static var cached: Cached?

    /// The set for `table`, cached while the table stays the same (registering a command gives
    /// it a new, higher id, so the count and last id tell a changed table).
    static func of(_ table: CommandTable) -> ACLCommandSet {
        lock.lock()
        defer { lock.unlock() }
        if let c = cached, c.table === table, c.count == table.all.count, c.lastID == (table.all.last?.id ?? -1) {
            return c.set
        }
        let set = ACLCommandSet(table)
        cached = Cached(table, set)
        return set
    }
}
