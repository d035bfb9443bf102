import CairnRESP
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// A list value: a table of listpack nodes (NodeTable), after Redis's quicklist. Push and pop at
// either end are O(1) amortised; an index costs O(nodes) to find its node then O(node) inside it.
// Nodes are filled as `list-max-listpack-size` says (Redis's quicklist fill): a negative value
// -1...-5 caps a node at 4, 8, 16, 32 or 64 KiB of entries (default -2: 8 KiB); a positive one
// caps it at that many entries, and at 8 KiB (Redis's SIZE_SAFETY_LIMIT). An entry larger than
// a node may be sits in a node of its own.

public final class QuickList {
    /// The fill (list-max-listpack-size), clamped to -5...32767 as Redis's quicklistSetFill does.
    /// Set by the server from its configuration; read on the keyspace thread only.
    nonisolated(unsafe) public private(set) static var fill = -2
    /// A node's byte limit under `fill`.
    nonisolated(unsafe) public private(set) static var nodeBytesMax = 8 * 1024
    /// Entries per node under a positive fill (no limit under a negative one).
    nonisolated(unsafe) private static var nodeEntriesMax = Int.max
    /// Redis's SIZE_SAFETY_LIMIT: the byte limit of a node when the fill counts entries.
    static let sizeSafetyLimit = 8 * 1024

    public static func setFill(_ value: Int) {
        fill = Swift.min(Swift.max(value, -5), 32767)
        if fill < 0 {
            nodeBytesMax = 4096 << (-fill - 1)
            nodeEntriesMax = Int.max
        } else {
            nodeBytesMax = sizeSafetyLimit
            nodeEntriesMax = Swift.max(fill, 1)
        }
    }

    public private(set) var nodes = NodeTable()
    public private(set) var count = 0
    /// Bytes of entries a push of many elements still has to add (reservePush): a node started
    /// meanwhile is sized for them at once.
    private var pendingPushBytes = 0

    public init() {}

    deinit { nodes.removeAll() }

    public init<S: Sequence>(_ elements: S) where S.Element == [UInt8] {
        for e in elements { pushBack(e) }
    }

    /// A deep copy (COPY, RESTORE of a shared value).
    public func copy() -> QuickList {
        let c = QuickList()
        c.nodes = nodes.copied()
        c.count = count
        return c
    }

    @inline(__always)
    static func fits(_ node: Listpack, adding n: Int) -> Bool {
        node.byteCount + n + 10 <= nodeBytesMax && node.count < nodeEntriesMax
    }

    // MARK: ends

    /// Announces a push of many elements whose entries take `bytes` in all (RPUSH/LPUSH with
    /// several): the end node grows once to hold what fits of them, and a node started during the
    /// push is sized for the rest, instead of each growing by steps (which copies a node several
    /// times and leaves the old buffers as free memory between live ones).
    public func reservePush(bytes: Int, atBack: Bool) {
        pendingPushBytes = bytes
        guard !nodes.isEmpty else { return }
        let end = atBack ? nodes.count - 1 : 0
        if nodes[end].byteCount + 10 < Self.nodeBytesMax {
            nodes[end].reserveTotal(Swift.min(Self.nodeBytesMax, nodes[end].byteCount + bytes))
        }
    }

    /// Gives back the end nodes' spare capacity (the inner ones are trimmed when the next node
    /// starts): for a list built whole, such as one read from a file.
    public func trimEnds() {
        guard !nodes.isEmpty else { return }
        nodes[0].trim()
        nodes[nodes.count - 1].trim()
    }

    /// A new end node holding `value`, with room for the rest of an announced push.
    private func newNode(_ value: UnsafeRawBufferPointer) -> Listpack {
        var n = Listpack()
        if pendingPushBytes > 0 { n.reserveTotal(Swift.min(Self.nodeBytesMax, pendingPushBytes)) }
        n.append(value)
        return n
    }

    @inline(__always)
    private func consumePending(_ value: UnsafeRawBufferPointer) {
        if pendingPushBytes > 0 { pendingPushBytes = Swift.max(0, pendingPushBytes - Listpack.entrySize(value.count)) }
    }

    public func pushBack(_ value: UnsafeRawBufferPointer) {
        if let last = nodes.indices.last, Self.fits(nodes[last], adding: value.count) {
            nodes[last].append(value)
        } else {
            // The last node is full: it only shrinks from now on, so its spare capacity goes.
            if let last = nodes.indices.last { nodes[last].trim() }
            nodes.append(newNode(value))
        }
        consumePending(value)
        count += 1
    }

