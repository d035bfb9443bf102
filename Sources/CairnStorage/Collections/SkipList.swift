#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// The ordered index of a large sorted set: a skip list ordered by (score, member bytes) whose
// forward links carry spans, after Redis's zskiplist (t_zset.c), so rank queries and rank ranges
// are O(log n). Members are unique; the caller keeps the member -> node map beside it.
// Written by hand: no Swift library offers an order-statistic sorted container with these
// semantics (score ties broken by byte order, rank by span).
//
// Ownership: each node is owned by its predecessor's level-0 link (and by the caller's map);
// the `backward` links and `tail` are unowned(unsafe): a node is only ever reached through them
// while it is still linked at level 0, so the references are always to live nodes.

/// A node's fixed part.
public struct SkipListNodeHeader {
    @usableFromInline var member: [UInt8]
    @usableFromInline var score: Double
    @usableFromInline unowned(unsafe) var backward: SkipListNode?
    @usableFromInline var levelCount: Int
}

/// One level of a node: the next node at that level and how many ranks the link spans.
public struct SkipListLevel {
    @usableFromInline var forward: SkipListNode?
    @usableFromInline var span: Int
}

/// A node: its header and its levels in one allocation, as Redis's zskiplistNode with its
/// flexible level array (a separate array would cost an allocation and a pointer chase per hop).
public final class SkipListNode: ManagedBuffer<SkipListNodeHeader, SkipListLevel> {
    static func make(level: Int, score: Double, member: [UInt8]) -> SkipListNode {
        let buffer = SkipListNode.create(minimumCapacity: level) { _ in
            SkipListNodeHeader(member: member, score: score, backward: nil, levelCount: level)
        }
        // `create` called on this subclass allocates an instance of it.
        let node = unsafeDowncast(buffer, to: SkipListNode.self)
        node.withUnsafeMutablePointerToElements { $0.initialize(repeating: SkipListLevel(forward: nil, span: 0), count: level) }
        return node
    }

    deinit {
        withUnsafeMutablePointers { h, e in _ = e.deinitialize(count: h.pointee.levelCount) }
    }

    @inlinable public var member: [UInt8] { header.member }
    @inlinable public internal(set) var score: Double {
        get { header.score }
        set { header.score = newValue }
    }
    @inlinable public internal(set) var backward: SkipListNode? {
        get { header.backward }
        set { header.backward = newValue }
    }
    @inlinable var levelCount: Int { header.levelCount }

    @inlinable @inline(__always)
    func forward(_ i: Int) -> SkipListNode? { withUnsafeMutablePointerToElements { $0[i].forward } }
    @inlinable @inline(__always)
    func setForward(_ i: Int, _ node: SkipListNode?) { withUnsafeMutablePointerToElements { $0[i].forward = node } }
    @inlinable @inline(__always)
    func span(_ i: Int) -> Int { withUnsafeMutablePointerToElements { $0[i].span } }
    @inlinable @inline(__always)
    func setSpan(_ i: Int, _ span: Int) { withUnsafeMutablePointerToElements { $0[i].span = span } }

    /// The next node in order.
    @inlinable public var next: SkipListNode? { forward(0) }
    /// The previous node in order.
    @inlinable public var previous: SkipListNode? { backward }
}

public final class SkipList {
    public static let levelMax = 32

    let header = SkipListNode.make(level: SkipList.levelMax, score: 0, member: [])
    public private(set) unowned(unsafe) var tail: SkipListNode?
    public private(set) var count = 0
    var level = 1
    /// xorshift64* state for node levels (a syscall per level draw would dominate inserts).
    var seed: UInt64

    public init() {
        var s: UInt64 = 0
        while s == 0 { s = UInt64.random(in: 1...UInt64.max) }
        seed = s
    }

    // MARK: ordering

    /// Byte-wise three-way comparison, as Redis's sdscmp (memcmp, then length).
    @inline(__always)
    static func compare(_ a: UnsafeRawBufferPointer, _ b: UnsafeRawBufferPointer) -> Int {
        let n = min(a.count, b.count)
        if n > 0, let x = a.baseAddress, let y = b.baseAddress {
            let c = memcmp(x, y, n)
            if c != 0 { return Int(c) }
        }
        return a.count - b.count
    }

