// Split points for feeding one input to a resumable decoder in pieces, derived from the input
// itself so that a saved crash replays the same way. Sizes are mostly small (1-16 bytes, to stop
// inside headers and CRLFs) with some larger pieces.

public enum Chunking {
    /// Piece sizes summing to `count`.
    public static func pieces(of input: UnsafeRawBufferPointer) -> [Int] {
        var state = fnv1a(input)
        var sizes: [Int] = []
        var left = input.count
        while left > 0 {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            let r = Int(truncatingIfNeeded: state >> 33)
            let size = r % 4 == 0 ? 1 + (r >> 2) % 512 : 1 + (r >> 2) % 16
            sizes.append(min(size, left))
            left -= sizes[sizes.count - 1]
        }
        return sizes
    }

    /// FNV-1a of the bytes.
    public static func fnv1a(_ bytes: UnsafeRawBufferPointer) -> UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in bytes { h = (h ^ UInt64(b)) &* 0x100_0000_01b3 }
        return h
    }
}
