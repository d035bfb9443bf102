import CairnRESP
import CairnStorage
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// CONFIG GET | SET | RESETSTAT | REWRITE | HELP over the directive table in ServerConfig.swift
// (Redis 7.0's config.c: checks, order of checks and error texts).

enum ConfigCommand {
    static func spec(_ server: Server) -> CommandSpec {
        CommandSpec(
            "config", arity: -2, flags: [], categories: [.slow], group: "server", since: "2.0.0",
            summary: "A container for server configuration commands",
            subcommands: [
                admin("get", -3, "2.0.0", "Get the values of configuration parameters", server.bind(get)),
                admin("set", -4, "2.0.0", "Set configuration parameters to the given values", server.bind(set)),
                admin("resetstat", 2, "2.0.0", "Reset the stats returned by INFO", server.bind(resetStat)),
                admin("rewrite", 2, "2.8.0", "Rewrite the configuration file with the in memory configuration", server.bind(rewrite)),
                CommandSpec("help", arity: 2, flags: [.loading, .stale], categories: [.slow], group: "server",
                            since: "5.0.0", summary: "Show helpful text about the different subcommands", handler: help),
            ],
            handler: { _ in }
        )
    }

    private static func admin(_ name: String, _ arity: Int, _ since: String, _ summary: String,
                              _ handler: @escaping CommandHandler) -> CommandSpec {
        CommandSpec(name, arity: arity, flags: [.admin, .noscript, .loading, .stale],
                    categories: [.admin, .slow, .dangerous], group: "server", since: since,
                    summary: summary, handler: handler)
    }

    /// CONFIG GET pattern [pattern ...]: a map of name -> value. A pattern without glob characters
    /// is looked up by name (aliases too) and answered under the name as given; a glob is matched
    /// case-insensitively against every name and alias.
    static func get(_ server: Server, _ c: CommandContext) {
        let settings = server.settings
        var matches: [(name: String, directive: ConfigDirective)] = []
        var seen: Set<String> = []
        for i in 2..<c.args.count {
            let pattern = c.args.bytes(i)
            if !pattern.contains(where: { $0 == UInt8(ascii: "*") || $0 == UInt8(ascii: "?") || $0 == UInt8(ascii: "[") }) {
                let name = c.args.string(i)
                guard !seen.contains(name.lowercased()), let d = ConfigTable.lookup(name) else { continue }
                seen.insert(name.lowercased())
                matches.append((name, d))
                continue
            }
            for d in ConfigTable.directives {
                for name in [d.name] + d.aliases where !seen.contains(name) {
                    if GlobPattern.matches(pattern, Array(name.utf8), caseInsensitive: true) {
                        seen.insert(name)
                        matches.append((name, d))
                    }
                }
            }
        }
        c.reply.mapHeader(matches.count)
        for m in matches {
            c.reply.bulk(m.name)
            c.reply.bulk(m.directive.get(settings))
        }
    }

    /// CONFIG SET name value [name value ...]: all or nothing. Names are checked first (unknown,
    /// immutable, protected, duplicate), then every value is parsed into a copy of the settings;
    /// only when all succeed (and a new `dir` could be entered) is the copy installed.
    static func set(_ server: Server, _ c: CommandContext) {
        guard c.args.count % 2 == 0 else { return c.replySyntaxError() }
        // `shown`: the name a value error names, the alias when one was given (Redis registers
        // each alias as its own entry, named so).
        var chosen: [(directive: ConfigDirective, value: String, shown: String)] = []
        var unknown: Int? = nil  // argument index of the first unknown name
        var refusal: (name: String, reason: String)? = nil
        var i = 2
        while i < c.args.count {
            let name = c.args.string(i)
            defer { i += 2 }
            guard let d = ConfigTable.lookup(name) else {
                if unknown == nil && refusal == nil { unknown = i }
                continue
            }
            if unknown != nil || refusal != nil { continue }
            if !d.mutable || (d.protected && !protectedChangesAllowed(server, c.client)) {
                refusal = (name, d.mutable ? "can't set protected config" : "can't set immutable config")
                continue
            }
            if chosen.contains(where: { $0.directive.name == d.name }) {
                refusal = (name, "duplicate parameter")
                continue
            }
            chosen.append((d, c.args.string(i + 1), d.aliases.contains(name.lowercased()) ? name.lowercased() : d.name))
        }
        if let unknown { return c.reply.error("ERR Unknown option or number of arguments for CONFIG SET - '", quoting: c.args[unknown], "'") }
        if let refusal { return failed(c, refusal.name, refusal.reason) }
        var updated = server.settings
        for (d, value, shown) in chosen {
            do {
                try d.set(&updated, [value])
            } catch let e as ConfigError {
                return failed(c, shown, e.message)
            } catch {
                return failed(c, shown, "\(error)")
            }
        }
        if updated.dir != server.settings.dir && chdir(updated.dir) != 0 {
            return failed(c, "dir", String(cString: strerror(errno)))
        }
        // tls-*: the new TLS configuration must load (and a new tls-port bind) before anything
        // changes (TLSServer.swift).
        if let refusal = server.tlsRefusal(chosen.map { ($0.directive.name, $0.value) }, client: c.client) {
            return c.reply.error(refusal)
        }
        let previous = server.settings
        server.settings = updated
        server.applySettings()
        // Switching the AOF on or off starts or stops it, and may fail (Redis's updateAppendonly):
        // then the whole CONFIG SET is undone, as Redis restores every value it set.
        if updated.persistence.appendonly != previous.persistence.appendonly, let reason = server.persistence.appendOnlyChanged(to: updated.persistence.appendonly) {
            server.settings = previous
            server.settings.dir = updated.dir
            server.applySettings()
            return failed(c, "appendonly", reason)
        }
        c.reply.ok()
    }

    private static func failed(_ c: CommandContext, _ name: String, _ reason: String) {
        c.reply.error("ERR CONFIG SET failed (possibly related to argument '\(name)') - \(reason)")
    }

    /// Redis's allowProtectedAction: `yes`, or `local` and the client is on loopback / a unix socket.
    static func protectedChangesAllowed(_ server: Server, _ client: ClientSession) -> Bool {
        switch server.settings.enableProtectedConfigs {
        case "yes": return true
        case "local":
            let a = client.address
            return a.hasPrefix("/") || a.hasPrefix("127.") || a.hasPrefix("[::1]:") || a.isEmpty
        default: return false
        }
    }

    static func resetStat(_ server: Server, _ c: CommandContext) {
        server.resetStats()
        c.reply.ok()
    }

    static func rewrite(_ server: Server, _ c: CommandContext) {
        guard let path = server.configFile, path != "-" else {
            return c.reply.error("ERR The server is running without a config file")
        }
        do {
            let users = server.settings.aclfile.isEmpty ? ACLFile.lines(server.acl, c.engine.commands) : []
            try ConfigRewrite.rewrite(path: path, settings: server.settings, users: users)
            server.logger.notice("CONFIG REWRITE executed with success.")
            c.reply.ok()
        } catch {
            server.logger.warning("CONFIG REWRITE failed: \(error)")
            c.reply.error("ERR Rewriting config file: \(error)")
        }
    }

    static func help(_ c: CommandContext) {
        Help.reply(c, command: "CONFIG", lines: [
            "GET <pattern>",
            "    Return parameters matching the glob-like <pattern> and their values.",
            "SET <directive> <value>",
            "    Set the configuration <directive> to <value>.",
            "RESETSTAT",
            "    Reset statistics reported by the INFO command.",
            "REWRITE",
            "    Rewrite the configuration file.",
        ])
    }
}
