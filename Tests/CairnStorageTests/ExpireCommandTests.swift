import CairnRESP
@testable import CairnStorage
import Testing

// Expected replies were taken from Redis 7.0.15 running the same commands.

@Suite struct ExpireCommandTests {
    func integer(_ v: RESPValue) -> Int64? {
        if case .integer(let i) = v { return i }
        return nil
    }

    @Test func optionErrors() {
        let h = EngineHarness()
        h.run("SET", "k", "v")
        let nxConflict = RESPValue.err("ERR NX and XX, GT or LT options at the same time are not compatible")
        #expect(h.run("EXPIRE", "k", "100", "NX", "XX") == nxConflict)
        #expect(h.run("EXPIRE", "k", "100", "nx", "gt") == nxConflict)
        #expect(h.run("PEXPIRE", "k", "100", "LT", "NX") == nxConflict)
        #expect(h.run("EXPIRE", "k", "100", "GT", "LT") == .err("ERR GT and LT options at the same time are not compatible"))
        #expect(h.run("EXPIRE", "k", "100", "XX", "GT", "LT") == .err("ERR GT and LT options at the same time are not compatible"))
        #expect(h.run("EXPIRE", "k", "100", "foo") == .err("ERR Unsupported option foo"))
        #expect(h.run("EXPIRE", "k", "100", "foo", "NX", "XX") == .err("ERR Unsupported option foo"))
        #expect(h.run("EXPIRE", "k", "100", "") == .err("ERR Unsupported option "))
        // Options are checked before the time argument.
        #expect(h.run("EXPIRE", "k", "x", "NX", "XX") == nxConflict)
        #expect(h.run("EXPIRE", "k", "x", "foo") == .err("ERR Unsupported option foo"))
        #expect(h.run("EXPIRE", "k", "x") == .err("ERR value is not an integer or out of range"))
        #expect(h.run("EXPIRE", "k", "1.5") == .err("ERR value is not an integer or out of range"))
        #expect(h.run("EXPIRE", "k") == .err("ERR wrong number of arguments for 'expire' command"))
        #expect(h.run("PEXPIREAT", "k") == .err("ERR wrong number of arguments for 'pexpireat' command"))
        // The option is echoed as a C string (ends at NUL) with CR/LF turned into spaces.
        let nul: [[UInt8]] = [Array("EXPIRE".utf8), Array("k".utf8), Array("100".utf8), [0x6E, 0x00, 0x78]]
        #expect(h.run(nul) == .err("ERR Unsupported option n"))
        let crlf: [[UInt8]] = [Array("EXPIRE".utf8), Array("k".utf8), Array("100".utf8), [0x6E, 13, 10, 0x78]]
        #expect(h.run(crlf) == .err("ERR Unsupported option n  x"))
        #expect(h.run("EXPIRE", "k", "100", "NX", "NX") == .integer(1), "repeating an option is fine")
        #expect(h.run("TTL", "k") == .integer(100))
    }

    @Test func overflowErrors() {
        let h = EngineHarness()
        h.run("SET", "k", "v")
        for (command, time) in [("EXPIRE", "9223372036854775807"), ("EXPIRE", "9223372036854775"),
                                ("EXPIRE", "9223372036854774"), ("EXPIRE", "-9223372036854776"),
                                ("PEXPIRE", "9223372036854775807"), ("PEXPIRE", "9223372036854775806"),
                                ("EXPIREAT", "9223372036854776")] {
            #expect(h.run(command, "k", time) == .err("ERR invalid expire time in '\(command.lowercased())' command"), "\(command) \(time)")
        }
        #expect(h.run("TTL", "k") == .integer(-1), "a rejected time leaves the key alone")
        #expect(h.run("EXPIREAT", "k", "9223372036854775") == .integer(1))
        #expect(h.run("EXPIRETIME", "k") == .integer(9_223_372_036_854_775))
        #expect(h.run("PEXPIREAT", "k", "9223372036854775807") == .integer(1))
        #expect(h.run("PEXPIRETIME", "k") == .integer(Int64.max))
        // Rounded to the nearest second without overflowing.
        #expect(h.run("EXPIRETIME", "k") == .integer(9_223_372_036_854_776))
    }

