import CairnRESP
import NIOCore
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// Sorted-set scores as Redis 7.0 reads and prints them.
//
// Reading: a score argument (ZADD, ZINCRBY, WEIGHTS) goes through Redis's string2d: all of the
// argument must be what strtod accepts (decimal, hex, "inf"/"infinity", a leading '+'), with no
// leading space, no NaN, and no overflow or underflow to zero. A range bound (ZRANGEBYSCORE,
// ZCOUNT...) is read by plain strtod on the C string: leading space is skipped, parsing stops at a
// NUL byte, an empty bound is 0, and out-of-range values saturate; only NaN and trailing text fail.
//
// Printing: "%.17g" (17 significant digits of the exact binary value, trailing zeros dropped),
// with "inf" and "-inf". Integers and short binary fractions are printed here exactly; anything
// else goes to the C library's printf, so the result is glibc's own.

public enum ScoreFormat {
    /// Longest output of `write`: "-1.2345678901234567e-308" is 24 bytes.
    public static let maxLength = 32

    // MARK: parsing

    /// A score argument, as Redis's string2d; nil means `ERR value is not a valid float`.
    public static func parseScore(_ bytes: UnsafeRawBufferPointer) -> Double? {
        let n = bytes.count
        guard n > 0 else { return nil }
        if let v = parseSmallInteger(bytes) { return v }
        let first = bytes[0]
        if first == 32 || (first >= 9 && first <= 13) { return nil }  // C isspace
        guard let (value, consumed, rangeError) = strtod(bytes), consumed == n else { return nil }
        if value.isNaN { return nil }
        if rangeError && (value.isInfinite || value == 0) { return nil }
        return value
    }

    public static func parseScore(_ bytes: [UInt8]) -> Double? { bytes.withUnsafeBytes { parseScore($0) } }

    /// A score range bound's number (after any '('), as Redis's zslParseRange reads it with strtod;
    /// nil means `ERR min or max is not a float`.
    public static func parseBound(_ bytes: UnsafeRawBufferPointer) -> Double? {
        if let v = parseSmallInteger(bytes) { return v }
        // The argument is a C string to strtod: it ends at the first NUL byte.
        let end = bytes.firstIndex(of: 0) ?? bytes.count
        let text = UnsafeRawBufferPointer(rebasing: bytes[0..<end])
        guard let (value, consumed, _) = strtod(text), consumed == end, !value.isNaN else { return nil }
        return value
    }

    /// `[+-]digits` with at most 15 digits: exactly representable, so no strtod needed.
    @inline(__always)
    static func parseSmallInteger(_ bytes: UnsafeRawBufferPointer) -> Double? {
        let n = bytes.count
        guard n > 0 && n <= 16 else { return nil }
        var i = 0
        var negative = false
        if bytes[0] == UInt8(ascii: "-") || bytes[0] == UInt8(ascii: "+") {
            negative = bytes[0] == UInt8(ascii: "-")
            i = 1
        }
        guard i < n, n - i <= 15 else { return nil }
        var v: Int64 = 0
        while i < n {
            let d = bytes[i] &- UInt8(ascii: "0")
            guard d < 10 else { return nil }
            v = v * 10 + Int64(d)
            i += 1
        }
        return negative ? -Double(v) : Double(v)  // "-0" is -0.0, as strtod gives
    }

    /// strtod over `bytes` (no NUL inside): the value, how many bytes it used, and whether errno
    /// was ERANGE.
    static func strtod(_ bytes: UnsafeRawBufferPointer) -> (Double, Int, Bool)? {
        let n = bytes.count
        return withUnsafeTemporaryAllocation(of: CChar.self, capacity: n + 1) { buf -> (Double, Int, Bool)? in
            guard let start = buf.baseAddress else { return nil }
            if n > 0, let src = bytes.baseAddress {
                UnsafeMutableRawPointer(start).copyMemory(from: src, byteCount: n)
            }
            buf[n] = 0
            var end: UnsafeMutablePointer<CChar>? = nil
            errno = 0
            #if canImport(Glibc)
            let value = Glibc.strtod(start, &end)
            #else
            let value = Darwin.strtod(start, &end)
            #endif
            let rangeError = errno == ERANGE
            guard let end else { return nil }
            return (value, end - start, rangeError)
        }
    }

    // MARK: printing

    /// Writes `value` as "%.17g" (or "inf"/"-inf") at `out`, which has room for `maxLength`
    /// bytes; returns the number of bytes written.
    public static func write(_ value: Double, into out: UnsafeMutableRawBufferPointer) -> Int {
        if value.isInfinite { return copy(value > 0 ? "inf" : "-inf", into: out) }
        if value.isNaN { return copy(value.sign == .minus ? "-nan" : "nan", into: out) }
        if value == 0 { return copy(value.sign == .minus ? "-0" : "0", into: out) }
        if let n = writeExact(value, into: out) { return n }
        return printf(value, into: out)
    }

    /// The bytes of `write` as an array (tests, stored strings).
    public static func bytes(_ value: Double) -> [UInt8] {
        [UInt8](unsafeUninitializedCapacity: maxLength) { buf, count in
            count = write(value, into: UnsafeMutableRawBufferPointer(buf))
        }
    }

