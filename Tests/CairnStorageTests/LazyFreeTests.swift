@testable import CairnStorage
import Testing

@Suite struct LazyFreeTests {
    func key(_ s: String) -> [UInt8] { Array(s.utf8) }

    @Test func freeEffortAsRedisCountsIt() {
        #expect(LazyFreer.freeEffort(.int(1)) == 1)
        let list = QuickList((0..<50_000).map { _ in Array(repeating: UInt8(ascii: "x"), count: 20) })
        #expect(LazyFreer.freeEffort(.list(list)) == list.nodes.count)
        #expect(list.nodes.count > LazyFreer.threshold)
        let small = QuickList([key("a")])
        #expect(LazyFreer.freeEffort(.list(small)) == 1)
    }

    @Test func onlyLargeValuesGoToTheBackground() {
        let freer = LazyFreer()
        #expect(!freer.free(.list(QuickList([key("a")]))))
        let big = QuickList((0..<50_000).map { _ in Array(repeating: UInt8(ascii: "x"), count: 20) })
        #expect(freer.free(.list(big)))
        freer.drain()
        #expect(freer.freedObjects == 1 && freer.pendingObjects == 0)
        freer.resetStats()
        #expect(freer.freedObjects == 0)
    }

    @Test func aDetachedTableIsEmptyAtOnceAndFreedLater() {
        let t = KeyTable()
        defer { t.deallocate() }
        #if DEBUG
        let before = RecordCensus.live
        #endif
        for i in 0..<1000 { t.insert(key: key("k\(i)"), hash: KeyTable.hash(key("k\(i)")), value: .int(Int64(i))) }
        let detached = t.detachAll()
        #expect(t.count == 0 && detached.count == 1000)
        #expect(t.find(key("k1")) == nil)
        #expect(t.validate() == nil)
        // The table is usable again at once.
        t.insert(key: key("new"), hash: KeyTable.hash(key("new")), value: .int(1))
        #expect(t.find(key("new")) != nil)
        let freer = LazyFreer()
        freer.free(detached)
        freer.drain()
        #expect(freer.freedObjects == 1000)
        t.remove(at: t.find(key("new"))!)
        #if DEBUG
        #expect(RecordCensus.live == before, "every record counted out")
        #endif
    }
}