    @Test func pastTimesDeleteTheKey() {
        let h = EngineHarness()
        for (command, time) in [("EXPIRE", "-1"), ("EXPIRE", "0"), ("PEXPIRE", "-9223372036854775808"),
                                ("PEXPIREAT", "1"), ("EXPIREAT", "0"), ("EXPIREAT", "-1"),
                                ("EXPIRE", "-9223372036854775")] {
            h.run("SET", "k", "v")
            let dirty = h.engine.dirty
            #expect(h.run(command, "k", time) == .integer(1), "\(command) \(time)")
            #expect(h.run("EXISTS", "k") == .integer(0), "\(command) \(time)")
            #expect(h.engine.dirty == dirty + 1)
        }
        #expect(h.engine.stats.expiredKeys == 0, "an explicit deletion is not an expiry")
        #expect(h.run("EXPIRE", "zz", "-1") == .integer(0))
    }

    @Test func setsTheExpiry() {
        let h = EngineHarness()
        #expect(h.run("EXPIRE", "zz", "100") == .integer(0))
        h.run("SET", "k", "v")
        let dirty = h.engine.dirty
        #expect(h.run("EXPIRE", "k", "100") == .integer(1))
        #expect(h.engine.dirty == dirty + 1)
        #expect(h.run("TTL", "k") == .integer(100))
        guard let pttl = integer(h.run("PTTL", "k")) else { Issue.record("no pttl"); return }
        #expect(pttl > 99_000 && pttl <= 100_000)
        // Inside MULTI/EXEC both commands see the same time, so the rounding is exact however
        // long the machine takes between them.
        h.run("MULTI"); h.run("PEXPIRE", "k", "1500"); h.run("TTL", "k")
        #expect(h.run("EXEC") == .array([.int(1), .int(2)]), "1500 ms rounds to 2 s")
        h.run("MULTI"); h.run("PEXPIRE", "k", "1499"); h.run("TTL", "k")
        #expect(h.run("EXEC") == .array([.int(1), .int(1)]))
        let at = (Clock.unixMillis() / 1000 + 1000)
        #expect(h.run("EXPIREAT", "k", "\(at)") == .integer(1))
        #expect(h.run("EXPIRETIME", "k") == .integer(at))
        #expect(h.run("PEXPIRETIME", "k") == .integer(at * 1000))
        #expect(h.run("PEXPIREAT", "k", "\(at * 1000 + 499)") == .integer(1))
        #expect(h.run("EXPIRETIME", "k") == .integer(at))
        #expect(h.run("PEXPIREAT", "k", "\(at * 1000 + 500)") == .integer(1))
        #expect(h.run("EXPIRETIME", "k") == .integer(at + 1))
        #expect(h.engine.databases[0].table.volatileCount == 1)
    }

