import CLZF

// Per-string LZF compression inside an RDB, as Redis does it (docs/format-rdb.md, "LZF strings"),
// through liblzf: the same code Redis vendors, so Redis loads what Cairn writes.

enum LZF {
    /// Redis compresses strings longer than this many bytes when `rdbcompression` is on.
    static let minimumInputBytes = 21
    /// Redis keeps the compressed form only when it saves at least this many bytes.
    static let minimumSavingBytes = 4

    /// Compresses `input` into `output` (which must hold `input.count - minimumSavingBytes`
    /// bytes); returns the compressed length, or nil if compression would not save enough.
    static func compress(_ input: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer) -> Int? {
        guard input.count > minimumSavingBytes, input.count <= Int(UInt32.max), let src = input.baseAddress, let dst = output.baseAddress else { return nil }
        let limit = min(output.count, input.count - minimumSavingBytes)
        let n = lzf_compress(src, UInt32(truncatingIfNeeded: input.count), dst, UInt32(truncatingIfNeeded: limit))
        return n == 0 ? nil : Int(n)
    }

    /// Decompresses `input` into exactly `output.count` bytes; false if the data is damaged or
    /// does not expand to exactly that length.
    static func decompress(_ input: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer) -> Bool {
        guard let src = input.baseAddress, let dst = output.baseAddress, input.count > 0, output.count > 0 else {
            return false
        }
        let n = lzf_decompress(src, UInt32(truncatingIfNeeded: input.count), dst, UInt32(truncatingIfNeeded: output.count))
        return Int(n) == output.count
    }
}
