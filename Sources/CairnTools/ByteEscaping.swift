// How binary keys and values are shown (docs/tools-cairn-rdb.md, "Output formats").
//
// JSON: each byte b becomes the character U+00bb (Latin-1), written as UTF-8, with `"`, `\`
// and control characters (C0, DEL and C1) escaped as \u00XX, so `json.loads(line)["key"].encode("latin-1")` gives the
// exact bytes back. Text: a quoted string as redis-cli prints one (sdscatrepr), so what a user
// sees in `dump` looks like what `redis-cli` shows for the same key.

public enum ByteEscaping {
    static let hexDigits: [UInt8] = Array("0123456789abcdef".utf8)

    /// `bytes` as a JSON string literal, quotes included, appended to `out`.
    public static func appendJSONString(_ bytes: UnsafeRawBufferPointer, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        for b in bytes {
            switch b {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"):
                out.append(UInt8(ascii: "\\"))
                out.append(b)
            case 0..<0x20, 0x7f...0x9f:
                // \u00XX for every control character, C1 included: U+0085 (NEL) is a line break
                // to Python's str.splitlines and to some terminals, and a line must stay a line.
                out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0"),
                                        hexDigits[Int(b >> 4)], hexDigits[Int(b & 0xf)]])
            case 0xa0...:
                out.append(0xc0 | (b >> 6))
                out.append(0x80 | (b & 0x3f))
            default:
                out.append(b)
            }
        }
        out.append(UInt8(ascii: "\""))
    }

    public static func appendJSONString(_ bytes: [UInt8], to out: inout [UInt8]) {
        bytes.withUnsafeBytes { appendJSONString($0, to: &out) }
    }

    public static func appendJSONString(_ bytes: ArraySlice<UInt8>, to out: inout [UInt8]) {
        bytes.withUnsafeBytes { appendJSONString($0, to: &out) }
    }

    public static func jsonString(_ bytes: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        appendJSONString(bytes, to: &out)
        return out
    }

    /// `bytes` in double quotes with redis-cli's escapes (`\n`, `\r`, `\t`, `\a`, `\b`, `\"`,
    /// `\\`, and `\xHH` for anything else outside printable ASCII).
    public static func appendQuoted(_ bytes: UnsafeRawBufferPointer, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        for b in bytes {
            switch b {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"):
                out.append(UInt8(ascii: "\\"))
                out.append(b)
            case UInt8(ascii: "\n"): out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "n")])
            case UInt8(ascii: "\r"): out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "r")])
            case UInt8(ascii: "\t"): out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "t")])
            case 7: out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "a")])
            case 8: out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "b")])
            case 0x20..<0x7f: out.append(b)
            default:
                out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "x"), hexDigits[Int(b >> 4)], hexDigits[Int(b & 0xf)]])
            }
        }
        out.append(UInt8(ascii: "\""))
    }

    public static func appendQuoted(_ bytes: [UInt8], to out: inout [UInt8]) {
        bytes.withUnsafeBytes { appendQuoted($0, to: &out) }
    }

    public static func appendQuoted(_ bytes: ArraySlice<UInt8>, to out: inout [UInt8]) {
        bytes.withUnsafeBytes { appendQuoted($0, to: &out) }
    }

    public static func quoted(_ bytes: [UInt8]) -> String {
        var out: [UInt8] = []
        appendQuoted(bytes, to: &out)
        return String(decoding: out, as: UTF8.self)
    }
}
