// Integer parsing with Redis's `string2ll` rules: optional '-', no '+', no leading zeros, no spaces,
// no overflow. These rules decide what is "an integer" everywhere (lengths, INCR, int encoding).

public enum Decimal {
    /// Parses `bytes` as a canonical signed 64-bit decimal, or returns nil.
    @inlinable
    public static func parseInt64(_ bytes: UnsafeRawBufferPointer) -> Int64? {
        let n = bytes.count
        if n == 0 || n > 20 { return nil }
        if n == 1 && bytes[0] == UInt8(ascii: "0") { return 0 }
        var i = 0
        var negative = false
        if bytes[0] == UInt8(ascii: "-") {
            negative = true
            i = 1
            if n == 1 { return nil }
        }
        let first = bytes[i]
        guard first >= UInt8(ascii: "1"), first <= UInt8(ascii: "9") else { return nil }
        var value: UInt64 = UInt64(first &- UInt8(ascii: "0"))
        i += 1
        while i < n {
            let c = bytes[i]
            guard c >= UInt8(ascii: "0"), c <= UInt8(ascii: "9") else { return nil }
            let (m, o1) = value.multipliedReportingOverflow(by: 10)
            let (a, o2) = m.addingReportingOverflow(UInt64(c &- UInt8(ascii: "0")))
            if o1 || o2 { return nil }
            value = a
            i += 1
        }
        if negative {
            if value > UInt64(Int64.max) + 1 { return nil }
            return value == UInt64(Int64.max) + 1 ? Int64.min : -Int64(value)
        }
        if value > UInt64(Int64.max) { return nil }
        return Int64(value)
    }

    @inlinable
    public static func parseInt64(_ bytes: [UInt8]) -> Int64? {
        bytes.withUnsafeBytes { parseInt64($0) }
    }

    /// Number of bytes the decimal form of `v` takes.
    @inlinable
    public static func digitCount(_ v: Int64) -> Int {
        var u = v.magnitude
        var n = v < 0 ? 2 : 1
        while u >= 10 { u /= 10; n += 1 }
        return n
    }

    /// Decimal bytes of `v`.
    @inlinable
    public static func bytes(_ v: Int64) -> [UInt8] {
        let n = digitCount(v)
        return [UInt8](unsafeUninitializedCapacity: n) { buf, count in
            write(v, into: UnsafeMutableRawBufferPointer(buf), digits: n)
            count = n
        }
    }

    /// Appends the decimal form of `v` to `out` (formatted on the stack: no allocation).
    @inlinable
    public static func append(_ v: Int64, to out: inout [UInt8]) {
        withUnsafeTemporaryAllocation(byteCount: 20, alignment: 1) { buffer in
            let n = digitCount(v)
            write(v, into: buffer, digits: n)
            out.append(contentsOf: UnsafeRawBufferPointer(rebasing: buffer[..<n]))
        }
    }

    /// Writes the decimal form of `v` (exactly `digits` bytes, from `digitCount`) at the start of `out`.
    @inlinable
    public static func write(_ v: Int64, into out: UnsafeMutableRawBufferPointer, digits: Int) {
        var u = v.magnitude
        var i = digits - 1
        repeat {
            out[i] = UInt8(truncatingIfNeeded: u % 10) &+ UInt8(ascii: "0")
            u /= 10
            i -= 1
        } while u != 0
        if v < 0 { out[0] = UInt8(ascii: "-") }
    }
}
