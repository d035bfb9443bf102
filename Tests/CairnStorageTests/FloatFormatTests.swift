#if canImport(Glibc)
import Glibc
#endif
@testable import CairnStorage
import Testing

@Suite struct FloatFormatTests {
    func human(_ v: LongDouble) -> String { String(decoding: FloatFormat.human(v), as: UTF8.self) }

    func parse(_ s: String) -> LongDouble? { FloatFormat.parseLongDouble(Array(s.utf8)) }

    @Test func humanFormatting() {
        #expect(human(0) == "0")
        #expect(human(-0.0) == "0")
        #expect(human(10.5) == "10.5")
        #expect(human(-1989.5) == "-1989.5")
        #expect(human(3) == "3")
        #expect(human(1e-20) == "0")
        #expect(human(-1e-20) == "0")
        #expect(human(0.005) == "0.005")
        #expect(human(.infinity) == "inf")
        #expect(human(-.infinity) == "-inf")
        #expect(human(LongDouble(Int64.max)) == "9223372036854775807")
        #expect(human(LongDouble(Int64.min)) == "-9223372036854775808")
    }

    #if arch(x86_64) && (os(Linux) || os(macOS))
    @Test func longDoubleResultsMatchRedis() {
        // Outputs of Redis 7.0 on x86_64 for the same long double arithmetic.
        var v = parse("-1989.5")! + parse("0.1")!
        #expect(human(v) == "-1989.40000000000000002")
        v += parse("0.1")!
        #expect(human(v) == "-1989.30000000000000004")
        // Exact ties round to even, as glibc does.
        #expect(human(parse("0.000003814697265625")!) == "0.00000381469726562")
        #expect(human(parse("0.000011444091796875")!) == "0.00001144409179688")
        #expect(human(parse("1e30")!) == "1000000000000000000024696061952")
        #expect(human(parse("1.7e308")! + parse("1.7e308")!) == "340000000000000000006273556050395193590540427779388267466087171526404912102411641988123739177800600673957047683771263425322806997836001586961457274820033393094901317200013624802610872515245814124760542925564488876540887382670905522638137419003805178364056052028734561012664811529831035124023358619554802565120")
    }
    #endif

    @Test func parsing() {
        #expect(parse("10.5") == 10.5)
        #expect(parse("3.0e3") == 3000)
        #expect(parse("-5.0E+3") == -5000)
        #expect(parse("+1") == 1)
        #expect(parse("0x10") == 16)
        #expect(parse("inf") == .infinity)
        #expect(parse("-Infinity") == -.infinity)
        #expect(parse("1e-320") != nil)  // still representable
        for bad in ["", " 1", "\t1", "1 ", "nan", "NaN", "-nan", "abc", "1e-5000", "1e5000", "1.2.3", "0x"] {
            #expect(parse(bad) == nil, "\(bad) should not parse")
        }
        #expect(FloatFormat.parseLongDouble([49, 0]) == nil)
        #expect(FloatFormat.parseLongDouble([UInt8](repeating: 48, count: 5120)) == nil)
        #expect(FloatFormat.parseLongDouble([UInt8](repeating: 48, count: 5119)) == 0)
    }

    #if canImport(Glibc) && arch(x86_64)
    /// glibc's own "%.17Lf", the reference the formatter must agree with.
    func glibcFixed17(_ v: Float80) -> String {
        var buf = [CChar](repeating: 0, count: 6000)
        _ = withVaList([v]) { vsnprintf(&buf, buf.count, "%.17Lf", $0) }
        return String(decoding: buf.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    func redisHuman(_ v: Float80) -> String {
        var s = glibcFixed17(v)
        while s.hasSuffix("0") { s.removeLast() }
        if s.hasSuffix(".") { s.removeLast() }
        return s == "-0" ? "0" : s
    }

    @Test func agreesWithGlibcOnManyValues() {
        var g = SystemRandomNumberGenerator()
        var values: [Float80] = [0.5, 1.5, 2.5, 0.125, 1e-17, 5e-18, 1.5e-17, 2.5e-17, 123456789.123456789,
                                 Float80.greatestFiniteMagnitude, Float80.leastNonzeroMagnitude,
                                 Float80.leastNormalMagnitude, 1 / 3, 2 / 3, 0.1, 0.7]
        for _ in 0..<2000 {
            let scale = Float80(sign: .plus, exponent: Int.random(in: -80...80, using: &g), significand: 1)
            values.append(Float80(Double.random(in: -1...1, using: &g)) * scale)
            // Random full 64-bit significands, including odd ones that make exact ties.
            let m = UInt64.random(in: 1...UInt64.max, using: &g)
            values.append(Float80(m) * Float80(sign: .plus, exponent: Int.random(in: -130 ... -40, using: &g), significand: 1))
        }
        for e in stride(from: -16440, through: 16380, by: 997) {
            values.append(Float80(sign: .minus, exponent: e, significand: 1.2345678901234567))
        }
        for v in values {
            #expect(human(v) == redisHuman(v), "value \(v)")
        }
    }
    #endif
}
