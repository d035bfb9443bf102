import CairnStorage

// [security] The ACL file (`aclfile`; Redis 7.0's ACLLoadFromFile / ACLSaveToFile) and the `user`
// lines CONFIG REWRITE writes. Both hold one `user <name> <rules>` line per user, in ACL LIST's
// form: passwords only as `#<sha256>`, never in clear.
//
// Loading builds a whole new set of users and installs it only when every line applied; otherwise
// the running users stay and every error is reported, with file and line, as Redis does. After a
// successful load the old users are gone: clients authenticated as any of them but `default` are
// disconnected (Redis frees the old set and kills their clients), `default` is updated in place.

enum ACLFile {
    /// The line of `user` as ACL LIST, ACL SAVE and CONFIG REWRITE write it.
    static func line(_ user: ACLUser, _ table: CommandTable) -> String {
        "user \(user.name) " + user.describe(table)
    }

    /// Every user, in name order (Redis walks its radix tree), as config lines.
    static func lines(_ acl: ACLState, _ table: CommandTable) -> [String] {
        acl.sortedNames.compactMap { acl.user(named: $0).map { line($0, table) } }
    }

    /// The users `text` defines, or the error text (ACL LOAD's reply, start-up's log line).
    static func parse(_ text: String, path: String, table: CommandTable) -> Result<[ACLUser], ACLFileErrors> {
        var errors = ""
        var users: [ACLUser] = []
        var names = Set<String>()
        for (index, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let number = index + 1
            let line = raw.trimmingCharacters(in: " \t\r\n")
            if line.isEmpty { continue }
            let argv = line.split(separator: " ").map(String.init)
            guard argv.first == "user", argv.count >= 2 else {
                errors += "\(path):\(number) should start with user keyword followed by the username. "
                continue
            }
            let name = argv[1]
            guard !ACLSelector.hasSpaces(Array(name.utf8)) else {
                errors += "'\(path):\(number): username '\(name)' contains invalid characters. "
                continue
            }
            guard names.insert(name).inserted else {
                errors += "WARNING: Duplicate user '\(name)' found on line \(number). "
                continue
            }
            let user = ACLUser(name: name)
            let rules: [[UInt8]]
            switch ACLState.mergeSelectorArguments(argv.dropFirst(2).map { Array($0.utf8) }) {
            case .success(let merged): rules = merged
            case .failure:
                errors += "\(path):\(number): Unmatched parenthesis in selector definition."
                rules = []
            }
            var reportedSyntax = false
            for rule in rules {
                do {
                    try user.apply(rule, table)
                } catch {
                    if error == .unknownName {
                        // Missing commands are named: that is no secret.
                        errors += "\(path):\(number): Error in applying operation '\(String(decoding: rule, as: UTF8.self))': \(error.message). "
                    } else if !reportedSyntax {
                        errors += "\(path):\(number): \(error.message). "
                        reportedSyntax = true
                    }
                }
            }
            users.append(user)
        }
        guard errors.isEmpty else {
            return .failure(ACLFileErrors(text: errors + "WARNING: ACL errors detected, no change to the previously active ACL rules was performed"))
        }
        return .success(users)
    }
}

struct ACLFileErrors: Error {
    let text: String
}

extension Server {
    /// Loads `aclfile` and installs its users (ACL LOAD, start-up). Returns the error text, or nil.
    func loadACLFile(current: ClientSession? = nil) -> String? {
        let path = settings.aclfile
        guard let text = ProcessMetrics.readFile(path) else {
            return "Error loading ACLs, opening file '\(path)': \(String(cString: strerror(errno)))"
        }
        switch ACLFile.parse(text, path: path, table: engine.commands) {
        case .failure(let errors):
            return errors.text
        case .success(let users):
            let replaced = acl.sortedNames.filter { $0 != "default" }
            acl.replaceAll(with: users)
            for name in replaced { disconnectClients(ofUser: name, current: current) }
            return nil
        }
    }

    /// Writes every user to `aclfile` atomically (ACL SAVE). False on failure, logged.
    func saveACLFile() -> Bool {
        let text = ACLFile.lines(acl, engine.commands).map { $0 + "\n" }.joined()
        do {
            try AtomicFile.replace(settings.aclfile, with: Array(text.utf8))
            return true
        } catch let error as FileError {
            logger.warning("Writing ACL file for ACL SAVE: \(error.detail)")
        } catch {
            logger.warning("Writing ACL file for ACL SAVE: \(error)")
        }
        return false
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