    @inline(__always)
    static func compare(_ a: [UInt8], _ b: UnsafeRawBufferPointer) -> Int {
        a.withUnsafeBytes { compare($0, b) }
    }

    static func less(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        a.withUnsafeBytes { x in b.withUnsafeBytes { y in compare(x, y) < 0 } }
    }

    /// Whether `node` sorts before (score, member).
    @inline(__always)
    static func precedes(_ node: SkipListNode, _ score: Double, _ member: UnsafeRawBufferPointer) -> Bool {
        node.score < score || (node.score == score && compare(node.member, member) < 0)
    }

    func randomLevel() -> Int {
        var l = 1
        while l < Self.levelMax {
            seed ^= seed >> 12
            seed ^= seed << 25
            seed ^= seed >> 27
            let r = (seed &* 0x2545_F491_4F6C_DD1D) >> 48
            guard r & 0xFFFF < 0x4000 else { break }  // p = 1/4, as ZSKIPLIST_P
            l += 1
        }
        return l
    }

    public var first: SkipListNode? { header.forward(0) }

    // MARK: insert / remove

    /// Runs `body` with per-level scratch arrays (the update vector and the ranks crossed),
    /// on the stack.
    @inline(__always)
    func withScratch<R>(_ body: (UnsafeMutablePointer<Unmanaged<SkipListNode>>, UnsafeMutablePointer<Int>) -> R) -> R {
        withUnsafeTemporaryAllocation(of: Unmanaged<SkipListNode>.self, capacity: Self.levelMax) { update in
            withUnsafeTemporaryAllocation(of: Int.self, capacity: Self.levelMax) { rank in
                // Capacity is levelMax, so the base addresses exist.
                body(update.baseAddress.unsafelyUnwrapped, rank.baseAddress.unsafelyUnwrapped)
            }
        }
    }

    /// Fills `update` with the last node before (score, member) at every level, and `rank` with
    /// the rank of that node. Returns the level-0 predecessor.
    @inline(__always)
    func findPredecessors(_ score: Double, _ member: UnsafeRawBufferPointer,
                          _ update: UnsafeMutablePointer<Unmanaged<SkipListNode>>,
                          _ rank: UnsafeMutablePointer<Int>) -> SkipListNode {
        var x = header
        for i in stride(from: level - 1, through: 0, by: -1) {
            rank[i] = i == level - 1 ? 0 : rank[i + 1]
            while let f = x.forward(i), Self.precedes(f, score, member) {
                rank[i] += x.span(i)
                x = f
            }
            update[i] = Unmanaged.passUnretained(x)
        }
        return x
    }

    /// Inserts a member that is not present.
    @discardableResult
    public func insert(score: Double, member: [UInt8]) -> SkipListNode {
        let node = SkipListNode.make(level: randomLevel(), score: score, member: member)
        link(node)
        return node
    }

    /// Links `node` (not in the list; its level count already drawn) at its place.
    func link(_ node: SkipListNode) {
        withScratch { update, rank in
            node.member.withUnsafeBytes { _ = findPredecessors(node.score, $0, update, rank) }
            let newLevel = node.levelCount
            if newLevel > level {
                for i in level..<newLevel {
                    rank[i] = 0
                    update[i] = Unmanaged.passUnretained(header)
                    header.setSpan(i, count)
                }
                level = newLevel
            }
            for i in 0..<newLevel {
                let u = update[i].takeUnretainedValue()
                node.setForward(i, u.forward(i))
                node.setSpan(i, u.span(i) - (rank[0] - rank[i]))
                u.setForward(i, node)
                u.setSpan(i, rank[0] - rank[i] + 1)
            }
            if newLevel < level {
                for i in newLevel..<level {
                    let u = update[i].takeUnretainedValue()
                    u.setSpan(i, u.span(i) + 1)
                }
            }
            let before = update[0].takeUnretainedValue()
            node.backward = before === header ? nil : before
            if let f = node.forward(0) { f.backward = node } else { tail = node }
            count += 1
        }
    }

    /// Removes (score, member); returns whether it was present.
    @discardableResult
    public func remove(score: Double, member: [UInt8]) -> Bool {
        member.withUnsafeBytes { remove(score: score, member: $0) != nil }
    }

