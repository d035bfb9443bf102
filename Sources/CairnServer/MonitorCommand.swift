import CairnRESP
import CairnStorage

// MONITOR (replicationFeedMonitors in Redis 7.0). A monitoring client gets +OK, then one status
// line per command executed by any client:
//   +1700000000.123456 [0 127.0.0.1:5000] "set" "k" "v"
// (time of the feed, the client's database after the command, its address, and each argument
// quoted as sdscatrepr does). Admin commands and those flagged skip_monitor are not shown, nor
// are commands refused before running; passwords show as "(redacted)". A monitor may not run
// commands that touch the keyspace ("Replica can't interact with the keyspace"); RESET or
// closing the connection ends monitoring. Lines go to other connections' output buffers, which
// the server then flushes on its loop (Server.flushLater).

enum MonitorCommand {
    static func spec(_ server: Server) -> CommandSpec {
        CommandSpec(
            "monitor", arity: 1, flags: [.admin, .noscript, .loading, .stale], categories: [.admin, .slow, .dangerous],
            group: "server", since: "1.0.0", summary: "Listen for all requests received by the server in real time",
            handler: server.bind(monitor))
    }

    static func monitor(_ server: Server, _ c: CommandContext) {
        if c.engine.isExecutingTransaction {
            return c.reply.error("ERR MONITOR isn't allowed for DENY BLOCKING client")
        }
        let admin = server.admin
        // Already monitoring: ignored, with no reply (as Redis).
        if admin.monitors.contains(where: { $0 === c.client }) { return }
        admin.monitors.append(c.client)
        c.reply.ok()
    }

    static let keyspaceRefusal = "ERR Replica can't interact with the keyspace"

    /// The line fed to monitors for one command.
    static func line(_ client: ClientSession, _ command: RegisteredCommand, _ args: Arguments, nowMicros: Int64) -> [UInt8] {
        var out = Array("+\(nowMicros / 1_000_000).".utf8)
        let fraction = String(nowMicros % 1_000_000)
        out.append(contentsOf: Array(String(repeating: "0", count: 6 - fraction.count).utf8))
        out.append(contentsOf: Array(fraction.utf8))
        let origin = client.address.hasPrefix("/") ? "unix:\(client.address)" : client.address
        out.append(contentsOf: Array(" [\(client.db) \(origin)]".utf8))
        let redacted = Redaction.indices(command, args)
        for j in 0..<args.count {
            out.append(UInt8(ascii: " "))
            if redacted.contains(j) {
                appendRepr(&out, Redaction.placeholder)
            } else {
                appendRepr(&out, args[j])
            }
        }
        out.append(contentsOf: [13, 10])
        return out
    }

    /// Redis's sdscatrepr: a double-quoted string with C escapes and \xHH for unprintable bytes.
    static func appendRepr<C: Collection>(_ out: inout [UInt8], _ bytes: C) where C.Element == UInt8 {
        let hex = Array("0123456789abcdef".utf8)
        out.append(UInt8(ascii: "\""))
        for b in bytes {
            switch b {
            case UInt8(ascii: "\\"): out.append(contentsOf: [92, 92])
            case UInt8(ascii: "\""): out.append(contentsOf: [92, UInt8(ascii: "\"")])
            case 10: out.append(contentsOf: [92, UInt8(ascii: "n")])
            case 13: out.append(contentsOf: [92, UInt8(ascii: "r")])
            case 9: out.append(contentsOf: [92, UInt8(ascii: "t")])
            case 7: out.append(contentsOf: [92, UInt8(ascii: "a")])
            case 8: out.append(contentsOf: [92, UInt8(ascii: "b")])
            case 0x20...0x7E: out.append(b)
            default: out.append(contentsOf: [92, UInt8(ascii: "x"), hex[Int(b >> 4)], hex[Int(b & 15)]])
            }
        }
        out.append(UInt8(ascii: "\""))
    }
}
