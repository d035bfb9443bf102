@testable import CairnServer
import CairnRESP
import CairnStorage
import Testing

@Suite struct InfoCommandTests {
    static func sectionTitles(_ text: String) -> [String] {
        text.split(separator: "\r\n").filter { $0.hasPrefix("# ") }.map { String($0.dropFirst(2)) }
    }

    static func fieldNames(_ text: String) -> [String] {
        text.split(separator: "\r\n").filter { !$0.hasPrefix("#") }.compactMap { $0.split(separator: ":").first.map(String.init) }
    }

    @Test func defaultAllAndEverything() {
        let h = ServerHarness()
        let defaults = ["Server", "Clients", "Memory", "Persistence", "Stats", "Replication", "CPU", "Modules",
                        "Errorstats", "Cluster", "Keyspace"]
        #expect(Self.sectionTitles(h.run("INFO").string ?? "") == defaults)
        #expect(Self.sectionTitles(h.run("INFO", "default").string ?? "") == defaults)
        let all = ["Server", "Clients", "Memory", "Persistence", "Stats", "Replication", "CPU", "Modules",
                   "Commandstats", "Errorstats", "Latencystats", "Cluster", "Keyspace"]
        #expect(Self.sectionTitles(h.run("INFO", "all").string ?? "") == all)
        #expect(Self.sectionTitles(h.run("INFO", "everything").string ?? "") == all)
    }

    @Test func sectionsComeInRedisOrderWhateverTheRequestOrder() {
        let h = ServerHarness()
        #expect(Self.sectionTitles(h.run("INFO", "KEYSPACE", "cpu", "nosuch").string ?? "") == ["CPU", "Keyspace"])
        #expect(h.run("INFO", "nosuch") == .bulk(""))
        #expect(h.run("INFO", "modules") == .bulk("# Modules\r\n"))
    }

    @Test func keyspaceIsExactAndLinesEndInCRLF() {
        let h = ServerHarness()
        #expect(h.run("INFO", "keyspace") == .bulk("# Keyspace\r\n"))
        h.run("SET", "k", "v")
        h.run("SELECT", "3")
        h.run("SET", "x", "1")
        #expect(h.raw("INFO", "keyspace") == "$76\r\n# Keyspace\r\ndb0:keys=1,expires=0,avg_ttl=0\r\ndb3:keys=1,expires=0,avg_ttl=0\r\n\r\n")
        let text = h.run("INFO", "everything").string ?? ""
        #expect(text.hasSuffix("\r\n"))
        #expect(!text.replacingCRLF().contains("\n"), "every line ends in CRLF")
        #expect(text.contains("\r\n\r\n# Clients\r\n"))
    }

    @Test func keyspaceAverageTTL() {
        let h = ServerHarness()
        h.run("SET", "k", "v", "PX", "100000")
        let line = (h.run("INFO", "keyspace").string ?? "").split(separator: "\r\n").last.map(String.init) ?? ""
        #expect(line.hasPrefix("db0:keys=1,expires=1,avg_ttl="))
        let ttl = Int(line.split(separator: "=").last ?? "") ?? -1
        #expect(ttl > 90_000 && ttl <= 100_000)
    }

