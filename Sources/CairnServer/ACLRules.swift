import CairnRESP
import CairnStorage
import Foundation

// The ACL state of a server: users, the ACL LOG, authentication and the permission check that
// runs before every command (installed into `engine.commandFilters`). Redis 7.0 acl.c and the
// ACL part of processCommand / execCommand.

/// Why a command was refused, and the argument that caused it.
enum ACLDenial: Equatable {
    case command
    case key(index: Int)
    case channel(index: Int)

    /// Redis's ACL_DENIED_* order, used to pick one error among several selectors.
    var rank: Int {
        switch self {
        case .command: return 1
        case .key: return 2
        case .channel: return 4
        }
    }

    var index: Int {
        switch self {
        case .command: return 0
        case .key(let i), .channel(let i): return i
        }
    }
}

struct ACLLogEntry {
    var count: Int
    var reason: String
    var context: String
    var object: [UInt8]
    var username: [UInt8]
    var createdMillis: Int64
    var clientInfo: String
}

final class ACLState {
    /// Users by name. `default` always exists.
    private(set) var users: [String: ACLUser] = [:]
    private(set) var defaultUser: ACLUser
    /// Newest first.
    private(set) var log: [ACLLogEntry] = []
    var logMaxLength = 128
    /// Entries alike (reason, context, object, user) within this many ms are counted as one.
    static let logGroupingMillis: Int64 = 60_000
    /// The engine whose admission pipeline holds the ACL stage, and that stage.
    private unowned(unsafe) var engine: Engine?
    private var stage: HookHandle?


    init() {
        let user = Self.makeDefaultUser()
        defaultUser = user
        users["default"] = user
    }

    /// `default` as a server without ACL configuration has it: on nopass ~* &* +@all.
    static func makeDefaultUser() -> ACLUser {
        let user = ACLUser(name: "default")
        user.enabled = true
        user.nopass = true
        user.root.allKeys = true
        user.root.allChannels = true
        user.root.bits = [UInt64](repeating: ~0, count: ACLSelector.bitCount / 64)
        user.root.allCommands = true
        return user
    }

    /// Replaces every user with `newUsers` (ACL LOAD). `default` keeps its identity and takes
    /// the rules of the new one, or of a fresh default when `newUsers` has none.
    func replaceAll(with newUsers: [ACLUser]) {
        defaultUser.assign(from: newUsers.first { $0.name == "default" } ?? Self.makeDefaultUser())
        users = ["default": defaultUser]
        for user in newUsers where user.name != "default" { users[user.name] = user }
        updateArming()
    }

    func user(named name: String) -> ACLUser? { users[name] }

