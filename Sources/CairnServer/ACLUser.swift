import CairnRESP
import CairnStorage

// ACL users and selectors (Redis 7.0 acl.c). A user has flags, password hashes and a root
// selector, plus any number of extra selectors `(...)`; a command is allowed when any selector
// allows it. A selector holds a command bitmap indexed by RegisteredCommand.id (1024 bits as in
// Redis, the last one meaning "commands added later": set only by +@all / allcommands; the Redis
// 7.0 commands Cairn lacks have fixed bits just below it, ACLRedisCommands), allowed first
// arguments (`+select|0`), key patterns with read/write permissions, and channel patterns.

/// Why a rule was refused; `message` is Redis's ACLSetUserStringError text.
enum ACLRuleError: Error, Equatable {
    case syntax              // EINVAL
    case unknownName         // ENOENT
    case patternAfterAllKeys // EEXIST
    case patternAfterAllChannels // EISDIR
    case noSuchPassword      // ENODEV
    case badHash             // EBADMSG
    case duplicateUser       // EALREADY
    case firstArgOfSubcommand // ECHILD

    var message: String {
        switch self {
        case .syntax: return "Syntax error"
        case .unknownName: return "Unknown command or category name in ACL"
        case .patternAfterAllKeys:
            return "Adding a pattern after the * pattern (or the 'allkeys' flag) is not valid and does not have any effect. Try 'resetkeys' to start with an empty list of patterns"
        case .patternAfterAllChannels:
            return "Adding a pattern after the * pattern (or the 'allchannels' flag) is not valid and does not have any effect. Try 'resetchannels' to start with an empty list of channels"
        case .noSuchPassword: return "The password you are trying to remove from the user does not exist"
        case .badHash: return "The password hash must be exactly 64 characters and contain only lowercase hexadecimal characters"
        case .duplicateUser: return "Duplicate user found. A user can only be defined once in config files"
        case .firstArgOfSubcommand: return "Allowing first-arg of a subcommand is not supported"
        }
    }
}

struct ACLKeyPattern: Equatable {
    var pattern: [UInt8]
    var read: Bool
    var write: Bool

    /// `~pat`, `%R~pat` or `%W~pat`, as ACL LIST prints it.
    var description: String {
        let prefix = read && write ? "~" : (read ? "%R~" : "%W~")
        return prefix + String(decoding: pattern, as: UTF8.self)
    }
}

struct ACLSelector: Equatable {
    static let bitCount = 1024
    /// The bit only +@all sets: "may run commands that do not exist yet".
    static let futureBit = bitCount - 1

    var allKeys = false
    var keys: [ACLKeyPattern] = []
    var allChannels = false
    var channels: [[UInt8]] = []
    /// Every bit set (Redis's SELECTOR_FLAG_ALLCOMMANDS): a fast path, cleared by any removal.
    var allCommands = false
    var bits = [UInt64](repeating: 0, count: ACLSelector.bitCount / 64)
    /// Command id -> first arguments allowed although the command's bit is clear.
    var firstArgs: [Int: [String]] = [:]

    func allows(_ id: Int) -> Bool {
        guard id >= 0 && id < Self.bitCount else { return false }
        return bits[id >> 6] & (1 << UInt64(id & 63)) != 0
    }

    mutating func setBit(_ id: Int, _ on: Bool) {
        guard id >= 0 && id < Self.bitCount else { return }
        if on {
            bits[id >> 6] |= 1 << UInt64(id & 63)
        } else {
            bits[id >> 6] &= ~(1 << UInt64(id & 63))
            allCommands = false
        }
    }

    /// ACLChangeSelectorPerm: the command, and all its subcommands if it is a container.
    mutating func change(_ command: ACLCommandSet.Node, in set: ACLCommandSet, _ on: Bool) {
        setBit(command.id, on)
        firstArgs[command.id] = nil
        for sub in command.subcommands { setBit(set.nodes[sub].id, on) }
    }

    /// ACLSetSelectorCommandBitsForCategory: every command of the category, Redis 7.0 commands
    /// Cairn lacks included (a container first, with all its subcommands, then its subcommands
    /// of the category one by one, as Redis walks them).
    mutating func changeCategory(_ category: ACLCategories, _ on: Bool, _ set: ACLCommandSet) {
        for i in set.members(category) { change(set.nodes[i], in: set, on) }
    }

