@testable import CairnStorage
import Testing

@Suite struct ListpackTests {
    func b(_ s: String) -> [UInt8] { Array(s.utf8) }

    /// Appending (encode) and inserting (write) lay an entry out byte for byte the same, at every
    /// size where the length or the backlen takes another byte.
    @Test func appendAndInsertEncodeAlike() {
        for n in [0, 1, 124, 125, 126, 127, 128, 129, 16_379, 16_380, 16_381, 16_383, 16_384, 16_385, 2_097_160] {
            let payload = [UInt8](repeating: 0x5A, count: n)
            var appended = Listpack(), inserted = Listpack()
            appended.append(payload)
            inserted.insert(payload, at: 0)
            #expect(appended.bytes == inserted.bytes, "payload of \(n) bytes")
            #expect(appended.bytes.count == Listpack.entrySize(n))
            #expect(appended.offset(before: appended.byteCount) == 0 && appended.element(at: 0) == payload)
        }
    }

    @Test func appendIterateAndIndex() {
        var lp = Listpack()
        let items = ["", "a", String(repeating: "x", count: 127), String(repeating: "y", count: 128), String(repeating: "z", count: 20000)]
        for s in items { lp.append(b(s)) }
        #expect(lp.count == items.count)
        #expect(lp.elements == items.map(b))
        for (i, s) in items.enumerated() {
            #expect(lp.offset(ofIndex: i).map { lp.element(at: $0) } == b(s))
            #expect(lp.offset(ofIndex: i - items.count).map { lp.element(at: $0) } == b(s))
        }
        #expect(lp.offset(ofIndex: items.count) == nil)
        #expect(lp.offset(ofIndex: -items.count - 1) == nil)
    }

    @Test func walkBackwards() {
        let items = (0..<300).map { String(repeating: "v", count: $0) }
        let lp = Listpack(items.map(b))
        var o = lp.endOffset
        var seen: [[UInt8]] = []
        while o > 0 { o = lp.offset(before: o); seen.append(lp.element(at: o)) }
        #expect(seen == items.reversed().map(b))
    }

    /// Random edits checked against an array model.
    @Test func randomEditsMatchModel() {
        var rng = SplitMix(seed: 7)
        var lp = Listpack()
        var model: [[UInt8]] = []
        for _ in 0..<5000 {
            let value = b(String(repeating: "q", count: Int(rng.next() % 300)))
            switch rng.next() % 6 {
            case 0: lp.append(value); model.append(value)
            case 1: value.withUnsafeBytes { lp.prepend($0) }; model.insert(value, at: 0)
            case 2: #expect(lp.removeFirst() == (model.isEmpty ? nil : model.removeFirst()))
            case 3: #expect(lp.removeLast() == model.popLast())
            case 4:
                if !model.isEmpty {
                    let i = Int(rng.next() % UInt64(model.count))
                    if let o = lp.offset(ofIndex: i) { value.withUnsafeBytes { _ = lp.replace(at: o, with: $0) } }
                    model[i] = value
                }
            default:
                if !model.isEmpty {
                    let i = Int(rng.next() % UInt64(model.count))
                    if let o = lp.offset(ofIndex: i) { lp.remove(at: o) }
                    model.remove(at: i)
                }
            }
            #expect(lp.count == model.count)
        }
        #expect(lp.elements == model)
    }

    @Test func splitAndJoin() {
        var lp = Listpack((0..<10).map { b(String($0)) })
        guard let o = lp.offset(ofIndex: 4) else { Issue.record("no offset"); return }
        var tail = lp.split(at: o)
        #expect(lp.elements == (0..<4).map { b(String($0)) })
        #expect(tail.elements == (4..<10).map { b(String($0)) })
        tail.append(contentsOf: lp)
        #expect(tail.count == 10)
    }
}

/// Small deterministic RNG for tests (SplitMix64).
private struct SplitMix: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
