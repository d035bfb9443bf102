// The ordered index of a large sorted set: a skip list ordered by (score, member bytes) whose
// forward links carry spans, after Redis's zskiplist (t_zset.c), so rank queries and rank ranges
// are O(log n). Members are unique; the caller keeps the member -> score map beside it.
// Written by hand: no Swift library offers an order-statistic sorted container with these
// semantics (score ties broken by byte order, rank by span).

public final class SkipListNode {
    public let member: [UInt8]
    public internal(set) var score: Double
    public internal(set) weak var backward: SkipListNode?
    var forward: [SkipListNode?]
    var span: [Int]

    init(level: Int, score: Double, member: [UInt8]) {
        self.member = member
        self.score = score
        forward = Array(repeating: nil, count: level)
        span = Array(repeating: 0, count: level)
    }

    /// The next node in order.
    public var next: SkipListNode? { forward[0] }
}

public final class SkipList {
    public static let levelMax = 32
    static let levelProbability = 0.25

    let header = SkipListNode(level: SkipList.levelMax, score: 0, member: [])
    public private(set) weak var tail: SkipListNode?
    public private(set) var count = 0
    var level = 1
    var rng = SystemRandomNumberGenerator()

    public init() {}

    /// Byte-wise comparison, as Redis's sdscmp (memcmp then length).
    @inline(__always)
    static func less(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        a.withUnsafeBytes { x in
            b.withUnsafeBytes { y in
                let n = min(x.count, y.count)
                let c = n == 0 ? 0 : memcmp(x.baseAddress!, y.baseAddress!, n)
                return c < 0 || (c == 0 && x.count < y.count)
            }
        }
    }

    @inline(__always)
    static func precedes(_ node: SkipListNode, score: Double, member: [UInt8]) -> Bool {
        node.score < score || (node.score == score && less(node.member, member))
    }

    func randomLevel() -> Int {
        var l = 1
        while l < Self.levelMax && Double.random(in: 0..<1, using: &rng) < Self.levelProbability { l += 1 }
        return l
    }

    public var first: SkipListNode? { header.forward[0] }

    /// Inserts a member that is not present.
    @discardableResult
    public func insert(score: Double, member: [UInt8]) -> SkipListNode {
        var update = [SkipListNode](repeating: header, count: Self.levelMax)
        var rank = [Int](repeating: 0, count: Self.levelMax)
        var x = header
        for i in stride(from: level - 1, through: 0, by: -1) {
            rank[i] = i == level - 1 ? 0 : rank[i + 1]
            while let f = x.forward[i], Self.precedes(f, score: score, member: member) {
                rank[i] += x.span[i]
                x = f
            }
            update[i] = x
        }
        let newLevel = randomLevel()
        if newLevel > level {
            for i in level..<newLevel {
                rank[i] = 0
                update[i] = header
                header.span[i] = count
            }
            level = newLevel
        }
        let node = SkipListNode(level: newLevel, score: score, member: member)
        for i in 0..<newLevel {
            node.forward[i] = update[i].forward[i]
            update[i].forward[i] = node
            node.span[i] = update[i].span[i] - (rank[0] - rank[i])
            update[i].span[i] = rank[0] - rank[i] + 1
        }
        for i in newLevel..<level { update[i].span[i] += 1 }
        node.backward = update[0] === header ? nil : update[0]
        if let f = node.forward[0] { f.backward = node } else { tail = node }
        count += 1
        return node
    }

    /// Removes (score, member); returns whether it was present.
    @discardableResult
    public func remove(score: Double, member: [UInt8]) -> Bool {
        var update = [SkipListNode](repeating: header, count: Self.levelMax)
        var x = header
        for i in stride(from: level - 1, through: 0, by: -1) {
            while let f = x.forward[i], Self.precedes(f, score: score, member: member) { x = f }
            update[i] = x
        }
        guard let target = x.forward[0], target.score == score, target.member == member else { return false }
        unlink(target, update)
        return true
    }

    private func unlink(_ node: SkipListNode, _ update: [SkipListNode]) {
        for i in 0..<level {
            if update[i].forward[i] === node {
                update[i].span[i] += node.span[i] - 1
                update[i].forward[i] = node.forward[i]
            } else {
                update[i].span[i] -= 1
            }
        }
        if let f = node.forward[0] { f.backward = node.backward } else { tail = node.backward }
        while level > 1 && header.forward[level - 1] == nil { level -= 1 }
        count -= 1
    }

