@testable import CairnServer
import CairnRESP
import CairnStorage
import Testing

@Suite struct CommandCommandTests {
    static let rangeKeySpec: RESPValue = .array([
        .bulk("flags"), .array([.simple("RO"), .simple("access")]),
        .bulk("begin_search"), .array([.bulk("type"), .bulk("index"), .bulk("spec"), .array([.bulk("index"), .integer(1)])]),
        .bulk("find_keys"), .array([.bulk("type"), .bulk("range"), .bulk("spec"),
                                    .array([.bulk("lastkey"), .integer(0), .bulk("keystep"), .integer(1), .bulk("limit"), .integer(0)])]),
    ])

    @Test func infoEntryMatchesRedis() {
        let h = ServerHarness()
        let reply = h.run("COMMAND", "INFO", "get")
        #expect(reply == .array([.array([
            .bulk("get"), .integer(2), .array([.simple("readonly"), .simple("fast")]), .integer(1), .integer(1), .integer(1),
            .array([.simple("@read"), .simple("@string"), .simple("@fast")]), .array([]), .array([Self.rangeKeySpec]), .array([]),
        ])]))
    }

    @Test func infoInRESP3UsesSetsAndMaps() {
        let h = ServerHarness()
        h.run("HELLO", "3")
        let raw = h.raw("COMMAND", "INFO", "get")
        #expect(raw.hasPrefix("*1\r\n*10\r\n$3\r\nget\r\n:2\r\n~2\r\n+readonly\r\n+fast\r\n:1\r\n:1\r\n:1\r\n~3\r\n+@read\r\n+@string\r\n+@fast\r\n~0\r\n~1\r\n%3\r\n$5\r\nflags\r\n~2\r\n"))
        #expect(raw.hasSuffix("$5\r\nlimit\r\n:0\r\n~0\r\n"), "no subcommands: an empty set")
        let config = h.raw("COMMAND", "INFO", "config")
        #expect(config.hasPrefix("*1\r\n*10\r\n$6\r\nconfig\r\n:-2\r\n~0\r\n:0\r\n:0\r\n:0\r\n~1\r\n+@slow\r\n~0\r\n~0\r\n*5\r\n"))
    }

    @Test func infoOfSubcommandsTipsAndUnknown() {
        let h = ServerHarness()
        guard let entries = h.run("COMMAND", "INFO", "config|set", "nosuch", "CONFIG|GET", "get|x").arrayValue else {
            Issue.record("not an array"); return
        }
        #expect(entries.count == 4)
        #expect(entries[0].arrayValue?.first == .bulk("config|set"))
        #expect(entries[0].arrayValue?[7] == .array([.bulk("request_policy:all_nodes"), .bulk("response_policy:all_succeeded")]))
        #expect(entries[1] == .nilBulk)
        #expect(entries[2].arrayValue?.first == .bulk("config|get"))
        #expect(entries[3] == .nilBulk)
    }

    @Test func everyRegisteredCommandIsListed() {
        let h = ServerHarness()
        let registered = h.server.engine.commands.all.map(\.fullName)
        for name in ["get", "set", "ping", "hello", "auth", "reset", "client", "info", "config", "command", "quit", "shutdown"] {
            #expect(registered.contains(name))
        }
        #expect(h.run("COMMAND", "COUNT") == .integer(Int64(registered.count)))
        let all = h.run("COMMAND").arrayValue ?? []
        #expect(all.compactMap { $0.arrayValue?.first?.string } == registered)
        #expect(h.run("COMMAND", "INFO").arrayValue?.count == registered.count)
        let listed = (h.run("COMMAND", "LIST").arrayValue ?? []).compactMap(\.string)
        for name in registered { #expect(listed.contains(name)) }
        for sub in ["client|list", "config|get", "command|info", "command|getkeys"] { #expect(listed.contains(sub)) }
        let command = all.first { $0.arrayValue?.first == .bulk("command") }?.arrayValue
        #expect(command?[9].arrayValue?.count == CommandCommand.subcommands.count)
    }

    @Test func bareCommandAndDetachedSubcommandErrors() {
        let h = ServerHarness()
        #expect(h.run("COMMAND", "NOSUCH") == .err("ERR unknown subcommand 'NOSUCH'. Try COMMAND HELP."))
        #expect(h.run("COMMAND", "COUNT", "x") == .err("ERR wrong number of arguments for 'command|count' command"))
        #expect(h.run("COMMAND", "GETKEYS", "get") == .err("ERR wrong number of arguments for 'command|getkeys' command"))
    }

    @Test func docs() {
        let h = ServerHarness()
        let reply = h.run("COMMAND", "DOCS", "config|get", "nosuch", "client")
        let pairs = reply.pairs ?? []
        #expect(pairs.map(\.0) == ["config|get", "client"])
        let configGet = pairs.first?.1
        #expect(configGet?.field("summary") == .bulk("Get the values of configuration parameters"))
        #expect(configGet?.field("since") == .bulk("2.0.0"))
        #expect(configGet?.field("group") == .bulk("server"))
        #expect(pairs.last?.1.field("subcommands")?.pairs?.map(\.0).contains("client|kill") == true)
        #expect((h.run("COMMAND", "DOCS").pairs ?? []).count == h.server.engine.commands.all.count)
    }

    @Test func getKeys() {
        let h = ServerHarness()
        #expect(h.run("COMMAND", "GETKEYS", "get", "a") == .array([.bulk("a")]))
        #expect(h.run("COMMAND", "GETKEYS", "SET", "a", "b", "EX", "10") == .array([.bulk("a")]))
        #expect(h.run("COMMAND", "GETKEYS", "nosuch", "a") == .err("ERR Invalid command specified"))
        // numkeys is read with C's atoi, as Redis 7.0 does: 4294967297 truncates to 1 (checked on
        // redis-server 7.0.15), for lists and sorted sets alike.
        #expect(h.run("COMMAND", "GETKEYS", "ZUNION", "4294967297", "a", "b") == .array([.bulk("a")]))
        #expect(h.run("COMMAND", "GETKEYS", "LMPOP", "4294967297", "a", "LEFT") == .array([.bulk("a")]))
        #expect(h.run("COMMAND", "GETKEYS", "config", "get", "x") == .err("ERR The command has no key arguments"))
        #expect(h.run("COMMAND", "GETKEYS", "client", "nosuch") == .err("ERR Invalid command specified"))
        #expect(h.run("COMMAND", "GETKEYS", "get", "a", "b") == .err("ERR Invalid number of arguments specified for command"))
        #expect(h.run("COMMAND", "GETKEYSANDFLAGS", "get", "a") == .array([.array([.bulk("a"), .array([.simple("RO"), .simple("access")])])]))
    }

    @Test func keySpecsOfACommandRedisDoesNotHave() {
        let h = ServerHarness()
        h.server.engine.commands.register(CommandSpec(
            "cairn-test-mset", arity: -3, flags: [.write], categories: [.write, .slow],
            keys: [.from(1, lastKey: -1, step: 2, [.OW, .update])], group: "string", handler: { $0.reply.ok() }))
        let entry = h.run("COMMAND", "INFO", "cairn-test-mset").arrayValue?.first?.arrayValue ?? []
        #expect(entry.count == 10)
        #expect(Array(entry[3...5]) == [.integer(1), .integer(-1), .integer(2)], "the legacy triple, from the spec")
        let spec = entry[8].arrayValue?.first
        #expect(spec?.field("flags") == .array([.simple("OW"), .simple("update")]))
        #expect(spec?.field("find_keys")?.field("spec") == .array([.bulk("lastkey"), .integer(-1), .bulk("keystep"), .integer(2), .bulk("limit"), .integer(0)]))
        #expect(h.run("COMMAND", "GETKEYS", "cairn-test-mset", "a", "1", "b", "2") == .array([.bulk("a"), .bulk("b")]))
    }

    @Test func movableKeysAreFlaggedFromTheSpecs() {
        let h = ServerHarness()
        h.server.engine.commands.register(CommandSpec(
            "cairn-test-movable", arity: -2, flags: [.readonly, .mayReplicate], categories: [.read, .slow],
            keys: [KeySpec([.RO, .access, .incomplete], .unknown, .unknown, notes: "found by the command")],
            group: "generic", findKeys: { args in args.count > 2 ? [2] : [] }, handler: { $0.reply.ok() }))
        let entry = h.run("COMMAND", "INFO", "cairn-test-movable").arrayValue?.first?.arrayValue ?? []
        #expect(entry[2] == .array([.simple("readonly"), .simple("movablekeys")]), "may_replicate is never shown")
        #expect(Array(entry[3...5]) == [.integer(0), .integer(0), .integer(0)], "no range spec, no triple")
        let spec = entry[8].arrayValue?.first
        #expect(spec?.field("notes") == .bulk("found by the command"))
        #expect(spec?.field("flags") == .array([.simple("RO"), .simple("access"), .simple("incomplete")]))
        #expect(spec?.field("begin_search") == .array([.bulk("type"), .bulk("unknown"), .bulk("spec"), .array([])]))
        #expect(h.run("COMMAND", "GETKEYS", "cairn-test-movable", "x", "k") == .array([.bulk("k")]))
        #expect(h.run("COMMAND", "GETKEYS", "cairn-test-movable", "x") == .err("ERR Invalid arguments specified for command"))
    }

    @Test func list() {
        let h = ServerHarness()
        let pattern = (h.run("COMMAND", "LIST", "FILTERBY", "PATTERN", "c*g*").arrayValue ?? []).compactMap(\.string)
        #expect(Set(pattern) == ["client|getname", "config", "config|get", "config|set", "config|rewrite", "config|resetstat",
                                 "config|help", "command|getkeys", "command|getkeysandflags", "cluster|forget",
                                 "cluster|delslotsrange", "cluster|addslotsrange", "cluster|getkeysinslot",
                                 "cluster|saveconfig", "cluster|set-config-epoch", "client|caching", "client|getredir",
                                 "client|tracking", "client|trackinginfo"])
        let connection = (h.run("COMMAND", "LIST", "FILTERBY", "aclcat", "CONNECTION").arrayValue ?? []).compactMap(\.string)
        #expect(connection.contains("hello") && connection.contains("client|id") && !connection.contains("get"))
        #expect(h.run("COMMAND", "LIST", "FILTERBY", "module", "x") == .array([]))
        #expect(h.run("COMMAND", "LIST", "FILTERBY", "aclcat", "nosuch") == .array([]))
        #expect(h.run("COMMAND", "LIST", "FILTERBY", "foo", "x") == .err("ERR syntax error"))
        #expect(h.run("COMMAND", "LIST", "foo") == .err("ERR syntax error"))
    }

    @Test func help() {
        let h = ServerHarness()
        let lines = h.run("COMMAND", "HELP").arrayValue ?? []
        #expect(lines.count == 21)
        #expect(lines[1] == .simple("(no subcommand)"))
    }
}
