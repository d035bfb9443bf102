import CairnRESP
import CairnStorage
import Foundation

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
            writeDocs(e, c)
        }
    }

    /// Redis's addReplyCommandDocs: the docs Redis 7.0's command table holds for the command
    /// (CommandDocsData.swift), then its subcommands (a map by full name) as Cairn registers them.
    /// A command Redis does not document shows the summary, since and group of its CommandSpec.
    static func writeDocs(_ e: CommandEntry, _ c: CommandContext) {
        let subcommands = e.subcommands
        guard let d = CommandDoc.byName[e.fullName] else {
            let spec = e.spec
            c.reply.mapHeader(1 + (spec.summary.isEmpty ? 0 : 1) + (spec.since.isEmpty ? 0 : 1)
                              + (subcommands.isEmpty ? 0 : 1))
            if !spec.summary.isEmpty { c.reply.bulk("summary"); c.reply.bulk(spec.summary) }
            if !spec.since.isEmpty { c.reply.bulk("since"); c.reply.bulk(spec.since) }
            c.reply.bulk("group"); c.reply.bulk(spec.group)
            writeSubcommandDocs(subcommands, c)
            return
        }
        let optional: [String?] = [d.summary, d.since, d.complexity, d.deprecatedSince, d.replacedBy]
        c.reply.mapHeader(1 + optional.count { $0 != nil } + (d.docFlags == nil ? 0 : 1) + (d.history == nil ? 0 : 1)
                          + (d.arguments == nil ? 0 : 1) + (subcommands.isEmpty ? 0 : 1))
        if let v = d.summary { c.reply.bulk("summary"); c.reply.bulk(v) }
        if let v = d.since { c.reply.bulk("since"); c.reply.bulk(v) }
        c.reply.bulk("group"); c.reply.bulk(d.group)
        if let v = d.complexity { c.reply.bulk("complexity"); c.reply.bulk(v) }
        if let flags = d.docFlags {
            c.reply.bulk("doc_flags")
            writeFlags(flags, c)
        }
        if let v = d.deprecatedSince { c.reply.bulk("deprecated_since"); c.reply.bulk(v) }
        if let v = d.replacedBy { c.reply.bulk("replaced_by"); c.reply.bulk(v) }
        if let history = d.history {
            c.reply.bulk("history")
            c.reply.setHeader(history.count)
            for change in history {
                c.reply.arrayHeader(change.count)
                for v in change { c.reply.bulk(v) }
            }
        }
        if let arguments = d.arguments {
            c.reply.bulk("arguments")
            writeArguments(arguments, c)
        }
        writeSubcommandDocs(subcommands, c)
    }

    private static func writeSubcommandDocs(_ subcommands: [CommandEntry], _ c: CommandContext) {
        guard !subcommands.isEmpty else { return }
        c.reply.bulk("subcommands")
        c.reply.mapHeader(subcommands.count)
        for s in subcommands {
            c.reply.bulk(s.fullName)
            writeDocs(s, c)
        }
    }

    /// Redis's addReplyCommandArgList.
    private static func writeArguments(_ arguments: [CommandDoc.Argument], _ c: CommandContext) {
        c.reply.arrayHeader(arguments.count)
        for a in arguments {
            let optional: [String?] = [a.token, a.summary, a.since, a.deprecatedSince]
            c.reply.mapHeader(2 + (a.keySpecIndex == nil ? 0 : 1) + optional.count { $0 != nil }
                              + (a.flags == nil ? 0 : 1) + (a.arguments == nil ? 0 : 1))
            c.reply.bulk("name"); c.reply.bulk(a.name)
            c.reply.bulk("type"); c.reply.bulk(a.type)
            if let v = a.keySpecIndex { c.reply.bulk("key_spec_index"); c.reply.integer(v) }
            if let v = a.token { c.reply.bulk("token"); c.reply.bulk(v) }
            if let v = a.summary { c.reply.bulk("summary"); c.reply.bulk(v) }
            if let v = a.since { c.reply.bulk("since"); c.reply.bulk(v) }
            if let v = a.deprecatedSince { c.reply.bulk("deprecated_since"); c.reply.bulk(v) }
            if let flags = a.flags {
                c.reply.bulk("flags")
                writeFlags(flags, c)
            }
            if let subarguments = a.arguments {
                c.reply.bulk("arguments")
                writeArguments(subarguments, c)
            }
        }
    }

    /// Doc and argument flags: a set of status replies (Redis's addReplyCommandFlags).
    private static func writeFlags(_ flags: [String], _ c: CommandContext) {
        c.reply.setHeader(flags.count)
        for f in flags { c.reply.simpleString(f) }
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

/// One command's entry in Redis 7.0's command table docs (CommandDocsData.swift, generated by
/// tools/gen-command-docs), decoded on the first COMMAND DOCS rather than at start-up.
struct CommandDoc: Decodable, Sendable {
    struct Argument: Decodable, Sendable {
        let name: String
        let type: String
        let keySpecIndex: Int?
        let token: String?
        let summary: String?
        let since: String?
        let deprecatedSince: String?
        let flags: [String]?
        let arguments: [Argument]?
    }

    let summary: String?
    let since: String?
    let group: String
    let complexity: String?
    let docFlags: [String]?
    let deprecatedSince: String?
    let replacedBy: String?
    let history: [[String]]?
    let arguments: [Argument]?

    /// Full name (`config|get`) -> docs. A static let: decoded once, on first use.
    static let byName: [String: CommandDoc] = {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        do {
            return try decoder.decode([String: CommandDoc].self, from: Data(CommandDocsData.json.utf8))
        } catch {
            assertionFailure("CommandDocsData.json does not decode: \(error)")
            return [:]
        }
    }()
}
