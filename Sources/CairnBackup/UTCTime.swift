// UTC calendar arithmetic for archive names and retention buckets, without time zones or locales:
// days from civil (Howard Hinnant's algorithm), exact for the proleptic Gregorian calendar.

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

public struct UTCTime: Equatable, Comparable, Sendable {
    public var year: Int, month: Int, day: Int, hour: Int, minute: Int, second: Int

    public static func < (a: UTCTime, b: UTCTime) -> Bool { a.unixSeconds < b.unixSeconds }

    public init(year: Int, month: Int, day: Int, hour: Int = 0, minute: Int = 0, second: Int = 0) {
        (self.year, self.month, self.day, self.hour, self.minute, self.second) = (year, month, day, hour, minute, second)
    }

    public init(unixSeconds t: Int64) {
        let days = Int(t >= 0 ? t / 86400 : (t - 86399) / 86400)
        let rest = Int(t - Int64(days) * 86400)
        (year, month, day) = Self.civil(fromDays: days)
        hour = rest / 3600
        minute = rest % 3600 / 60
        second = rest % 60
    }

    public static func now() -> UTCTime { UTCTime(unixSeconds: nowMillis() / 1000) }

    public static func nowMillis() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Int64(ts.tv_sec) * 1000 + Int64(ts.tv_nsec) / 1_000_000
    }

    public var daysSinceEpoch: Int { Self.days(fromCivil: year, month, day) }
    public var unixSeconds: Int64 { Int64(daysSinceEpoch) * 86400 + Int64(hour * 3600 + minute * 60 + second) }

    /// `2026-11-25T07:44:00Z`
    public var iso8601: String {
        "\(pad(year, 4))-\(pad(month, 2))-\(pad(day, 2))T\(pad(hour, 2)):\(pad(minute, 2)):\(pad(second, 2))Z"
    }

    /// `20261125T074400Z`, as in archive names.
    public var compact: String {
        "\(pad(year, 4))\(pad(month, 2))\(pad(day, 2))T\(pad(hour, 2))\(pad(minute, 2))\(pad(second, 2))Z"
    }

    /// Parses `compact` form.
    public static func parseCompact(_ s: String) -> UTCTime? {
        let b = Array(s.utf8)
        guard b.count == 16, b[8] == 0x54, b[15] == 0x5A else { return nil }
        guard let y = digits(b[0..<4]), let mo = digits(b[4..<6]), let d = digits(b[6..<8]),
              let h = digits(b[9..<11]), let mi = digits(b[11..<13]), let se = digits(b[13..<15]) else { return nil }
        let t = UTCTime(year: y, month: mo, day: d, hour: h, minute: mi, second: se)
        return t.isValid ? t : nil
    }

    /// Parses `2026-11-25T07:44:00Z` (also with a space for the T, or without seconds).
    public static func parseISO(_ s: String) -> UTCTime? {
        var b = Array(s.utf8)
        guard b.last == 0x5A else { return nil }
        b.removeLast()
        guard b.count == 19 || b.count == 16, b[4] == 0x2D, b[7] == 0x2D, b[10] == 0x54 || b[10] == 0x20, b[13] == 0x3A else { return nil }
        if b.count == 19 && b[16] != 0x3A { return nil }
        guard let y = digits(b[0..<4]), let mo = digits(b[5..<7]), let d = digits(b[8..<10]),
              let h = digits(b[11..<13]), let mi = digits(b[14..<16]) else { return nil }
        let se = b.count == 19 ? digits(b[17..<19]) : 0
        guard let se else { return nil }
        let t = UTCTime(year: y, month: mo, day: d, hour: h, minute: mi, second: se)
        return t.isValid ? t : nil
    }

    private var isValid: Bool {
        (1970...9999).contains(year) && (1...12).contains(month) && day >= 1 && hour < 24 && minute < 60 && second < 60
            && Self.civil(fromDays: daysSinceEpoch) == (year, month, day)
    }

    private static func digits(_ b: ArraySlice<UInt8>) -> Int? {
        var v = 0
        for c in b {
            guard c >= 0x30 && c <= 0x39 else { return nil }
            v = v * 10 + Int(c - 0x30)
        }
        return v
    }

    private func pad(_ v: Int, _ width: Int) -> String {
        let s = String(v)
        return String(repeating: "0", count: max(0, width - s.count)) + s
    }

    static func days(fromCivil y0: Int, _ m: Int, _ d: Int) -> Int {
        let y = m <= 2 ? y0 - 1 : y0
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146097 + doe - 719468
    }

    static func civil(fromDays z0: Int) -> (Int, Int, Int) {
        let z = z0 + 719468
        let era = (z >= 0 ? z : z - 146096) / 146097
        let doe = z - era * 146097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp + (mp < 10 ? 3 : -9)
        return (yoe + era * 400 + (m <= 2 ? 1 : 0), m, d)
    }
}