    /// Applies one selector rule (ACLSetSelector). `table` nil: validating a config file before
    /// the command table exists, where command names cannot be checked yet.
    mutating func apply(_ op: [UInt8], _ table: CommandTable?) throws(ACLRuleError) {
        let text = String(decoding: op, as: UTF8.self)
        let lower = ACLCommandSet.lower(text)
        if lower == "allkeys" || text == "~*" {
            allKeys = true
            keys = []
        } else if lower == "resetkeys" {
            allKeys = false
            keys = []
        } else if lower == "allchannels" || text == "&*" {
            allChannels = true
            channels = []
        } else if lower == "resetchannels" {
            allChannels = false
            channels = []
        } else if lower == "allcommands" || lower == "+@all" {
            bits = [UInt64](repeating: ~0, count: Self.bitCount / 64)
            allCommands = true
            firstArgs = [:]
        } else if lower == "nocommands" || lower == "-@all" {
            bits = [UInt64](repeating: 0, count: Self.bitCount / 64)
            allCommands = false
            firstArgs = [:]
        } else if let first = op.first, first == UInt8(ascii: "~") || first == UInt8(ascii: "%") {
            try addKeyPattern(op)
        } else if op.first == UInt8(ascii: "&") {
            guard !allChannels else { throw .patternAfterAllChannels }
            let pattern = Array(op.dropFirst())
            guard !Self.hasSpaces(pattern) else { throw .syntax }
            if !channels.contains(pattern) { channels.append(pattern) }
        } else if op.count >= 2 && (op[0] == UInt8(ascii: "+") || op[0] == UInt8(ascii: "-")) && op[1] == UInt8(ascii: "@") {
            let name = String(lower.dropFirst(2))
            guard let category = ACLSelector.category(named: name) else { throw .unknownName }
            if let table { changeCategory(category, op[0] == UInt8(ascii: "+"), ACLCommandSet.of(table)) }
        } else if op.first == UInt8(ascii: "+") {
            try allow(String(text.dropFirst()), table)
        } else if op.first == UInt8(ascii: "-") {
            // `-cmd|sub` for a subcommand only: `-select|0` is unknown, as in Redis.
            guard let table else { return }
            let set = ACLCommandSet.of(table)
            guard let command = set.lookup(String(text.dropFirst())) else { throw .unknownName }
            change(set.nodes[command], in: set, false)
        } else {
            throw .syntax
        }
    }

    private mutating func addKeyPattern(_ op: [UInt8]) throws(ACLRuleError) {
        guard !allKeys else { throw .patternAfterAllKeys }
        var read = false, write = false
        var offset = 1
        if op[0] == UInt8(ascii: "%") {
            // %R~, %W~, %RW~: permissions up to the '~' (a missing '~' means an empty pattern).
            while offset < op.count {
                let c = ASCII.upper(op[offset])
                if c == UInt8(ascii: "R") && !read {
                    read = true
                } else if c == UInt8(ascii: "W") && !write {
                    write = true
                } else if op[offset] == UInt8(ascii: "~") {
                    offset += 1
                    break
                } else {
                    throw .syntax
                }
                offset += 1
            }
        } else {
            read = true
            write = true
        }
        guard read || write else { throw .syntax }
        let pattern = Array(op[offset...])
        guard !Self.hasSpaces(pattern) else { throw .syntax }
        if let i = keys.firstIndex(where: { $0.pattern == pattern }) {
            keys[i].read = keys[i].read || read
            keys[i].write = keys[i].write || write
        } else {
            keys.append(ACLKeyPattern(pattern: pattern, read: read, write: write))
        }
    }

    /// `+name`, `+container|sub` or `+command|firstarg` (any Redis 7.0 name, ACLCommandSet).
    private mutating func allow(_ name: String, _ table: CommandTable?) throws(ACLRuleError) {
        guard let table else { return }
        let set = ACLCommandSet.of(table)
        guard let bar = name.lastIndex(of: "|") else {
            guard let command = set.lookup(name) else { throw .unknownName }
            change(set.nodes[command], in: set, true)
            return
        }
        let head = String(name[..<bar])
        let arg = String(name[name.index(after: bar)...])
        guard let index = set.lookup(head) else { throw .unknownName }
        let command = set.nodes[index]
        if command.isSubcommand { throw .firstArgOfSubcommand }
        guard !arg.isEmpty else { throw .syntax }
        if !command.subcommands.isEmpty {
            guard let sub = set.lookup(name) else { throw .unknownName }
            change(set.nodes[sub], in: set, true)
        } else {
            var list = firstArgs[command.id] ?? []
            if !list.contains(where: { ACLCommandSet.lower($0) == ACLCommandSet.lower(arg) }) { list.append(arg) }
            firstArgs[command.id] = list
        }
    }