    public func pushFront(_ value: UnsafeRawBufferPointer) {
        if !nodes.isEmpty, Self.fits(nodes[0], adding: value.count) {
            nodes[0].prepend(value)
        } else {
            if !nodes.isEmpty { nodes[0].trim() }
            nodes.prepend(newNode(value))
        }
        consumePending(value)
        count += 1
    }

    public func pushBack(_ value: [UInt8]) { value.withUnsafeBytes { pushBack($0) } }
    public func pushFront(_ value: [UInt8]) { value.withUnsafeBytes { pushFront($0) } }

    public func popFront() -> [UInt8]? {
        guard !nodes.isEmpty, let v = nodes[0].removeFirst() else { return nil }
        if nodes[0].isEmpty { nodes.removeFirst() }
        count -= 1
        return v
    }

    public func popBack() -> [UInt8]? {
        guard let last = nodes.indices.last, let v = nodes[last].removeLast() else { return nil }
        if nodes[last].isEmpty { nodes.removeLast() }
        count -= 1
        return v
    }

    public var first: [UInt8]? { nodes.first.flatMap { $0.isEmpty ? nil : $0.element(at: 0) } }
    public var last: [UInt8]? { nodes.last.flatMap { n in n.lastOffset.map { n.element(at: $0) } } }

    // MARK: positions

    /// Node index and entry offset of list index `index` (negative counts from the end).
    public func locate(_ index: Int) -> (node: Int, offset: Int)? {
        let i = index < 0 ? count + index : index
        guard i >= 0 && i < count else { return nil }
        if i < count / 2 {
            var remaining = i
            for n in nodes.indices {
                if remaining < nodes[n].count {
                    return nodes[n].offset(ofIndex: remaining).map { (n, $0) }
                }
                remaining -= nodes[n].count
            }
        } else {
            var remaining = count - 1 - i
            for n in nodes.indices.reversed() {
                if remaining < nodes[n].count {
                    return nodes[n].offset(ofIndex: nodes[n].count - 1 - remaining).map { (n, $0) }
                }
                remaining -= nodes[n].count
            }
        }
        return nil
    }

    public func element(at index: Int) -> [UInt8]? {
        locate(index).map { nodes[$0.node].element(at: $0.offset) }
    }

    /// Replaces the element at `index`; false if out of range.
    @discardableResult
    public func set(_ index: Int, _ value: UnsafeRawBufferPointer) -> Bool {
        guard let (n, o) = locate(index) else { return false }
        nodes[n].replace(at: o, with: value)
        splitIfNeeded(n)
        return true
    }

    /// Inserts `value` before (or after) the first element equal to `pivot`. Returns false if
    /// the pivot is absent.
    public func insert(_ value: UnsafeRawBufferPointer, pivot: UnsafeRawBufferPointer, after: Bool) -> Bool {
        for n in nodes.indices {
            var o = 0
            while o < nodes[n].endOffset {
                if nodes[n].payloadEquals(at: o, pivot) {
                    let at = after ? nodes[n].offset(after: o) : o
                    nodes[n].insert(value, at: at)
                    count += 1
                    splitIfNeeded(n)
                    return true
                }
                o = nodes[n].offset(after: o)
            }
        }
        return false
    }

    /// Splits node `n` in two when an edit made it larger than a node may be.
    private func splitIfNeeded(_ n: Int) {
        guard nodes[n].byteCount > Self.nodeBytesMax || nodes[n].count > Self.nodeEntriesMax, nodes[n].count > 1,
              let middle = nodes[n].offset(ofIndex: nodes[n].count / 2) else { return }
        let tail = nodes[n].split(at: middle)
        nodes.insert(tail, at: n + 1)
    }

    /// LREM: removes up to `limit` elements equal to `value` (0 = all), from the head when
    /// `fromHead`, else from the tail. Returns how many were removed.
    public func remove(_ value: UnsafeRawBufferPointer, limit: Int, fromHead: Bool) -> Int {
        var removed = 0
        if fromHead {
            var n = 0
            while n < nodes.count && (limit == 0 || removed < limit) {
                var o = 0
                while o < nodes[n].endOffset && (limit == 0 || removed < limit) {
                    if nodes[n].payloadEquals(at: o, value) {
                        o = nodes[n].remove(at: o)
                        removed += 1
                    } else {
                        o = nodes[n].offset(after: o)
                    }
                }
                if nodes[n].isEmpty { nodes.remove(at: n) } else { n += 1 }
            }
        } else {
            var n = nodes.count - 1
            while n >= 0 && (limit == 0 || removed < limit) {
                var end = nodes[n].endOffset
                while end > 0 && (limit == 0 || removed < limit) {
                    let o = nodes[n].offset(before: end)
                    if nodes[n].payloadEquals(at: o, value) {
                        nodes[n].remove(at: o)
                        removed += 1
                    }
                    end = o
                }
                if nodes[n].isEmpty { nodes.remove(at: n) }
                n -= 1
            }
        }
        count -= removed
        return removed
    }