    var sortedNames: [String] { users.keys.sorted { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) } }

    /// Installs `user` (replacing one of the same name).
    func store(_ user: ACLUser) {
        users[user.name] = user
        if user.name == "default" { defaultUser = user }
        updateArming()
    }

    /// Removes `name`; `default` cannot be removed (the caller checks).
    @discardableResult
    func remove(_ name: String) -> Bool {
        guard name != "default" else { return false }
        defer { updateArming() }
        return users.removeValue(forKey: name) != nil
    }

    /// requirepass: `resetpass` then `>password`, or `nopass` for an empty one
    /// (ACLUpdateDefaultUserPassword).
    func setDefaultPassword(_ password: String?) {
        let user = defaultUser
        user.nopass = false
        user.passwords = []
        if let password, !password.isEmpty {
            user.passwords = [ACLHash.hex(Array(password.utf8))]
        } else {
            user.nopass = true
        }
    }

    /// Whether a new connection starts authenticated: the default user is enabled and nopass.
    var defaultUserNeedsNoPassword: Bool { defaultUser.nopass && defaultUser.enabled }

    /// The user `name` if it exists, is enabled and accepts `password` (ACLCheckUserCredentials).
    func authenticate(name: [UInt8], password: [UInt8]) -> ACLUser? {
        let key = String(decoding: name, as: UTF8.self)
        guard Array(key.utf8) == name, let user = users[key], user.enabled, user.accepts(password: password) else {
            return nil
        }
        return user
    }

    // MARK: SETUSER

    /// ACL SETUSER's ACLStringSetUser: merges `( ... )` selector words, applies every rule to a
    /// copy, and installs the copy only if all succeed. Returns the error text or nil.
    func setUser(_ name: String, _ rules: [[UInt8]], table: CommandTable) -> String? {
        let merged: [[UInt8]]
        switch Self.mergeSelectorArguments(rules) {
        case .success(let m): merged = m
        case .failure(let start):
            return "ERR Unmatched parenthesis in acl selector starting at '\(String(decoding: rules[start.index], as: UTF8.self))'."
        }
        let staged = users[name]?.copy() ?? ACLUser(name: name)
        for rule in merged {
            do {
                try staged.apply(rule, table)
            } catch {
                return "ERR Error in ACL SETUSER modifier '\(String(decoding: rule, as: UTF8.self))': \(error.message)"
            }
        }
        store(staged)
        return nil
    }

    struct UnmatchedParenthesis: Error { let index: Int }

    /// ACLMergeSelectorArguments: words from one starting with '(' (and not ending with ')') up to
    /// one ending with ')' become a single `(...)` rule.
    static func mergeSelectorArguments(_ argv: [[UInt8]]) -> Result<[[UInt8]], UnmatchedParenthesis> {
        var out: [[UInt8]] = []
        var open: Int? = nil
        var selector: [UInt8] = []
        for (j, op) in argv.enumerated() {
            if open == nil, op.first == UInt8(ascii: "("), op.last != UInt8(ascii: ")") {
                selector = op
                open = j
                continue
            }
            if open != nil {
                selector.append(UInt8(ascii: " "))
                selector += op
                if op.last == UInt8(ascii: ")") {
                    open = nil
                    out.append(selector)
                }
                continue
            }
            out.append(op)
        }
        if let open { return .failure(UnmatchedParenthesis(index: open)) }
        return .success(out)
    }

    // MARK: permission check

    /// ACLCheckAllUserCommandPerm: nil when some selector allows the call.
    func check(_ user: ACLUser, _ command: RegisteredCommand, _ args: Arguments) -> ACLDenial? {
        var relevant = ACLDenial.command
        var keys: [ACLKeyAccess]? = nil
        for selector in CollectionOfOne(user.root) + user.selectors {
            guard let denial = Self.check(selector, command, args, keys: &keys) else { return nil }
            if denial.rank > relevant.rank || (denial.rank == relevant.rank && denial.index > relevant.index) {
                relevant = denial
            }
        }
        return relevant
    }

    private static func check(_ s: ACLSelector, _ command: RegisteredCommand, _ args: Arguments,
                              keys: inout [ACLKeyAccess]?) -> ACLDenial? {
        if !s.allCommands && !command.spec.flags.contains(.noAuth) && !s.allows(command.id) {
            // Allowed only with a listed first argument (argv[1], or argv[2] for a subcommand).
            let position = command.fullName.contains("|") ? 2 : 1
            guard position < args.count, let allowed = s.firstArgs[command.id] else { return .command }
            let given = args.string(position).lowercased()
            guard allowed.contains(where: { $0.lowercased() == given }) else { return .command }
        }
        if !s.allKeys {
            if keys == nil { keys = ACLKeyAccess.keys(of: command, args) }
            for key in keys ?? [] {
                let bytes = args.bytes(key.index)
                let allowed = s.keys.contains { p in
                    (p.read || !key.read) && (p.write || !key.write) && GlobPattern.matches(p.pattern, bytes)
                }
                if !allowed { return .key(index: key.index) }
            }
        }
        return nil
    }

    // MARK: the admission stage

    /// The ACL stage of the admission pipeline, for a command arriving and again when EXEC runs
    /// it (permissions may have changed meanwhile). Returns the error reply, or nil.
    func admit(_ request: AdmissionRequest) -> String? {
        let client = request.client, command = request.command, args = request.args
        let user = client.user == "default" ? defaultUser : users[client.user]
        if let user, user.unrestricted { return nil }
        let denial = user.map { check($0, command, args) } ?? .command
        guard let denial else { return nil }
        let context = request.insideExec || client.transaction != nil ? "multi" : "toplevel"
        let object: [UInt8]
        let reason: String
        switch denial {
        case .command:
            reason = "command"
            object = Array(command.fullName.utf8)
        case .key(let i):
            reason = "key"
            object = args.bytes(i)
        case .channel(let i):
            reason = "channel"
            object = args.bytes(i)
        }
        addLogEntry(reason: reason, context: context, object: object, username: Array(client.user.utf8),
                    client: client, args: args)
        if request.insideExec {
            let why: String
            switch denial {
            case .command: why = "no permission to execute the command or subcommand"
            case .key: why = "no permission to touch the specified keys"
            case .channel: why = "no permission to access one of the channels used as arguments"
            }
            return "NOPERM ACLs rules changed between the moment the transaction was accumulated and the EXEC call. This command is no longer allowed for the following reason: \(why)"
        }
        // A refused EXEC discards its transaction (EXECABORT): the engine does that for any stage.
        return Self.message(denial, command)
    }

    static func message(_ denial: ACLDenial, _ command: RegisteredCommand) -> String {
        switch denial {
        case .command: return "NOPERM this user has no permissions to run the '\(command.fullName)' command"
        case .key: return "NOPERM this user has no permissions to access one of the keys used as arguments"
        case .channel: return "NOPERM this user has no permissions to access one of the channels used as arguments"
        }
    }

    /// Installs the ACL stage, armed only while some user has restrictions (with every user
    /// unrestricted, as on a server without ACL configuration, nothing can be refused).
    func install(on server: Server) {
        engine = server.engine
        stage = server.engine.admission.install(.acl, recheckInsideExec: true) { [unowned(unsafe) self] request in
            admit(request)
        }
        updateArming()
    }

    private func updateArming() {
        guard let engine, let stage else { return }
        engine.admission.arm(stage, users.values.contains { !$0.unrestricted })
    }

    // MARK: ACL LOG

    /// addACLLogEntry: a like entry among the 10 newest within a minute is counted and moved to
    /// the front; otherwise a new entry goes in front and the log is trimmed to its length.
    func addLogEntry(reason: String, context: String, object: [UInt8], username: [UInt8],
                     client: ClientSession, args: Arguments) {
        let now = Clock.unixMillis()
        let argvBytes = (0..<args.count).reduce(0) { $0 + args[$1].count }
        let info = ClientInfo.line(client, now: now, currentArgumentBytes: argvBytes)
        for i in log.indices.prefix(10) {
            let e = log[i]
            if e.reason == reason && e.context == context && abs(e.createdMillis - now) <= Self.logGroupingMillis
                && e.object == object && e.username == username {
                var match = log.remove(at: i)
                match.count += 1
                match.createdMillis = now
                match.clientInfo = info
                log.insert(match, at: 0)
                return
            }
        }
        log.insert(ACLLogEntry(count: 1, reason: reason, context: context, object: object, username: username,
                               createdMillis: now, clientInfo: info), at: 0)
        if log.count > logMaxLength { log.removeLast(log.count - logMaxLength) }
    }

    func resetLog() { log = [] }
}

