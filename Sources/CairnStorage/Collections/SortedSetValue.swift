#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// A sorted set, in one of Redis's two encodings:
//
//   listpack  member, score pairs in one Listpack, sorted by (score, member bytes). The score
//             entry is an integer when the score is a whole number of at most 7 bytes (0 to 7
//             bytes, little-endian two's complement: 1..999 take 2 bytes, as Redis's listpack
//             keeps small integer scores), else the 8 bytes of the double (little endian). Used
//             while the set has at most zset-max-listpack-entries members of at most
//             zset-max-listpack-value bytes.
//   skiplist  a SkipList for order and rank plus a ByteMap member -> node for O(1) lookups.
//
// A set converts to skiplist when it outgrows either limit and never converts back (as Redis);
// a set built whole (ZUNIONSTORE, ZRANGESTORE...) starts small when its contents allow.
// Redis's listpack stores a score as text, where -0 reads back as 0; a listpack score here is
// normalised the same way, so ZSCORE answers exactly as Redis does in both encodings.
// Range queries and ZSCAN live in SortedSetValue+Ranges.swift.

public final class SortedSetValue {
    /// The thresholds of the compact encoding (zset-max-listpack-entries / -value).
    public struct Limits: Sendable {
        public var maxEntries: Int
        public var maxValue: Int
        public init(maxEntries: Int, maxValue: Int) {
            self.maxEntries = maxEntries
            self.maxValue = maxValue
        }
        public init(_ settings: EngineSettings) {
            self.init(maxEntries: settings.zsetMaxListpackEntries, maxValue: settings.zsetMaxListpackValue)
        }
        /// Whether a set of `count` members, the longest `longest` bytes, stays compact.
        @inlinable public func allowsListpack(count: Int, longest: Int) -> Bool {
            count <= maxEntries && longest <= maxValue
        }
    }

    /// The pairs while compact (empty once converted).
    @usableFromInline var pairs = Listpack()
    /// The order while large (nil while compact).
    var list: SkipList?
    /// Member -> node while large.
    var index = ByteMap<SkipListNode>()

    public init() {}

    /// A listpack-encoded set holding `pairs` (a copy of one packed in a key's record).
    @usableFromInline
    init(packed pairs: Listpack) {
        self.pairs = pairs
    }

    /// An empty set in the encoding a set of `count` members, the longest `longest` bytes, gets.
    public init(expecting count: Int, longest: Int, limits: Limits) {
        if !limits.allowsListpack(count: count, longest: longest) {
            list = SkipList()
            index = ByteMap(minimumCapacity: count)
        }
    }

    public var isListpack: Bool { list == nil }
    public var count: Int { list?.count ?? pairs.count / 2 }
    public var isEmpty: Bool { count == 0 }

    /// OBJECT ENCODING's answer.
    public var encodingName: StaticString { list == nil ? "listpack" : "skiplist" }

    /// An independent copy in the same encoding (COPY).
    public func copy() -> SortedSetValue {
        let out = SortedSetValue()
        guard let list else {
            out.pairs = pairs
            return out
        }
        let l = SkipList()
        out.list = l
        out.index = ByteMap(minimumCapacity: list.count)
        var n = list.first
        while let x = n {
            out.index.insert(x.member, l.insert(score: x.score, member: x.member))
            n = x.next
        }
        return out
    }

    // MARK: listpack pairs

    /// One pair of the compact encoding: where its member's bytes are, its score, and the
    /// offsets of the pair and of the pair after it.
    struct Pair {
        var start: Int
        var member: Range<Int>
        var score: Double
        var next: Int
    }

    @inline(__always)
    func pair(at offset: Int) -> Pair {
        let m = pairs.decode(at: offset)
        let s = pairs.decode(at: m.next)
        let score = pairs.bytes.withUnsafeBytes { Self.score(ofEntry: UnsafeRawBufferPointer(rebasing: $0[s.payload])) }
        return Pair(start: offset, member: m.payload, score: score, next: s.next)
    }

