@testable import CairnStorage
import Testing

@Suite struct HashValueTests {
    func b(_ s: String) -> [UInt8] { Array(s.utf8) }
    let limits = HashLimits(maxListpackEntries: 512, maxListpackValue: 64)

    func contents(_ h: HashValue) -> [[UInt8]: [UInt8]] {
        var out: [[UInt8]: [UInt8]] = [:]
        h.forEach { out[Array($0)] = Array($1) }
        return out
    }

    func order(_ h: HashValue) -> [String] {
        var out: [String] = []
        h.forEach { f, _ in out.append(String(decoding: f, as: UTF8.self)) }
        return out
    }

    @Test func listpackKeepsInsertionOrderAndUpdatesInPlace() {
        let h = HashValue()
        #expect(h.set(b("b"), b("1"), limits: limits))
        #expect(h.set(b("a"), b("2"), limits: limits))
        #expect(h.set(b(""), b(""), limits: limits))
        #expect(!h.set(b("b"), b("updated value"), limits: limits))
        #expect(order(h) == ["b", "a", ""])
        #expect(h.value(b("b")).map(Array.init) == b("updated value"))
        #expect(h.value(b(""))?.isEmpty == true)
        #expect(h.value(b("zz")) == nil)
        #expect(h.count == 3)
        #expect("\(h.encodingName)" == "listpack")
        #expect(b("a").withUnsafeBytes { h.remove($0) })
        #expect(!b("a").withUnsafeBytes { h.remove($0) })
        #expect(order(h) == ["b", ""])
        #expect(h.validate(limits: limits) == nil)
    }

    @Test func fieldThatLooksLikeAValueIsNotMatched() {
        // The walk compares fields only: a value equal to the wanted field must not match.
        let h = HashValue()
        h.set(b("f1"), b("target"), limits: limits)
        h.set(b("f2"), b("x"), limits: limits)
        #expect(h.value(b("target")) == nil)
        #expect(!b("target").withUnsafeBytes { h.contains($0) })
        #expect(h.value(b("f2")).map(Array.init) == b("x"))
    }

    @Test func longEntriesInTheListpackWalk() {
        // Multi-byte length headers and backlens (127/128/16384 boundaries).
        let h = HashValue()
        let big = HashLimits(maxListpackEntries: 512, maxListpackValue: 100_000)
        for n in [0, 1, 126, 127, 128, 129, 16383, 16384, 16385] {
            h.set(b("f\(n)"), [UInt8](repeating: 7, count: n), limits: big)
        }
        for n in [0, 1, 126, 127, 128, 129, 16383, 16384, 16385] {
            #expect(h.value(b("f\(n)"))?.count == n)
        }
        #expect(h.isListpack)
        #expect(h.validate(limits: big) == nil)
    }

    @Test func convertsPastTheEntryLimitAndNeverBack() {
        let small = HashLimits(maxListpackEntries: 4, maxListpackValue: 64)
        let h = HashValue()
        for i in 0..<4 { h.set(b("f\(i)"), b("v\(i)"), limits: small) }
        #expect(h.isListpack)
        h.set(b("f4"), b("v4"), limits: small)
        #expect(!h.isListpack)
        #expect("\(h.encodingName)" == "hashtable")
        for i in 0..<5 { #expect(h.value(b("f\(i)")).map(Array.init) == b("v\(i)")) }
        for i in 0..<5 { _ = b("f\(i)").withUnsafeBytes { h.remove($0) } }
        #expect(h.isEmpty)
        #expect(!h.isListpack)
        #expect(h.validate(limits: small) == nil)
    }

    @Test func convertsOnLongFieldOrValue() {
        let h = HashValue()
        h.set(b("a"), [UInt8](repeating: 1, count: 64), limits: limits)
        #expect(h.isListpack)
        h.set(b("b"), [UInt8](repeating: 1, count: 65), limits: limits)
        #expect(!h.isListpack)
        let h2 = HashValue()
        h2.set([UInt8](repeating: 1, count: 65), b("v"), limits: limits)
        #expect(!h2.isListpack)
        let h3 = HashValue()
        h3.convertIfTooLong([1, 2, 64], limits: limits)
        #expect(h3.isListpack)
        h3.convertIfTooLong([1, 65], limits: limits)
        #expect(!h3.isListpack)
    }

    @Test func copyIsIndependent() {
        let h = HashValue()
        h.set(b("a"), b("1"), limits: limits)
        let c = h.copy()
        c.set(b("a"), b("2"), limits: limits)
        c.set(b("b"), b("3"), limits: limits)
        #expect(contents(h) == [b("a"): b("1")])
        #expect(contents(c) == [b("a"): b("2"), b("b"): b("3")])
        h.convertToTable()
        let d = h.copy()
        d.set(b("z"), b("9"), limits: limits)
        #expect(h.count == 1 && d.count == 2)
    }

    @Test func pairAtIndexAndPairs() {
        for convert in [false, true] {
            let h = HashValue()
            for i in 0..<10 { h.set(b("f\(i)"), b("v\(i)"), limits: limits) }
            if convert { h.convertToTable() }
            let all = h.pairs
            #expect(all.count == 10)
            for k in 0..<10 {
                let p = h.pair(at: k)
                #expect(p?.field == all[k].field && p?.value == all[k].value)
            }
            #expect(h.pair(at: 10) == nil)
            #expect(h.pair(at: -1) == nil)
        }
    }

    /// Random sets and removes against a Dictionary model, across the conversion.
    @Test func randomEditsMatchModel() {
        var rng = SeededRandom(seed: 42)
        let small = HashLimits(maxListpackEntries: 40, maxListpackValue: 20)
        for _ in 0..<20 {
            let h = HashValue()
            var model: [[UInt8]: [UInt8]] = [:]
            for _ in 0..<300 {
                let field = b("f\(Int.random(in: 0..<60, using: &rng))")
                let value = [UInt8](repeating: UInt8(ascii: "v"), count: Int.random(in: 0..<22, using: &rng))
                if Int.random(in: 0..<3, using: &rng) == 0 {
                    let removed = field.withUnsafeBytes { h.remove($0) }
                    #expect(removed == (model.removeValue(forKey: field) != nil))
                } else {
                    let inserted = h.set(field, value, limits: small)
                    #expect(inserted == (model.updateValue(value, forKey: field) == nil))
                }
                #expect(h.count == model.count)
            }
            #expect(contents(h) == model)
            #expect(h.validate(limits: small) == nil)
            let shouldBeTable = model.count > 40
            if shouldBeTable { #expect(!h.isListpack) }
        }
    }

    @Test func scanCoversEverythingAcrossResizes() {
        let h = HashValue()
        for i in 0..<200 { h.set(b("f\(i)"), b("v\(i)"), limits: limits) }
        h.convertToTable()
        var seen: [[UInt8]: [UInt8]] = [:]
        var cursor: UInt64 = 0
        var steps = 0
        repeat {
            cursor = h.scan(cursor: cursor) { seen[$0] = $1 }
            steps += 1
            // Grow mid-scan: entries present throughout must still come back.
            if steps == 20 { for i in 200..<600 { h.set(b("g\(i)"), b("w"), limits: limits) } }
        } while cursor != 0
        for i in 0..<200 { #expect(seen[b("f\(i)")] == b("v\(i)")) }
    }
}
