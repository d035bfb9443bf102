#if canImport(Glibc)
import Glibc
#endif
@testable import CairnStorage
import Testing

@Suite struct SortedSetValueTests {
    typealias Item = (member: [UInt8], score: Double)
    static func b(_ s: String) -> [UInt8] { Array(s.utf8) }
    static var none: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: nil, count: 0) }

    func items(_ z: SortedSetValue) -> [Item] {
        var out: [Item] = []
        z.forEachInOrder { out.append((Array($0), $1)) }
        return out
    }

    func sortedModel(_ model: [[UInt8]: Double]) -> [Item] {
        model.map { ($0.key, $0.value) }.sorted(by: SortedSetValue.precedes)
    }

    func same(_ a: [Item], _ b: [Item]) -> Bool {
        a.count == b.count && zip(a, b).allSatisfy { $0.member == $1.member && $0.score == $1.score }
    }

    /// A listpack score entry reads back as the exact double it was given, whole numbers take
    /// the fewest bytes (0 none, 1..127 one, up to 2^55 seven) and everything else eight.
    @Test func scoreEntriesRoundTripCompactly() {
        func size(_ d: Double) -> Int { SortedSetValue.withScoreEntry(d) { $0.count } }
        func back(_ d: Double) -> Double { SortedSetValue.withScoreEntry(d) { SortedSetValue.score(ofEntry: $0) } }
        let cases: [(Double, Int)] = [
            (0, 0), (-0.0, 0), (1, 1), (-1, 1), (127, 1), (-128, 1), (128, 2), (-129, 2), (999, 2),
            (32767, 2), (32768, 3), (-8_388_608, 3), (8_388_608, 4), (Double(1 << 53), 7),
            (Double(1 << 55) - 8, 7), (-Double(1 << 55) + 8, 7), (Double(1 << 55), 8), (-Double(1 << 55), 8),
            (0.5, 8), (-2.25, 8), (.infinity, 8), (-.infinity, 8), (.leastNonzeroMagnitude, 8),
            (.greatestFiniteMagnitude, 8), (1e300, 8),
        ]
        for (d, n) in cases {
            #expect(size(d) == n, "size of \(d)")
            #expect(back(d) == d && back(d).sign == (d == 0 ? .plus : d.sign), "round trip of \(d)")
        }
        var rng = SeededRandom(seed: 5)
        for _ in 0..<20_000 {
            let d: Double
            switch Int.random(in: 0..<3, using: &rng) {
            case 0: d = Double(Int64.random(in: -(1 << 56)...(1 << 56), using: &rng))
            case 1: d = Double(bitPattern: UInt64.random(in: 0...UInt64.max, using: &rng))
            default: d = Double(Int.random(in: -100_000...100_000, using: &rng)) / 8
            }
            guard !d.isNaN else { continue }
            #expect(back(d) == d)
        }
        // Ten members with scores below 1000, as membench's sorted sets: 14 bytes or less a pair.
        let z = SortedSetValue()
        let limits = SortedSetValue.Limits(maxEntries: 128, maxValue: 64)
        for m in 0..<10 { _ = Self.b("member:\(m)").withUnsafeBytes { z.add($0, score: Double(990 + m), flags: [], limits: limits) } }
        #expect(z.isListpack && z.pairs.byteCount == 10 * (10 + 4))
        #expect(items(z).map(\.score) == (0..<10).map { Double(990 + $0) })
    }

    /// Random adds (every flag combination), removals, pops and range removals against a
    /// dictionary model, through the listpack -> skiplist conversion; every query is checked.
    @Test func matchesModelAcrossConversion() {
        var rng = SystemRandomNumberGenerator()
        for round in 0..<6 {
            let limits = SortedSetValue.Limits(maxEntries: 16 + round * 8, maxValue: 6)
            let z = SortedSetValue()
            var model: [[UInt8]: Double] = [:]
            var wasLarge = false
            for step in 0..<1500 {
                let member = Self.b(Int.random(in: 0..<40, using: &rng) == 0 ? "long-member-\(step % 5)" : "m\(Int.random(in: 0..<60, using: &rng))")
                let score = Double(Int.random(in: -8...8, using: &rng)) / 2
                switch Int.random(in: 0..<10, using: &rng) {
                case 0...4:
                    let flagSets: [SortedSetValue.AddFlags] = [[], [.nx], [.xx], [.gt], [.lt], [.incr], [.incr, .xx], [.gt, .incr], [.lt, .xx]]
                    let flags = flagSets.randomElement(using: &rng) ?? []
                    let old = model[member]
                    let (outcome, newScore) = member.withUnsafeBytes { z.add($0, score: score, flags: flags, limits: limits) }
                    if let old {
                        let new = flags.contains(.incr) ? old + score : score
                        if flags.contains(.nx) || (flags.contains(.gt) && new <= old) || (flags.contains(.lt) && new >= old) {
                            #expect(outcome == .skipped)
                        } else {
                            #expect(outcome == (new == old ? .unchanged : .updated))
                            #expect(newScore == new)
                            model[member] = new
                        }
                    } else if flags.contains(.xx) {
                        #expect(outcome == .skipped)
                    } else {
                        #expect(outcome == .added)
                        model[member] = score
                    }
                case 5:
                    let removed = member.withUnsafeBytes { z.remove($0) }
                    #expect(removed == (model.removeValue(forKey: member) != nil))
                case 6:
                    let max = Bool.random(using: &rng)
                    let expected = max ? sortedModel(model).last : sortedModel(model).first
                    let popped = z.popExtreme(max: max)
                    #expect(popped?.member == expected?.member && popped?.score == expected?.score)
                    if let m = expected?.member { model[m] = nil }
                case 7:
                    let lo = Double(Int.random(in: -8...8, using: &rng)) / 2
                    let range = ZRange.score(min: ScoreBound(lo, exclusive: Bool.random(using: &rng)), max: ScoreBound(lo + 1))
                    let inside = sortedModel(model).filter { range.admitsAsLower(Self.none, $0.score) && range.admitsAsUpper(Self.none, $0.score) }
                    #expect(z.removeRange(range) == inside.count)
                    for it in inside { model[it.member] = nil }
                case 8 where z.count > 3:
                    let a = Int.random(in: 0..<z.count, using: &rng)
                    let e = min(z.count - 1, a + Int.random(in: 0..<4, using: &rng))
                    let gone = sortedModel(model)[a...e]
                    #expect(z.removeRange(ranks: a...e) == gone.count)
                    for it in gone { model[it.member] = nil }
                default:
                    break
                }
                if !z.isListpack { wasLarge = true }
                #expect(!(wasLarge && z.isListpack), "converted back")
                if step % 50 == 0 { check(z, model, &rng) }
            }
            check(z, model, &rng)
        }
    }

    func check<G: RandomNumberGenerator>(_ z: SortedSetValue, _ model: [[UInt8]: Double], _ rng: inout G) {
        let sorted = sortedModel(model)
        #expect(z.validate() == nil)
        #expect(z.count == sorted.count)
        #expect(same(items(z), sorted))
        for (i, it) in sorted.enumerated() {
            #expect(it.member.withUnsafeBytes { z.score(of: $0) } == it.score)
            #expect(it.member.withUnsafeBytes { z.rank(of: $0, reverse: false) } == i)
            #expect(it.member.withUnsafeBytes { z.rank(of: $0, reverse: true) } == sorted.count - 1 - i)
        }
        #expect(Self.b("absent").withUnsafeBytes { z.score(of: $0) } == nil)
        guard !sorted.isEmpty else { return }
        // Rank windows, both directions.
        let s = Int.random(in: 0..<sorted.count, using: &rng), e = Int.random(in: s..<sorted.count, using: &rng)
        var got: [Item] = []
        z.forEach(ranks: s...e, reverse: false) { got.append((Array($0), $1)) }
        #expect(same(got, Array(sorted[s...e])))
        got = []
        z.forEach(ranks: s...e, reverse: true) { got.append((Array($0), $1)) }
        #expect(same(got, Array(sorted.reversed()[s...e])))
        // Score windows with offset and limit.
        let lo = Double(Int.random(in: -9...9, using: &rng)) / 2
        let hi = lo + Double(Int.random(in: -1...6, using: &rng)) / 2
        let minEx = Bool.random(using: &rng), maxEx = Bool.random(using: &rng)
        let range = ZRange.score(min: ScoreBound(lo, exclusive: minEx), max: ScoreBound(hi, exclusive: maxEx))
        let inside = sorted.filter { range.admitsAsLower(Self.none, $0.score) && range.admitsAsUpper(Self.none, $0.score) }
        #expect(z.count(in: range) == inside.count)
        let offset = Int.random(in: -1...3, using: &rng), limit = Int.random(in: -1...4, using: &rng)
        for reverse in [false, true] {
            got = []
            let n = z.forEach(in: range, reverse: reverse, offset: offset, limit: limit) { got.append((Array($0), $1)) }
            var expected = reverse ? Array(inside.reversed()) : inside
            expected = offset < 0 ? [] : Array(expected.dropFirst(offset))
            if limit >= 0 { expected = Array(expected.prefix(limit)) }
            #expect(n == expected.count)
            #expect(same(got, expected), "\(range) reverse \(reverse) offset \(offset) limit \(limit)")
        }
        // Random access covers every element.
        let slots = z.slots()
        var seen = Set<[UInt8]>()
        for i in 0..<slots.count { z.element(at: i, in: slots) { m, s in
            seen.insert(Array(m))
            #expect(model[Array(m)] == s)
        } }
        #expect(seen.count == sorted.count)
    }

    /// Lex ranges over members that share one score, in both encodings.
    @Test func lexRanges() {
        var rng = SystemRandomNumberGenerator()
        for maxEntries in [0, 1000] {
            let limits = SortedSetValue.Limits(maxEntries: maxEntries, maxValue: 64)
            let z = SortedSetValue()
            var names = Set<[UInt8]>()
            for _ in 0..<300 {
                let m = Self.b(String(repeating: "ab", count: Int.random(in: 0...2, using: &rng)) + "\(Int.random(in: 0..<50, using: &rng))")
                names.insert(m)
                _ = m.withUnsafeBytes { z.add($0, score: 0, flags: [], limits: limits) }
            }
            let sorted = names.sorted { $0.lexicographicallyPrecedes($1) }
            func bound() -> LexBound {
                switch Int.random(in: 0..<6, using: &rng) {
                case 0: return .minusInfinity
                case 1: return .plusInfinity
                case 2, 3: return .inclusive(sorted.randomElement(using: &rng) ?? [])
                default: return .exclusive(Array((sorted.randomElement(using: &rng) ?? []).prefix(2)))
                }
            }
            for _ in 0..<200 {
                let range = ZRange.lex(min: bound(), max: bound())
                let inside = sorted.filter { m in m.withUnsafeBytes { range.admitsAsLower($0, 0) && range.admitsAsUpper($0, 0) } }
                #expect(z.count(in: range) == inside.count, "\(range)")
                var got: [[UInt8]] = []
                z.forEach(in: range, reverse: true, offset: 0, limit: -1) { m, _ in got.append(Array(m)) }
                #expect(got == inside.reversed(), "\(range)")
            }
            let range = ZRange.lex(min: .inclusive(Self.b("1")), max: .exclusive(Self.b("3")))
            let inside = sorted.filter { m in m.withUnsafeBytes { range.admitsAsLower($0, 0) && range.admitsAsUpper($0, 0) } }
            #expect(z.removeRange(range) == inside.count)
            #expect(z.count == sorted.count - inside.count)
            #expect(z.validate() == nil)
        }
    }

    /// Redis's listpack stores scores as text and reads -0 back as 0; its skiplist keeps -0.
    @Test func negativeZero() {
        let big = SortedSetValue.Limits(maxEntries: 0, maxValue: 64), small = SortedSetValue.Limits(maxEntries: 128, maxValue: 64)
        for (limits, sign) in [(small, FloatingPointSign.plus), (big, .minus)] {
            let z = SortedSetValue()
            let (outcome, new) = Self.b("a").withUnsafeBytes { z.add($0, score: -0.0, flags: [], limits: limits) }
            #expect(outcome == .added && new.sign == .minus)  // the reply shows what was asked
            #expect(Self.b("a").withUnsafeBytes { z.score(of: $0) }?.sign == sign)
            // -0 == 0: not an update.
            #expect(Self.b("a").withUnsafeBytes { z.add($0, score: 0, flags: [], limits: limits) }.outcome == .unchanged)
        }
        let built = SortedSetValue.build([(Self.b("a"), -0.0)], sorted: true, limits: small)
        #expect(Self.b("a").withUnsafeBytes { built.score(of: $0) }?.sign == .plus)
        let kept = SortedSetValue.build([(Self.b("a"), -0.0)], sorted: true, limits: big)
        #expect(Self.b("a").withUnsafeBytes { kept.score(of: $0) }?.sign == .minus)
    }

    @Test func buildCopyAndScan() {
        let limits = SortedSetValue.Limits(maxEntries: 128, maxValue: 64)
        let input: [Item] = (0..<50).map { (Self.b("m\($0)"), Double(($0 * 7) % 13)) }
        for maxEntries in [10, 128] {
            let z = SortedSetValue.build(input, sorted: false, limits: SortedSetValue.Limits(maxEntries: maxEntries, maxValue: 64))
            #expect(z.isListpack == (maxEntries == 128))
            #expect(same(items(z), input.sorted(by: SortedSetValue.precedes)))
            let c = z.copy()
            #expect(c.isListpack == z.isListpack)
            _ = Self.b("m1").withUnsafeBytes { c.remove($0) }
            _ = Self.b("new").withUnsafeBytes { c.add($0, score: 1, flags: [], limits: limits) }
            #expect(z.count == 50 && c.count == 50)
            #expect(Self.b("new").withUnsafeBytes { z.score(of: $0) } == nil)
            #expect(c.validate() == nil && z.validate() == nil)
            // A full scan sees every member once.
            var cursor: UInt64 = 0
            var seen: [[UInt8]: Int] = [:]
            repeat {
                cursor = z.scan(cursor: cursor, count: 3) { m, _ in seen[Array(m), default: 0] += 1 }
            } while cursor != 0
            #expect(seen.count == 50 && seen.values.allSatisfy { $0 == 1 })
        }
    }

    /// An element that comes back for another update in place keeps the order right.
    @Test func updatesInPlaceAndAcrossNeighbours() {
        for maxEntries in [0, 128] {
            let limits = SortedSetValue.Limits(maxEntries: maxEntries, maxValue: 64)
            let z = SortedSetValue()
            for i in 0..<20 { _ = Self.b("m\(i)").withUnsafeBytes { z.add($0, score: Double(i), flags: [], limits: limits) } }
            _ = Self.b("m5").withUnsafeBytes { z.add($0, score: 5.5, flags: [], limits: limits) }  // stays between m5's neighbours
            _ = Self.b("m6").withUnsafeBytes { z.add($0, score: -1, flags: [], limits: limits) }   // moves to the front
            _ = Self.b("m7").withUnsafeBytes { z.add($0, score: 8, flags: [], limits: limits) }    // ties with m8: member order
            #expect(z.validate() == nil)
            #expect(Self.b("m6").withUnsafeBytes { z.rank(of: $0, reverse: false) } == 0)
            #expect(Self.b("m7").withUnsafeBytes { z.rank(of: $0, reverse: false) } == 7)
            #expect(Self.b("m8").withUnsafeBytes { z.rank(of: $0, reverse: false) } == 8)
        }
    }
}