    /// Changes a member's score (remove + insert; Redis updates in place when the order holds,
    /// which is an optimisation only).
    public func update(member: [UInt8], from old: Double, to new: Double) {
        remove(score: old, member: member)
        insert(score: new, member: member)
    }

    /// 1-based rank of (score, member), or 0 if absent.
    public func rank(score: Double, member: [UInt8]) -> Int {
        var r = 0
        var x = header
        for i in stride(from: level - 1, through: 0, by: -1) {
            while let f = x.forward[i], Self.precedes(f, score: score, member: member) || (f.score == score && f.member == member) {
                r += x.span[i]
                x = f
            }
            if x !== header && x.score == score && x.member == member { return r }
        }
        return 0
    }

    /// The node at 1-based `rank`.
    public func node(atRank rank: Int) -> SkipListNode? {
        guard rank >= 1 && rank <= count else { return nil }
        var traversed = 0
        var x = header
        for i in stride(from: level - 1, through: 0, by: -1) {
            while let f = x.forward[i], traversed + x.span[i] <= rank {
                traversed += x.span[i]
                x = f
            }
            if traversed == rank { return x }
        }
        return nil
    }

    // MARK: score and lex bounds

    /// First node whose score satisfies the lower bound.
    public func firstNode(from min: ScoreBound) -> SkipListNode? {
        var x = header
        for i in stride(from: level - 1, through: 0, by: -1) {
            while let f = x.forward[i], !min.admitsAsLower(f.score) { x = f }
        }
        return x.forward[0]
    }

    /// Last node whose score satisfies the upper bound.
    public func lastNode(through max: ScoreBound) -> SkipListNode? {
        var x = header
        for i in stride(from: level - 1, through: 0, by: -1) {
            while let f = x.forward[i], max.admitsAsUpper(f.score) { x = f }
        }
        return x === header ? nil : x
    }

    public func firstNode(from min: LexBound) -> SkipListNode? {
        var x = header
        for i in stride(from: level - 1, through: 0, by: -1) {
            while let f = x.forward[i], !min.admitsAsLower(f.member) { x = f }
        }
        return x.forward[0]
    }

    public func lastNode(through max: LexBound) -> SkipListNode? {
        var x = header
        for i in stride(from: level - 1, through: 0, by: -1) {
            while let f = x.forward[i], max.admitsAsUpper(f.member) { x = f }
        }
        return x === header ? nil : x
    }

    /// 1-based rank of a node known to be in the list.
    public func rank(of node: SkipListNode) -> Int { rank(score: node.score, member: node.member) }

    public func removeAll() {
        releaseNodes()
        for i in 0..<Self.levelMax { header.span[i] = 0 }
        tail = nil
        count = 0
        level = 1
    }

    /// Drops the nodes one by one: letting the chain of strong `forward` links go at once would
    /// release them recursively and overflow the stack for large sets.
    private func releaseNodes() {
        var n = header.forward[0]
        for i in 0..<Self.levelMax { header.forward[i] = nil }
        while let x = n {
            n = x.forward[0]
            x.forward.removeAll()
        }
    }

    deinit { releaseNodes() }
}

/// A ZRANGEBYSCORE bound: `1.5`, `(1.5`, `-inf`, `+inf`.
public struct ScoreBound: Sendable, Equatable {
    public var value: Double
    public var exclusive: Bool
    public init(_ value: Double, exclusive: Bool = false) { self.value = value; self.exclusive = exclusive }

    /// Whether a score is at or above this bound used as a minimum.
    @inline(__always) public func admitsAsLower(_ s: Double) -> Bool { exclusive ? s > value : s >= value }
    /// Whether a score is at or below this bound used as a maximum.
    @inline(__always) public func admitsAsUpper(_ s: Double) -> Bool { exclusive ? s < value : s <= value }
}

/// A ZRANGEBYLEX bound: `[a`, `(a`, `-`, `+`.
public enum LexBound: Sendable, Equatable {
    case minusInfinity, plusInfinity
    case inclusive([UInt8]), exclusive([UInt8])

    public func admitsAsLower(_ m: [UInt8]) -> Bool {
        switch self {
        case .minusInfinity: return true
        case .plusInfinity: return false
        case .inclusive(let v): return !SkipList.less(m, v)
        case .exclusive(let v): return SkipList.less(v, m)
        }
    }

    public func admitsAsUpper(_ m: [UInt8]) -> Bool {
        switch self {
        case .minusInfinity: return false
        case .plusInfinity: return true
        case .inclusive(let v): return !SkipList.less(v, m)
        case .exclusive(let v): return SkipList.less(m, v)
        }
    }
}

#if canImport(Glibc)
import Glibc
#endif
