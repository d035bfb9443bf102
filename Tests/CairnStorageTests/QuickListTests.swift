@testable import CairnStorage
import Testing

@Suite struct QuickListTests {
    func b(_ s: String) -> [UInt8] { Array(s.utf8) }

    @Test func pushPopBothEndsAcrossNodes() {
        let l = QuickList()
        for i in 0..<5000 { l.pushBack(b("v\(i)")) }
        for i in 0..<5000 { l.pushFront(b("u\(i)")) }
        #expect(l.count == 10000)
        #expect(l.nodes.count > 2)
        #expect(l.element(at: 0) == b("u4999"))
        #expect(l.element(at: -1) == b("v4999"))
        #expect(l.element(at: 5000) == b("v0"))
        #expect(l.popFront() == b("u4999"))
        #expect(l.popBack() == b("v4999"))
        #expect(l.count == 9998)
    }

    @Test func bigElementsGetTheirOwnNode() {
        let l = QuickList()
        let big = [UInt8](repeating: 1, count: 20_000)
        l.pushBack(b("a")); l.pushBack(big); l.pushBack(b("c"))
        #expect(l.elements == [b("a"), big, b("c")])
    }

    /// Random operations checked against an array model.
    @Test func randomOperationsMatchModel() {
        var rng = SystemRandomNumberGenerator()
        let l = QuickList()
        var model: [[UInt8]] = []
        for step in 0..<20000 {
            let v = b(String(repeating: "x", count: Int.random(in: 0..<200, using: &rng)) + "\(step % 7)")
            switch Int.random(in: 0..<9, using: &rng) {
            case 0, 1: l.pushBack(v); model.append(v)
            case 2, 3: l.pushFront(v); model.insert(v, at: 0)
            case 4: #expect(l.popFront() == (model.isEmpty ? nil : model.removeFirst()))
            case 5: #expect(l.popBack() == model.popLast())
            case 6:
                if !model.isEmpty {
                    let i = Int.random(in: 0..<model.count, using: &rng)
                    v.withUnsafeBytes { _ = l.set(i, $0) }
                    model[i] = v
                }
            case 7:
                if let pivot = model.randomElement(using: &rng) {
                    let after = Bool.random(using: &rng)
                    let ok = v.withUnsafeBytes { nv in pivot.withUnsafeBytes { l.insert(nv, pivot: $0, after: after) } }
                    #expect(ok)
                    if let i = model.firstIndex(of: pivot) { model.insert(v, at: after ? i + 1 : i) }
                }
            default:
                if let target = model.randomElement(using: &rng) {
                    let limit = Int.random(in: 0..<3, using: &rng)
                    let head = Bool.random(using: &rng)
                    let removed = target.withUnsafeBytes { l.remove($0, limit: limit, fromHead: head) }
                    var idx = head ? Array(model.indices) : model.indices.reversed()
                    idx = idx.filter { model[$0] == target }
                    if limit > 0 { idx = Array(idx.prefix(limit)) }
                    for i in idx.sorted(by: >) { model.remove(at: i) }
                    #expect(removed == idx.count)
                }
            }
            #expect(l.count == model.count)
        }
        #expect(l.elements == model)
        var forward: [[UInt8]] = []
        l.forEach(from: 3, through: model.count + 10) { forward.append(Array($0)); return true }
        #expect(forward == Array(model.dropFirst(3)))
        var backward: [[UInt8]] = []
        l.forEachReversed(from: model.count - 1, through: 2) { backward.append(Array($0)); return true }
        #expect(backward == Array(model.dropFirst(2).reversed()))
    }

    @Test func trim() {
        let l = QuickList((0..<100).map { b(String($0)) })
        l.trim(start: 10, end: 19)
        #expect(l.elements == (10..<20).map { b(String($0)) })
        l.trim(start: 5, end: 2)
        #expect(l.count == 0)
    }
}
