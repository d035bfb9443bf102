import CairnRESP
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// Redis does INCRBYFLOAT and HINCRBYFLOAT in C `long double`: it parses with strtold and prints with
// "%.17Lf", then strips trailing zeros. On x86_64 that type is the 80-bit extended format, which
// Swift has as Float80; elsewhere Redis's results differ by platform anyway, and we fall back to
// Double (what `long double` is on Apple arm64).
//
// Printing is done here rather than through snprintf so the output does not depend on C varargs
// support for Float80; it is exact (big-integer arithmetic, ties to even as glibc rounds) and the
// tests check it against glibc's own "%.17Lf".

#if arch(x86_64) && (os(Linux) || os(macOS))
public typealias LongDouble = Float80
#else
public typealias LongDouble = Double
#endif

public enum FloatFormat {
    /// Redis's MAX_LONG_DOUBLE_CHARS: string2ld refuses inputs this long or longer.
    static let maxLongDoubleChars = 5 * 1024

    /// Parses `bytes` as Redis's string2ld does: whatever strtold accepts in full (decimal, hex,
    /// "inf"/"infinity", a leading '+'), except leading space, NaN, and values that overflow or
    /// underflow to zero.
    public static func parseLongDouble(_ bytes: UnsafeRawBufferPointer) -> LongDouble? {
        let n = bytes.count
        guard n > 0, n < maxLongDoubleChars else { return nil }
        let first = bytes[0]
        if first == 32 || (first >= 9 && first <= 13) { return nil }  // C isspace
        return withUnsafeTemporaryAllocation(of: CChar.self, capacity: n + 1) { buf -> LongDouble? in
            guard let start = buf.baseAddress else { return nil }
            for i in 0..<n { buf[i] = CChar(bitPattern: bytes[i]) }
            buf[n] = 0
            var end: UnsafeMutablePointer<CChar>? = nil
            errno = 0
            #if arch(x86_64) && (os(Linux) || os(macOS))
            let value = strtold(start, &end)
            #else
            let value = strtod(start, &end)
            #endif
            let error = errno
            // The whole input must be the number (a NUL byte inside it makes it invalid).
            guard let end, end == start + n else { return nil }
            if error == ERANGE && (value.isInfinite || value == 0) { return nil }
            if error == EINVAL || value.isNaN { return nil }
            return value
        }
    }

    public static func parseLongDouble(_ bytes: [UInt8]) -> LongDouble? {
        bytes.withUnsafeBytes { parseLongDouble($0) }
    }

    /// Redis's ld2string(LD_STR_HUMAN): "%.17Lf" without trailing zeros or a bare '.', and "-0"
    /// printed as "0".
    public static func human(_ value: LongDouble) -> [UInt8] {
        if value.isNaN { return Array((value.sign == .minus ? "-nan" : "nan").utf8) }
        if value.isInfinite { return Array((value < 0 ? "-inf" : "inf").utf8) }
        let digits = fixed17Digits(value)
        // Trailing fraction zeros go, then the dot if nothing is left after it.
        var end = digits.count
        while end > digits.count - 17 && digits[end - 1] == UInt8(ascii: "0") { end -= 1 }
        let integerDigits = digits.count - 17
        var out: [UInt8] = []
        out.reserveCapacity(end + 2)
        let isZero = end == integerDigits && integerDigits == 1 && digits[0] == UInt8(ascii: "0")
        if value.sign == .minus && !isZero { out.append(UInt8(ascii: "-")) }
        out.append(contentsOf: digits[0..<integerDigits])
        if end > integerDigits {
            out.append(UInt8(ascii: "."))
            out.append(contentsOf: digits[integerDigits..<end])
        }
        return out
    }

    /// Decimal digits of |value| × 10^17 rounded to an integer (ties to even), at least 18 of them:
    /// "%.17Lf" without its sign and dot.
    static func fixed17Digits<F: BinaryFloatingPoint>(_ value: F) -> [UInt8] {
        let (mantissa, exponent) = decompose(value)
        var n = BigUInt(mantissa)
        n.multiply(by: 1_000_000_000)
        n.multiply(by: 100_000_000)
        if exponent >= 0 {
            n.shiftLeft(exponent)
        } else {
            let k = -exponent
            let half = n.bit(k - 1)
            let sticky = n.anyBit(below: k - 1)
            n.shiftRight(k)
            if half && (sticky || n.isOdd) { n.increment() }
        }
        var digits = n.decimalDigits()
        if digits.count < 18 {
            digits.insert(contentsOf: repeatElement(UInt8(ascii: "0"), count: 18 - digits.count), at: 0)
        }
        return digits
    }