    static func copy(_ s: StaticString, into out: UnsafeMutableRawBufferPointer) -> Int {
        let n = s.utf8CodeUnitCount
        for i in 0..<n { out[i] = s.utf8Start[i] }
        return n
    }

    static let powersOf10: [UInt64] = (0...19).map { k in (0..<k).reduce(UInt64(1)) { r, _ in r * 10 } }

    /// Values whose exact decimal expansion has at most 17 significant digits and which "%.17g"
    /// prints without an exponent (1e-4 <= |v| < 1e17): integers, halves, quarters... Printed
    /// exactly, which is what "%.17g" gives for them. Nil for anything else.
    @inline(__always)
    static func writeExact(_ value: Double, into out: UnsafeMutableRawBufferPointer) -> Int? {
        let magnitude = value.magnitude
        guard magnitude >= 1e-4 && magnitude < 1e17 else { return nil }
        // magnitude = m × 2^-k with m an integer: the expansion has k decimal places, and its
        // digits are m × 5^k.
        let k: Int
        let m: UInt64
        if magnitude == magnitude.rounded(.towardZero) {
            k = 0
            m = UInt64(magnitude)
        } else {
            let trailing = magnitude.significandBitPattern == 0 ? Double.significandBitCount
                : magnitude.significandBitPattern.trailingZeroBitCount
            k = Double.significandBitCount - trailing - Int(magnitude.exponent)
            guard k > 0 && k <= 19 else { return nil }
            m = UInt64(magnitude * Double(sign: .plus, exponent: k, significand: 1))
        }
        var digits = m
        for _ in 0..<k {
            let (p, overflow) = digits.multipliedReportingOverflow(by: 5)
            guard !overflow else { return nil }
            digits = p
        }
        guard digits < 100_000_000_000_000_000 else { return nil }  // more than 17 digits
        var i = 0
        if value < 0 { out[0] = UInt8(ascii: "-"); i = 1 }
        let scale = powersOf10[k]
        let integerPart = digits / scale
        var fraction = digits % scale
        i += writeDecimal(integerPart, into: out, at: i)
        if fraction != 0 {
            var places = k
            while fraction % 10 == 0 { fraction /= 10; places -= 1 }
            out[i] = UInt8(ascii: ".")
            i += 1
            var p = i + places - 1
            for _ in 0..<places {
                out[p] = UInt8(truncatingIfNeeded: fraction % 10) &+ UInt8(ascii: "0")
                fraction /= 10
                p -= 1
            }
            i += places
        }
        return i
    }

    @inline(__always)
    static func writeDecimal(_ v: UInt64, into out: UnsafeMutableRawBufferPointer, at start: Int) -> Int {
        var n = 1
        var x = v
        while x >= 10 { x /= 10; n += 1 }
        x = v
        var p = start + n - 1
        repeat {
            out[p] = UInt8(truncatingIfNeeded: x % 10) &+ UInt8(ascii: "0")
            x /= 10
            p -= 1
        } while x != 0
        return n
    }

    static func printf(_ value: Double, into out: UnsafeMutableRawBufferPointer) -> Int {
        guard let base = out.baseAddress else { return 0 }
        let p = base.assumingMemoryBound(to: CChar.self)
        let n = withVaList([value]) { vsnprintf(p, out.count, "%.17g", $0) }
        return max(0, min(Int(n), out.count - 1))
    }
}

extension ReplyWriter {
    /// A score: `,x` in RESP3, a bulk string in RESP2, formatted as Redis's addReplyDouble
    /// ("%.17g", "inf", "-inf"). Formatted on the stack and written with one buffer reservation.
    @inlinable
    public mutating func score(_ value: Double) {
        let resp3 = self.resp3
        withUnsafeTemporaryAllocation(byteCount: ScoreFormat.maxLength, alignment: 1) { tmp in
            let n = ScoreFormat.write(value, into: tmp)  // at most 24 bytes: a two-digit length
            buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: n + 7) { out in
                var i: Int
                if resp3 {
                    out[0] = UInt8(ascii: ",")
                    i = 1
                } else {
                    out[0] = UInt8(ascii: "$")
                    if n >= 10 {
                        out[1] = UInt8(truncatingIfNeeded: n / 10) &+ UInt8(ascii: "0")
                        out[2] = UInt8(truncatingIfNeeded: n % 10) &+ UInt8(ascii: "0")
                        i = 3
                    } else {
                        out[1] = UInt8(truncatingIfNeeded: n) &+ UInt8(ascii: "0")
                        i = 2
                    }
                    out[i] = 13
                    out[i + 1] = 10
                    i += 2
                }
                UnsafeMutableRawBufferPointer(rebasing: out[i..<(i + n)]).copyMemory(from: UnsafeRawBufferPointer(rebasing: tmp[0..<n]))
                out[i + n] = 13
                out[i + n + 1] = 10
                return i + n + 2
            }
        }
    }

    /// A score always as a bulk string (ZSCAN's values, in either protocol).
    @inlinable
    public mutating func scoreBulk(_ value: Double) {
        withUnsafeTemporaryAllocation(byteCount: ScoreFormat.maxLength, alignment: 1) { tmp in
            let n = ScoreFormat.write(value, into: tmp)
            bulk(UnsafeRawBufferPointer(rebasing: tmp[0..<n]))
        }
    }
}
