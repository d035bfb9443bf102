import CairnStorage
import Histogram

// INFO latencystats (Redis 7.0's latency tracking): one HDR histogram per command, created on the
// command's first call, fed with each call's duration in nanoseconds (1 ns ... 1 s, two
// significant digits, as Redis's LATENCY_HISTOGRAM_* settings), printed as the
// `latency-tracking-info-percentiles` in microseconds. `latency-tracking no` stops recording.

struct CommandLatencies {
    static let lowestNanos: UInt64 = 1
    static let highestNanos: UInt64 = 1_000_000_000

    /// By RegisteredCommand.id.
    private var histograms: [Histogram<UInt64>?] = []

    mutating func record(_ command: RegisteredCommand, micros: Int64) {
        if command.id >= histograms.count { histograms += Array(repeating: nil, count: command.id - histograms.count + 1) }
        let nanos = Swift.min(Swift.max(UInt64(Swift.max(0, micros)) &* 1000, Self.lowestNanos), Self.highestNanos)
        if histograms[command.id] == nil {
            histograms[command.id] = Histogram(lowestDiscernibleValue: Self.lowestNanos, highestTrackableValue: Self.highestNanos,
                                               numberOfSignificantValueDigits: .two)
        }
        histograms[command.id]!.record(nanos)
    }

    mutating func reset() { histograms = [] }

    /// `latency_percentiles_usec_<command>:p50=…,p99=…,p99.9=…` for each command called since the
    /// last reset, in command-table order (Redis walks its command dict, in hash order).
    func infoLines(_ commands: [RegisteredCommand], percentiles: [String]) -> [String] {
        let wanted = percentiles.compactMap { text in Double(text).map { (text, $0) } }
        return commands.compactMap { command -> String? in
            guard command.id < histograms.count, let h = histograms[command.id], h.totalCount > 0 else { return nil }
            let values = wanted.map { "p\($0.0)=\(InfoFormat.fixed(Double(h.valueAtPercentile($0.1)) / 1000, 3))" }
            return "latency_percentiles_usec_\(command.fullName):" + values.joined(separator: ",")
        }
    }
}
