@testable import CairnServer
import CairnRESP
import CairnStorage
import Testing

@Suite struct MemoryTests {
    @Test func usage() {
        let h = ServerHarness()
        h.run("SET", "small", "v")
        h.run("SET", "big", String(repeating: "x", count: 10_000))
        h.run("SET", "int", "42")
        guard case .integer(let small) = h.run("MEMORY", "USAGE", "small"),
              case .integer(let big) = h.run("MEMORY", "USAGE", "big"),
              case .integer(let int) = h.run("MEMORY", "USAGE", "int") else {
            Issue.record("MEMORY USAGE answers integers"); return
        }
        // A 16-byte table slot and a 4-byte bucket share, plus the key's record as one malloc chunk
        // (KeyRecord.swift): header 16 + key + value bytes, or + 8 for an integer's scalar.
        #expect(small == 16 + 4 + MemoryUsage.mallocChunk(16 + 5 + 1))
        #expect(int == 16 + 4 + MemoryUsage.mallocChunk(16 + 8 + 3))
        #expect(big == 16 + 4 + MemoryUsage.mallocChunk(16 + 3 + 10_000))
        // An expiry: a volatile-list slot and the record's 16-byte expiry block.
        h.run("EXPIRE", "small", "100")
        let withExpiry = Int64(16 + 4 + 4 + MemoryUsage.mallocChunk(16 + 16 + 5 + 1))
        #expect(h.run("MEMORY", "USAGE", "small") == .integer(withExpiry))
        #expect(h.run("MEMORY", "USAGE", "nokey") == .nilBulk)
        #expect(h.run("MEMORY", "USAGE", "big", "SAMPLES", "0") == .integer(big))
        #expect(h.run("MEMORY", "USAGE", "big", "samples", "1", "SAMPLES", "2") == .integer(big))
        #expect(h.run("MEMORY", "USAGE", "big", "SAMPLES") == .err("ERR syntax error"))
        #expect(h.run("MEMORY", "USAGE", "big", "SAMPLES", "-1") == .err("ERR syntax error"))
        #expect(h.run("MEMORY", "USAGE", "big", "SAMPLES", "x") == .err("ERR value is not an integer or out of range"))
        #expect(h.run("MEMORY", "USAGE", "nokey", "SAMPLES", "x") == .err("ERR value is not an integer or out of range"))
        #expect(h.run("MEMORY", "USAGE", "big", "foo", "1") == .err("ERR syntax error"))
        #expect(h.run("MEMORY", "USAGE") == .err("ERR wrong number of arguments for 'memory|usage' command"))
    }

    @Test func listUsageGrowsWithElementsAndSamples() {
        let small = QuickList((0..<10).map { Array("e\($0)".utf8) })
        let large = QuickList((0..<20_000).map { Array("element-\($0)".utf8) })
        let s = MemoryUsage.valueBytes(.list(small))
        let all = MemoryUsage.valueBytes(.list(large), samples: 0)
        let sampled = MemoryUsage.valueBytes(.list(large), samples: 5)
        #expect(all > 20_000 * 10)
        #expect(s < all)
        // The sample extrapolates from full nodes: within a few percent of the exact walk.
        #expect(abs(sampled - all) * 20 < all)
    }

    @Test func mallocChunkRounding() {
        #expect(MemoryUsage.mallocChunk(1) == 32)
        #expect(MemoryUsage.mallocChunk(24) == 32)
        #expect(MemoryUsage.mallocChunk(25) == 48)
        #expect(MemoryUsage.mallocChunk(100) == 112)
    }

    @Test func statsDoctorHelp() {
        let h = ServerHarness()
        h.run("SET", "k", "v")
        let stats = h.run("MEMORY", "STATS")
        #expect(stats.field("keys.count") == .integer(1))
        #expect(stats.field("total.allocated") != nil)
        #expect(stats.field("db.0")?.field("overhead.hashtable.main") != nil)
        #expect(stats.field("dataset.bytes") != nil)
        let doctor = h.run("MEMORY", "DOCTOR").string ?? ""
        #expect(doctor.hasPrefix("Hi Sam, "))
        #expect(h.run("MEMORY", "PURGE") == .ok)
        #expect(h.run("MEMORY", "MALLOC-STATS") == .bulk("Stats not supported for the current allocator"))
        let help = h.run("MEMORY", "HELP").arrayValue?.compactMap(\.string) ?? []
        #expect(help.first == "MEMORY <subcommand> [<arg> [value] [opt] ...]. Subcommands are:")
        #expect(help.count == 14)
        #expect(h.run("MEMORY", "FOO") == .err("ERR unknown subcommand 'FOO'. Try MEMORY HELP."))
    }

    @Test func infoReportsMaxmemorySettings() {
        let h = ServerHarness()
        h.run("CONFIG", "SET", "maxmemory", "100mb")
        h.run("CONFIG", "SET", "maxmemory-policy", "ALLKEYS-LRU")
        let text = h.run("INFO", "memory").string ?? ""
        #expect(text.contains("\r\nmaxmemory:104857600\r\n"))
        #expect(text.contains("\r\nmaxmemory_human:100.00M\r\n"))
        #expect(text.contains("\r\nmaxmemory_policy:allkeys-lru\r\n"))
        #expect(text.contains("\r\nused_memory_peak:"))
        #expect(h.run("CONFIG", "GET", "maxmemory-policy") == .array([.bulk("maxmemory-policy"), .bulk("allkeys-lru")]))
        #expect(h.run("CONFIG", "SET", "maxmemory-policy", "foo")
            == .err("ERR CONFIG SET failed (possibly related to argument 'maxmemory-policy') - argument(s) must be one of the following: volatile-lru, volatile-lfu, volatile-random, volatile-ttl, allkeys-lru, allkeys-lfu, allkeys-random, noeviction"))
        #expect(h.run("CONFIG", "SET", "maxmemory-samples", "0")
            == .err("ERR CONFIG SET failed (possibly related to argument 'maxmemory-samples') - argument must be between 1 and 2147483647 inclusive"))
        #expect(h.run("CONFIG", "SET", "maxmemory", "-1")
            == .err("ERR CONFIG SET failed (possibly related to argument 'maxmemory') - argument must be a memory value"))
        #expect((h.run("INFO", "stats").string ?? "").contains("\r\nevicted_keys:0\r\n"))
    }
}