    /// LTRIM: keeps elements start...end (already clamped, inclusive, 0-based); empties the
    /// list when the range is empty.
    public func trim(start: Int, end: Int) {
        guard start <= end, start < count, end >= 0 else {
            nodes.removeAll()
            count = 0
            return
        }
        removeLast(count - 1 - min(end, count - 1))
        removeFirst(max(0, start))
    }

    // MARK: iteration

    /// Calls `body` for elements start...end (clamped, inclusive) in order, until it returns false.
    public func forEach(from start: Int, through end: Int, _ body: (ArraySlice<UInt8>) -> Bool) {
        guard start <= end, start < count, let (n0, o0) = locate(max(0, start)) else { return }
        var remaining = min(end, count - 1) - max(0, start) + 1
        var n = n0, o = o0
        while remaining > 0 && n < nodes.count {
            let node = nodes[n]
            while o < node.endOffset && remaining > 0 {
                let (p, next) = node.decode(at: o)
                if !body(node.bytes[p]) { return }
                remaining -= 1
                o = next
            }
            n += 1
            o = 0
        }
    }

    /// Calls `body` for elements end...start going backwards, until it returns false.
    public func forEachReversed(from end: Int, through start: Int, _ body: (ArraySlice<UInt8>) -> Bool) {
        guard start <= end, start < count, let (n0, o0) = locate(min(end, count - 1)) else { return }
        var remaining = min(end, count - 1) - max(0, start) + 1
        var n = n0
        var o = o0
        while remaining > 0 && n >= 0 {
            let node = nodes[n]
            while remaining > 0 {
                if !body(node.payload(at: o)) { return }
                remaining -= 1
                if o == 0 { break }
                o = node.offset(before: o)
            }
            n -= 1
            if n >= 0, let lo = nodes[n].lastOffset { o = lo }
        }
    }

    public var elements: [[UInt8]] {
        var out: [[UInt8]] = []
        out.reserveCapacity(count)
        for n in nodes { n.forEach { out.append(Array($0)); return true } }
        return out
    }

    /// Bytes held by entries (for MEMORY USAGE and memory accounting).
    public var payloadBytes: Int { nodes.reduce(0) { $0 + $1.byteCount } }
}

// MARK: - Reading the nodes in a forked save child

extension QuickList {
    /// Whether a node's bytes can be found through the raw layout forEachNodeBytes reads: a
    /// Listpack starts with its `[UInt8]`, whose one word points at the array's storage object,
    /// which holds the element count at byte 16 and the elements from byte 32 (the standard
    /// library's ContiguousArray layout). Checked once, in the server before it forks, against
    /// the safe accessors; if it does not hold, the save walks the nodes the safe way.
    static let rawNodeLayoutHolds: Bool = {
        var samples = [Listpack(), Listpack([[1, 2, 3]]), Listpack((0..<200).map { _ in [UInt8](repeating: 7, count: 50) })]
        samples[2].trim()
        return samples.allSatisfy { node in
            withUnsafeBytes(of: node) { raw -> Bool in
                let storage = raw.load(as: UnsafeRawPointer.self)
                let count = storage.load(fromByteOffset: 16, as: Int.self)
                return node.bytes.withUnsafeBytes { safe in
                    count == safe.count && (count == 0 || memcmp(storage + 32, safe.baseAddress!, count) == 0)
                }
            }
        }
    }()

    /// Calls `body` with each node's listpack bytes, front to back, without a reference count
    /// changing anywhere (see rawNodeLayoutHolds): what the RDB writer in a forked child uses, so
    /// that saving a list does not copy the pages holding it. The caller holds the list without
    /// retaining it (Unmanaged._withUnsafeGuaranteedRef).
    func forEachNodeBytes(_ body: (UnsafeRawBufferPointer) throws -> Void) rethrows {
        let table = nodes
        guard let base = table.base else { return }
        guard Self.rawNodeLayoutHolds else {
            for i in 0..<table.count { try table[i].bytes.withUnsafeBytes(body) }
            return
        }
        for i in 0..<table.count {
            let storage = UnsafeRawPointer(base + i).load(as: UnsafeRawPointer.self)
            try body(UnsafeRawBufferPointer(start: storage + 32, count: storage.load(fromByteOffset: 16, as: Int.self)))
        }
    }
}