/// One key a command touches and whether it needs read and/or write permission, from Redis's key
/// specs (access -> read; insert, delete, update -> write), as ACLSelectorCheckKey uses them.
struct ACLKeyAccess: Equatable {
    var index: Int
    var read: Bool
    var write: Bool

    static func keys(of command: RegisteredCommand, _ args: Arguments) -> [ACLKeyAccess] {
        let indices = command.spec.keyIndices(args)
        guard !indices.isEmpty else { return [] }
        // Key specs with variable flags: Redis asks the command (setGetKeys, bitfieldGetKeys).
        switch command.fullName {
        case "set":
            let get = (3..<max(3, args.count)).contains { args.matches($0, "get") }
            return [ACLKeyAccess(index: 1, read: get, write: true)]
        case "bitfield":
            return [ACLKeyAccess(index: 1, read: true, write: !bitfieldIsReadOnly(args))]
        default:
            break
        }
        let specs = command.spec.keySpecs
        return indices.map { i in
            var covering = specs.filter { $0.covers(i, argc: args.count) }
            if covering.isEmpty { covering = specs }
            var read = false, write = false
            for spec in covering {
                if spec.flags.readsData { read = true }
                if spec.flags.writesData { write = true }
            }
            return ACLKeyAccess(index: i, read: read, write: write)
        }
    }

    /// Redis's bitfieldGetKeys: only GET and OVERFLOW operations, each complete.
    static func bitfieldIsReadOnly(_ args: Arguments) -> Bool {
        var i = 2
        while i < args.count {
            let remaining = args.count - i - 1
            if args.matches(i, "get") && remaining >= 2 {
                i += 3
            } else if (args.matches(i, "set") || args.matches(i, "incrby")) && remaining >= 3 {
                return false
            } else if args.matches(i, "overflow") && remaining >= 1 {
                i += 2
            } else {
                return false
            }
        }
        return true
    }
}

extension ACLState {
    /// Checks a config file `user` line (Redis's ACLAppendUserForLoading): the rules must parse,
    /// though command names are only checked when the server starts. Returns the fatal reason.
    static func configLineError(_ words: [String], existing: [[String]]) -> String? {
        guard let name = words.first else { return "Bad directive or wrong number of arguments" }
        if existing.contains(where: { $0.first == name }) {
            return "Error in user declaration '\(name)': \(ACLRuleError.duplicateUser.message)"
        }
        guard case .success(let rules) = mergeSelectorArguments(words.dropFirst().map { Array($0.utf8) }) else {
            // Redis names the directive here, with the error left over from its last check.
            return "Error in user declaration 'user': \(ACLRuleError.unknownName.message)"
        }
        let scratch = ACLUser(name: name)
        for rule in rules {
            do {
                try scratch.apply(rule, nil)
            } catch {
                if error == .unknownName { continue }
                return "Error in user declaration '\(name)': \(error.message)"
            }
        }
        return nil
    }
}
