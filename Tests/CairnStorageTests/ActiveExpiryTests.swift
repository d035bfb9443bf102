import CairnRESP
@testable import CairnStorage
import Testing

// The active cycle must reclaim keys nobody touches. These tests check behaviour, not timing:
// they run cycles until the keys are gone, with a generous cap.

@Suite struct ActiveExpiryTests {
    /// Runs cycles until `done` or the cap; returns how many ran.
    func runCycles(_ engine: Engine, cap: Int = 20_000, until done: () -> Bool) -> Int {
        var cycles = 0
        while !done() && cycles < cap {
            engine.activeExpireCycle()
            cycles += 1
        }
        return cycles
    }

    @Test func reclaimsManyShortLivedKeysNobodyTouches() async throws {
        let h = EngineHarness()
        for i in 0..<2000 {
            h.run("SET", "short:\(i)", "v")
            h.run("PEXPIRE", "short:\(i)", "\(1 + i % 30)")
        }
        for i in 0..<100 { h.run("SET", "keep:\(i)", "v") }
        for i in 0..<100 { h.run("SET", "long:\(i)", "v", "EX", "3600") }
        let db = h.engine.databases[0]
        #expect(db.count == 2200)
        // Let every short TTL run out (real time; the cycle reads the real clock).
        var waited = 0
        while Clock.unixMillis() <= h.engine.now + 40 && waited < 1000 {
            try await Task.sleep(nanoseconds: 5_000_000)
            waited += 1
        }
        _ = runCycles(h.engine) { db.count == 200 }
        #expect(db.count == 200)
        #expect(h.engine.stats.expiredKeys == 2000)
        #expect(db.table.volatileCount == 100)
        #expect(db.table.validate() == nil)
        #expect(h.run("EXISTS", "keep:0", "long:99") == .integer(2))
        #expect(h.run("TTL", "long:5") != .integer(-2))
    }

    @Test func reclaimsInEveryDatabase() {
        let engine = Engine()
        let past = Clock.unixMillis() - 1000
        for db in engine.databases.prefix(4) {
            for i in 0..<500 { db.insert(Array("k\(i)".utf8), .int(1), expireAt: past - Int64(i)) }
            db.insert(Array("stays".utf8), .int(1))
        }
        _ = runCycles(engine) { engine.databases.prefix(4).allSatisfy { $0.count == 1 } }
        for db in engine.databases.prefix(4) {
            #expect(db.count == 1)
            #expect(db.lookup(Array("stays".utf8)) != nil)
            #expect(db.table.volatileCount == 0)
        }
        #expect(engine.stats.expiredKeys == 2000)
    }

    @Test func leavesKeysWithTimeLeft() {
        let engine = Engine()
        let db = engine.databases[0]
        let future = Clock.unixMillis() + 3_600_000
        for i in 0..<300 { db.insert(Array("k\(i)".utf8), .int(1), expireAt: future) }
        for _ in 0..<100 { #expect(engine.activeExpireCycle() == 0) }
        #expect(db.count == 300)
        #expect(engine.stats.expiredKeys == 0)
    }

    @Test func mixedStaleAndFreshKeys() {
        // Few stale keys among many fresh ones: sampling stops early each cycle, yet repeated
        // cycles still find them all.
        let engine = Engine()
        let db = engine.databases[0]
        let now = Clock.unixMillis()
        for i in 0..<2000 { db.insert(Array("fresh\(i)".utf8), .int(1), expireAt: now + 3_600_000) }
        for i in 0..<50 { db.insert(Array("stale\(i)".utf8), .int(1), expireAt: now - 1) }
        _ = runCycles(engine) { db.count == 2000 }
        #expect(db.count == 2000)
        #expect(engine.stats.expiredKeys == 50)
        #expect(db.table.validate() == nil)
    }

    @Test func disabledCycleDoesNothing() {
        var settings = EngineSettings()
        settings.activeExpireEnabled = false
        let engine = Engine(settings: settings)
        let db = engine.databases[0]
        for i in 0..<100 { db.insert(Array("k\(i)".utf8), .int(1), expireAt: Clock.unixMillis() - 1) }
        #expect(engine.activeExpireCycle() == 0)
        #expect(db.count == 100)
        // Lazy expiry still hides and reclaims them on access (at a command time after their
        // expiry: the engine's clock was read when it was made, before the keys were).
        engine.now = Clock.unixMillis()
        #expect(db.lookup(Array("k0".utf8)) == nil)
        #expect(db.count == 99)
    }
}
