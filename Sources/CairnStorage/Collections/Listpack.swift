// A compact sequence of byte strings packed into one array, after Redis's listpack: small hashes,
// small sorted sets and the nodes of a list use it so that a small collection costs a few bytes of
// overhead per element instead of a heap object each.
//
// Entry layout: varint(n) | n payload bytes | backlen
//   varint  = LEB128, 7 bits per byte, low bits first, high bit set on all but the last byte
//   backlen = the entry's header+payload size, LEB128 written in reverse (last byte first), so a
//             reader walking backwards from the end of an entry can find where it starts.
// Offsets below are byte offsets of an entry's first byte.

public struct Listpack: Sendable, Equatable {
    public private(set) var bytes: [UInt8] = []
    public private(set) var count = 0

    public init() {}

    public init<S: Sequence>(_ elements: S) where S.Element == [UInt8] {
        for e in elements { append(e) }
    }

    /// A listpack holding a copy of `raw`, which holds `count` well-formed entries (a small
    /// collection packed in a key's record, KeyRecord).
    @usableFromInline
    init(copying raw: UnsafeRawBufferPointer, count: Int) {
        bytes = Array(raw)
        self.count = count
    }

    public var isEmpty: Bool { count == 0 }
    public var byteCount: Int { bytes.count }

    // MARK: encoding

    @inline(__always)
    static func varintSize(_ v: Int) -> Int {
        var n = 1, x = v >> 7
        while x > 0 { n += 1; x >>= 7 }
        return n
    }

    /// Size of the entry that holds `n` payload bytes.
    @inline(__always)
    static func entrySize(_ n: Int) -> Int {
        let front = varintSize(n) + n
        return front + varintSize(front)
    }

    /// Writes the entry for `payload` at `out[at...]` (room already made): LEB128 length, the
    /// payload, then the backlen LEB128 stored most significant group first.
    static func write(_ payload: UnsafeRawBufferPointer, into out: UnsafeMutableRawBufferPointer) {
        var n = payload.count
        var i = 0
        repeat {
            var b = UInt8(n & 0x7F)
            n >>= 7
            if n > 0 { b |= 0x80 }
            out[i] = b
            i += 1
        } while n > 0
        if payload.count > 0 {
            out.baseAddress.map { _ = memcpy($0 + i, payload.baseAddress!, payload.count) }
        }
        i += payload.count
        // Reading backwards takes the last byte first: it carries the low 7 bits, flagged when a
        // higher group follows (at the byte before it); the first byte carries the highest group
        // and no flag, which ends the read.
        let front = i
        let size = varintSize(front)
        var v = front
        for j in stride(from: i + size - 1, through: i, by: -1) {
            var b = UInt8(v & 0x7F)
            if j != i { b |= 0x80 }
            out[j] = b
            v >>= 7
        }
    }

    /// Appends the entry for `payload` to `out`: the same bytes as `write`, appended in order (the
    /// payload with one copy, rather than zeros first and the payload over them).
    static func encode(_ payload: UnsafeRawBufferPointer, into out: inout [UInt8]) {
        var n = payload.count
        repeat {
            var b = UInt8(n & 0x7F)
            n >>= 7
            if n > 0 { b |= 0x80 }
            out.append(b)
        } while n > 0
        // As typed bytes: Array appends those with one memcpy (a raw buffer goes element by element).
        out.append(contentsOf: payload.assumingMemoryBound(to: UInt8.self))
        // The backlen, highest group first: every byte but the first flagged (see `write`).
        let front = varintSize(payload.count) + payload.count
        let size = varintSize(front)
        for k in 0..<size {
            out.append(UInt8((front >> (7 * (size - 1 - k))) & 0x7F) | (k != 0 ? 0x80 : 0))
        }
    }

    /// Payload range and the offset of the next entry, for the entry at `offset`.
    @inline(__always)
    func decode(at offset: Int) -> (payload: Range<Int>, next: Int) {
        var n = 0, shift = 0, i = offset
        while true {
            let b = bytes[i]
            n |= Int(b & 0x7F) << shift
            i += 1
            if b & 0x80 == 0 { break }
            shift += 7
        }
        let end = i + n
        return (i..<end, end + Self.varintSize(end - offset))
    }

    /// Offset of the entry that ends just before `end` (the start of the next entry).
    @inline(__always)
    func previous(before end: Int) -> Int {
        var i = end - 1, v = 0, shift = 0
        while true {
            let b = bytes[i]
            v |= Int(b & 0x7F) << shift
            if b & 0x80 == 0 { break }
            shift += 7
            i -= 1
        }
        return i - v
    }

    // MARK: access

    public var startOffset: Int { 0 }
    public var endOffset: Int { bytes.count }

    public func payload(at offset: Int) -> ArraySlice<UInt8> { bytes[decode(at: offset).payload] }
    public func element(at offset: Int) -> [UInt8] { Array(payload(at: offset)) }
    public func offset(after offset: Int) -> Int { decode(at: offset).next }
    public func offset(before offset: Int) -> Int { previous(before: offset) }
    public var lastOffset: Int? { count == 0 ? nil : previous(before: bytes.count) }

    /// Offset of the `index`-th entry (0-based; negative counts from the end).
    public func offset(ofIndex index: Int) -> Int? {
        let i = index < 0 ? count + index : index
        guard i >= 0 && i < count else { return nil }
        if i <= count / 2 {
            var o = 0
            for _ in 0..<i { o = offset(after: o) }
            return o
        }
        var o = bytes.count
        for _ in 0..<(count - i) { o = previous(before: o) }
        return o
    }

