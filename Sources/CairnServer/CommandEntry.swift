import CairnRESP
import CairnStorage

// A command as COMMAND INFO / DOCS / LIST present it: full name (`config|get`), its spec and its
// subcommands. Built from the engine's table, plus COMMAND's own detached subcommands.

struct CommandEntry {
    let fullName: String
    let spec: CommandSpec
    let subcommands: [CommandEntry]

    static func all(_ engine: Engine) -> [CommandEntry] {
        engine.commands.all.map(entry)
    }

    static func entry(_ registered: RegisteredCommand) -> CommandEntry {
        var subs = (registered.subcommands?.all ?? []).map { CommandEntry(fullName: $0.fullName, spec: $0.spec, subcommands: []) }
        if registered.spec.name == CommandCommand.spec.name {
            subs += CommandCommand.detached.map { CommandEntry(fullName: "command|\($0.name)", spec: $0, subcommands: []) }
        }
        return CommandEntry(fullName: registered.fullName, spec: registered.spec, subcommands: subs)
    }

    /// `name` or `container|sub` (Redis's lookupCommandBySds), case-insensitively.
    static func find(_ name: String, _ engine: Engine) -> CommandEntry? {
        let parts = name.split(separator: "|", omittingEmptySubsequences: false).map { Array($0.utf8) }
        guard parts.count <= 2 else { return nil }
        return resolve(parts, engine, subcommandRequired: parts.count == 2)
    }

    /// The command a request's words would run (Redis's lookupCommand): the container alone when
    /// there is only one word or it has no subcommands, else its subcommand (nil if unknown).
    static func resolve(_ words: [[UInt8]], _ engine: Engine, subcommandRequired: Bool = false) -> CommandEntry? {
        guard let first = words.first, let registered = engine.commands.lookup(first) else { return nil }
        let e = entry(registered)
        guard words.count >= 2, !e.subcommands.isEmpty else { return subcommandRequired ? nil : e }
        let wanted = "\(registered.spec.name)|\(String(decoding: words[1], as: UTF8.self).lowercased())"
        return e.subcommands.first { $0.fullName == wanted }
    }

    /// Flags as COMMAND INFO shows them: `may_replicate` is internal in Redis and never shown.
    var flagNames: [String] {
        var flags = spec.flags
        flags.remove(.mayReplicate)
        return flags.names
    }

    /// Redis's addReplyCommandInfo: the 10-element entry.
    func writeInfo(_ c: CommandContext) {
        let k = spec.keyPositions
        c.reply.arrayHeader(10)
        c.reply.bulk(fullName)
        c.reply.integer(spec.arity)
        let flags = flagNames
        c.reply.setHeader(flags.count)
        for f in flags { c.reply.simpleString(f) }
        c.reply.integer(k.first)
        c.reply.integer(k.last)
        c.reply.integer(k.step)
        let categories = spec.categories.names
        c.reply.setHeader(categories.count)
        for name in categories { c.reply.simpleString(name) }
        let tips = CommandTips.tips(for: fullName)
        c.reply.setHeader(tips.count)
        for t in tips { c.reply.bulk(t) }
        c.reply.setHeader(spec.keySpecs.count)
        for ks in spec.keySpecs { ks.write(&c.reply) }
        // Redis answers "no subcommands" with an empty set, and subcommands with an array.
        if subcommands.isEmpty { c.reply.setHeader(0) } else { c.reply.arrayHeader(subcommands.count) }
        for s in subcommands { s.writeInfo(c) }
    }
}
