// Range queries over a SortedSetValue: by rank, by score, by member bytes (lex), counting,
// removal of ranges, ZSCAN steps and random access. Elements are handed to a closure as
// borrowed bytes and a score, so replies are written straight from the set with no copies.

extension SortedSetValue {
    public typealias ElementVisitor = (UnsafeRawBufferPointer, Double) -> Void

    // MARK: by rank

    /// Visits 0-based ranks `ranks` (counted from the highest score when `reverse`), in order.
    /// `ranks` must lie within 0..<count.
    public func forEach(ranks: ClosedRange<Int>, reverse: Bool, _ body: ElementVisitor) {
        let n = ranks.count
        if let list {
            var node = reverse ? list.node(atRank: count - ranks.lowerBound) : list.node(atRank: ranks.lowerBound + 1)
            for _ in 0..<n {
                guard let x = node else { return }
                x.member.withUnsafeBytes { body($0, x.score) }
                node = reverse ? x.backward : x.next
            }
            return
        }
        let first = reverse ? count - 1 - ranks.lowerBound : ranks.lowerBound
        pairs.bytes.withUnsafeBytes { raw in
            var o = pairOffset(atRank: first)
            for i in 0..<n {
                let p = pair(at: o)
                body(UnsafeRawBufferPointer(rebasing: raw[p.member]), p.score)
                if i + 1 < n { o = reverse ? pairOffset(before: o) : p.next }
            }
        }
    }

    // MARK: by score or lex
    //
    // These follow Redis's zzl*/zsl* range functions step by step (the in-range test on the ends,
    // where the walk starts and when it stops), so a lex range over members with different scores,
    // whose answer Redis leaves unspecified, still gets the answer Redis gives for a listpack.

    /// Redis's zslIsInRange / zzlIsInLexRange: false when nothing can match (an empty interval,
    /// the highest element below the minimum, or the lowest above the maximum).
    func mayIntersect(_ range: ZRange) -> Bool {
        guard !range.isEmpty else { return false }
        if let list {
            guard let last = list.tail, let first = list.first else { return false }
            return last.member.withUnsafeBytes { range.admitsAsLower($0, last.score) }
                && first.member.withUnsafeBytes { range.admitsAsUpper($0, first.score) }
        }
        guard let lastOffset = lastPairOffset else { return false }
        let last = pair(at: lastOffset), first = pair(at: 0)
        return withMember(last) { range.admitsAsLower($0, last.score) }
            && withMember(first) { range.admitsAsUpper($0, first.score) }
    }

    /// Where a walk over `range` starts: the first element in range (or the last when
    /// `reverse`), as a skiplist node or a pair offset. Nil when there is none.
    enum Position {
        case node(SkipListNode)
        case pair(Int)
    }

    func start(of range: ZRange, reverse: Bool) -> Position? {
        guard mayIntersect(range) else { return nil }
        if let list {
            guard let x = reverse ? range.lastCandidate(list) : range.firstCandidate(list) else { return nil }
            let ok = x.member.withUnsafeBytes { reverse ? range.admitsAsLower($0, x.score) : range.admitsAsUpper($0, x.score) }
            return ok ? .node(x) : nil
        }
        // From the head for the first element, from the tail for the last.
        var o: Int? = reverse ? lastPairOffset : 0
        while let offset = o {
            let p = pair(at: offset)
            let (reached, inside) = withMember(p) { m in
                reverse ? (range.admitsAsUpper(m, p.score), range.admitsAsLower(m, p.score))
                    : (range.admitsAsLower(m, p.score), range.admitsAsUpper(m, p.score))
            }
            if reached { return inside ? .pair(offset) : nil }
            o = reverse ? (offset == 0 ? nil : pairOffset(before: offset)) : (p.next < pairs.byteCount ? p.next : nil)
        }
        return nil
    }

    /// Visits the elements within `range`, lowest first (highest first if `reverse`), after
    /// skipping `offset` of them, at most `limit` (negative: no limit). Returns how many were
    /// visited. A negative offset selects nothing, as in Redis.
    @discardableResult
    public func forEach(in range: ZRange, reverse: Bool, offset: Int, limit: Int, _ body: ElementVisitor) -> Int {
        guard offset >= 0, limit != 0, let position = start(of: range, reverse: reverse) else { return 0 }
        var left = limit < 0 ? Int.max : limit
        var skip = offset
        var visited = 0
        switch position {
        case .node(let first):
            var node: SkipListNode? = first
            while skip > 0, let x = node {
                node = reverse ? x.backward : x.next
                skip -= 1
            }
            while left > 0, let x = node {
                let inside = x.member.withUnsafeBytes { m -> Bool in
                    guard reverse ? range.admitsAsLower(m, x.score) : range.admitsAsUpper(m, x.score) else { return false }
                    body(m, x.score)
                    return true
                }
                guard inside else { break }
                visited += 1
                left -= 1
                node = reverse ? x.backward : x.next
            }
        case .pair(let first):
            pairs.bytes.withUnsafeBytes { raw in
                let end = raw.count
                func step(_ o: Int) -> Int? {
                    if reverse { return o == 0 ? nil : pairOffset(before: o) }
                    let next = pair(at: o).next
                    return next < end ? next : nil
                }
                var o = first
                while skip > 0 {
                    guard let n = step(o) else { return }
                    o = n
                    skip -= 1
                }
                while left > 0 {
                    let p = pair(at: o)
                    let m = UnsafeRawBufferPointer(rebasing: raw[p.member])
                    guard reverse ? range.admitsAsLower(m, p.score) : range.admitsAsUpper(m, p.score) else { return }
                    body(m, p.score)
                    visited += 1
                    left -= 1
                    guard let n = step(o) else { return }
                    o = n
                }
            }
        }
        return visited
    }