    /// Compares the entry at `offset` with `other` without copying.
    public func payloadEquals(at offset: Int, _ other: UnsafeRawBufferPointer) -> Bool {
        let r = decode(at: offset).payload
        guard r.count == other.count else { return false }
        return bytes.withUnsafeBytes { raw in
            r.isEmpty || memcmp(raw.baseAddress! + r.lowerBound, other.baseAddress!, r.count) == 0
        }
    }

    /// Calls `body` with each payload in order until it returns false.
    public func forEach(_ body: (ArraySlice<UInt8>) -> Bool) {
        var o = 0
        while o < bytes.count {
            let (p, next) = decode(at: o)
            if !body(bytes[p]) { return }
            o = next
        }
    }

    public var elements: [[UInt8]] {
        var out: [[UInt8]] = []
        out.reserveCapacity(count)
        forEach { out.append(Array($0)); return true }
        return out
    }

    // MARK: mutation

    /// Makes room for `more` bytes: doubling up to 1 KiB, then growing by an eighth rather than
    /// Swift's doubling: a list's nodes are most of its memory, and Redis's listpacks are
    /// reallocated to size (plus the allocator's size class, up to a quarter). Geometric either
    /// way, so appends stay amortised O(1): a node of 8 KiB is copied about every 1 KiB of
    /// appends, a small one a few times in all (a list loaded from a file is trimmed after).
    @inline(__always)
    mutating func reserve(_ more: Int) {
        let needed = bytes.count + more
        guard needed > bytes.capacity else { return }
        let step = bytes.count < 1024 ? bytes.count : bytes.count / 8
        bytes.reserveCapacity(Swift.max(needed, bytes.count + step))
    }

    /// Makes the capacity at least `total` bytes in one step (a push of many elements).
    mutating func reserveTotal(_ total: Int) {
        if total > bytes.capacity { bytes.reserveCapacity(total) }
    }

    /// Gives back unused capacity (a list node that will not grow again).
    mutating func trim() {
        // malloc rounds a block up by as much as 23 bytes: less than 32 spare is already exact.
        guard bytes.capacity - bytes.count >= 32 else { return }
        // A new buffer of the exact size: Array(bytes) would share the old one.
        bytes = bytes.withUnsafeBytes { old in
            [UInt8](unsafeUninitializedCapacity: old.count) { out, n in
                if let base = old.baseAddress { out.baseAddress!.initialize(from: base.assumingMemoryBound(to: UInt8.self), count: old.count) }
                n = old.count
            }
        }
    }

    public mutating func append(_ payload: UnsafeRawBufferPointer) {
        reserve(Self.entrySize(payload.count))
        Self.encode(payload, into: &bytes)
        count += 1
    }

    public mutating func append(_ payload: [UInt8]) { payload.withUnsafeBytes { append($0) } }

    /// Inserts before the entry at `offset` (`endOffset` appends).
    public mutating func insert(_ payload: UnsafeRawBufferPointer, at offset: Int) {
        let size = Self.entrySize(payload.count)
        reserve(size)
        bytes.insert(contentsOf: repeatElement(0, count: size), at: offset)
        bytes.withUnsafeMutableBytes { Self.write(payload, into: UnsafeMutableRawBufferPointer(rebasing: $0[offset..<(offset + size)])) }
        count += 1
    }

    public mutating func insert(_ payload: [UInt8], at offset: Int) { payload.withUnsafeBytes { insert($0, at: offset) } }

    public mutating func prepend(_ payload: UnsafeRawBufferPointer) { insert(payload, at: 0) }

    /// Removes the entry at `offset`; returns the offset where the following entry now starts.
    @discardableResult
    public mutating func remove(at offset: Int) -> Int {
        let next = decode(at: offset).next
        bytes.removeSubrange(offset..<next)
        count -= 1
        return offset
    }

    /// Replaces the entry at `offset`; returns the offset of the entry after it.
    @discardableResult
    public mutating func replace(at offset: Int, with payload: UnsafeRawBufferPointer) -> Int {
        let next = decode(at: offset).next
        let size = Self.entrySize(payload.count)
        if size != next - offset {
            if size > next - offset { reserve(size - (next - offset)) }
            bytes.replaceSubrange(offset..<next, with: repeatElement(0, count: size))
        }
        bytes.withUnsafeMutableBytes { Self.write(payload, into: UnsafeMutableRawBufferPointer(rebasing: $0[offset..<(offset + size)])) }
        return offset + size
    }

    public mutating func removeFirst() -> [UInt8]? {
        guard count > 0 else { return nil }
        let v = element(at: 0)
        remove(at: 0)
        return v
    }

    public mutating func removeLast() -> [UInt8]? {
        guard let o = lastOffset else { return nil }
        let v = element(at: o)
        bytes.removeSubrange(o..<bytes.count)
        count -= 1
        return v
    }

    /// Replaces the contents with a copy of `raw` (holding `count` well-formed entries), keeping
    /// the array's capacity (PackedScratch).
    mutating func replaceAll(copying raw: UnsafeRawBufferPointer, count: Int) {
        bytes.removeAll(keepingCapacity: true)
        bytes.append(contentsOf: raw)
        self.count = count
    }

    public mutating func removeAll() {
        bytes.removeAll(keepingCapacity: false)
        count = 0
    }

    /// Splits off the entries from `offset` on into a new listpack.
    public mutating func split(at offset: Int) -> Listpack {
        var tail = Listpack()
        var o = offset
        while o < bytes.count {
            let next = decode(at: o).next
            tail.count += 1
            o = next
        }
        tail.bytes = Array(bytes[offset...])
        count -= tail.count
        bytes.removeSubrange(offset..<bytes.count)
        return tail
    }

    public mutating func append(contentsOf other: Listpack) {
        bytes.append(contentsOf: other.bytes)
        count += other.count
    }
}

#if canImport(Glibc)
import Glibc
#endif
