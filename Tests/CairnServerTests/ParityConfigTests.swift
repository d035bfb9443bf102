@testable import CairnServer
import Testing

// The directives of ParityConfig.swift: value syntax and canonical text as Redis 7.0's config.c.
@Suite struct ParityConfigTests {
    private func get(_ s: ServerSettings, _ name: String) -> String? { ConfigTable.lookup(name)?.get(s) }

    private func set(_ s: inout ServerSettings, _ name: String, _ args: String...) throws {
        guard let d = ConfigTable.lookup(name) else { throw ConfigError("unknown \(name)") }
        try d.set(&s, args)
    }

    @Test func defaultsAndAliases() {
        let s = ServerSettings()
        #expect(get(s, "list-max-ziplist-size") == "-2")
        #expect(get(s, "lua-time-limit") == "5000")
        #expect(get(s, "latency-tracking-info-percentiles") == "50 99 99.9")
        #expect(get(s, "oom-score-adj-values") == "0 200 800")
        #expect(get(s, "tls-session-cache-size") == "20480")
        #expect(get(s, "active-defrag-ignore-bytes") == "104857600")
        #expect(ConfigTable.lookup("io-threads")?.mutable == false)
        #expect(ConfigTable.lookup("tls-port")?.mutable == true)
        #expect(s.parity.replicaIgnoreMaxmemory)
    }

    @Test func keyspaceEventsAsRedisPrintsThem() throws {
        #expect(try ParityConfig.keyspaceEventsText("KEA") == "AKE")
        #expect(try ParityConfig.keyspaceEventsText("g$lshzxetdnKEm") == "AKEm")
        #expect(try ParityConfig.keyspaceEventsText("Ex") == "xE")
        #expect(try ParityConfig.keyspaceEventsText("") == "")
        #expect(throws: ConfigError.self) { try ParityConfig.keyspaceEventsText("KEq") }
        // Stored with every class it sets, so that "n" next to "A" still counts.
        #expect(try ParityConfig.keyspaceEvents("KEAn") == "g$lshzxetdnKE")
        #expect(try ParityConfig.keyspaceEventsText(ParityConfig.keyspaceEvents("KEAn")) == "AKE")
        #expect(throws: ConfigError.self) { try ParityConfig.keyspaceEvents("KEq") }
    }

    @Test func percentilesAndOomValues() throws {
        #expect(try ParityConfig.percentiles(["50.5 1e1 0x10"]) == "50.5 10 16")
        #expect(try ParityConfig.percentiles([""]) == "")
        #expect(try ParityConfig.percentiles(["50", "99"]) == "50 99")
        #expect(throws: ConfigError.self) { try ParityConfig.percentiles(["50  99"]) }
        #expect(throws: ConfigError.self) { try ParityConfig.percentiles(["100.5"]) }
        #expect(throws: ConfigError.self) { try ParityConfig.percentiles(["nan"]) }
        #expect(try ParityConfig.oomScoreAdjValues(["-100 200 800"]) == "-100 200 800")
        #expect(throws: ConfigError.self) { try ParityConfig.oomScoreAdjValues(["1 2"]) }
        #expect(throws: ConfigError.self) { try ParityConfig.oomScoreAdjValues(["0 0 2001"]) }
    }

    @Test func maxmemoryClientsBytesOrPercent() throws {
        #expect(try ParityConfig.maxmemoryClients("5%") == "5%")
        #expect(try ParityConfig.maxmemoryClients("0%") == "0")
        #expect(try ParityConfig.maxmemoryClients("1kb") == "1024")
        do {
            _ = try ParityConfig.maxmemoryClients("101%")
            Issue.record("101% accepted")
        } catch let e as ConfigError {
            #expect(e.message == "percentage argument must be less or equal to 100")
        }
        #expect(throws: ConfigError.self) { try ParityConfig.maxmemoryClients("-5%") }
    }

    @Test func enumsPrintTheirFirstName() throws {
        var s = ServerSettings()
        try set(&s, "oom-score-adj", "RELATIVE")
        #expect(get(s, "oom-score-adj") == "yes")
        try set(&s, "acl-pubsub-default", "AllChannels")
        #expect(get(s, "acl-pubsub-default") == "allchannels")
        try set(&s, "slave-ignore-maxmemory", "no")
        #expect(!s.parity.replicaIgnoreMaxmemory)
        #expect(throws: ConfigError.self) { try set(&s, "activedefrag", "yes") }
    }

    @Test func rewriteWritesChangedOnesOnly() throws {
        var s = ServerSettings()
        try set(&s, "notify-keyspace-events", "Ex")
        try set(&s, "latency-tracking-info-percentiles", "")
        let text = ConfigRewrite.rewrittenText("", settings: s)
        #expect(text.contains("notify-keyspace-events \"xE\"\n"))
        #expect(text.contains("latency-tracking-info-percentiles \"\"\n"))
        #expect(!text.contains("tls-port"))
        var again = ServerSettings()
        try ConfigFile.apply(text.split(separator: "\n").filter { !$0.hasPrefix("dir ") }.joined(separator: "\n"), to: &again)
        #expect(get(again, "notify-keyspace-events") == "xE")
        #expect(get(again, "latency-tracking-info-percentiles") == "")
    }
}