// MARK: - In-place access for the list commands
//
// The hot list commands (LRANGE, LPOP/RPOP with a count, LMPOP) reply straight from the nodes'
// bytes: each node is read once through `withUnsafeBytes`, its entries are decoded in place and
// copied into the reply buffer, with one capacity check per node and no per-element allocation.

extension QuickList {
    /// Removes the first `n` elements (every element when `n >= count`).
    public func removeFirst(_ n: Int) {
        var left = min(max(n, 0), count)
        count -= left
        while left > 0 && !nodes.isEmpty {
            let c = nodes[0].count
            if c <= left {
                nodes.removeFirst()
                left -= c
                continue
            }
            if left <= 4 {
                // A few in-place removals beat copying the rest of the node.
                for _ in 0..<left { nodes[0].remove(at: 0) }
            } else if let o = nodes[0].offset(ofIndex: left) {
                let tail = nodes[0].split(at: o)
                nodes[0] = tail
            }
            left = 0
        }
    }

    /// Removes the last `n` elements (every element when `n >= count`).
    public func removeLast(_ n: Int) {
        var left = min(max(n, 0), count)
        count -= left
        while left > 0, let last = nodes.indices.last {
            let c = nodes[last].count
            if c <= left {
                nodes.removeLast()
                left -= c
                continue
            }
            // Removing at the end of a node moves nothing.
            for _ in 0..<left {
                if let o = nodes[last].lastOffset { nodes[last].remove(at: o) }
            }
            left = 0
        }
    }

