// The intervals of the sorted-set range commands: score bounds (`1.5`, `(1.5`, `-inf`), lex
// bounds (`[a`, `(a`, `-`, `+`) and the ZRange that pairs them, with Redis's comparison rules.

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

    public func admitsAsLower(_ m: UnsafeRawBufferPointer) -> Bool {
        switch self {
        case .minusInfinity: return true
        case .plusInfinity: return false
        case .inclusive(let v): return SkipList.compare(v, m) <= 0
        case .exclusive(let v): return SkipList.compare(v, m) < 0
        }
    }

    public func admitsAsUpper(_ m: UnsafeRawBufferPointer) -> Bool {
        switch self {
        case .minusInfinity: return false
        case .plusInfinity: return true
        case .inclusive(let v): return SkipList.compare(v, m) >= 0
        case .exclusive(let v): return SkipList.compare(v, m) > 0
        }
    }

    public func admitsAsLower(_ m: [UInt8]) -> Bool { m.withUnsafeBytes { admitsAsLower($0) } }
    public func admitsAsUpper(_ m: [UInt8]) -> Bool { m.withUnsafeBytes { admitsAsUpper($0) } }
}

/// A ZRANGEBYSCORE or ZRANGEBYLEX interval.
public enum ZRange: Sendable, Equatable {
    case score(min: ScoreBound, max: ScoreBound)
    case lex(min: LexBound, max: LexBound)

    /// Redis's test for intervals that hold nothing whatever the set: min above max, or equal
    /// with an exclusive end (`-` and `+` count as exclusive).
    var isEmpty: Bool {
        switch self {
        case .score(let min, let max):
            return min.value > max.value || (min.value == max.value && (min.exclusive || max.exclusive))
        case .lex(let min, let max):
            let c = LexBound.compare(min, max)
            return c > 0 || (c == 0 && (min.isExclusive || max.isExclusive))
        }
    }

    @inline(__always)
    func admitsAsLower(_ member: UnsafeRawBufferPointer, _ score: Double) -> Bool {
        switch self {
        case .score(let min, _): return min.admitsAsLower(score)
        case .lex(let min, _): return min.admitsAsLower(member)
        }
    }

    @inline(__always)
    func admitsAsUpper(_ member: UnsafeRawBufferPointer, _ score: Double) -> Bool {
        switch self {
        case .score(_, let max): return max.admitsAsUpper(score)
        case .lex(_, let max): return max.admitsAsUpper(member)
        }
    }

    func admits(_ node: SkipListNode) -> Bool {
        node.member.withUnsafeBytes { admitsAsLower($0, node.score) && admitsAsUpper($0, node.score) }
    }

    /// The first node at or above the lower bound (it may lie above the upper bound).
    func firstCandidate(_ list: SkipList) -> SkipListNode? {
        switch self {
        case .score(let min, _): return list.firstNode(from: min)
        case .lex(let min, _): return list.firstNode(from: min)
        }
    }

    /// The last node at or below the upper bound (it may lie below the lower bound).
    func lastCandidate(_ list: SkipList) -> SkipListNode? {
        switch self {
        case .score(_, let max): return list.lastNode(through: max)
        case .lex(_, let max): return list.lastNode(through: max)
        }
    }
}

extension LexBound {
    /// `-` and `+` are exclusive in Redis's parsed ranges.
    var isExclusive: Bool {
        switch self {
        case .inclusive: return false
        default: return true
        }
    }

    var order: Int {
        switch self {
        case .minusInfinity: return -1
        case .plusInfinity: return 1
        default: return 0
        }
    }

    /// Redis's sdscmplex between two bounds: `-` below and `+` above every string (and equal to
    /// themselves), strings byte-wise.
    static func compare(_ a: LexBound, _ b: LexBound) -> Int {
        switch (a, b) {
        case (.inclusive(let x), .inclusive(let y)), (.inclusive(let x), .exclusive(let y)),
             (.exclusive(let x), .inclusive(let y)), (.exclusive(let x), .exclusive(let y)):
            return x == y ? 0 : (SkipList.less(x, y) ? -1 : 1)
        default:
            if a.order == b.order { return 0 }
            if a.order == -1 || b.order == 1 { return -1 }
            return 1
        }
    }
}
