@testable import CairnStorage
import Testing

@Suite struct ByteMapTests {
    func b(_ s: String) -> [UInt8] { Array(s.utf8) }

    /// Random inserts, updates and removals against a Dictionary model.
    @Test func matchesDictionaryModel() {
        var rng = SystemRandomNumberGenerator()
        var map = ByteMap<Int>()
        var model: [[UInt8]: Int] = [:]
        for step in 0..<30000 {
            let k = b("k\(Int.random(in: 0..<2000, using: &rng))")
            switch Int.random(in: 0..<3, using: &rng) {
            case 0, 1:
                let inserted = k.withUnsafeBytes { map.set($0, step) }
                #expect(inserted == (model[k] == nil))
                model[k] = step
            default:
                let removed = k.withUnsafeBytes { map.remove($0) }
                #expect(removed == model.removeValue(forKey: k))
            }
        }
        #expect(map.count == model.count)
        for (k, v) in model { #expect(k.withUnsafeBytes { map.payload(for: $0) } == v) }
        #expect(b("absent").withUnsafeBytes { map.find($0) } == nil)
    }

    /// Redis's SCAN guarantee: every key present for the whole scan is returned, even when the
    /// table grows and shrinks between cursor calls.
    @Test func scanSurvivesResizes() {
        var map = ByteMap<Void>()
        let stable = (0..<500).map { b("stable\($0)") }
        for k in stable { map.insert(k, ()) }
        var seen = Set<[UInt8]>()
        var cursor: UInt64 = 0
        var round = 0
        repeat {
            cursor = map.scan(cursor: cursor) { seen.insert($0.key) }
            round += 1
            if round % 3 == 0 { for i in 0..<200 { map.insert(b("extra\(round)-\(i)"), ()) } }
            if round % 7 == 0 {
                // Drop every extra key; walking down keeps indices valid as the last entry moves.
                var i = map.count - 1
                while i >= 0 {
                    if map.key(at: i).starts(with: b("extra")) { map.remove(at: i) }
                    i = min(i - 1, map.count - 1)
                }
            }
        } while cursor != 0
        #expect(stable.allSatisfy { seen.contains($0) })
    }

    @Test func randomIndexCoversEntries() {
        var map = ByteMap<Int>()
        for i in 0..<10 { map.insert(b("\(i)"), i) }
        var rng = SystemRandomNumberGenerator()
        var hit = Set<Int>()
        for _ in 0..<1000 { if let i = map.randomIndex(using: &rng) { hit.insert(map[payloadAt: i]) } }
        #expect(hit.count == 10)
    }
}
