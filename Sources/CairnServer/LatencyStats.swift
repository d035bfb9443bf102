import CairnStorage
import Histogram

// INFO latencystats (Redis 7.0's latency tracking): per command, the distribution of call
// durations in nanoseconds (1 ns ... 1 s, two significant digits, Redis's LATENCY_HISTOGRAM_*
// settings), printed at the `latency-tracking-info-percentiles` in microseconds.
// `latency-tracking no` stops recording.
//
// Recording runs for every command, so it is a counter increment in a flat array laid out as an
// HDR histogram of those settings (HdrHistogram's bucket index: 256 sub-buckets, the lower half
// shared between buckets). Recording through hdrhistogram-swift's generic Histogram cost ~300
// instructions per request (callgrind: witness-table calls, uniqueness checks); the library still
// computes the percentiles: at INFO time the counts are replayed into a Histogram.

struct CommandLatencies {
    static let lowestNanos: UInt64 = 1
    static let highestNanos: UInt64 = 1_000_000_000
    /// HdrHistogram's layout for 2 significant digits and a lowest value of 1: sub-bucket count
    /// 2^ceil(log2(2 * 10^2)) = 256, half of it 128 (magnitude 7).
    static let subBucketHalfCountMagnitude = 7
    static let subBucketMask: UInt64 = 255
    /// Buckets needed to reach `highestNanos` (HdrHistogram's bucketsNeededToCoverValue).
    static let bucketCount: Int = {
        var smallestUntrackable: UInt64 = 256
        var buckets = 1
        while smallestUntrackable <= highestNanos {
            smallestUntrackable <<= 1
            buckets += 1
        }
        return buckets
    }()
    static let countsLength = (bucketCount + 1) << subBucketHalfCountMagnitude

    /// Counts by RegisteredCommand.id: a command's block of `countsLength` counters is
    /// allocated (zeroed) on its first call. Plain pointers: an increment costs no reference
    /// counting or uniqueness check.
    /// The blocks live as long as the server (AdminState); `reset` frees them.
    private var counts: [UnsafeMutablePointer<UInt32>?] = []

    /// HdrHistogram's countsIndexForValue.
    @inline(__always)
    static func index(_ value: UInt64) -> Int {
        let bucket = 64 - (value | subBucketMask).leadingZeroBitCount - (subBucketHalfCountMagnitude + 1)
        let subBucket = Int(truncatingIfNeeded: value >> UInt64(bucket))
        return ((bucket + 1) << subBucketHalfCountMagnitude) + (subBucket - (1 << subBucketHalfCountMagnitude))
    }

    /// HdrHistogram's valueFromIndex (the lowest value a count at `index` stands for).
    static func value(at index: Int) -> UInt64 {
        var bucket = (index >> subBucketHalfCountMagnitude) - 1
        var subBucket = (index & ((1 << subBucketHalfCountMagnitude) - 1)) + (1 << subBucketHalfCountMagnitude)
        if bucket < 0 {
            subBucket -= 1 << subBucketHalfCountMagnitude
            bucket = 0
        }
        return UInt64(subBucket) << UInt64(bucket)
    }

    mutating func record(_ command: RegisteredCommand, micros: Int64) {
        let nanos = Swift.min(Swift.max(UInt64(Swift.max(0, micros)) &* 1000, Self.lowestNanos), Self.highestNanos)
        let id = command.id
        if id < counts.count, let block = counts[id] {
            block[Self.index(nanos)] &+= 1
            return
        }
        if id >= counts.count { counts += Array(repeating: nil, count: id - counts.count + 1) }
        let block = UnsafeMutablePointer<UInt32>.allocate(capacity: Self.countsLength)
        block.initialize(repeating: 0, count: Self.countsLength)
        counts[id] = block
        block[Self.index(nanos)] &+= 1
    }

    mutating func reset() {
        for block in counts { block?.deallocate() }
        counts = []
    }

    /// The recorded distribution of `command` as a Histogram, nil if it was not called.
    func histogram(of command: RegisteredCommand) -> Histogram<UInt64>? {
        guard command.id < counts.count, let block = counts[command.id] else { return nil }
        var h = Histogram<UInt64>(lowestDiscernibleValue: Self.lowestNanos, highestTrackableValue: Self.highestNanos,
                                  numberOfSignificantValueDigits: .two)
        for i in 0..<Self.countsLength where block[i] > 0 { h.record(Self.value(at: i), count: UInt64(block[i])) }
        return h.totalCount > 0 ? h : nil
    }

    /// `latency_percentiles_usec_<command>:p50=…,p99=…,p99.9=…` for each command called since the
    /// last reset, in command-table order (Redis walks its command dict, in hash order).
    func infoLines(_ commands: [RegisteredCommand], percentiles: [String]) -> [String] {
        let wanted = percentiles.compactMap { text in Double(text).map { (text, $0) } }
        return commands.compactMap { command -> String? in
            guard let h = histogram(of: command) else { return nil }
            let values = wanted.map { "p\($0.0)=\(InfoFormat.fixed(Double(h.valueAtPercentile($0.1)) / 1000, 3))" }
            return "latency_percentiles_usec_\(command.fullName):" + values.joined(separator: ",")
        }
    }
}
