@testable import CairnServer
import CairnRESP
import CairnStorage
import Testing

@Suite struct ClientCommandTests {
    static let listFields = ["id", "addr", "laddr", "fd", "name", "age", "idle", "flags", "db", "sub", "psub", "ssub",
                             "multi", "qbuf", "qbuf-free", "argv-mem", "multi-mem", "rbs", "rbp", "obl", "oll", "omem",
                             "tot-mem", "events", "cmd", "user", "redir", "resp", "lib-name", "lib-ver"]

    /// `key=value` pairs of one CLIENT LIST line, in order.
    static func fields(_ line: String) -> [(String, String)] {
        line.split(separator: " ").map { part in
            let kv = part.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            return (String(kv[0]), kv.count > 1 ? String(kv[1]) : "")
        }
    }

    @Test func idAndNames() {
        let h = ServerHarness()
        #expect(h.run("CLIENT", "ID") == .integer(7))
        #expect(h.run("CLIENT", "GETNAME") == .nilBulk)
        #expect(h.run("CLIENT", "SETNAME", "conn-1") == .ok)
        #expect(h.run("CLIENT", "GETNAME") == .bulk("conn-1"))
        #expect(h.run("CLIENT", "SETNAME", "") == .ok)
        #expect(h.run("CLIENT", "GETNAME") == .nilBulk)
        for bad in ["a b", "a\nb", "é", "\u{7f}"] {
            #expect(h.run("CLIENT", "SETNAME", bad) == .err("ERR Client names cannot contain spaces, newlines or special characters."))
        }
        #expect(h.run("CLIENT", "SETNAME") == .err("ERR wrong number of arguments for 'client|setname' command"))
        #expect(h.run("CLIENT") == .err("ERR wrong number of arguments for 'client' command"))
        #expect(h.run("CLIENT", "NOSUCH") == .err("ERR unknown subcommand 'NOSUCH'. Try CLIENT HELP."))
    }

    @Test func setInfoAsRedis72() {
        let h = ServerHarness()
        #expect(h.run("CLIENT", "SETINFO", "LIB-NAME", "redis-py") == .ok)
        #expect(h.run("CLIENT", "SETINFO", "lib-ver", "5.0.1") == .ok)
        #expect(h.client.libraryName == Array("redis-py".utf8))
        #expect(h.run("CLIENT", "SETINFO", "LIB-NAME", "a b") == .err("ERR LIB-NAME cannot contain spaces, newlines or special characters."))
        #expect(h.run("CLIENT", "SETINFO", "color", "x") == .err("ERR Unrecognized option 'color'"))
        #expect(h.run("CLIENT", "SETINFO", "lib-name") == .err("ERR wrong number of arguments for 'client|setinfo' command"))
        let line = h.run("CLIENT", "INFO").string ?? ""
        #expect(line.contains(" lib-name=redis-py lib-ver=5.0.1\n"))
        #expect(h.run("CLIENT", "SETINFO", "lib-name", "") == .ok)
        #expect(h.client.libraryName == nil)
    }

    @Test func infoLineHasEveryFieldInRedisOrder() {
        let h = ServerHarness()
        h.run("CLIENT", "SETNAME", "me")
        h.run("SELECT", "2")
        let text = h.run("CLIENT", "INFO").string ?? ""
        #expect(text.hasSuffix("\n"))
        let f = Self.fields(String(text.dropLast()))
        #expect(f.map(\.0) == Self.listFields)
        let values = Dictionary(f, uniquingKeysWith: { a, _ in a })
        #expect(values["id"] == "7")
        #expect(values["addr"] == "127.0.0.1:50000")
        #expect(values["laddr"] == "127.0.0.1:6379")
        #expect(values["name"] == "me")
        #expect(values["db"] == "2")
        #expect(values["flags"] == "N")
        #expect(values["cmd"] == "client|info")
        #expect(values["user"] == "default")
        #expect(values["resp"] == "2")
        h.run("HELLO", "3")
        // RESP3: a verbatim string.
        guard case .verbatim(let format, let body) = h.run("CLIENT", "INFO") else { Issue.record("not verbatim"); return }
        #expect(format == Array("txt".utf8))
        #expect(String(decoding: body, as: UTF8.self).contains(" resp=3 "))
    }

    @Test func listErrorsAsRedis() {
        let h = ServerHarness()
        #expect(h.run("CLIENT", "LIST", "TYPE", "foo") == .err("ERR Unknown client type 'foo'"))
        #expect(h.run("CLIENT", "LIST", "ID", "x") == .err("ERR Invalid client ID"))
        #expect(h.run("CLIENT", "LIST", "foo") == .err("ERR syntax error"))
        #expect(h.run("CLIENT", "LIST", "ID") == .err("ERR syntax error"))
        for type in ["normal", "master", "replica", "slave", "pubsub", "NORMAL"] {
            #expect(h.run("CLIENT", "LIST", "TYPE", type) == .bulk(""))
        }
        // The caller is found by ID even when it is not a registered connection.
        let line = h.run("CLIENT", "LIST", "ID", "7", "99").string ?? ""
        #expect(line.hasPrefix("id=7 ") && line.hasSuffix("\n"))
    }

    @Test func killErrorsAndCounts() {
        let h = ServerHarness()
        #expect(h.run("CLIENT", "KILL", "1.2.3.4:5") == .err("ERR No such client"))
        #expect(h.run("CLIENT", "KILL", "ID") == .err("ERR No such client"))
        #expect(h.run("CLIENT", "KILL", "ID", "999") == .integer(0))
        #expect(h.run("CLIENT", "KILL", "ID", "x") == .err("ERR client-id should be greater than 0"))
        #expect(h.run("CLIENT", "KILL", "ID", "0") == .err("ERR client-id should be greater than 0"))
        #expect(h.run("CLIENT", "KILL", "TYPE", "foo") == .err("ERR Unknown client type 'foo'"))
        #expect(h.run("CLIENT", "KILL", "TYPE", "normal") == .integer(0))
        #expect(h.run("CLIENT", "KILL", "FOO", "bar") == .err("ERR syntax error"))
        #expect(h.run("CLIENT", "KILL", "SKIPME", "maybe") == .err("ERR syntax error"))
        #expect(h.run("CLIENT", "KILL", "USER", "nobody") == .err("ERR No such user 'nobody'"))
        #expect(h.run("CLIENT", "KILL", "ADDR", "1.2.3.4:5", "LADDR", "1.2.3.4:6") == .integer(0))
        #expect(h.run("CLIENT", "KILL", "ID", "5", "TYPE") == .err("ERR syntax error"))
        #expect(!h.client.closeAfterReply)
    }

    @Test func helpListsSubcommands() {
        let h = ServerHarness()
        guard let lines = h.run("CLIENT", "HELP").arrayValue else { Issue.record("not an array"); return }
        #expect(lines.first == .simple("CLIENT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:"))
        #expect(lines.suffix(2) == [.simple("HELP"), .simple("    Prints this help.")])
        #expect(lines.contains(.simple("SETINFO <option> <value>")))
    }
}