    /// Offset of the pair before the one at `offset` (which may be the end offset).
    @inline(__always)
    func pairOffset(before offset: Int) -> Int { pairs.previous(before: pairs.previous(before: offset)) }

    /// Offset of the last pair, or nil when empty.
    var lastPairOffset: Int? { pairs.count == 0 ? nil : pairOffset(before: pairs.byteCount) }

    /// Offset of the pair at 0-based `rank`.
    func pairOffset(atRank rank: Int) -> Int {
        let n = pairs.count / 2
        if rank <= n / 2 {
            var o = 0
            for _ in 0..<rank { o = pair(at: o).next }
            return o
        }
        var o = pairs.byteCount
        for _ in 0..<(n - rank) { o = pairOffset(before: o) }
        return o
    }

    @inline(__always)
    func withMember<R>(_ p: Pair, _ body: (UnsafeRawBufferPointer) -> R) -> R {
        pairs.bytes.withUnsafeBytes { body(UnsafeRawBufferPointer(rebasing: $0[p.member])) }
    }

    /// The pair of `member`, or nil. Compares members only: a score is decoded for the match.
    func findPair(_ member: UnsafeRawBufferPointer) -> Pair? {
        let found = pairs.bytes.withUnsafeBytes { raw -> Int? in
            var o = 0
            while o < raw.count {
                let m = Listpack.rawEntry(raw, at: o)
                if m.length == member.count && Listpack.bytesEqual(raw.baseAddress! + m.start, member) { return o }
                o = Listpack.rawEntry(raw, at: m.next).next
            }
            return nil
        }
        return found.map { pair(at: $0) }
    }

    /// Calls `body` with the score entry's payload for `score` (see the encoding above).
    @inline(__always)
    static func withScoreEntry<R>(_ score: Double, _ body: (UnsafeRawBufferPointer) -> R) -> R {
        // Redis's listpack keeps scores as text, where -0 comes back as 0.
        if score == 0 { return body(UnsafeRawBufferPointer(start: nil, count: 0)) }
        if let v = Int64(exactly: score), v > -(1 << 55), v < 1 << 55 {
            var n = 1
            while n < 7 && (v < -(1 << (8 * n - 1)) || v >= 1 << (8 * n - 1)) { n += 1 }
            var le = v.littleEndian
            return withUnsafeBytes(of: &le) { body(UnsafeRawBufferPointer(rebasing: $0[0..<n])) }
        }
        var bits = score.bitPattern.littleEndian
        return withUnsafeBytes(of: &bits) { body($0) }
    }

    /// The score a score entry's payload holds.
    @inline(__always)
    static func score(ofEntry payload: UnsafeRawBufferPointer) -> Double {
        let n = payload.count
        switch n {
        case 8: return Double(bitPattern: UInt64(littleEndian: payload.loadUnaligned(as: UInt64.self)))
        case 0: return 0
        case 1: return Double(payload.load(as: Int8.self))
        case 2: return Double(Int16(littleEndian: payload.loadUnaligned(as: Int16.self)))
        default:
            // Sign-extend n little-endian bytes.
            var v: UInt64 = 0
            for k in 0..<n { v |= UInt64(payload[k]) << (8 * k) }
            let shift = UInt64(64 - 8 * n)
            return Double(Int64(bitPattern: v << shift) >> shift)
        }
    }

    /// A member read from a file for a one-pass build: its bytes at `start..<start+count` of a
    /// shared buffer, and its score.
    struct LoadedMember {
        var start: Int
        var count: Int
        var score: Double
    }

