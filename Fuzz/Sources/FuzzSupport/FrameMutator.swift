import CLibFuzzer
import CairnStorage

// A custom mutator (libFuzzer's LLVMFuzzerCustomMutator) for inputs that are one LZ4 frame or one
// gzip stream. Mutating compressed bytes almost always breaks the frame, so the RDB inside would
// hardly be reached: three mutations in four decompress the input, let libFuzzer mutate the inner
// bytes and compress them again (a sound frame around new content); the fourth mutates the
// compressed bytes themselves (damaged frames: checksums, block sizes, truncation, trailing bytes).

public enum FrameKind: Sendable {
    case lz4, gzip
}

public enum FrameMutator {
    /// Inner bytes kept at most: a compression bomb in the corpus must not make each mutation huge.
    static let innerBytesMax = 1 << 20

    /// The body of a target's LLVMFuzzerCustomMutator.
    public static func mutate(_ data: UnsafeMutablePointer<UInt8>, size: Int, maxSize: Int, seed: UInt32,
                              frame: FrameKind) -> Int {
        if seed % 4 != 0, let inner = decompress(UnsafeRawBufferPointer(start: data, count: size), frame) {
            let capacity = min(innerBytesMax, max(inner.count * 2, 4096))
            var bytes = inner + [UInt8](repeating: 0, count: max(0, capacity - inner.count))
            let n = bytes.withUnsafeMutableBufferPointer { LLVMFuzzerMutate($0.baseAddress, inner.count, $0.count) }
            if let framed = compress(bytes[0..<n], frame), framed.count <= maxSize {
                framed.withUnsafeBytes { data.update(from: $0.bindMemory(to: UInt8.self).baseAddress!, count: framed.count) }
                return framed.count
            }
        }
        return LLVMFuzzerMutate(data, size, maxSize)
    }

    /// The inner bytes of a sound frame, nil for damage (or more than `innerBytesMax`).
    public static func decompress(_ framed: UnsafeRawBufferPointer, _ frame: FrameKind) -> [UInt8]? {
        do {
            let source = MemorySource(Array(framed))
            let inner = frame == .lz4 ? try CompressionFrames.lz4Source(over: source) : try CompressionFrames.gzipSource(over: source)
            var out: [UInt8] = []
            var chunk = [UInt8](repeating: 0, count: 64 * 1024)
            while true {
                let n = try chunk.withUnsafeMutableBytes { try inner.read(into: $0) }
                if n == 0 { return out }
                out += chunk[0..<n]
                if out.count > innerBytesMax { return nil }
            }
        } catch {
            return nil
        }
    }

    /// `inner` in one frame as Cairn writes it (level 1).
    public static func compress(_ inner: ArraySlice<UInt8>, _ frame: FrameKind) -> [UInt8]? {
        let memory = MemorySink()
        do {
            let sink = frame == .lz4 ? try CompressionFrames.lz4Sink(over: memory, level: 1)
                                     : try CompressionFrames.gzipSink(over: memory, level: 1)
            try inner.withUnsafeBytes { try sink.consume($0) }
            try sink.finish()
        } catch {
            return nil
        }
        return memory.bytes
    }
}