    /// Removes (score, member) and returns its node, or nil if absent.
    @discardableResult
    public func remove(score: Double, member: UnsafeRawBufferPointer) -> SkipListNode? {
        withScratch { update, rank in
            let x = findPredecessors(score, member, update, rank)
            guard let target = x.forward(0), target.score == score,
                  Self.compare(target.member, member) == 0 else { return nil }
            unlink(target, update)
            return target
        }
    }

    /// Removes a node known to be in the list.
    public func remove(_ node: SkipListNode) {
        _ = node.member.withUnsafeBytes { remove(score: node.score, member: $0) }
    }

    private func unlink(_ node: SkipListNode, _ update: UnsafeMutablePointer<Unmanaged<SkipListNode>>) {
        // Keep the node alive while its predecessors' links to it are replaced.
        withExtendedLifetime(node) {
            for i in 0..<level {
                let u = update[i].takeUnretainedValue()
                if u.forward(i) === node {
                    u.setSpan(i, u.span(i) + node.span(i) - 1)
                    u.setForward(i, node.forward(i))
                } else {
                    u.setSpan(i, u.span(i) - 1)
                }
            }
            if let f = node.forward(0) { f.backward = node.backward } else { tail = node.backward }
            while level > 1 && header.forward(level - 1) == nil { level -= 1 }
            count -= 1
        }
    }

    /// Changes the score of `node` (in the list) to `newScore`; the same node object stays in the
    /// list, so a member -> node map needs no update. In place when the order still holds
    /// (Redis's zslUpdateScore), else unlinked and linked again.
    public func updateScore(_ node: SkipListNode, to newScore: Double) {
        if (node.backward.map { $0.score < newScore } ?? true)
            && (node.forward(0).map { $0.score > newScore } ?? true) {
            node.score = newScore
            return
        }
        withExtendedLifetime(node) {
            remove(node)
            node.score = newScore
            // Linked again with the level it drew when created: levels are independent of
            // position, so the list stays balanced.
            for i in 0..<node.levelCount {
                node.setForward(i, nil)
                node.setSpan(i, 0)
            }
            link(node)
        }
    }

    /// Changes a member's score (tests and callers without the node).
    public func update(member: [UInt8], from old: Double, to new: Double) {
        let node = member.withUnsafeBytes { m -> SkipListNode? in
            withScratch { update, rank in
                let x = findPredecessors(old, m, update, rank)
                guard let t = x.forward(0), t.score == old, Self.compare(t.member, m) == 0 else { return nil }
                return t
            }
        }
        if let node { updateScore(node, to: new) }
    }

    // MARK: rank

    /// 1-based rank of (score, member), or 0 if absent.
    public func rank(score: Double, member: UnsafeRawBufferPointer) -> Int {
        var r = 0
        var x = header
        for i in stride(from: level - 1, through: 0, by: -1) {
            while let f = x.forward(i),
                  f.score < score || (f.score == score && Self.compare(f.member, member) <= 0) {
                r += x.span(i)
                x = f
            }
            if x !== header && x.score == score && Self.compare(x.member, member) == 0 { return r }
        }
        return 0
    }

    public func rank(score: Double, member: [UInt8]) -> Int {
        member.withUnsafeBytes { rank(score: score, member: $0) }
    }

    /// 1-based rank of a node known to be in the list.
    public func rank(of node: SkipListNode) -> Int { rank(score: node.score, member: node.member) }

    /// The node at 1-based `rank`.
    public func node(atRank rank: Int) -> SkipListNode? {
        guard rank >= 1 && rank <= count else { return nil }
        var traversed = 0
        var x = header
        for i in stride(from: level - 1, through: 0, by: -1) {
            while let f = x.forward(i), traversed + x.span(i) <= rank {
                traversed += x.span(i)
                x = f
            }
            if traversed == rank { return x }
        }
        return nil
    }

    // MARK: score and lex bounds

    /// First node whose score satisfies the lower bound.
    public func firstNode(from min: ScoreBound) -> SkipListNode? { firstNode { min.admitsAsLower($0.score) } }

