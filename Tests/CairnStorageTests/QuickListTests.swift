import CairnRESP
@testable import CairnStorage
import NIOCore
import Testing

@Suite struct QuickListTests {
    func b(_ s: String) -> [UInt8] { Array(s.utf8) }

    /// A node that is full when the next one starts keeps no spare capacity (a list's memory is
    /// its nodes), and the node still growing has at most an eighth spare.
    @Test func fullNodesAreTrimmed() {
        let l = QuickList()
        for i in 0..<5000 { l.pushBack(b("element:\(i)")) }
        for i in 0..<5000 { l.pushFront(b("element:\(i)")) }
        #expect(l.nodes.count > 4)
        for (k, node) in l.nodes.enumerated() {
            let spare = node.bytes.capacity - node.byteCount
            if k == 0 || k == l.nodes.count - 1 {
                #expect(spare <= node.byteCount / 8 + 32, "end node \(k): \(spare) spare for \(node.byteCount)")
            } else {
                #expect(spare < 32, "node \(k): \(spare) spare for \(node.byteCount)")
            }
        }
    }

    /// The save child's raw walk of the nodes sees exactly what the safe accessors see, through
    /// pushes and pops at both ends, inserts that split nodes, and removals.
    @Test func rawNodeWalkMatchesTheNodes() {
        #expect(QuickList.rawNodeLayoutHolds)
        var rng = SeededRandom(seed: 3)
        let l = QuickList()
        func check() {
            var raw: [[UInt8]] = []
            l.forEachNodeBytes { raw.append(Array($0)) }
            #expect(raw == l.nodes.map(\.bytes))
        }
        check()
        for step in 0..<6000 {
            let v = b("element:\(step):" + String(repeating: "x", count: Int.random(in: 0...40, using: &rng)))
            switch Int.random(in: 0..<6, using: &rng) {
            case 0, 1: l.pushBack(v)
            case 2: l.pushFront(v)
            case 3: _ = l.popFront()
            case 4: _ = l.popBack()
            default:
                if l.count > 0, let pivot = l.element(at: Int.random(in: 0..<l.count, using: &rng)) {
                    _ = v.withUnsafeBytes { vb in pivot.withUnsafeBytes { l.insert(vb, pivot: $0, after: true) } }
                }
            }
            if step % 500 == 0 { check() }
        }
        check()
        let c = l.copy()
        l.removeFirst(l.count / 2)
        var copied: [[UInt8]] = []
        c.forEachNodeBytes { copied.append(Array($0)) }
        #expect(copied == c.nodes.map(\.bytes) && c.count > l.count)
    }