    /// A small set built in one pass from (member, score) pairs read from a file, in its listpack
    /// encoding: sorted once instead of inserted one by one. The members' bytes are in `bytes`
    /// (one buffer for all, so a load makes no array per member); `order` is scratch space the
    /// caller may reuse. Nil when the pairs need the skiplist encoding (too many, too long), hold
    /// a NaN, or repeat a member (the caller decides).
    static func listpackLoaded(bytes: UnsafeRawBufferPointer, _ items: [LoadedMember], limits: Limits,
                               order: inout [Int]) -> SortedSetValue? {
        var longest = 0
        for item in items {
            if item.score.isNaN { return nil }
            longest = max(longest, item.count)
        }
        guard limits.allowsListpack(count: items.count, longest: longest) else { return nil }
        func member(_ i: Int) -> UnsafeRawBufferPointer {
            UnsafeRawBufferPointer(rebasing: bytes[items[i].start..<(items[i].start + items[i].count)])
        }
        // A repeated member: sort by member (memcmp) and compare neighbours.
        order.removeAll(keepingCapacity: true)
        order.append(contentsOf: items.indices)
        order.sort { SkipList.compare(member($0), member($1)) < 0 }
        for k in order.indices.dropFirst() where SkipList.compare(member(order[k]), member(order[k - 1])) == 0 {
            return nil
        }
        // Then the set's order. A file Redis or Cairn wrote has its pairs in that order already:
        // one pass checks it, and only a file in another order is sorted.
        func precedes(_ a: Int, _ b: Int) -> Bool {
            let x = items[a].score == 0 ? 0.0 : items[a].score, y = items[b].score == 0 ? 0.0 : items[b].score
            return x < y || (x == y && SkipList.compare(member(a), member(b)) < 0)
        }
        order.removeAll(keepingCapacity: true)
        order.append(contentsOf: items.indices)
        if !items.indices.dropFirst().allSatisfy({ precedes($0 - 1, $0) }) {
            order.sort(by: precedes)
        }
        let z = SortedSetValue()
        for i in order {
            z.pairs.append(member(i))
            withScoreEntry(items[i].score) { z.pairs.append($0) }
        }
        return z
    }

    /// listpackLoaded for pairs held as arrays (tests).
    static func listpackLoaded(_ items: [(member: [UInt8], score: Double)], limits: Limits) -> SortedSetValue? {
        var bytes: [UInt8] = [], loaded: [LoadedMember] = [], order: [Int] = []
        for item in items {
            loaded.append(LoadedMember(start: bytes.count, count: item.member.count, score: item.score))
            bytes += item.member
        }
        return bytes.withUnsafeBytes { listpackLoaded(bytes: $0, loaded, limits: limits, order: &order) }
    }

    /// Inserts a member known to be absent at its sorted place.
    func insertPair(_ member: UnsafeRawBufferPointer, _ score: Double) {
        var o = 0
        let end = pairs.byteCount
        let stored = score == 0 ? 0.0 : score
        while o < end {
            let p = pair(at: o)
            if p.score > stored || (p.score == stored && withMember(p, { SkipList.compare($0, member) > 0 })) { break }
            o = p.next
        }
        Self.withScoreEntry(score) { s in
            if o == end {
                pairs.append(member)
                pairs.append(s)
            } else {
                pairs.insert(s, at: o)
                pairs.insert(member, at: o)
            }
        }
    }

    /// Rewrites the score of pair `p` (whose member is `member`) where it is, if the new score
    /// keeps it between its neighbours; returns false when it has to move.
    func replaceScoreInPlace(_ p: Pair, _ member: UnsafeRawBufferPointer, _ score: Double) -> Bool {
        let stored = score == 0 ? 0.0 : score
        func before(_ q: Pair) -> Bool {
            q.score < stored || (q.score == stored && withMember(q) { SkipList.compare($0, member) < 0 })
        }
        if p.start > 0 && !before(pair(at: pairOffset(before: p.start))) { return false }
        if p.next < pairs.byteCount {
            let q = pair(at: p.next)
            if !(stored < q.score || (stored == q.score && withMember(q) { SkipList.compare(member, $0) < 0 })) { return false }
        }
        Self.withScoreEntry(score) { _ = pairs.replace(at: pairs.decode(at: p.start).next, with: $0) }
        return true
    }