    /// Runs `body` with the bytes of the first (`front`) or last element, in place; nil when empty.
    public func withEndElement<R>(front: Bool, _ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R? {
        guard let node = front ? nodes.first : nodes.last, !node.isEmpty else { return nil }
        return try node.bytes.withUnsafeBytes { src in
            let o = front ? 0 : Listpack.rawPrevious(src, before: src.count)
            let e = Listpack.rawEntry(src, at: o)
            return try body(UnsafeRawBufferPointer(rebasing: src[e.start ..< e.start + e.length]))
        }
    }

    /// Runs `body` with the bytes of the element at `index` (negative counts from the end), in
    /// place; nil when out of range.
    public func withElement<R>(at index: Int, _ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R? {
        guard let (n, o) = locate(index) else { return nil }
        return try nodes[n].bytes.withUnsafeBytes { src in
            let e = Listpack.rawEntry(src, at: o)
            return try body(UnsafeRawBufferPointer(rebasing: src[e.start ..< e.start + e.length]))
        }
    }

    /// Writes elements `start...end` (0-based, inclusive, inside the list) as RESP bulk strings,
    /// from `end` down to `start` when `reversed`. The caller writes the array header first.
    public func writeBulks(from start: Int, through end: Int, reversed: Bool, into reply: inout ReplyWriter) {
        guard start >= 0, start <= end, end < count else { return }
        var remaining = end - start + 1
        if !reversed {
            guard let at = locate(start) else { return }
            var n = at.node, o = at.offset
            while remaining > 0 && n < nodes.count {
                remaining -= Self.writeForward(nodes[n], from: o, limit: remaining, into: &reply)
                n += 1
                o = 0
            }
        } else {
            guard let at = locate(end) else { return }
            var n = at.node, o = at.offset
            while remaining > 0 && n >= 0 {
                remaining -= Self.writeBackward(nodes[n], from: o, limit: remaining, into: &reply)
                n -= 1
                if n >= 0 { o = nodes[n].lastOffset ?? 0 }
            }
        }
    }

    /// Calls `body` with the list index of each element equal to `value`, walking from the head
    /// (or from the tail when `fromTail`) and comparing at most `maxLength` elements (0: all),
    /// until `body` returns false.
    public func forEachMatch(_ value: UnsafeRawBufferPointer, fromTail: Bool, maxLength: Int, _ body: (Int) -> Bool) {
        var compared = 0
        let limit = maxLength > 0 ? min(maxLength, count) : count
        if !fromTail {
            for n in nodes.indices {
                var stop = false
                nodes[n].bytes.withUnsafeBytes { src in
                    var o = 0
                    while o < src.count && compared < limit {
                        let e = Listpack.rawEntry(src, at: o)
                        if Self.equal(src, e.start, e.length, value) && !body(compared) {
                            stop = true
                            return
                        }
                        compared += 1
                        o = e.next
                    }
                }
                if stop || compared >= limit { return }
            }
        } else {
            for n in nodes.indices.reversed() {
                var stop = false
                nodes[n].bytes.withUnsafeBytes { src in
                    var end = src.count
                    while end > 0 && compared < limit {
                        let o = Listpack.rawPrevious(src, before: end)
                        let e = Listpack.rawEntry(src, at: o)
                        if Self.equal(src, e.start, e.length, value) && !body(count - 1 - compared) {
                            stop = true
                            return
                        }
                        compared += 1
                        end = o
                    }
                }
                if stop || compared >= limit { return }
            }
        }
    }

    // MARK: raw helpers

    @inline(__always)
    static func equal(_ src: UnsafeRawBufferPointer, _ start: Int, _ length: Int, _ other: UnsafeRawBufferPointer) -> Bool {
        guard length == other.count else { return false }
        guard length > 0, let a = src.baseAddress, let b = other.baseAddress else { return true }
        return memcmp(a + start, b, length) == 0
    }

    /// Bytes of `$<length>\r\n<payload>\r\n`.
    @inline(__always)
    static func bulkSize(_ length: Int) -> Int { length + 5 + Decimal.digitCount(Int64(length)) }

    @inline(__always)
    static func writeBulk(_ out: UnsafeMutableRawBufferPointer, _ w: inout Int,
                          _ src: UnsafeRawBufferPointer, _ start: Int, _ length: Int) {
        let digits = Decimal.digitCount(Int64(length))
        out[w] = UInt8(ascii: "$")
        Decimal.write(Int64(length), into: UnsafeMutableRawBufferPointer(rebasing: out[(w + 1)...]), digits: digits)
        w += 1 + digits
        out[w] = 13
        out[w + 1] = 10
        w += 2
        if length > 0 {
            UnsafeMutableRawBufferPointer(rebasing: out[w ..< w + length])
                .copyMemory(from: UnsafeRawBufferPointer(rebasing: src[start ..< start + length]))
            w += length
        }
        out[w] = 13
        out[w + 1] = 10
        w += 2
    }

    /// Writes up to `limit` entries of `node` from the entry at `offset` on; returns how many.
    static func writeForward(_ node: Listpack, from offset: Int, limit: Int, into reply: inout ReplyWriter) -> Int {
        node.bytes.withUnsafeBytes { src in
            var size = 0, k = 0, o = offset
            while k < limit && o < src.count {
                let e = Listpack.rawEntry(src, at: o)
                size += bulkSize(e.length)
                o = e.next
                k += 1
            }
            guard k > 0 else { return 0 }
            reply.buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: size) { out in
                var w = 0, o = offset
                for _ in 0..<k {
                    let e = Listpack.rawEntry(src, at: o)
                    writeBulk(out, &w, src, e.start, e.length)
                    o = e.next
                }
                return w
            }
            return k
        }
    }

    /// Writes up to `limit` entries of `node` from the entry at `offset` back towards its first.
    static func writeBackward(_ node: Listpack, from offset: Int, limit: Int, into reply: inout ReplyWriter) -> Int {
        node.bytes.withUnsafeBytes { src in
            guard offset < src.count else { return 0 }
            var size = 0, k = 0, o = offset
            while k < limit {
                let e = Listpack.rawEntry(src, at: o)
                size += bulkSize(e.length)
                k += 1
                if o == 0 { break }
                o = Listpack.rawPrevious(src, before: o)
            }
            reply.buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: size) { out in
                var w = 0, o = offset
                for i in 0..<k {
                    let e = Listpack.rawEntry(src, at: o)
                    writeBulk(out, &w, src, e.start, e.length)
                    if i + 1 < k { o = Listpack.rawPrevious(src, before: o) }
                }
                return w
            }
            return k
        }
    }
}

extension Listpack {
    /// Payload start, payload length and next entry's offset of the entry at `offset` in a
    /// listpack's raw bytes: the same layout `decode(at:)` reads, without bounds-checked indexing.
    @inline(__always)
    static func rawEntry(_ p: UnsafeRawBufferPointer, at offset: Int) -> (start: Int, length: Int, next: Int) {
        var n = 0, shift = 0, i = offset
        while true {
            let b = p[i]
            n |= Int(b & 0x7F) << shift
            i += 1
            if b & 0x80 == 0 { break }
            shift += 7
        }
        let end = i + n
        return (i, n, end + varintSize(end - offset))
    }

    /// Offset of the entry ending just before `end` in raw listpack bytes (as `previous(before:)`).
    @inline(__always)
    static func rawPrevious(_ p: UnsafeRawBufferPointer, before end: Int) -> Int {
        var i = end - 1, v = 0, shift = 0
        while true {
            let b = p[i]
            v |= Int(b & 0x7F) << shift
            if b & 0x80 == 0 { break }
            shift += 7
            i -= 1
        }
        return i - v
    }
}