/// Score text: printing must equal glibc's "%.17g" and parsing Redis's string2d / strtod rules.
@Suite struct ScoreFormatTests {
    func printf(_ d: Double) -> String {
        var buf = [CChar](repeating: 0, count: 64)
        let n = withVaList([d]) { vsnprintf(&buf, 64, "%.17g", $0) }
        return String(decoding: buf.prefix(Int(n)).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    func ours(_ d: Double) -> String { String(decoding: ScoreFormat.bytes(d), as: UTF8.self) }

    @Test func printsLikePrintf() {
        var rng = SystemRandomNumberGenerator()
        var values: [Double] = [0.1, 1.5, 3, 1e16, 1e17, 99999999999999984, 1e-4, 0.0001220703125, 9.5367431640625e-07,
                                123456789.125, 1.0 / 3, 2.5e-7, 1e300, Double.leastNonzeroMagnitude, Double.greatestFiniteMagnitude, 4503599627370496.5]
        for _ in 0..<20000 {
            switch Int.random(in: 0..<4, using: &rng) {
            case 0: values.append(Double(bitPattern: UInt64.random(in: 0...UInt64.max, using: &rng)))
            case 1: values.append(Double(Int64.random(in: -1 << 60 ... 1 << 60, using: &rng)))
            case 2: values.append(Double(Int.random(in: -100_000...100_000, using: &rng)) / Double(1 << Int.random(in: 0...30, using: &rng)))
            default: values.append(Double.random(in: -1e6...1e6, using: &rng))
            }
        }
        for v in values where v.isFinite && v != 0 {
            #expect(ours(v) == printf(v), "\(v.bitPattern)")
            #expect(ours(-v) == printf(-v))
        }
        #expect(ours(.infinity) == "inf")
        #expect(ours(-.infinity) == "-inf")
        #expect(ours(0) == "0")
        #expect(ours(-0.0) == "-0")
    }

    @Test func parsesScoresAsString2d() {
        let ok: [(String, Double)] = [
            ("1", 1), ("-0", -0.0), ("+3", 3), ("1.5", 1.5), (".5", 0.5), ("5.", 5), ("0x10", 16), ("0x1p3", 8),
            ("inf", .infinity), ("-inf", -.infinity), ("+inf", .infinity), ("Infinity", .infinity), ("INF", .infinity),
            ("1e-310", strtod("1e-310", nil)), ("123456789012345678", 123456789012345680), ("007", 7), ("1e2", 100),
        ]
        for (text, value) in ok {
            let got = ScoreFormat.parseScore(Array(text.utf8))
            #expect(got == value && got?.sign == value.sign, "\(text)")
        }
        for bad in ["", " 1", "1 ", "nan", "NaN", "-nan", "abc", "1e400", "-1e400", "1e-400", "1\u{0}", "--1", "0x", "1.2.3", "\t1"] {
            #expect(ScoreFormat.parseScore(Array(bad.utf8)) == nil, "\(bad)")
        }
    }

    /// Range bounds go through plain strtod on a C string.
    @Test func parsesBoundsAsStrtod() {
        let ok: [(String, Double)] = [("", 0), (" 1", 1), ("1\u{0}x", 1), ("1e999", .infinity), ("-1e999", -.infinity),
                                      ("1e-999", 0), ("0x1", 1), ("+inf", .infinity), ("\t\n2", 2)]
        for (text, value) in ok { #expect(Array(text.utf8).withUnsafeBytes { ScoreFormat.parseBound($0) } == value, "\(text)") }
        for bad in ["nan", "1 ", "x", "(1", "[1", "   "] {
            #expect(Array(bad.utf8).withUnsafeBytes { ScoreFormat.parseBound($0) } == nil, "\(bad)")
        }
    }
}
