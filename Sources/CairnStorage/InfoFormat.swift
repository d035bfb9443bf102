#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Number formatting as Redis's printf formats produce it.
public enum InfoFormat {
    /// `%.Nf`, rounding half to even on the binary value's scaled form.
    public static func fixed(_ v: Double, _ decimals: Int) -> String {
        guard v.isFinite else { return v.isNaN ? "nan" : (v > 0 ? "inf" : "-inf") }
        var scale: Double = 1
        for _ in 0..<decimals { scale *= 10 }
        let scaled = (abs(v) * scale).rounded(.toNearestOrEven)
        guard scaled < 9e18 else { return "\(v)" }
        let n = Int64(scaled)
        let divisor = Int64(scale)
        let whole = n / divisor
        var fraction = String(n % divisor)
        while fraction.count < decimals { fraction = "0" + fraction }
        let sign = v < 0 && n != 0 ? "-" : ""
        return decimals == 0 ? "\(sign)\(whole)" : "\(sign)\(whole).\(fraction)"
    }

    /// Redis's bytesToHuman: `512B`, `1.28M`, `23.54G`.
    public static func human(_ bytes: Int) -> String {
        let units: [(Double, String)] = [(1024, "K"), (1024 * 1024, "M"), (1024 * 1024 * 1024, "G"),
                                         (1024.0 * 1024 * 1024 * 1024, "T"), (1024.0 * 1024 * 1024 * 1024 * 1024, "P")]
        let n = Double(bytes)
        if bytes < 1024 { return "\(bytes)B" }
        for (index, (size, unit)) in units.enumerated() where index == units.count - 1 || n < size * 1024 {
            return fixed(n / size, 2) + unit
        }
        return "\(bytes)B"
    }

    /// Seconds with microseconds, as `%ld.%06ld` (CPU times).
    public static func seconds(micros: Int64) -> String {
        var fraction = String(micros % 1_000_000)
        while fraction.count < 6 { fraction = "0" + fraction }
        return "\(micros / 1_000_000).\(fraction)"
    }
}

/// The process's working directory (where relative `dbfilename` and `appenddirname` live).
public enum WorkingDirectory {
    public static func current() -> String? {
        var buffer = [CChar](repeating: 0, count: 4096)
        guard getcwd(&buffer, buffer.count) != nil else { return nil }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
