// Splits a line into arguments the way Redis's sdssplitargs does: used for inline commands and for
// config file lines. Written by hand because the quoting rules (double quotes with \xHH, \n, \r,
// \t, \b, \a escapes; single quotes with only \'; a closing quote must be followed by a space or
// the end of the line) are Redis's own and no library implements them.

public enum ArgumentSplitter {
    /// Calls `emit` with each argument; returns false on unbalanced quotes.
    public static func split(_ line: UnsafeRawBufferPointer, _ emit: ([UInt8]) -> Void) -> Bool {
        let n = line.count
        var i = 0
        var current: [UInt8] = []
        while true {
            while i < n && isSpace(line[i]) { i += 1 }
            if i >= n { return true }
            var inDouble = false
            var inSingle = false
            var done = false
            current.removeAll(keepingCapacity: true)
            while !done {
                if inDouble {
                    if i >= n { return false }
                    let c = line[i]
                    if c == UInt8(ascii: "\\") && i + 3 < n && line[i + 1] == UInt8(ascii: "x"),
                       let hi = hexValue(line[i + 2]), let lo = hexValue(line[i + 3]) {
                        current.append(hi << 4 | lo)
                        i += 3
                    } else if c == UInt8(ascii: "\\") && i + 1 < n {
                        i += 1
                        switch line[i] {
                        case UInt8(ascii: "n"): current.append(UInt8(ascii: "\n"))
                        case UInt8(ascii: "r"): current.append(UInt8(ascii: "\r"))
                        case UInt8(ascii: "t"): current.append(UInt8(ascii: "\t"))
                        case UInt8(ascii: "b"): current.append(8)
                        case UInt8(ascii: "a"): current.append(7)
                        default: current.append(line[i])
                        }
                    } else if c == UInt8(ascii: "\"") {
                        // The closing quote must be followed by a space or nothing.
                        if i + 1 < n && !isSpace(line[i + 1]) { return false }
                        done = true
                    } else {
                        current.append(c)
                    }
                } else if inSingle {
                    if i >= n { return false }
                    let c = line[i]
                    if c == UInt8(ascii: "\\") && i + 1 < n && line[i + 1] == UInt8(ascii: "'") {
                        i += 1
                        current.append(UInt8(ascii: "'"))
                    } else if c == UInt8(ascii: "'") {
                        if i + 1 < n && !isSpace(line[i + 1]) { return false }
                        done = true
                    } else {
                        current.append(c)
                    }
                } else {
                    if i >= n { done = true; break }
                    let c = line[i]
                    switch c {
                    case UInt8(ascii: " "), UInt8(ascii: "\n"), UInt8(ascii: "\r"), UInt8(ascii: "\t"), 0:
                        done = true
                    case UInt8(ascii: "\""):
                        inDouble = true
                    case UInt8(ascii: "'"):
                        inSingle = true
                    default:
                        current.append(c)
                    }
                }
                if i < n { i += 1 }
            }
            emit(current)
        }
    }

    /// Convenience for config lines and tests.
    public static func split(_ line: [UInt8]) -> [[UInt8]]? {
        var out: [[UInt8]] = []
        let ok = line.withUnsafeBytes { split($0) { out.append($0) } }
        return ok ? out : nil
    }

    @inline(__always)
    static func isSpace(_ c: UInt8) -> Bool {
        c == 32 || (c >= 9 && c <= 13)
    }

    @inline(__always)
    static func hexValue(_ c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return c - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return c - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return c - UInt8(ascii: "A") + 10
        default: return nil
        }
    }
}