    /// A command (`get`) or subcommand (`config|get`) by name, case-insensitively.
    static func lookup(_ name: String, _ table: CommandTable) -> RegisteredCommand? {
        let parts = name.split(separator: "|", omittingEmptySubsequences: false)
        guard let first = parts.first, parts.count <= 2, let command = table.lookup(String(first)) else { return nil }
        if parts.count == 1 { return command }
        return command.subcommands?.lookup(String(parts[1]))
    }

    static func category(named name: String) -> ACLCategories? {
        ACLCategories.names.first { $0.1 == ACLCommandSet.lower(name) }?.0
    }

    /// Redis's ACLStringHasSpaces: whitespace or NUL.
    static func hasSpaces(_ bytes: [UInt8]) -> Bool {
        bytes.contains { $0 == 0 || $0 == 32 || ($0 >= 9 && $0 <= 13) }
    }

    // MARK: description

    /// The command rules as ACL LIST and GETUSER print them (Redis 7.0's
    /// ACLDescribeSelectorCommandRules): +@all or -@all (whether future commands are allowed),
    /// then, greedily, the category that best fits what remains to describe (more commands alike
    /// than different, fewest different, then most alike), then single commands and allowed first
    /// args to make the bitmap exact. Categories and single commands cover the Redis 7.0 commands
    /// Cairn lacks too (ACLCommandSet), so the rules read as Redis's. Redis walks single commands
    /// in its hash table's order, which changes from run to run (a random hash seed); Cairn walks
    /// its command table in order, then the absent Redis commands.
    func describeCommands(_ table: CommandTable) -> String {
        let set = ACLCommandSet.of(table)
        var rules: [String] = []
        let additive = !allows(Self.futureBit)
        var fake = ACLSelector()
        if !additive { fake.bits = [UInt64](repeating: ~0, count: Self.bitCount / 64) }
        rules.append(additive ? "-@all" : "+@all")
        var remaining = self
        var applied = Set<Int>()
        while true {
            var best: Int? = nil
            var minDiff = Int.max, maxSame = 0
            for (j, entry) in ACLCategories.names.enumerated() where !applied.contains(j) {
                var on = 0, off = 0
                for i in set.members(entry.0) {
                    if remaining.allows(set.nodes[i].id) { on += 1 } else { off += 1 }
                }
                let diff = additive ? off : on
                let same = additive ? on : off
                if same > diff && (diff < minDiff || (diff == minDiff && same > maxSame)) {
                    best = j
                    minDiff = diff
                    maxSame = same
                }
            }
            guard let j = best else { break }
            let (category, name) = ACLCategories.names[j]
            fake.changeCategory(category, additive, set)
            remaining.changeCategory(category, !additive, set)
            rules.append((additive ? "+@" : "-@") + name)
            applied.insert(j)
        }
        func single(_ command: ACLCommandSet.Node) {
            let mine = allows(command.id)
            if mine != fake.allows(command.id) {
                rules.append((mine ? "+" : "-") + command.fullName)
                fake.change(command, in: set, mine)
            }
            for sub in command.subcommands { single(set.nodes[sub]) }
            if !mine { for arg in firstArgs[command.id] ?? [] { rules.append("+\(command.fullName)|\(arg)") } }
        }
        for command in set.nodes where !command.isSubcommand { single(command) }
        return rules.joined(separator: " ")
    }

    var keysDescription: String {
        allKeys ? "~*" : keys.map(\.description).joined(separator: " ")
    }

    var channelsDescription: String {
        allChannels ? "&*" : channels.map { "&" + String(decoding: $0, as: UTF8.self) }.joined(separator: " ")
    }

    /// ACLDescribeSelector: keys, channels, commands, as one rule string.
    func describe(_ table: CommandTable) -> String {
        var parts: [String] = []
        if allKeys { parts.append("~*") } else { parts += keys.map(\.description) }
        if allChannels {
            parts.append("&*")
        } else {
            parts.append("resetchannels")
            parts += channels.map { "&" + String(decoding: $0, as: UTF8.self) }
        }
        parts.append(describeCommands(table))
        return parts.joined(separator: " ")
    }
}

