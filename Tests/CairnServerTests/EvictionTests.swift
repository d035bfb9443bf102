@testable import CairnServer
import CairnRESP
import CairnStorage
import Testing

/// Eviction against a deterministic memory figure: the dataset estimate itself, read on every check.
@Suite struct EvictionTests {
    static func harness(policy: String, samples: Int = 5) -> ServerHarness {
        var settings = ServerSettings()
        settings.maxmemoryPolicy = policy
        settings.maxmemorySamples = samples
        settings.maxmemoryEvictionTenacity = 100  // no time limit: each run finishes (debug builds are slow)
        let h = ServerHarness(settings: settings)
        let engine = h.server.engine
        h.server.admin.evictor.gauge.measure = { MemoryUsage.datasetBytes(engine) }
        h.server.admin.evictor.gauge.minimumRefreshMicros = 0
        return h
    }

    static func fill(_ h: ServerHarness, _ n: Int, ttl: Bool = false, prefix: String = "k") {
        for i in 0..<n {
            if ttl {
                h.run("SET", "\(prefix)\(i)", String(repeating: "v", count: 100), "EX", "\(1000 + i)")
            } else {
                h.run("SET", "\(prefix)\(i)", String(repeating: "v", count: 100))
            }
        }
    }

    static func limit(_ h: ServerHarness, _ bytes: Int) {
        #expect(h.run("CONFIG", "SET", "maxmemory", "\(bytes)") == .ok)
    }

    static var oom: RESPValue { .err("OOM command not allowed when used memory > 'maxmemory'.") }

    @Test func noevictionRefusesDenyOOMCommandsOnly() {
        let h = Self.harness(policy: "noeviction")
        Self.fill(h, 20)
        Self.limit(h, 100)
        #expect(h.run("SET", "x", "1") == Self.oom)
        #expect(h.run("APPEND", "k1", "more") == Self.oom)
        #expect(h.run("GET", "k1") == .bulk(String(repeating: "v", count: 100)))
        #expect(h.run("DEL", "k1") == .integer(1))  // DEL is not denyoom: it frees memory
        #expect(h.run("DBSIZE") == .integer(19))
        #expect((h.run("INFO", "stats").string ?? "").contains("\r\nevicted_keys:0\r\n"))
        #expect((h.run("INFO", "errorstats").string ?? "").contains("errorstat_OOM:count=2"))
        Self.limit(h, 0)
        #expect(h.run("SET", "x", "1") == .ok)
    }

    @Test func multiUnderOOMAbortsTheTransaction() {
        let h = Self.harness(policy: "noeviction")
        Self.fill(h, 5)
        Self.limit(h, 100)
        #expect(h.run("MULTI") == .ok)
        #expect(h.run("GET", "k1") == Self.oom)  // anything queued is refused while over the limit
        #expect(h.run("EXEC") == .err("EXECABORT Transaction discarded because of previous errors."))
    }

    @Test func allkeysRandomEvictsUntilUnderTheLimit() {
        let h = Self.harness(policy: "allkeys-random")
        Self.fill(h, 100)
        let full = MemoryUsage.datasetBytes(h.server.engine)
        Self.limit(h, full / 2)
        #expect(MemoryUsage.datasetBytes(h.server.engine) <= full / 2)
        guard case .integer(let left) = h.run("DBSIZE") else { Issue.record("DBSIZE"); return }
        #expect(left > 30 && left <= 50)
        #expect(h.run("SET", "new", "value") == .ok)
        let evicted = h.server.admin.evictor.evictedKeys
        #expect(evicted >= 50)
        let info = h.run("INFO", "stats").string ?? ""
        #expect(info.contains("\r\nevicted_keys:\(h.server.admin.evictor.evictedKeys)\r\n"))
        #expect(h.server.admin.evictor.evictedKeys >= evicted)
        h.run("CONFIG", "RESETSTAT")
        #expect(h.server.admin.evictor.evictedKeys == 0)
    }

