@testable import CairnStorage
import Testing

@Suite struct SkipListTests {
    struct Item: Comparable {
        var score: Double
        var member: [UInt8]
        static func < (a: Item, b: Item) -> Bool {
            a.score < b.score || (a.score == b.score && a.member.lexicographicallyPrecedes(b.member))
        }
    }

    func walk(_ l: SkipList) -> [Item] {
        var out: [Item] = []
        var n = l.first
        while let x = n { out.append(Item(score: x.score, member: x.member)); n = x.next }
        return out
    }

    /// Random inserts, removals and score updates against a sorted-array model; ranks, rank
    /// lookups, bounds and backward links are checked throughout.
    @Test func matchesSortedModel() {
        var rng = SystemRandomNumberGenerator()
        let l = SkipList()
        var model: [[UInt8]: Double] = [:]
        for step in 0..<6000 {
            let member = Array("m\(Int.random(in: 0..<800, using: &rng))".utf8)
            let score = Double(Int.random(in: -50...50, using: &rng)) / 2
            if let old = model[member] {
                if Bool.random(using: &rng) {
                    #expect(l.remove(score: old, member: member))
                    model[member] = nil
                } else {
                    l.update(member: member, from: old, to: score)
                    model[member] = score
                }
            } else {
                l.insert(score: score, member: member)
                model[member] = score
            }
            if step % 500 == 0 || step == 5999 {
                let sorted = model.map { Item(score: $0.value, member: $0.key) }.sorted()
                #expect(walk(l) == sorted)
                #expect(l.count == sorted.count)
                for (i, it) in sorted.enumerated() {
                    #expect(l.rank(score: it.score, member: it.member) == i + 1)
                    #expect(l.node(atRank: i + 1)?.member == it.member)
                }
                // Backward links from the tail give the reverse order.
                var back: [[UInt8]] = []
                var n = l.tail
                while let x = n { back.append(x.member); n = x.backward }
                #expect(back == sorted.reversed().map(\.member))
                let lo = ScoreBound(-3, exclusive: true), hi = ScoreBound(4)
                let inRange = sorted.filter { lo.admitsAsLower($0.score) && hi.admitsAsUpper($0.score) }
                #expect(l.firstNode(from: lo)?.member == sorted.first { lo.admitsAsLower($0.score) }?.member)
                #expect(l.lastNode(through: hi)?.member == sorted.last { hi.admitsAsUpper($0.score) }?.member)
                if let f = inRange.first { #expect(l.firstNode(from: lo)?.member == f.member) }
            }
        }
        #expect(l.rank(score: 1000, member: Array("absent".utf8)) == 0)
    }

    /// Freeing a large list must not recurse through the node chain.
    @Test func largeListDeallocates() {
        var l: SkipList? = SkipList()
        for i in 0..<300_000 { l?.insert(score: Double(i), member: Array(String(i).utf8)) }
        #expect(l?.count == 300_000)
        l = nil
        #expect(l == nil)
    }

    @Test func lexBounds() {
        let l = SkipList()
        for m in ["a", "b", "c", "d", "e"] { l.insert(score: 0, member: Array(m.utf8)) }
        #expect(l.firstNode(from: LexBound.exclusive(Array("b".utf8)))?.member == Array("c".utf8))
        #expect(l.firstNode(from: LexBound.inclusive(Array("b".utf8)))?.member == Array("b".utf8))
        #expect(l.lastNode(through: LexBound.exclusive(Array("d".utf8)))?.member == Array("c".utf8))
        #expect(l.lastNode(through: LexBound.plusInfinity)?.member == Array("e".utf8))
        #expect(l.firstNode(from: LexBound.plusInfinity) == nil)
    }

    func sortedItems(_ l: SkipList) -> [Item] { walk(l) }

    /// Range deletion by score, lex and rank against a model; spans stay right (ranks checked).
    @Test func deleteRanges() {
        var rng = SystemRandomNumberGenerator()
        for _ in 0..<30 {
            let l = SkipList()
            var model: [Item] = []
            for i in 0..<300 {
                let it = Item(score: Double(Int.random(in: 0..<40, using: &rng)), member: Array("m\(i)".utf8))
                l.insert(score: it.score, member: it.member)
                model.append(it)
            }
            model.sort()
            var removed: [[UInt8]] = []
            switch Int.random(in: 0..<3, using: &rng) {
            case 0:
                let lo = ScoreBound(Double(Int.random(in: 0..<40, using: &rng)), exclusive: Bool.random(using: &rng))
                let hi = ScoreBound(lo.value + Double(Int.random(in: 0..<10, using: &rng)), exclusive: Bool.random(using: &rng))
                let n = l.deleteRange(min: lo, max: hi) { removed.append($0.member) }
                let gone = model.filter { lo.admitsAsLower($0.score) && hi.admitsAsUpper($0.score) }
                #expect(n == gone.count)
                #expect(removed == gone.map(\.member))
                model.removeAll { lo.admitsAsLower($0.score) && hi.admitsAsUpper($0.score) }
            case 1:
                let a = Int.random(in: 1...300, using: &rng), e = Int.random(in: a...300, using: &rng)
                let n = l.deleteRange(ranks: a...e) { removed.append($0.member) }
                #expect(n == e - a + 1)
                #expect(removed == model[(a - 1)...(e - 1)].map(\.member))
                model.removeSubrange((a - 1)...(e - 1))
            default:
                // Lex over members with one score.
                let same = SkipList()
                let names = (0..<200).map { Array("k\($0)".utf8) }.sorted { $0.lexicographicallyPrecedes($1) }
                for n in names { same.insert(score: 0, member: n) }
                let lo = LexBound.exclusive(Array("k1".utf8)), hi = LexBound.inclusive(Array("k5".utf8))
                let n = same.deleteRange(min: lo, max: hi) { _ in }
                let kept = names.filter { !(lo.admitsAsLower($0) && hi.admitsAsUpper($0)) }
                #expect(n == names.count - kept.count)
                #expect(walk(same).map(\.member) == kept)
                for (i, m) in kept.enumerated() { #expect(same.rank(score: 0, member: m) == i + 1) }
            }
            #expect(walk(l) == model)
            #expect(l.count == model.count)
            for (i, it) in model.enumerated() where i % 11 == 0 {
                #expect(l.rank(score: it.score, member: it.member) == i + 1)
                #expect(l.node(atRank: i + 1)?.member == it.member)
            }
            var back: [[UInt8]] = []
            var n = l.tail
            while let x = n { back.append(x.member); n = x.backward }
            #expect(back == model.reversed().map(\.member))
        }
    }

    /// updateScore keeps the node object (the member map points at it) in either case.
    @Test func updateScoreKeepsTheNode() {
        let l = SkipList()
        var nodes: [SkipListNode] = []
        for i in 0..<100 { nodes.append(l.insert(score: Double(i), member: Array("m\(i)".utf8))) }
        l.updateScore(nodes[50], to: 50.5)   // in place
        l.updateScore(nodes[10], to: 99.5)   // moves
        l.updateScore(nodes[99], to: -1)     // moves to the front
        #expect(l.first === nodes[99])
        #expect(l.tail === nodes[10])
        #expect(l.rank(of: nodes[50]) == 51)  // m99, m0...m9, m11...m49 before it
        #expect(nodes[10].score == 99.5)
        #expect(walk(l).map(\.score) == walk(l).map(\.score).sorted())
        l.removeAll()
        #expect(l.count == 0 && l.first == nil && l.tail == nil)
        l.insert(score: 1, member: [1])
        #expect(l.rank(score: 1, member: [1]) == 1)
    }
}
