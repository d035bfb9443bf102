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
}
