import CairnRESP
import CairnStorage

// COMMAND [COUNT | INFO | DOCS | GETKEYS | GETKEYSANDFLAGS | LIST | HELP] over the engine's one
// command table (Redis 7.0's commandCommand family). Cluster clients read key positions from
// here, so entry shapes follow Redis exactly.
//
// Bare `COMMAND` must run the container itself, which the engine's dispatch does not do for
// commands that have subcommands (it replies with an arity error). Until it does, COMMAND is
// registered without engine-visible subcommands and dispatches them here (`detached`).

enum CommandCommand {
    static let subcommands: [CommandSpec] = [
        sub("count", 2, "2.8.13", "Get total number of Redis commands", count),
        sub("info", -2, "2.8.13", "Get array of specific Redis command details, or all when no argument is given.", info),
        sub("docs", -2, "7.0.0", "Get array of specific Redis command documentation", docs),
        sub("getkeys", -4, "2.8.13", "Extract keys given a full Redis command", { getKeys($0, withFlags: false) }),
        sub("getkeysandflags", -4, "7.0.0", "Extract keys and access flags given a full Redis command",
            { getKeys($0, withFlags: true) }),
        sub("list", -2, "7.0.0", "Get an array of Redis command names", list),
        sub("help", 2, "5.0.0", "Show helpful text about the different subcommands", help),
    ]

    /// Whether the engine runs a container called without a subcommand (see the note above).
    static let engineRunsBareContainers = true

    static let spec = CommandSpec(
        "command", arity: -1, flags: [.loading, .stale], categories: [.slow, .connection], group: "server",
        since: "2.8.13", summary: "Get array of Redis command details",
        subcommands: engineRunsBareContainers ? subcommands : [], handler: dispatch)

    /// Subcommands the engine does not know about, shown under `command` in COMMAND output.
    static var detached: [CommandSpec] { engineRunsBareContainers ? [] : subcommands }

    private static func sub(_ name: String, _ arity: Int, _ since: String, _ summary: String,
                            _ handler: @escaping CommandHandler) -> CommandSpec {
        CommandSpec(name, arity: arity, flags: [.loading, .stale], categories: [.slow, .connection],
                    group: "server", since: since, summary: summary, handler: handler)
    }

    /// COMMAND alone lists every command; with a word, runs the detached subcommand it names.
    static func dispatch(_ c: CommandContext) {
        guard c.args.count >= 2 else { return writeAll(c) }
        guard let sub = detached.first(where: { $0.name == c.args.string(1).lowercased() }) else {
            return c.reply.error("ERR unknown subcommand '", quoting: c.args[1], limit: 128, "'. Try COMMAND HELP.")
        }
        guard sub.acceptsArgumentCount(c.args.count) else {
            return c.reply.error("ERR wrong number of arguments for 'command|\(sub.name)' command")
        }
        sub.handler(c)
    }

    static func writeAll(_ c: CommandContext) {
        let entries = CommandEntry.all(c.engine)
        c.reply.arrayHeader(entries.count)
        for e in entries { e.writeInfo(c) }
    }

    static func count(_ c: CommandContext) { c.reply.integer(c.engine.commands.all.count) }

    /// COMMAND INFO [name ...]: one entry per name (null for unknown ones); all when none given.
    static func info(_ c: CommandContext) {
        guard c.args.count > 2 else { return writeAll(c) }
        c.reply.arrayHeader(c.args.count - 2)
        for i in 2..<c.args.count {
            if let e = CommandEntry.find(c.args.string(i), c.engine) { e.writeInfo(c) } else { c.reply.null() }
        }
    }

    /// COMMAND DOCS [name ...]: a map of name -> docs for the names that exist; all when none given.
    static func docs(_ c: CommandContext) {
        let entries = c.args.count > 2
            ? (2..<c.args.count).compactMap { CommandEntry.find(c.args.string($0), c.engine) }
            : CommandEntry.all(c.engine)
        c.reply.mapHeader(entries.count)
        for e in entries {
            c.reply.bulk(e.fullName)
            e.writeDocs(c)
        }
    }

    /// COMMAND GETKEYS|GETKEYSANDFLAGS command [arg ...]
    static func getKeys(_ c: CommandContext, withFlags: Bool) {
        let words = (2..<c.args.count).map { c.args.bytes($0) }
        guard let target = CommandEntry.resolve(words, c.engine) else {
            return c.reply.error("ERR Invalid command specified")
        }
        let spec = target.spec
        guard spec.hasKeys else {
            return c.reply.error("ERR The command has no key arguments")
        }
        guard spec.acceptsArgumentCount(words.count) else {
            return c.reply.error("ERR Invalid number of arguments specified for command")
        }
        let indices = Arguments.with(words) { args in spec.keyIndices(args).filter { $0 > 0 && $0 < args.count } }
        guard !indices.isEmpty || spec.flags.contains(.noMandatoryKeys) else {
            return c.reply.error("ERR Invalid arguments specified for command")
        }
        let keySpecs = spec.keySpecs
        c.reply.arrayHeader(indices.count)
        for i in indices {
            guard withFlags else {
                c.reply.bulk(words[i])
                continue
            }
            let flags = (keySpecs.first { $0.covers(i, argc: words.count) } ?? keySpecs.first)?.flags ?? []
            c.reply.arrayHeader(2)
            c.reply.bulk(words[i])
            flags.write(&c.reply)
        }
    }

    /// COMMAND LIST [FILTERBY MODULE name | ACLCAT category | PATTERN pattern]
    static func list(_ c: CommandContext) {
        var filter: ((CommandEntry) -> Bool)? = nil
        var i = 2
        while i < c.args.count {
            guard c.args.matches(i, "filterby") && c.args.count - 1 - i == 2 else { return c.replySyntaxError() }
            let argument = c.args.bytes(i + 2)
            if c.args.matches(i + 1, "module") {
                filter = { _ in false }  // Cairn has no modules
            } else if c.args.matches(i + 1, "aclcat") {
                let name = String(decoding: argument, as: UTF8.self).lowercased()
                let category = ACLCategories.names.first { $0.1 == name }?.0
                filter = { e in category.map { e.spec.categories.contains($0) } ?? false }
            } else if c.args.matches(i + 1, "pattern") {
                filter = { e in GlobPattern.matches(argument, Array(e.fullName.utf8), caseInsensitive: true) }
            } else {
                return c.replySyntaxError()
            }
            i += 3
        }
        let names = CommandEntry.all(c.engine).flatMap { [$0] + $0.subcommands }
            .filter { filter?($0) ?? true }.map(\.fullName)
        c.reply.arrayHeader(names.count)
        for n in names { c.reply.bulk(n) }
    }

    static func help(_ c: CommandContext) {
        Help.reply(c, command: "COMMAND", lines: [
            "(no subcommand)",
            "    Return details about all Redis commands.",
            "COUNT",
            "    Return the total number of commands in this Redis server.",
            "LIST",
            "    Return a list of all commands in this Redis server.",
            "INFO [<command-name> ...]",
            "    Return details about multiple Redis commands.",
            "    If no command names are given, documentation details for all",
            "    commands are returned.",
            "DOCS [<command-name> ...]",
            "    Return documentation details about multiple Redis commands.",
            "    If no command names are given, documentation details for all",
            "    commands are returned.",
            "GETKEYS <full-command>",
            "    Return the keys from a full Redis command.",
            "GETKEYSANDFLAGS <full-command>",
            "    Return the keys and the access flags from a full Redis command.",
        ])
    }
}
