// Sources that see every byte passing through them: SHA-256 of a member, a copy into a file while
// something else (the RDB reader) pulls, and a byte count for progress bars.

import CairnStorage
import Crypto

/// SHA-256 and count of everything read through it.
final class HashingSource: ByteSource {
    private let next: ByteSource
    private var hasher = SHA256()
    private(set) var count: Int64 = 0

    init(next: ByteSource) { self.next = next }

    func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        let n = try next.read(into: buffer)
        if n > 0 {
            hasher.update(bufferPointer: UnsafeRawBufferPointer(rebasing: buffer[0..<n]))
            count += Int64(n)
        }
        return n
    }

    /// Reads what is left, then returns the digest as 64 hex digits.
    func drainAndFinish() throws -> String {
        let scratch = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 16)
        defer { scratch.deallocate() }
        while try read(into: scratch) > 0 {}
        return Array(hasher.finalize()).hexString
    }
}

/// Passes reads through and writes every byte read into `copy`.
final class TeeSource: ByteSource {
    private let next: ByteSource
    private let copy: ByteSink

    init(next: ByteSource, copy: ByteSink) {
        self.next = next
        self.copy = copy
    }

    func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        let n = try next.read(into: buffer)
        if n > 0 { try copy.consume(UnsafeRawBufferPointer(rebasing: buffer[0..<n])) }
        return n
    }
}

/// Calls `progress` with the running count of bytes read.
final class CountingSource: ByteSource {
    private let next: ByteSource
    private let progress: (Int64) -> Void
    private(set) var count: Int64 = 0

    init(next: ByteSource, progress: @escaping (Int64) -> Void) {
        self.next = next
        self.progress = progress
    }

    func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        let n = try next.read(into: buffer)
        count += Int64(n)
        progress(count)
        return n
    }
}

/// Hands back `prefix` before the rest of `next` (to sniff a format by its first bytes).
final class PrefixedSource: ByteSource {
    private let next: ByteSource
    private var prefix: [UInt8]

    init(prefix: [UInt8], next: ByteSource) {
        self.prefix = prefix
        self.next = next
    }

    func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        if prefix.isEmpty { return try next.read(into: buffer) }
        let n = min(prefix.count, buffer.count)
        prefix.withUnsafeBytes { buffer.baseAddress!.copyMemory(from: $0.baseAddress!, byteCount: n) }
        prefix.removeFirst(n)
        return n
    }
}