    @Test func volatilePoliciesNeedKeysWithATTL() {
        for policy in ["volatile-lru", "volatile-lfu", "volatile-random", "volatile-ttl"] {
            let h = Self.harness(policy: policy)
            Self.fill(h, 20)
            Self.fill(h, 20, ttl: true, prefix: "t")
            let full = MemoryUsage.datasetBytes(h.server.engine)
            Self.limit(h, full * 3 / 4)
            // Only keys with a TTL went.
            for i in 0..<20 { #expect(h.run("EXISTS", "k\(i)") == .integer(1), "\(policy)") }
            #expect(h.server.admin.evictor.evictedKeys > 0, "\(policy)")
            // With every volatile key gone, nothing is evictable: OOM.
            Self.limit(h, 100)
            #expect(h.run("SET", "x", "1") == Self.oom, "\(policy)")
            #expect(h.run("DBSIZE") == .integer(20), "\(policy)")
        }
    }

    @Test func volatileTTLEvictsTheSoonestToExpire() {
        let h = Self.harness(policy: "volatile-ttl", samples: 64)
        Self.fill(h, 40, ttl: true)  // k0 expires first, k39 last
        let full = MemoryUsage.datasetBytes(h.server.engine)
        Self.limit(h, full / 2)
        for i in 30..<40 { #expect(h.run("EXISTS", "k\(i)") == .integer(1)) }
        for i in 0..<10 { #expect(h.run("EXISTS", "k\(i)") == .integer(0)) }
    }

    @Test func allkeysLRUKeepsRecentlyUsedKeys() {
        let h = Self.harness(policy: "allkeys-lru", samples: 64)
        Self.fill(h, 40)
        let engine = h.server.engine
        let db = engine.databases[0]
        // Age every key, then touch the first ten.
        for i in db.table.indices { db.table.setAccessClock(at: i, engine.lruClock &- 1000) }
        for i in 0..<10 { h.run("GET", "k\(i)") }
        let full = MemoryUsage.datasetBytes(engine)
        Self.limit(h, full / 2)
        for i in 0..<10 { #expect(h.run("EXISTS", "k\(i)") == .integer(1)) }
        #expect(h.server.admin.evictor.evictedKeys >= 20)
    }

    @Test func lfuCountsAccessesAndKeepsFrequentKeys() {
        let h = Self.harness(policy: "allkeys-lfu", samples: 64)
        h.server.admin.evictor.lfuLogFactor = 0  // every access counts
        Self.fill(h, 40)
        let engine = h.server.engine
        let db = engine.databases[0]
        let evictor = h.server.admin.evictor
        guard let k0 = db.table.find(Array("k0".utf8)) else { Issue.record("k0"); return }
        #expect(evictor.frequency(db.table[k0], nowMillis: engine.now) == Int(LFU.initialValue))
        for _ in 0..<20 { for i in 0..<10 { h.run("GET", "k\(i)") } }
        guard let k1 = db.table.find(Array("k1".utf8)) else { Issue.record("k1"); return }
        #expect(evictor.frequency(db.table[k1], nowMillis: engine.now) == Int(LFU.initialValue) + 20)
        // TYPE does not touch the key (LOOKUP_NOTOUCH), so the counter stays.
        h.run("TYPE", "k1")
        #expect(evictor.frequency(db.table[k1], nowMillis: engine.now) == Int(LFU.initialValue) + 20)
        let full = MemoryUsage.datasetBytes(engine)
        Self.limit(h, full / 2)
        for i in 0..<10 { #expect(h.run("EXISTS", "k\(i)") == .integer(1)) }
    }

    @Test func lfuArithmetic() {
        var g = SystemRandomNumberGenerator()
        let now: Int64 = 1_700_000_000_000
        let fresh = LFU.initialClock(nowMillis: now)
        #expect(LFU.counter(clock: fresh, nowMillis: now, decayMinutes: 1) == 5)
        // Decays one step per decay period.
        #expect(LFU.counter(clock: fresh, nowMillis: now + 3 * 60_000, decayMinutes: 1) == 2)
        #expect(LFU.counter(clock: fresh, nowMillis: now + 30 * 60_000, decayMinutes: 1) == 0)
        #expect(LFU.counter(clock: fresh, nowMillis: now + 30 * 60_000, decayMinutes: 0) == 5)
        #expect(LFU.increment(255, logFactor: 10, using: &g) == 255)
        #expect(LFU.increment(3, logFactor: 10, using: &g) == 4)  // below the initial value: always
        var c: UInt32 = 5
        for _ in 0..<1000 { c = LFU.increment(c, logFactor: 10, using: &g) }
        #expect(c > 5 && c < 40)  // logarithmic: ~1000 hits reach the low teens with factor 10
    }

    @Test func gaugeAddsWritesBetweenReadings() {
        var reading = 1000
        let gauge = MemoryGauge(measure: { reading })
        gauge.minimumRefreshMicros = 1_000_000_000
        #expect(gauge.current() == 1000)
        reading = 5000
        gauge.adjust(300)
        #expect(gauge.current() == 1300)  // not re-read yet: last reading plus drift
        gauge.refresh()
        #expect(gauge.current() == 5000)
    }
}
