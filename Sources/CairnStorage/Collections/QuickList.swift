import DequeModule

// A list value: a deque of listpack nodes, after Redis's quicklist. Push and pop at either end are
// O(1) amortised; an index costs O(nodes) to find its node then O(node) inside it. Each node holds
// at most `nodeBytesMax` bytes of entries (Redis's default list-max-listpack-size -2 = 8 KiB), or a
// single entry when that entry alone is larger.

public final class QuickList {
    public static let nodeBytesMax = 8 * 1024

    public private(set) var nodes: Deque<Listpack> = []
    public private(set) var count = 0

    public init() {}

    public init<S: Sequence>(_ elements: S) where S.Element == [UInt8] {
        for e in elements { pushBack(e) }
    }

    /// A deep copy (COPY, RESTORE of a shared value).
    public func copy() -> QuickList {
        let c = QuickList()
        c.nodes = nodes
        c.count = count
        return c
    }

    @inline(__always)
    static func fits(_ node: Listpack, adding n: Int) -> Bool {
        node.byteCount + n + 10 <= nodeBytesMax
    }

    // MARK: ends

    public func pushBack(_ value: UnsafeRawBufferPointer) {
        if let last = nodes.indices.last, Self.fits(nodes[last], adding: value.count) {
            nodes[last].append(value)
        } else {
            var n = Listpack()
            n.append(value)
            nodes.append(n)
        }
        count += 1
    }

    public func pushFront(_ value: UnsafeRawBufferPointer) {
        if !nodes.isEmpty, Self.fits(nodes[0], adding: value.count) {
            nodes[0].prepend(value)
        } else {
            var n = Listpack()
            n.append(value)
            nodes.prepend(n)
        }
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
        guard nodes[n].byteCount > Self.nodeBytesMax, nodes[n].count > 1,
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
        let kept = QuickList()
        forEach(from: start, through: end) { kept.pushBack(Array($0)); return true }
        nodes = kept.nodes
        count = kept.count
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