    @Test func conditions() {
        let h = EngineHarness()
        h.run("SET", "k", "v")
        // Without an expiry: XX and GT fail, NX and LT pass.
        #expect(h.run("EXPIRE", "k", "100", "XX") == .integer(0))
        #expect(h.run("EXPIRE", "k", "100", "GT") == .integer(0))
        #expect(h.run("TTL", "k") == .integer(-1))
        #expect(h.run("EXPIRE", "k", "100", "NX") == .integer(1))
        #expect(h.run("EXPIRE", "k", "200", "NX") == .integer(0))
        #expect(h.run("EXPIRE", "k", "50", "GT") == .integer(0))
        guard let at = integer(h.run("PEXPIRETIME", "k")) else { Issue.record("no expiry"); return }
        #expect(h.run("PEXPIREAT", "k", "\(at)", "GT") == .integer(0), "equal is not greater")
        #expect(h.run("PEXPIREAT", "k", "\(at)", "LT") == .integer(0), "equal is not less")
        #expect(h.run("EXPIRE", "k", "150", "gt") == .integer(1))
        #expect(h.run("EXPIRE", "k", "300", "LT") == .integer(0))
        #expect(h.run("EXPIRE", "k", "120", "lt") == .integer(1))
        #expect(h.run("TTL", "k") == .integer(120))
        #expect(h.run("EXPIRE", "k", "200", "XX", "GT") == .integer(1))
        #expect(h.run("EXPIRE", "k", "100", "XX", "LT") == .integer(1))
        #expect(h.run("TTL", "k") == .integer(100))
        #expect(h.run("EXPIRE", "k", "-5", "GT") == .integer(0))
        #expect(h.run("EXISTS", "k") == .integer(1))
        #expect(h.run("EXPIRE", "k", "0", "LT") == .integer(1))
        #expect(h.run("EXISTS", "k") == .integer(0))

        h.run("SET", "p", "v")
        #expect(h.run("EXPIRE", "p", "-5", "XX") == .integer(0))
        #expect(h.run("EXPIRE", "p", "-5", "GT") == .integer(0))
        #expect(h.run("EXISTS", "p") == .integer(1))
        #expect(h.run("EXPIRE", "p", "-5", "LT") == .integer(1), "no expiry is infinite, so LT passes")
        #expect(h.run("EXISTS", "p") == .integer(0))
    }

    @Test func ttlFamilyOnMissingPersistentAndExpiredKeys() {
        let h = EngineHarness()
        for command in ["TTL", "PTTL", "EXPIRETIME", "PEXPIRETIME"] {
            #expect(h.run(command, "zz") == .integer(-2))
        }
        h.run("SET", "p", "v")
        for command in ["TTL", "PTTL", "EXPIRETIME", "PEXPIRETIME"] {
            #expect(h.run(command, "p") == .integer(-1))
            #expect(h.run(command) == .err("ERR wrong number of arguments for '\(command.lowercased())' command"))
        }
        h.run("SET", "e", "v")
        forceExpired(h, "e")
        #expect(h.run("TTL", "e") == .integer(-2))
        #expect(h.engine.stats.expiredKeys == 1)
        #expect(h.engine.databases[0].count == 1)
    }

    @Test func persist() {
        let h = EngineHarness()
        #expect(h.run("PERSIST", "zz") == .integer(0))
        h.run("SET", "k", "v")
        #expect(h.run("PERSIST", "k") == .integer(0))
        h.run("EXPIRE", "k", "100")
        let dirty = h.engine.dirty
        #expect(h.run("PERSIST", "k") == .integer(1))
        #expect(h.engine.dirty == dirty + 1)
        #expect(h.run("TTL", "k") == .integer(-1))
        #expect(h.run("PERSIST", "k") == .integer(0))
        #expect(h.engine.dirty == dirty + 1)
        #expect(h.engine.databases[0].table.volatileCount == 0)
        h.run("EXPIRE", "k", "100")
        forceExpired(h, "k")
        #expect(h.run("PERSIST", "k") == .integer(0), "too late: the key is gone")
        #expect(h.run("PERSIST", "k", "x") == .err("ERR wrong number of arguments for 'persist' command"))
    }

    @Test func setClearsAndKeepTTLKeepsTheExpiry() {
        let h = EngineHarness()
        h.run("SET", "k", "v")
        h.run("EXPIRE", "k", "100")
        h.run("SET", "k", "w")
        #expect(h.run("TTL", "k") == .integer(-1))
        h.run("EXPIRE", "k", "100")
        h.run("SET", "k", "x", "KEEPTTL")
        #expect(h.run("TTL", "k") == .integer(100))
    }

    @Test func shortExpiryElapses() async throws {
        let h = EngineHarness()
        h.run("SET", "k", "v")
        #expect(h.run("PEXPIRE", "k", "200") == .integer(1))
        #expect(h.run("EXISTS", "k") == .integer(1))
        var gone = false
        for _ in 0..<1000 where !gone {
            try await Task.sleep(nanoseconds: 10_000_000)
            gone = h.run("EXISTS", "k") == .integer(0)
        }
        #expect(gone)
        #expect(h.run("PTTL", "k") == .integer(-2))
    }
}
