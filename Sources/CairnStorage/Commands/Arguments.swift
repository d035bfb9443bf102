import CairnRESP

// The arguments of the command being executed: borrowed views into the connection's input buffer
// (or into an inline request's storage). Valid only while the command runs; a command that needs
// an argument later (a blocked client, a queued MULTI command) copies it.

public struct Arguments {
    @usableFromInline let base: UnsafeRawPointer?
    @usableFromInline let ranges: UnsafeBufferPointer<ArgumentRange>

    @inlinable
    public init(base: UnsafeRawPointer?, ranges: UnsafeBufferPointer<ArgumentRange>) {
        self.base = base
        self.ranges = ranges
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