final class ACLUser {
    let name: String
    var enabled = false
    var nopass = false
    /// nil: neither flag; true: sanitize-payload; false: skip-sanitize-payload.
    var sanitizePayload: Bool? = nil
    /// SHA-256 hex digests, in the order they were added.
    var passwords: [String] = []
    var root = ACLSelector()
    var selectors: [ACLSelector] = []

    init(name: String) { self.name = name }

    func copy(named newName: String? = nil) -> ACLUser {
        let u = ACLUser(name: newName ?? name)
        u.assign(from: self)
        return u
    }

    /// Takes every rule of `other` (not its name).
    func assign(from other: ACLUser) {
        enabled = other.enabled
        nopass = other.nopass
        sanitizePayload = other.sanitizePayload
        passwords = other.passwords
        root = other.root
        selectors = other.selectors
    }

    /// Applies one SETUSER rule (ACLSetUser).
    func apply(_ op: [UInt8], _ table: CommandTable?) throws(ACLRuleError) {
        let text = String(decoding: op, as: UTF8.self)
        let lower = ACLCommandSet.lower(text)
        switch lower {
        case "on": enabled = true
        case "off": enabled = false
        case "skip-sanitize-payload": sanitizePayload = false
        case "sanitize-payload": sanitizePayload = true
        case "nopass":
            nopass = true
            passwords = []
        case "resetpass":
            nopass = false
            passwords = []
        case "reset":
            nopass = false
            passwords = []
            root.allKeys = false
            root.keys = []
            root.allChannels = false
            root.channels = []
            enabled = false
            sanitizePayload = true
            selectors = []
            try root.apply(Array("-@all".utf8), table)
        case "clearselectors":
            selectors = []
        default:
            guard let first = op.first else { throw .syntax }
            switch first {
            case UInt8(ascii: ">"):
                let hash = ACLHash.hex(Array(op.dropFirst()))
                if !passwords.contains(hash) { passwords.append(hash) }
                nopass = false
            case UInt8(ascii: "#"):
                let hash = String(decoding: op.dropFirst(), as: UTF8.self)
                guard Self.isValidHash(hash) else { throw .badHash }
                if !passwords.contains(hash) { passwords.append(hash) }
                nopass = false
            case UInt8(ascii: "<"):
                let hash = ACLHash.hex(Array(op.dropFirst()))
                guard let i = passwords.firstIndex(of: hash) else { throw .noSuchPassword }
                passwords.remove(at: i)
            case UInt8(ascii: "!"):
                let hash = String(decoding: op.dropFirst(), as: UTF8.self)
                guard Self.isValidHash(hash) else { throw .badHash }
                guard let i = passwords.firstIndex(of: hash) else { throw .noSuchPassword }
                passwords.remove(at: i)
            case UInt8(ascii: "(") where op.last == UInt8(ascii: ")") && op.count >= 2:
                var selector = ACLSelector()
                guard let words = ArgumentSplitter.split(Array(op[1..<(op.count - 1)])) else { throw .syntax }
                for word in words { try selector.apply(word, table) }
                selectors.append(selector)
            default:
                try root.apply(op, table)
            }
        }
    }

    static func isValidHash(_ hash: String) -> Bool {
        hash.utf8.count == 64 && hash.utf8.allSatisfy { ($0 >= 48 && $0 <= 57) || ($0 >= 97 && $0 <= 102) }
    }

    /// Whether `password` is one of the user's (compared as hashes, in time independent of where
    /// they differ).
    func accepts(password: [UInt8]) -> Bool {
        if nopass { return true }
        let hash = Array(ACLHash.hex(password).utf8)
        var matched = false
        for stored in passwords where Server.constantTimeEquals(Array(stored.utf8), hash) { matched = true }
        return matched
    }

    var flagNames: [String] {
        var out = [enabled ? "on" : "off"]
        if nopass { out.append("nopass") }
        if let sanitizePayload { out.append(sanitizePayload ? "sanitize-payload" : "skip-sanitize-payload") }
        return out
    }

    /// The rule string of ACL LIST after `user <name> ` (ACLDescribeUser).
    func describe(_ table: CommandTable) -> String {
        var parts = flagNames
        parts += passwords.map { "#" + $0 }
        parts.append(root.describe(table))
        for s in selectors { parts.append("(" + s.describe(table) + ")") }
        return parts.joined(separator: " ")
    }

    /// Whether the user may run everything on every key and channel (the filter's fast path).
    var unrestricted: Bool { root.allCommands && root.allKeys && root.allChannels }
}
