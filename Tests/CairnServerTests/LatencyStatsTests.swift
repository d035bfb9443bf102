@testable import CairnServer
import CairnStorage
import Histogram
import Testing

/// The latency counters use HdrHistogram's bucket layout: each value lands in the bucket the
/// library itself would use, so replaying the counts gives the library the same histogram.
@Suite struct LatencyStatsTests {
    @Test func bucketsAreTheLibrarys() {
        let h = Histogram<UInt64>(lowestDiscernibleValue: 1, highestTrackableValue: 1_000_000_000, numberOfSignificantValueDigits: .two)
        var previous = -1
        var values: [UInt64] = Array(1...3000)
        var v: UInt64 = 3000
        while v < 1_000_000_000 { values.append(v); v = v * 11 / 10 + 7 }
        values.append(1_000_000_000)
        for value in values {
            let i = CommandLatencies.index(value)
            #expect(i >= previous, "monotonic at \(value)")
            previous = i
            #expect(i < CommandLatencies.countsLength)
            let lowest = CommandLatencies.value(at: i)
            #expect(lowest <= value && h.valuesAreEquivalent(lowest, value), "\(value) -> bucket \(i) starting at \(lowest)")
        }
    }

    @Test func percentilesComeFromTheReplayedCounts() {
        var latencies = CommandLatencies()
        let command = CommandTable([CommandSpec("x", arity: 1, flags: [], categories: [], group: "server", handler: { _ in })]).lookup("x")!
        for micros in 1...100 { latencies.record(command, micros: Int64(micros)) }
        let h = latencies.histogram(of: command)
        #expect(h?.totalCount == 100)
        // 2 significant digits: p50 of 1...100 µs is 50 µs give or take 1%.
        let p50 = Double(h?.valueAtPercentile(50) ?? 0) / 1000
        #expect(p50 >= 49.5 && p50 <= 51)
        let lines = latencies.infoLines([command], percentiles: ["50", "100"])
        #expect(lines.count == 1 && lines[0].hasPrefix("latency_percentiles_usec_x:p50="))
        let p100 = Double(lines.first?.split(separator: "=").last ?? "") ?? 0
        #expect(p100 >= 99 && p100 <= 101, "\(lines)")
        latencies.reset()
        #expect(latencies.histogram(of: command) == nil)
    }
}
