import CairnRESP

// The arguments of the command being executed: borrowed views into the connection's input buffer
// (or into an inline request's storage). Valid only while the command runs; a command that needs
// an argument later (a blocked client, a queued MULTI command) copies it.

public struct Arguments {
    @usableFromInline let base: UnsafeRawPointer?
    @usableFromInline let ranges: UnsafeBufferPointer<ArgumentRange>
    /// The whole request these arguments were parsed from, when it was a RESP array: its bytes
    /// are the command's own encoding, which propagation copies instead of encoding it again.
    @usableFromInline let request: UnsafeRawBufferPointer?

    @inlinable
    public init(base: UnsafeRawPointer?, ranges: UnsafeBufferPointer<ArgumentRange>, request: UnsafeRawBufferPointer? = nil) {
        self.base = base
        self.ranges = ranges
        self.request = request
    }

    /// The request's bytes if they are exactly `CommandEncoder`'s encoding of the arguments. The
    /// parser accepts only canonical lengths (no sign, no leading zero), so what remains to check
    /// is the CRLF after each argument, which it skips unread (as Redis does).
    @inlinable
    public var canonicalEncoding: UnsafeRawBufferPointer? {
        guard let request, let base else { return nil }
        for r in ranges {
            let end = base + Int(r.start) + Int(r.count)
            guard end.load(as: UInt8.self) == 13, (end + 1).load(as: UInt8.self) == 10 else { return nil }
        }
        return request
    }

    @inlinable public var count: Int { ranges.count }

    @inlinable
    public subscript(i: Int) -> UnsafeRawBufferPointer {
        let r = ranges[i]
        guard let base else { return UnsafeRawBufferPointer(start: nil, count: 0) }
        return UnsafeRawBufferPointer(start: base + Int(r.start), count: Int(r.count))
    }

    /// A copy of argument `i`.
    @inlinable public func bytes(_ i: Int) -> [UInt8] { Array(self[i]) }

    /// Argument `i` as text (for error messages and names; lossy for invalid UTF-8).
    public func string(_ i: Int) -> String { String(decoding: self[i], as: UTF8.self) }

    /// Argument `i` as a canonical 64-bit integer.
    @inlinable public func int64(_ i: Int) -> Int64? { Decimal.parseInt64(self[i]) }

    /// Whether argument `i` equals `word` (ASCII, case-insensitive; `word` is lowercase).
    @inlinable
    public func matches(_ i: Int, _ word: StaticString) -> Bool {
        let a = self[i]
        guard a.count == word.utf8CodeUnitCount else { return false }
        let w = word.utf8Start
        for j in 0..<a.count where ASCII.lower(a[j]) != w[j] { return false }
        return true
    }

    /// Runs `body` with Arguments over owned byte arrays (tests, replays, internal rewrites).
    public static func with<R>(_ args: [[UInt8]], _ body: (Arguments) throws -> R) rethrows -> R {
        var storage: [UInt8] = []
        var ranges: [ArgumentRange] = []
        storage.reserveCapacity(args.reduce(0) { $0 + $1.count })
        for a in args {
            ranges.append(ArgumentRange(start: storage.count, count: a.count))
            storage.append(contentsOf: a)
        }
        return try storage.withUnsafeBytes { raw in
            try ranges.withUnsafeBufferPointer { r in
                try body(Arguments(base: raw.baseAddress, ranges: r))
            }
        }
    }

    /// Owned copies of every argument.
    public func copyAll() -> [[UInt8]] { (0..<count).map { bytes($0) } }
}

public enum ASCII {
    @inlinable @inline(__always)
    public static func lower(_ c: UInt8) -> UInt8 { c &- 65 < 26 ? c | 0x20 : c }

    @inlinable @inline(__always)
    public static func upper(_ c: UInt8) -> UInt8 { c &- 97 < 26 ? c & ~0x20 : c }
}

/// C library number parsing where Redis uses it directly on arguments (numkeys of key finders).
public enum CNumber {
    /// C's atoi as glibc implements it: (int)strtol(s, NULL, 10): leading white space, an
    /// optional sign, then digits up to the first non-digit; saturates at the long range, then
    /// truncates to 32 bits.
    public static func atoi(_ s: UnsafeRawBufferPointer) -> Int {
        var i = 0
        while i < s.count, s[i] == 32 || (s[i] >= 9 && s[i] <= 13) { i += 1 }
        var negative = false
        if i < s.count, s[i] == UInt8(ascii: "-") || s[i] == UInt8(ascii: "+") {
            negative = s[i] == UInt8(ascii: "-")
            i += 1
        }
        var magnitude: UInt64 = 0
        var overflow = false
        while i < s.count, s[i] >= UInt8(ascii: "0"), s[i] <= UInt8(ascii: "9") {
            let (m, o1) = magnitude.multipliedReportingOverflow(by: 10)
            let (v, o2) = m.addingReportingOverflow(UInt64(s[i] - UInt8(ascii: "0")))
            if o1 || o2 { overflow = true }
            magnitude = v
            i += 1
        }
        let long: Int64
        if negative {
            long = overflow || magnitude > UInt64(Int64.max) + 1 ? Int64.min : Int64(truncatingIfNeeded: 0 &- magnitude)
        } else {
            long = overflow || magnitude > UInt64(Int64.max) ? Int64.max : Int64(magnitude)
        }
        return Int(Int32(truncatingIfNeeded: long))
    }
}