    /// How many elements lie within `range` (ZCOUNT, ZLEXCOUNT): O(log n) for a skiplist, from
    /// the ranks of the first and last elements in range, as Redis counts.
    public func count(in range: ZRange) -> Int {
        guard let list else { return forEach(in: range, reverse: false, offset: 0, limit: -1) { _, _ in } }
        guard case .node(let first) = start(of: range, reverse: false) else { return 0 }
        var n = list.count - (list.rank(of: first) - 1)
        if case .node(let last) = start(of: range, reverse: true) { n -= list.count - list.rank(of: last) }
        return n
    }

    // MARK: removal

    /// Removes the elements of 0-based ranks `ranks` (within 0..<count); returns how many.
    @discardableResult
    public func removeRange(ranks: ClosedRange<Int>) -> Int {
        if let list {
            return list.deleteRange(ranks: (ranks.lowerBound + 1)...(ranks.upperBound + 1)) { node in
                _ = node.member.withUnsafeBytes { index.remove($0) }
            }
        }
        let o = pairOffset(atRank: ranks.lowerBound)
        for _ in ranks { removePair(at: o) }
        return ranks.count
    }

    /// Removes the elements within `range` (from the first one in range while they stay below
    /// the maximum, as Redis); returns how many.
    @discardableResult
    public func removeRange(_ range: ZRange) -> Int {
        if let list {
            let remove: (SkipListNode) -> Void = { node in _ = node.member.withUnsafeBytes { self.index.remove($0) } }
            switch range {
            case .score(let min, let max): return list.deleteRange(min: min, max: max, remove)
            case .lex(let min, let max): return list.deleteRange(min: min, max: max, remove)
            }
        }
        guard case .pair(let o) = start(of: range, reverse: false) else { return 0 }
        var removed = 0
        while o < pairs.byteCount {
            let p = pair(at: o)
            let inside = withMember(p) { range.admitsAsUpper($0, p.score) }
            guard inside else { break }
            removePair(at: o)
            removed += 1
        }
        return removed
    }

    // MARK: ZSCAN

    /// One ZSCAN step from `cursor`: a listpack is returned whole with cursor 0; a skiplist's map
    /// is walked bucket by bucket (Redis's reverse-binary cursor, safe across resizes) until
    /// `count` reply items are gathered (a member and its score are two, as in Redis) or 10×count
    /// buckets were visited. Returns the next cursor.
    public func scan(cursor: UInt64, count: Int, _ body: ElementVisitor) -> UInt64 {
        guard list != nil else {
            forEachInOrder(body)
            return 0
        }
        var items = 0
        var next = cursor
        var iterations = count.multipliedReportingOverflow(by: 10).overflow ? Int.max : count * 10
        repeat {
            next = index.scan(cursor: next) { entry in
                entry.key.withUnsafeBytes { body($0, entry.payload.score) }
                items += 2
            }
            iterations -= 1
        } while next != 0 && iterations >= 0 && items < count
        return next
    }

    // MARK: random access

    /// Slots for uniform random picks: `0..<count`, each naming one element for `element(at:)`.
    /// A listpack's pair offsets are gathered once (at most zset-max-listpack-entries).
    public struct Slots {
        let offsets: [Int]?
        public let count: Int
    }

    public func slots() -> Slots {
        guard list == nil else { return Slots(offsets: nil, count: index.count) }
        var offsets: [Int] = []
        offsets.reserveCapacity(count)
        var o = 0
        while o < pairs.byteCount {
            offsets.append(o)
            o = pair(at: o).next
        }
        return Slots(offsets: offsets, count: offsets.count)
    }

    /// Visits the element of slot `i` (0..<slots.count).
    public func element(at i: Int, in slots: Slots, _ body: ElementVisitor) {
        if let offsets = slots.offsets {
            let p = pair(at: offsets[i])
            withMember(p) { body($0, p.score) }
        } else {
            let node = index[payloadAt: i]
            node.member.withUnsafeBytes { body($0, node.score) }
        }
    }
}
