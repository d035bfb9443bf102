import CairnRESP
import CairnStorage

// SLOWLOG GET | LEN | RESET | HELP (slowlog.c in Redis 7.0). Every executed command whose
// execution took at least `slowlog-log-slower-than` µs (negative: never) is recorded, newest
// first, keeping at most `slowlog-max-len` entries. An entry keeps at most 32 arguments (the last
// one then says how many more there were) and at most 128 bytes of each, with AUTH, HELLO AUTH,
// MIGRATE AUTH/AUTH2, ACL SETUSER and CONFIG SET of a password shown as "(redacted)".

struct SlowLogEntry {
    var id: Int64
    var timestamp: Int64
    var durationMicros: Int64
    var arguments: [[UInt8]]
    var peer: String
    var clientName: [UInt8]
}

struct SlowLog {
    static let maxArguments = 32
    static let maxArgumentBytes = 128

    var entries: [SlowLogEntry] = []  // oldest first; replies list them newest first
    var nextID: Int64 = 0
    var slowerThanMicros: Int64 = 10_000
    var maxLength = 128

    mutating func record(_ client: ClientSession, _ command: RegisteredCommand, _ args: Arguments, micros: Int64, nowSeconds: Int64) {
        guard slowerThanMicros >= 0, micros >= slowerThanMicros, !command.spec.flags.contains(.skipSlowlog) else { return }
        let redacted = Redaction.indices(command, args)
        let kept = min(args.count, Self.maxArguments)
        var out: [[UInt8]] = []
        out.reserveCapacity(kept)
        for j in 0..<kept {
            if kept != args.count && j == kept - 1 {
                out.append(Array("... (\(args.count - kept + 1) more arguments)".utf8))
            } else if redacted.contains(j) {
                out.append(Redaction.placeholder)
            } else if args[j].count > Self.maxArgumentBytes {
                var a = Array(args[j].prefix(Self.maxArgumentBytes))
                a.append(contentsOf: Array("... (\(args[j].count - Self.maxArgumentBytes) more bytes)".utf8))
                out.append(a)
            } else {
                out.append(args.bytes(j))
            }
        }
        entries.append(SlowLogEntry(id: nextID, timestamp: nowSeconds, durationMicros: micros, arguments: out,
                                    peer: client.address, clientName: client.name ?? []))
        nextID += 1
        trim()
    }

    mutating func trim() {
        if entries.count > maxLength { entries.removeFirst(entries.count - maxLength) }
    }

    mutating func reset() { entries = [] }
}

/// Arguments Redis replaces with "(redacted)" in SLOWLOG and MONITOR (redactClientCommandArgument).
enum Redaction {
    static let placeholder = Array("(redacted)".utf8)
    static let sensitiveConfigs: Set<String> = ["requirepass", "masterauth"]

    static func indices(_ command: RegisteredCommand, _ args: Arguments) -> Set<Int> {
        switch command.fullName {
        case "auth":
            return Set(1..<max(1, args.count))
        case "hello":
            var out: Set<Int> = []
            var j = 2
            while j < args.count {
                if args.matches(j, "auth") && j + 2 < args.count {
                    out.formUnion([j + 1, j + 2])
                    j += 3
                } else if args.matches(j, "setname") {
                    j += 2
                } else {
                    j += 1
                }
            }
            return out
        case "migrate":
            var out: Set<Int> = []
            var j = 6
            while j < args.count {
                if args.matches(j, "auth") && j + 1 < args.count {
                    out.insert(j + 1)
                    j += 2
                } else if args.matches(j, "auth2") && j + 2 < args.count {
                    out.formUnion([j + 1, j + 2])
                    j += 3
                } else if args.matches(j, "keys") {
                    break
                } else {
                    j += 1
                }
            }
            return out
        case "acl|setuser":
            return Set(2..<max(2, args.count))
        case "config|set":
            var out: Set<Int> = []
            var j = 2
            while j + 1 < args.count {
                if sensitiveConfigs.contains(args.string(j).lowercased()) { out.insert(j + 1) }
                j += 2
            }
            return out
        default:
            return []
        }
    }
}

enum SlowLogCommand {
    static func spec(_ server: Server) -> CommandSpec {
        CommandSpec(
            "slowlog", arity: -2, flags: [], categories: [.slow], group: "server", since: "2.2.12",
            summary: "A container for slow log commands",
            subcommands: [
                CommandSpec("get", arity: -2, flags: [.admin, .loading, .stale], categories: [.admin, .slow, .dangerous],
                            group: "server", since: "2.2.12", summary: "Get the slow log's entries", handler: server.bind(get)),
                CommandSpec("len", arity: 2, flags: [.admin, .loading, .stale], categories: [.admin, .slow, .dangerous],
                            group: "server", since: "2.2.12", summary: "Get the slow log's length", handler: server.bind(len)),
                CommandSpec("reset", arity: 2, flags: [.admin, .loading, .stale], categories: [.admin, .slow, .dangerous],
                            group: "server", since: "2.2.12", summary: "Clear all entries from the slow log", handler: server.bind(reset)),
                CommandSpec("help", arity: 2, flags: [.loading, .stale], categories: [.slow], group: "server",
                            since: "6.2.0", summary: "Show helpful text about the different subcommands", handler: help),
            ],
            handler: { _ in })
    }

    static func get(_ server: Server, _ c: CommandContext) {
        let log = server.admin.slowLog
        var count = 10
        if c.args.count == 3 {
            guard let n = c.args.int64(2), n >= -1 else {
                return c.reply.error("ERR count should be greater than or equal to -1")
            }
            count = n == -1 ? Int.max : Int(n)
        } else if c.args.count > 3 {
            return c.reply.error("ERR unknown subcommand or wrong number of arguments for '", quoting: c.args[1], limit: 128, "'. Try SLOWLOG HELP.")
        }
        let shown = min(count, log.entries.count)
        c.reply.arrayHeader(shown)
        for e in log.entries.reversed().prefix(shown) {
            c.reply.arrayHeader(6)
            c.reply.integer(e.id)
            c.reply.integer(e.timestamp)
            c.reply.integer(e.durationMicros)
            c.reply.arrayHeader(e.arguments.count)
            for a in e.arguments { c.reply.bulk(a) }
            c.reply.bulk(e.peer)
            c.reply.bulk(e.clientName)
        }
    }

    static func len(_ server: Server, _ c: CommandContext) {
        c.reply.integer(server.admin.slowLog.entries.count)
    }

    static func reset(_ server: Server, _ c: CommandContext) {
        server.admin.slowLog.reset()
        c.reply.ok()
    }

    static func help(_ c: CommandContext) {
        Help.reply(c, command: "SLOWLOG", lines: [
            "GET [<count>]",
            "    Return top <count> entries from the slowlog (default: 10, -1 mean all).",
            "    Entries are made of:",
            "    id, timestamp, time in microseconds, arguments array, client IP and port,",
            "    client name",
            "LEN",
            "    Return the length of the slowlog.",
            "RESET",
            "    Reset the slowlog.",
        ])
    }
}
