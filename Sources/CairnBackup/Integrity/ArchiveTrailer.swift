// The integrity trailer (docs/format-backup.md, "The integrity trailer"): the SHA-256 of the
// compressed stream, after it, in a form the standard tools skip — an empty gzip member whose
// extra field holds it, or an LZ4 skippable frame. Compressed formats have slack (a match that
// points at other, identical bytes; unused bits), so a flipped byte can leave the decompressed
// data whole and every inner checksum happy; this catches every changed byte of the file.

import CairnStorage
import Crypto

enum ArchiveTrailer {
    static let digestBytes = 32
    static let lz4Label: [UInt8] = Array("CAIRNSUM".utf8)

    static func length(_ compression: ArchiveCompression) -> Int { compression == .gzip ? 58 : 48 }

    static func bytes(_ compression: ArchiveCompression, digest: [UInt8]) -> [UInt8] {
        switch compression {
        case .gzip:
            // ID1 ID2 CM=deflate FLG=FEXTRA MTIME=0 XFL=0 OS=Unix, XLEN=36, subfield "CS" of 32
            // bytes, an empty deflate stream (03 00), CRC-32 0, ISIZE 0.
            return [0x1F, 0x8B, 8, 0x04, 0, 0, 0, 0, 0, 3, 36, 0, 0x43, 0x53, 32, 0] + digest + [0x03, 0x00, 0, 0, 0, 0, 0, 0, 0, 0]
        case .lz4:
            // Skippable frame 0x184D2A50, 40 bytes of payload.
            return [0x50, 0x2A, 0x4D, 0x18, 40, 0, 0, 0] + lz4Label + digest
        }
    }
}

/// Hashes what the compressor writes and appends the trailer when the stream ends.
final class TrailerSink: ByteSink {
    private let next: ByteSink
    private let compression: ArchiveCompression
    private var hasher = SHA256()

    init(next: ByteSink, compression: ArchiveCompression) {
        self.next = next
        self.compression = compression
    }

    func consume(_ bytes: UnsafeRawBufferPointer) throws {
        hasher.update(bufferPointer: bytes)
        try next.consume(bytes)
    }

    func finish() throws {
        try ArchiveTrailer.bytes(compression, digest: Array(hasher.finalize())).withUnsafeBytes { try next.consume($0) }
        try next.finish()
    }
}

/// Hands the decompressor everything but the trailer, and checks the trailer against the SHA-256
/// of what it handed over once the stream ends.
final class TrailerCheckingSource: ByteSource {
    private let next: ByteSource
    private let compression: ArchiveCompression
    private let trailerBytes: Int
    private var hasher = SHA256()
    private let scratch = UnsafeMutableRawBufferPointer.allocate(byteCount: 256 * 1024, alignment: 16)
    private var start = 0, end = 0
    private var ended = false
    private var checked = false

    init(next: ByteSource, compression: ArchiveCompression) {
        self.next = next
        self.compression = compression
        trailerBytes = ArchiveTrailer.length(compression)
    }

    deinit { scratch.deallocate() }

    func read(into out: UnsafeMutableRawBufferPointer) throws -> Int {
        guard out.count > 0, !checked else { return 0 }
        while true {
            let available = end - start
            if available > trailerBytes {
                // Only bytes with a whole trailer's worth after them can be data.
                let n = min(out.count, available - trailerBytes)
                let chunk = UnsafeRawBufferPointer(rebasing: scratch[start..<(start + n)])
                out.baseAddress!.copyMemory(from: chunk.baseAddress!, byteCount: n)
                hasher.update(bufferPointer: chunk)
                start += n
                return n
            }
            if ended {
                let trailer = Array(UnsafeRawBufferPointer(rebasing: scratch[start..<end]))
                guard trailer == ArchiveTrailer.bytes(compression, digest: Array(hasher.finalize())) else {
                    throw BackupError.damaged(trailer.count < trailerBytes
                        ? "truncated: the integrity trailer is missing"
                        : "the archive's SHA-256 does not match its integrity trailer (a byte was changed)")
                }
                checked = true
                return 0
            }
            if start > 0 {
                if available > 0 { scratch.baseAddress!.copyMemory(from: scratch.baseAddress! + start, byteCount: available) }
                start = 0
                end = available
            }
            let got = try next.read(into: UnsafeMutableRawBufferPointer(rebasing: scratch[end...]))
            if got == 0 { ended = true } else { end += got }
        }
    }
}