    /// Removes the pair at `offset`.
    func removePair(at offset: Int) {
        pairs.remove(at: offset)
        pairs.remove(at: offset)
    }

    /// Moves the set to the skiplist encoding.
    func convertToSkipList() {
        guard list == nil else { return }
        let l = SkipList()
        var map = ByteMap<SkipListNode>(minimumCapacity: pairs.count / 2)
        var o = 0
        let end = pairs.byteCount
        while o < end {
            let p = pair(at: o)
            let m = Array(pairs.bytes[p.member])
            map.insert(m, l.insert(score: p.score, member: m))
            o = p.next
        }
        pairs = Listpack()
        list = l
        index = map
    }

    // MARK: lookups

    /// The score of `member`, or nil.
    public func score(of member: UnsafeRawBufferPointer) -> Double? {
        if list != nil {
            guard let i = index.find(member) else { return nil }
            return index[payloadAt: i].score
        }
        return findPair(member)?.score
    }

    public func score(of member: [UInt8]) -> Double? { member.withUnsafeBytes { score(of: $0) } }

    /// 0-based rank of `member` (from the highest score if `reverse`), or nil.
    public func rank(of member: UnsafeRawBufferPointer, reverse: Bool) -> Int? {
        let n = count
        if let list {
            guard let i = index.find(member) else { return nil }
            let r = list.rank(of: index[payloadAt: i]) - 1
            return reverse ? n - 1 - r : r
        }
        var o = 0
        var r = 0
        let end = pairs.byteCount
        while o < end {
            if pairs.payloadEquals(at: o, member) { return reverse ? n - 1 - r : r }
            o = pair(at: o).next
            r += 1
        }
        return nil
    }

    // MARK: add / update / remove

    public struct AddFlags: OptionSet, Sendable {
        public let rawValue: UInt8
        public init(rawValue: UInt8) { self.rawValue = rawValue }
        public static let incr = AddFlags(rawValue: 1)
        public static let nx = AddFlags(rawValue: 2)
        public static let xx = AddFlags(rawValue: 4)
        public static let gt = AddFlags(rawValue: 8)
        public static let lt = AddFlags(rawValue: 16)
    }

    public enum AddOutcome: Equatable {
        /// The member was new.
        case added
        /// Its score changed.
        case updated
        /// Processed, score unchanged.
        case unchanged
        /// Not processed: NX on an existing member, XX on a new one, GT/LT refused.
        case skipped
        /// INCR produced NaN; nothing changed.
        case notANumber
    }

    /// Redis's zsetAdd: adds `member` or updates its score under `flags`; `newScore` is the
    /// resulting score (the increment result with INCR). `member` must not point into this set.
    public func add(_ member: UnsafeRawBufferPointer, score: Double, flags: AddFlags, limits: Limits)
        -> (outcome: AddOutcome, newScore: Double) {
        guard !score.isNaN else { return (.notANumber, score) }
        if list == nil {
            if let p = findPair(member) {
                return updateExisting(current: p.score, score: score, flags: flags) { new in
                    if !replaceScoreInPlace(p, member, new) {
                        removePair(at: p.start)
                        insertPair(member, new)
                    }
                }
            }
            if flags.contains(.xx) { return (.skipped, score) }
            if pairs.count / 2 + 1 <= limits.maxEntries && member.count <= limits.maxValue {
                insertPair(member, score)
                return (.added, score)
            }
            convertToSkipList()
        }
        guard let list else { return (.skipped, score) }
        let h = ByteMap<SkipListNode>.hash(member)
        if let i = index.find(member, hash: h) {
            let node = index[payloadAt: i]
            return updateExisting(current: node.score, score: score, flags: flags) { list.updateScore(node, to: $0) }
        }
        if flags.contains(.xx) { return (.skipped, score) }
        let m = Array(member)
        index.insert(m, hash: h, list.insert(score: score, member: m))
        return (.added, score)
    }

