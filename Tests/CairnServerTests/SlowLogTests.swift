@testable import CairnServer
import CairnRESP
import CairnStorage
import Testing

@Suite struct SlowLogTests {
    static func harness(slowerThan: Int64 = 0, maxLength: Int = 128) -> ServerHarness {
        var settings = ServerSettings()
        settings.slowlogLogSlowerThan = slowerThan
        settings.slowlogMaxLength = maxLength
        return ServerHarness(settings: settings)
    }

    static func entries(_ h: ServerHarness, _ count: String = "-1") -> [[RESPValue]] {
        (h.run("SLOWLOG", "GET", count).arrayValue ?? []).compactMap { $0.arrayValue }
    }

    static func words(_ entry: [RESPValue]) -> [String] { entry[3].arrayValue?.compactMap(\.string) ?? [] }

    @Test func entryShapeNewestFirst() {
        let h = Self.harness()
        h.run("SLOWLOG", "RESET")
        h.run("CLIENT", "SETNAME", "app")
        h.run("SET", "k", "v")
        let e = Self.entries(h, "2")
        #expect(e.count == 2)
        #expect(e[0].count == 6)
        #expect(Self.words(e[0]) == ["SET", "k", "v"])
        #expect(Self.words(e[1]) == ["CLIENT", "SETNAME", "app"])
        guard case .integer(let newer) = e[0][0], case .integer(let older) = e[1][0] else {
            Issue.record("ids are integers"); return
        }
        #expect(newer == older + 1)
        if case .integer(let ts) = e[0][1] { #expect(ts > 1_600_000_000) } else { Issue.record("timestamp") }
        if case .integer(let us) = e[0][2] { #expect(us >= 0) } else { Issue.record("duration") }
        #expect(e[0][4] == .bulk("127.0.0.1:50000"))
        #expect(e[0][5] == .bulk("app"))
    }

    @Test func getCountLenReset() {
        let h = Self.harness()
        for i in 0..<15 { h.run("SET", "k\(i)", "v") }
        #expect(Self.entries(h, "10").count == 10)
        #expect((h.run("SLOWLOG", "GET").arrayValue ?? []).count == 10)
        #expect(Self.entries(h, "0").isEmpty)
        #expect(Self.entries(h, "-1").count >= 15)
        #expect(h.run("SLOWLOG", "GET", "-2") == .err("ERR count should be greater than or equal to -1"))
        #expect(h.run("SLOWLOG", "GET", "abc") == .err("ERR count should be greater than or equal to -1"))
        #expect(h.run("SLOWLOG", "GET", "1", "2") == .err("ERR unknown subcommand or wrong number of arguments for 'GET'. Try SLOWLOG HELP."))
        #expect(h.run("SLOWLOG", "RESET") == .ok)
        // SLOWLOG RESET is itself logged once it has run.
        #expect(h.run("SLOWLOG", "LEN") == .integer(1))
        #expect(h.run("SLOWLOG", "LEN", "x") == .err("ERR wrong number of arguments for 'slowlog|len' command"))
        #expect(h.run("SLOWLOG", "FOO") == .err("ERR unknown subcommand 'FOO'. Try SLOWLOG HELP."))
    }

    @Test func thresholdAndMaxLength() {
        let h = Self.harness(slowerThan: -1)
        h.run("SET", "a", "1")
        #expect(h.run("SLOWLOG", "LEN") == .integer(0))
        h.run("CONFIG", "SET", "slowlog-log-slower-than", "1000000")
        h.run("SET", "a", "1")
        #expect(h.run("SLOWLOG", "LEN") == .integer(0))
        h.run("CONFIG", "SET", "slowlog-log-slower-than", "0")
        h.run("CONFIG", "SET", "slowlog-max-len", "3")
        for i in 0..<10 { h.run("SET", "k\(i)", "v") }
        #expect(h.run("SLOWLOG", "LEN") == .integer(3))
        #expect(Self.words(Self.entries(h)[1]) == ["SET", "k9", "v"])  // [0] is the SLOWLOG LEN
        h.run("CONFIG", "SET", "slowlog-max-len", "0")
        h.run("SET", "x", "1")
        #expect(h.run("SLOWLOG", "LEN") == .integer(0))
        #expect(h.run("CONFIG", "SET", "slowlog-log-slower-than", "-2")
            == .err("ERR CONFIG SET failed (possibly related to argument 'slowlog-log-slower-than') - argument must be between -1 and 9223372036854775807 inclusive"))
    }

    @Test func argumentsAreTruncatedAsRedis() {
        let h = Self.harness()
        let long = String(repeating: "x", count: 200)
        h.run("SET", "k", long)
        #expect(Self.words(Self.entries(h, "1")[0]) == ["SET", "k", String(repeating: "x", count: 128) + "... (72 more bytes)"])
        var words = ["DEL"]
        for i in 0..<40 { words.append("k\(i)") }
        h.run(words.map { Array($0.utf8) })
        let logged = Self.words(Self.entries(h, "1")[0])
        #expect(logged.count == 32)
        #expect(logged[30] == "k29")
        #expect(logged[31] == "... (10 more arguments)")
    }

    @Test func passwordsAreRedacted() {
        let h = Self.harness()
        h.run("AUTH", "secret")
        #expect(Self.words(Self.entries(h, "1")[0]) == ["AUTH", "(redacted)"])
        h.run("AUTH", "user", "secret")
        #expect(Self.words(Self.entries(h, "1")[0]) == ["AUTH", "(redacted)", "(redacted)"])
        h.run("HELLO", "2", "AUTH", "default", "pw", "SETNAME", "n")
        #expect(Self.words(Self.entries(h, "1")[0]) == ["HELLO", "2", "AUTH", "(redacted)", "(redacted)", "SETNAME", "n"])
        h.run("CONFIG", "SET", "requirepass", "pw2")
        #expect(Self.words(Self.entries(h, "1")[0]) == ["CONFIG", "SET", "requirepass", "(redacted)"])
    }

    @Test func helpMatchesRedis() {
        let h = Self.harness()
        let lines = h.run("SLOWLOG", "HELP").arrayValue?.compactMap(\.string) ?? []
        #expect(lines.first == "SLOWLOG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:")
        #expect(lines.count == 12)
        #expect(lines.last == "    Prints this help.")
    }

    @Test func latencyEvents() {
        var settings = ServerSettings()
        settings.enableDebugCommand = "yes"
        let h = ServerHarness(settings: settings)
        h.run("DEBUG", "SLEEP", "0.03")
        #expect(h.run("LATENCY", "LATEST") == .array([]))
        h.run("CONFIG", "SET", "latency-monitor-threshold", "10")
        h.run("DEBUG", "SLEEP", "0.03")
        let latest = h.run("LATENCY", "LATEST").arrayValue ?? []
        #expect(latest.count == 1)
        let event = latest.first?.arrayValue ?? []
        #expect(event.first == .bulk("command"))
        if event.count == 4, case .integer(let last) = event[2], case .integer(let worst) = event[3] {
            #expect(last >= 30 && worst >= last)
        } else {
            Issue.record("LATEST entry shape: \(event)")
        }
        #expect((h.run("LATENCY", "HISTORY", "command").arrayValue ?? []).count == 1)
        #expect(h.run("LATENCY", "HISTORY", "nosuch") == .array([]))
        #expect(h.run("LATENCY", "RESET", "nosuch") == .integer(0))
        #expect(h.run("LATENCY", "RESET") == .integer(1))
        #expect(h.run("LATENCY", "LATEST") == .array([]))
        #expect(h.run("LATENCY", "HISTORY") == .err("ERR wrong number of arguments for 'latency|history' command"))
    }

    @Test func latencyEventSamplesKeepOnePerSecond() {
        var e = LatencyEvent()
        e.add(5, nowSeconds: 100)
        e.add(9, nowSeconds: 100)
        e.add(3, nowSeconds: 100)
        e.add(4, nowSeconds: 101)
        #expect(e.samples.map(\.millis) == [9, 4])
        #expect(e.maxMillis == 9)
        for t in 0..<200 { e.add(1, nowSeconds: 200 + Int64(t)) }
        #expect(e.samples.count == LatencyEvent.samplesMax)
    }

    @Test func monitorFeedsOtherClients() {
        let h = Self.harness()
        let watcher = h.makeClient(id: 99)
        watcher.address = "127.0.0.1:40000"
        #expect(h.run([Array("MONITOR".utf8)], as: watcher) == .ok)
        h.run("SET", "k", "a\"b\\\n\u{1}")
        h.run("CONFIG", "GET", "port")  // admin: not shown
        h.run("SELECT", "2")
        let text = watcher.reply.buffer.getString(at: watcher.reply.buffer.readerIndex, length: watcher.reply.buffer.readableBytes) ?? ""
        let lines = text.split(separator: "\r\n").map(String.init)
        #expect(lines.count == 2)
        #expect(lines.first?.hasPrefix("+") == true)
        #expect(lines.first?.hasSuffix(" [0 127.0.0.1:50000] \"SET\" \"k\" \"a\\\"b\\\\\\n\\x01\"") == true)
        #expect(lines.last?.hasSuffix(" [2 127.0.0.1:50000] \"SELECT\" \"2\"") == true)
        watcher.reply.buffer.clear()
        // A monitor may not touch the keyspace; MONITOR again is silently ignored; RESET ends it.
        #expect(h.run([Array("GET".utf8), Array("k".utf8)], as: watcher) == .err("ERR Replica can't interact with the keyspace"))
        Arguments.with([Array("MONITOR".utf8)]) { h.server.engine.execute(watcher, $0) }
        #expect(watcher.reply.buffer.readableBytes == 0)
        #expect(h.run([Array("RESET".utf8)], as: watcher) == .simple("RESET"))
        h.run("PING")
        #expect(watcher.reply.buffer.readableBytes == 0)
    }

    @Test func monitorReprEscapes() {
        var out: [UInt8] = []
        MonitorCommand.appendRepr(&out, [0, 7, 8, 9, 10, 13, 34, 92, 65, 0x7F, 0xFF])
        #expect(String(decoding: out, as: UTF8.self) == "\"\\x00\\a\\b\\t\\n\\r\\\"\\\\A\\x7f\\xff\"")
    }
}