    /// Last node whose score satisfies the upper bound.
    public func lastNode(through max: ScoreBound) -> SkipListNode? { lastNode { max.admitsAsUpper($0.score) } }

    public func firstNode(from min: LexBound) -> SkipListNode? { firstNode { min.admitsAsLower($0.member) } }

    public func lastNode(through max: LexBound) -> SkipListNode? { lastNode { max.admitsAsUpper($0.member) } }

    /// First node for which `admitted` holds, given that it holds for a suffix of the list.
    @inline(__always)
    func firstNode(where admitted: (SkipListNode) -> Bool) -> SkipListNode? {
        var x = header
        for i in stride(from: level - 1, through: 0, by: -1) {
            while let f = x.forward(i), !admitted(f) { x = f }
        }
        return x.forward(0)
    }

    /// Last node for which `admitted` holds, given that it holds for a prefix of the list.
    @inline(__always)
    func lastNode(where admitted: (SkipListNode) -> Bool) -> SkipListNode? {
        var x = header
        for i in stride(from: level - 1, through: 0, by: -1) {
            while let f = x.forward(i), admitted(f) { x = f }
        }
        return x === header ? nil : x
    }

    // MARK: range deletion

    /// Removes the nodes from `start` while `inRange` holds (walking forward), calling `removed`
    /// for each; `startsAfter` says whether a node lies before the first one to remove.
    /// The update vector is found once, so deleting k nodes is O(log n + k).
    private func deleteRun(startsAfter: (SkipListNode) -> Bool, inRange: (SkipListNode) -> Bool,
                           limit: Int = Int.max, _ removed: (SkipListNode) -> Void) -> Int {
        withScratch { update, _ in
            var x = header
            for i in stride(from: level - 1, through: 0, by: -1) {
                while let f = x.forward(i), startsAfter(f) { x = f }
                update[i] = Unmanaged.passUnretained(x)
            }
            var n = 0
            var next = x.forward(0)
            while let node = next, n < limit, inRange(node) {
                next = node.forward(0)
                unlink(node, update)
                removed(node)
                n += 1
            }
            return n
        }
    }

    /// Removes every node whose score lies within [min, max]; returns how many.
    @discardableResult
    public func deleteRange(min: ScoreBound, max: ScoreBound, _ removed: (SkipListNode) -> Void) -> Int {
        deleteRun(startsAfter: { !min.admitsAsLower($0.score) }, inRange: { max.admitsAsUpper($0.score) }, removed)
    }

    @discardableResult
    public func deleteRange(min: LexBound, max: LexBound, _ removed: (SkipListNode) -> Void) -> Int {
        deleteRun(startsAfter: { !min.admitsAsLower($0.member) }, inRange: { max.admitsAsUpper($0.member) }, removed)
    }

    /// Removes the nodes of 1-based ranks start...end.
    @discardableResult
    public func deleteRange(ranks: ClosedRange<Int>, _ removed: (SkipListNode) -> Void) -> Int {
        withScratch { update, _ in
            var traversed = 0
            var x = header
            for i in stride(from: level - 1, through: 0, by: -1) {
                while let f = x.forward(i), traversed + x.span(i) < ranks.lowerBound {
                    traversed += x.span(i)
                    x = f
                }
                update[i] = Unmanaged.passUnretained(x)
            }
            var rank = traversed + 1
            var n = 0
            var next = x.forward(0)
            while let node = next, rank <= ranks.upperBound {
                next = node.forward(0)
                unlink(node, update)
                removed(node)
                n += 1
                rank += 1
            }
            return n
        }
    }

    public func removeAll() {
        releaseNodes()
        for i in 0..<Self.levelMax {
            header.setForward(i, nil)
            header.setSpan(i, 0)
        }
        tail = nil
        count = 0
        level = 1
    }

    /// Drops the nodes one by one: letting the chain of strong `forward` links go at once would
    /// release them recursively and overflow the stack for large sets.
    private func releaseNodes() {
        var n = header.forward(0)
        for i in 0..<Self.levelMax { header.setForward(i, nil) }
        while let x = n {
            n = x.forward(0)
            for i in 0..<x.levelCount { x.setForward(i, nil) }
        }
    }

    deinit { releaseNodes() }
}