    @inline(__always)
    private func updateExisting(current: Double, score: Double, flags: AddFlags,
                                apply: (Double) -> Void) -> (outcome: AddOutcome, newScore: Double) {
        if flags.contains(.nx) { return (.skipped, score) }
        var new = score
        if flags.contains(.incr) {
            new += current
            if new.isNaN { return (.notANumber, new) }
        }
        if (flags.contains(.lt) && new >= current) || (flags.contains(.gt) && new <= current) {
            return (.skipped, new)
        }
        if new == current { return (.unchanged, new) }
        apply(new)
        return (.updated, new)
    }

    /// Removes `member`; returns whether it was there.
    @discardableResult
    public func remove(_ member: UnsafeRawBufferPointer) -> Bool {
        if let list {
            guard let i = index.find(member) else { return false }
            let node = index.remove(at: i).removed.payload
            list.remove(node)
            return true
        }
        guard let p = findPair(member) else { return false }
        removePair(at: p.start)
        return true
    }

    /// Removes and returns the member with the lowest score (`max` false) or the highest.
    public func popExtreme(max: Bool) -> (member: [UInt8], score: Double)? {
        if let list {
            guard let node = max ? list.tail : list.first else { return nil }
            list.remove(node)
            _ = node.member.withUnsafeBytes { index.remove($0) }
            return (node.member, node.score)
        }
        guard let o = max ? lastPairOffset : (pairs.count > 0 ? 0 : nil) else { return nil }
        let p = pair(at: o)
        let m = Array(pairs.bytes[p.member])
        removePair(at: o)
        return (m, p.score)
    }

    // MARK: building

    /// A set holding `items` (distinct members), in the encoding their size allows. `sorted`
    /// says they are already in (score, member) order.
    public static func build(_ items: [(member: [UInt8], score: Double)], sorted: Bool, limits: Limits) -> SortedSetValue {
        let longest = items.reduce(0) { Swift.max($0, $1.member.count) }
        let out = SortedSetValue(expecting: items.count, longest: longest, limits: limits)
        if let list = out.list {
            for it in items { out.index.insert(it.member, list.insert(score: it.score, member: it.member)) }
            return out
        }
        let ordered = sorted ? items : items.sorted(by: precedes)
        for it in ordered {
            out.pairs.append(it.member)
            withScoreEntry(it.score) { out.pairs.append($0) }
        }
        return out
    }

    /// (score, member) order.
    public static func precedes(_ a: (member: [UInt8], score: Double), _ b: (member: [UInt8], score: Double)) -> Bool {
        a.score < b.score || (a.score == b.score && SkipList.less(a.member, b.member))
    }

    // MARK: checks (tests)

    /// Every (member, score) in order, and a consistency check of the encoding. Tests only.
    func validate() -> String? {
        var previous: (member: [UInt8], score: Double)? = nil
        var seen = 0
        var problem: String? = nil
        forEachInOrder { m, s in
            let item = (Array(m), s)
            if let p = previous, !Self.precedes(p, item) { problem = problem ?? "out of order at \(seen)" }
            if isListpack && s.sign == .minus && s == 0 { problem = problem ?? "-0 in a listpack" }
            if score(of: m) != s && !(s.isNaN) { problem = problem ?? "index disagrees at \(seen)" }
            previous = item
            seen += 1
        }
        if seen != count { return "walked \(seen) of \(count)" }
        if let list, index.count != list.count { return "index has \(index.count), list \(list.count)" }
        return problem
    }

    /// Calls `body` with every member and score, lowest first.
    public func forEachInOrder(_ body: (UnsafeRawBufferPointer, Double) -> Void) {
        if let list {
            var n = list.first
            while let x = n {
                x.member.withUnsafeBytes { body($0, x.score) }
                n = x.next
            }
            return
        }
        pairs.bytes.withUnsafeBytes { raw in
            var o = 0
            while o < raw.count {
                let p = pair(at: o)
                body(UnsafeRawBufferPointer(rebasing: raw[p.member]), p.score)
                o = p.next
            }
        }
    }
}
