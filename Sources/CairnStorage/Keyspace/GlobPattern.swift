// Redis's glob matching (util.c stringmatchlen): `*`, `?`, `[abc]`, `[^a-z]`, `\x` escapes,
// optional ASCII case folding. Written by hand because fnmatch(3) differs from Redis on escapes
// inside brackets and on `[^...]`, and KEYS/SCAN/CONFIG GET must match exactly what Redis matches.

public enum GlobPattern {
    /// Nesting cap for `*` backtracking, as Redis limits it against pathological patterns.
    static let recursionDepthMax = 1000

    public static func matches(_ pattern: UnsafeRawBufferPointer, _ string: UnsafeRawBufferPointer, caseInsensitive: Bool = false) -> Bool {
        var skipLongerMatches = false
        return match(pattern, 0, string, 0, caseInsensitive, &skipLongerMatches, 0)
    }

    public static func matches(_ pattern: [UInt8], _ string: [UInt8], caseInsensitive: Bool = false) -> Bool {
        pattern.withUnsafeBytes { p in string.withUnsafeBytes { s in matches(p, s, caseInsensitive: caseInsensitive) } }
    }

    public static func matches(_ pattern: String, _ string: String, caseInsensitive: Bool = false) -> Bool {
        matches(Array(pattern.utf8), Array(string.utf8), caseInsensitive: caseInsensitive)
    }

    @inline(__always)
    static func fold(_ c: UInt8, _ nocase: Bool) -> UInt8 { nocase ? ASCII.lower(c) : c }

    private static func match(_ p: UnsafeRawBufferPointer, _ pi0: Int, _ s: UnsafeRawBufferPointer, _ si0: Int,
                              _ nocase: Bool, _ skipLonger: inout Bool, _ depth: Int) -> Bool {
        if depth > recursionDepthMax { return false }
        var pi = pi0, si = si0
        let pn = p.count, sn = s.count
        while pi < pn && si < sn {
            switch p[pi] {
            case UInt8(ascii: "*"):
                while pi + 1 < pn && p[pi + 1] == UInt8(ascii: "*") { pi += 1 }
                if pi + 1 == pn { return true }
                while si < sn {
                    if match(p, pi + 1, s, si, nocase, &skipLonger, depth + 1) { return true }
                    if skipLonger { return false }
                    si += 1
                }
                skipLonger = true
                return false
            case UInt8(ascii: "?"):
                si += 1
            case UInt8(ascii: "["):
                pi += 1
                let not = pi < pn && p[pi] == UInt8(ascii: "^")
                if not { pi += 1 }
                var matched = false
                while true {
                    if pi + 1 < pn && p[pi] == UInt8(ascii: "\\") {
                        pi += 1
                        if p[pi] == s[si] { matched = true }
                    } else if pi >= pn || p[pi] == UInt8(ascii: "]") {
                        break
                    } else if pi + 2 < pn && p[pi + 1] == UInt8(ascii: "-") {
                        // Redis compares plain `char`s, signed on the platforms it ships for: bytes
                        // >= 0x80 sort below ASCII (`[a-\xff]` is the range -1...97). Bounds are
                        // swapped before case folding, so `[Z-a]` with nocase matches nothing.
                        var start = Int8(bitPattern: p[pi]), end = Int8(bitPattern: p[pi + 2])
                        if start > end { swap(&start, &end) }
                        start = Int8(bitPattern: fold(UInt8(bitPattern: start), nocase))
                        end = Int8(bitPattern: fold(UInt8(bitPattern: end), nocase))
                        let c = Int8(bitPattern: fold(s[si], nocase))
                        pi += 2
                        if c >= start && c <= end { matched = true }
                    } else if fold(p[pi], nocase) == fold(s[si], nocase) {
                        matched = true
                    }
                    pi += 1
                }
                if pi >= pn { pi = pn - 1 }  // unterminated class: Redis treats the end as ']'
                if not { matched = !matched }
                if !matched { return false }
                si += 1
            case UInt8(ascii: "\\"):
                if pi + 1 < pn { pi += 1 }
                if fold(p[pi], nocase) != fold(s[si], nocase) { return false }
                si += 1
            default:
                if fold(p[pi], nocase) != fold(s[si], nocase) { return false }
                si += 1
            }
            pi += 1
            if si == sn {
                while pi < pn && p[pi] == UInt8(ascii: "*") { pi += 1 }
                break
            }
        }
        return pi == pn && si == sn
    }
}