    /// A push of many elements announced with reservePush (RPUSH/LPUSH with several) sizes the
    /// nodes it fills at once: every node ends with almost no spare capacity, contents in order.
    @Test func announcedPushesSizeTheirNodes() {
        let l = QuickList()
        var model: [[UInt8]] = []
        for round in 0..<8 {
            let batch = (0..<250).map { b("element:\(round):\($0)") }
            let front = round % 3 == 2
            l.reservePush(bytes: batch.reduce(0) { $0 + Listpack.entrySize($1.count) }, atBack: !front)
            for e in batch {
                if front { l.pushFront(e); model.insert(e, at: 0) } else { l.pushBack(e); model.append(e) }
            }
        }
        #expect(l.elements == model)
        for node in l.nodes { #expect(node.bytes.capacity - node.byteCount <= node.byteCount / 8 + 32) }
    }

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

    /// Decodes what `writeBulks` wrote: bulk strings back to byte arrays.
    func writtenBulks(_ l: QuickList, _ start: Int, _ end: Int, reversed: Bool) -> [[UInt8]] {
        var writer = ReplyWriter(buffer: ByteBufferAllocator().buffer(capacity: 16))
        writer.arrayHeader(end - start + 1)
        l.writeBulks(from: start, through: end, reversed: reversed, into: &writer)
        var decoder = RESPValueDecoder()
        guard case .array(let items?)? = try? decoder.decode(&writer.buffer) else { return [[255]] }
        #expect(writer.buffer.readableBytes == 0)
        return items.map { if case .bulkString(let b?) = $0 { return b } else { return [255] } }
    }

    /// Bulk removal at the ends, in-place reads and reply writing checked against an array model,
    /// with element sizes that put anything from one to hundreds of elements in a node.
    @Test func endRemovalAndInPlaceAccessMatchModel() {
        var rng = SystemRandomNumberGenerator()
        let l = QuickList()
        var model: [[UInt8]] = []
        for step in 0..<1000 {
            let size = [0, 1, 5, 40, 300, 9000][Int.random(in: 0..<6, using: &rng)]
            let v = b(String(repeating: "e", count: size) + "\(step % 5)")
            switch Int.random(in: 0..<10, using: &rng) {
            case 0, 1, 2:
                for _ in 0..<Int.random(in: 1..<40, using: &rng) { l.pushBack(v); model.append(v) }
            case 3, 4:
                for _ in 0..<Int.random(in: 1..<40, using: &rng) { l.pushFront(v); model.insert(v, at: 0) }
            case 5:
                let n = Int.random(in: 0..<50, using: &rng)
                l.removeFirst(n)
                model.removeFirst(min(n, model.count))
            case 6:
                let n = Int.random(in: 0..<50, using: &rng)
                l.removeLast(n)
                model.removeLast(min(n, model.count))
            case 7:
                if !model.isEmpty {
                    let i = Int.random(in: 0..<model.count, using: &rng)
                    #expect(l.withElement(at: i) { Array($0) } == model[i])
                    #expect(l.withElement(at: i - model.count) { Array($0) } == model[i])
                    #expect(l.withEndElement(front: true) { Array($0) } == model.first)
                    #expect(l.withEndElement(front: false) { Array($0) } == model.last)
                } else {
                    #expect(l.withElement(at: 0) { Array($0) } == nil)
                    #expect(l.withEndElement(front: true) { Array($0) } == nil)
                }
            case 8:
                if !model.isEmpty {
                    let s = Int.random(in: 0..<model.count, using: &rng)
                    let e = Int.random(in: s..<model.count, using: &rng)
                    #expect(writtenBulks(l, s, e, reversed: false) == Array(model[s...e]))
                    #expect(writtenBulks(l, s, e, reversed: true) == Array(model[s...e].reversed()))
                }
            default:
                if let target = model.randomElement(using: &rng) {
                    let fromTail = Bool.random(using: &rng)
                    let maxLength = Int.random(in: 0..<(model.count + 2), using: &rng)
                    var found: [Int] = []
                    target.withUnsafeBytes { t in
                        l.forEachMatch(t, fromTail: fromTail, maxLength: maxLength) { found.append($0); return true }
                    }
                    let limit = maxLength == 0 ? model.count : min(maxLength, model.count)
                    let scanned = fromTail ? Array(model.indices.suffix(limit).reversed()) : Array(model.indices.prefix(limit))
                    #expect(found == scanned.filter { model[$0] == target })
                }
            }
            #expect(l.count == model.count)
            #expect(l.nodes.allSatisfy { !$0.isEmpty }, "no empty nodes are kept")
        }
        #expect(l.elements == model)
    }

    @Test func forEachMatchStopsWhenAsked() {
        let l = QuickList((0..<2000).map { b($0 % 3 == 0 ? "m" : "o\($0)") })
        var seen: [Int] = []
        b("m").withUnsafeBytes { m in l.forEachMatch(m, fromTail: true, maxLength: 0) { seen.append($0); return seen.count < 3 } }
        #expect(seen == [1998, 1995, 1992])
        seen = []
        b("m").withUnsafeBytes { m in l.forEachMatch(m, fromTail: false, maxLength: 7) { seen.append($0); return true } }
        #expect(seen == [0, 3, 6])
    }

    @Test func trimKeepsRangeAcrossNodes() {
        let l = QuickList((0..<5000).map { b("value-\($0)") })
        l.trim(start: 1234, end: 4321)
        #expect(l.elements == (1234...4321).map { b("value-\($0)") })
        l.trim(start: 0, end: 100_000)
        #expect(l.count == 4321 - 1234 + 1)
        l.trim(start: -5, end: 3)
        #expect(l.elements == (1234...1237).map { b("value-\($0)") })
    }
}