    /// |value| = mantissa × 2^exponent, exactly.
    static func decompose<F: BinaryFloatingPoint>(_ value: F) -> (UInt64, Int) {
        let fraction = UInt64(truncatingIfNeeded: value.significandBitPattern)
        let biased = Int(value.exponentBitPattern)
        let bias = (1 << (F.exponentBitCount - 1)) - 1
        if biased == 0 { return (fraction, 1 - bias - F.significandBitCount) }
        return (fraction | (1 << UInt64(F.significandBitCount)), biased - bias - F.significandBitCount)
    }
}

/// Just enough unsigned big-integer arithmetic for exact decimal printing.
struct BigUInt {
    /// Little-endian 32-bit limbs.
    var limbs: [UInt32]

    init(_ v: UInt64) { limbs = [UInt32(truncatingIfNeeded: v), UInt32(truncatingIfNeeded: v >> 32)] }

    var isOdd: Bool { (limbs.first ?? 0) & 1 == 1 }

    mutating func multiply(by m: UInt32) {
        var carry: UInt64 = 0
        for i in limbs.indices {
            let p = UInt64(limbs[i]) * UInt64(m) + carry
            limbs[i] = UInt32(truncatingIfNeeded: p)
            carry = p >> 32
        }
        if carry != 0 { limbs.append(UInt32(truncatingIfNeeded: carry)) }
    }

    mutating func shiftLeft(_ n: Int) {
        let bits = n % 32
        if bits != 0 {
            var carry: UInt32 = 0
            for i in limbs.indices {
                let l = limbs[i]
                limbs[i] = (l << bits) | carry
                carry = l >> (32 - bits)
            }
            if carry != 0 { limbs.append(carry) }
        }
        if n >= 32 { limbs.insert(contentsOf: repeatElement(0, count: n / 32), at: 0) }
    }

    mutating func shiftRight(_ n: Int) {
        let words = n / 32
        if words >= limbs.count {
            limbs = [0]
            return
        }
        limbs.removeFirst(words)
        let bits = n % 32
        if bits != 0 {
            for i in limbs.indices {
                let next = i + 1 < limbs.count ? limbs[i + 1] : 0
                limbs[i] = (limbs[i] >> bits) | (next << (32 - bits))
            }
        }
    }

    func bit(_ i: Int) -> Bool {
        guard i >= 0, i / 32 < limbs.count else { return false }
        return (limbs[i / 32] >> (i % 32)) & 1 == 1
    }

    /// Whether any bit below position `i` is set.
    func anyBit(below i: Int) -> Bool {
        guard i > 0 else { return false }
        let words = min(i / 32, limbs.count)
        for w in 0..<words where limbs[w] != 0 { return true }
        guard words < limbs.count, i % 32 != 0 else { return false }
        return limbs[words] & ((1 << (i % 32)) - 1) != 0
    }

    mutating func increment() {
        for i in limbs.indices {
            limbs[i] &+= 1
            if limbs[i] != 0 { return }
        }
        limbs.append(1)
    }

    /// Decimal digits, most significant first ("0" for zero).
    func decimalDigits() -> [UInt8] {
        var work = limbs
        while work.last == 0 { work.removeLast() }
        var chunks: [UInt32] = []  // base 10^9, least significant first
        while !work.isEmpty {
            var rem: UInt64 = 0
            for i in stride(from: work.count - 1, through: 0, by: -1) {
                let cur = rem << 32 | UInt64(work[i])
                work[i] = UInt32(truncatingIfNeeded: cur / 1_000_000_000)
                rem = cur % 1_000_000_000
            }
            chunks.append(UInt32(truncatingIfNeeded: rem))
            while work.last == 0 { work.removeLast() }
        }
        guard let top = chunks.last else { return [UInt8(ascii: "0")] }
        var out = Decimal.bytes(Int64(top))
        for chunk in chunks.dropLast().reversed() {
            var piece = [UInt8](repeating: UInt8(ascii: "0"), count: 9)
            var v = chunk
            for j in stride(from: 8, through: 0, by: -1) {
                piece[j] = UInt8(truncatingIfNeeded: v % 10) &+ UInt8(ascii: "0")
                v /= 10
            }
            out.append(contentsOf: piece)
        }
        return out
    }
}