    @Test func serverSectionFields() {
        let h = ServerHarness()
        let text = h.run("INFO", "server").string ?? ""
        #expect(Self.fieldNames(text) == ["redis_version", "redis_git_sha1", "redis_git_dirty", "redis_build_id",
                                          "cairn_version", "redis_mode", "os", "arch_bits", "monotonic_clock",
                                          "multiplexing_api", "atomicvar_api", "gcc_version", "process_id", "process_supervised",
                                          "run_id", "tcp_port", "server_time_usec", "uptime_in_seconds",
                                          "uptime_in_days", "hz", "configured_hz", "lru_clock", "executable",
                                          "config_file", "io_threads_active"])
        #expect(text.contains("\r\nredis_version:7.0.15\r\nredis_git_sha1:00000000\r\n"))
        #expect(text.contains("\r\ncairn_version:0.1.0\r\n"))
        #expect(text.contains("\r\ntcp_port:6379\r\n"))
        let runID = text.split(separator: "\r\n").first { $0.hasPrefix("run_id:") }?.dropFirst(7) ?? ""
        #expect(runID.count == 40 && runID.allSatisfy { $0.isHexDigit })
    }

    @Test func statsPersistenceAndReplication() {
        let h = ServerHarness()
        h.run("SET", "a", "1")
        h.run("GET", "a")
        h.run("GET", "missing")
        let text = h.run("INFO", "stats", "persistence", "replication").string ?? ""
        #expect(text.contains("\r\nkeyspace_hits:1\r\n"))
        #expect(text.contains("\r\nkeyspace_misses:1\r\n"))
        #expect(text.contains("\r\ntotal_commands_processed:3\r\n"))
        #expect(text.contains("\r\nrdb_changes_since_last_save:1\r\n"))
        #expect(text.contains("\r\nrole:master\r\nconnected_slaves:0\r\n"))
        let replid = text.split(separator: "\r\n").first { $0.hasPrefix("master_replid:") }?.dropFirst(14) ?? ""
        #expect(replid.count == 40)
    }

    @Test func commandAndErrorStats() {
        let h = ServerHarness()
        h.run("GET", "a")
        h.run("NOSUCHCMD")
        h.run("GET")
        h.run("SET", "a", "1", "EX", "0")
        let text = h.run("INFO", "commandstats", "errorstats").string ?? ""
        let lines = text.split(separator: "\r\n").map(String.init)
        let get = lines.first { $0.hasPrefix("cmdstat_get:") } ?? ""
        #expect(get.hasPrefix("cmdstat_get:calls=1,usec="))
        #expect(get.hasSuffix(",rejected_calls=1,failed_calls=0"))
        #expect(get.contains(",usec_per_call="))
        #expect(lines.contains { $0.hasPrefix("cmdstat_set:calls=1,") && $0.hasSuffix("rejected_calls=0,failed_calls=1") })
        #expect(lines.contains("errorstat_ERR:count=3"))
        #expect(!lines.contains { $0.hasPrefix("cmdstat_ping:") }, "commands never called are left out")
    }

    @Test func memoryAndCPUAreMeasured() {
        let h = ServerHarness()
        let text = h.run("INFO", "memory", "cpu").string ?? ""
        let fields = Dictionary(text.split(separator: "\r\n").compactMap { line -> (String, String)? in
            let kv = line.split(separator: ":", maxSplits: 1)
            return kv.count == 2 ? (String(kv[0]), String(kv[1])) : nil
        }, uniquingKeysWith: { a, _ in a })
        #if os(Linux)
        #expect((Int(fields["used_memory"] ?? "") ?? 0) > 0)
        #expect((Int(fields["used_memory_rss"] ?? "") ?? 0) > 0)
        #endif
        #expect(fields["maxmemory_policy"] == "noeviction")
        #expect(fields["mem_allocator"] == "libc")
        #expect(fields["used_cpu_user"]?.split(separator: ".").last?.count == 6)
    }

    @Test func verbatimInRESP3() {
        let h = ServerHarness()
        h.run("HELLO", "3")
        #expect(h.raw("INFO", "modules") == "=15\r\ntxt:# Modules\r\n\r\n")
    }

    @Test func formatting() {
        #expect(InfoFormat.fixed(10.4666, 2) == "10.47")
        #expect(InfoFormat.fixed(0, 2) == "0.00")
        #expect(InfoFormat.fixed(2, 2) == "2.00")
        #expect(InfoFormat.fixed(-1.5, 1) == "-1.5")
        #expect(InfoFormat.human(1000) == "1000B")
        #expect(InfoFormat.human(1_339_600) == "1.28M")
        #expect(InfoFormat.human(25_276_514_304) == "23.54G")
        #expect(InfoFormat.human(32768) == "32.00K")
        #expect(InfoFormat.seconds(micros: 92943) == "0.092943")
        #expect(InfoFormat.seconds(micros: 3_000_001) == "3.000001")
    }

    @Test func mallocInfoTotals() {
        let xml = """
        <malloc version="1">
        <heap nr="0">
        <total type="fast" count="0" size="0"/>
        <total type="rest" count="1" size="999"/>
        <system type="current" size="1"/>
        </heap>
        <total type="fast" count="2" size="100"/>
        <total type="rest" count="1" size="50288"/>
        <total type="mmap" count="1" size="4096"/>
        <system type="current" size="135168"/>
        <system type="max" size="135168"/>
        </malloc>
        """
        #expect(MallocInfo.parseInUseBytes(xml) == 135168 - 100 - 50288 + 4096)
        #expect(MallocInfo.parseInUseBytes("<malloc></malloc>") == nil)
    }

    @Test func opsSampler() {
        var s = OpsSampler()
        s.sample(commands: 0, nowMillis: 1000)
        s.sample(commands: 50, nowMillis: 1050)  // too soon: ignored
        s.sample(commands: 160, nowMillis: 1100)  // 160 commands in 100 ms
        #expect(s.perSecond == 1600 / 16)
    }
}

extension String {
    func replacingCRLF() -> String { split(separator: "\r\n", omittingEmptySubsequences: false).joined(separator: "") }
}
