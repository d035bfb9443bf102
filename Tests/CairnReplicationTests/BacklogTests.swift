import CairnStorage
import Testing
@testable import CairnReplication

struct BacklogTests {
    /// The backlog against a model (the whole stream in one array), through random appends of
    /// every size, wrap-arounds, writes larger than the ring and resizes.
    @Test func matchesTheWholeStream() {
        var g = SystemRandomNumberGenerator()
        for capacity in [1, 7, 64, 1000] {
            var backlog = ReplicationBacklog(capacity: capacity, offset: 100)
            var stream: [UInt8] = []
            var cap = capacity
            var held = 0  // what the backlog can still have: a resize cannot bring back dropped bytes
            for step in 0..<300 {
                let n = Int(g.next() % UInt64(cap * 2 + 2))
                let bytes = (0..<n).map { _ in UInt8(truncatingIfNeeded: g.next()) }
                backlog.append(bytes)
                stream += bytes
                held = min(cap, held + n)
                if step % 50 == 49 {
                    cap = max(1, Int(g.next() % 200))
                    backlog.resize(cap)
                    held = min(held, cap)
                }
                #expect(backlog.offset == 100 + Int64(stream.count))
                #expect(backlog.histlen == held)
                let first = backlog.firstByteOffset
                #expect(!backlog.canServe(from: first - 1))
                #expect(!backlog.canServe(from: backlog.offset + 2))
                #expect(backlog.bytes(from: backlog.offset + 1) == [])
                for from in [first, (first + backlog.offset) / 2, backlog.offset] where from >= first && from <= backlog.offset {
                    let expected = Array(stream[Int(from - 101)...])
                    #expect(backlog.bytes(from: from) == expected, "capacity \(cap) step \(step) from \(from)")
                }
            }
        }
    }

    @Test func psyncDecisions() {
        var ids = ReplicationIDs(replid: String(repeating: "a", count: 40))
        var backlog = ReplicationBacklog(capacity: 10, offset: 0)
        backlog.append(Array("0123456789ABCDEF".utf8))  // offsets 1...16, holds 7...16
        #expect(PSYNCDecision.decide(requestedID: ids.replid, requestedOffset: 7, ids: ids, backlog: backlog) == .partial(from: 7))
        #expect(PSYNCDecision.decide(requestedID: ids.replid, requestedOffset: 17, ids: ids, backlog: backlog) == .partial(from: 17))
        #expect(PSYNCDecision.decide(requestedID: ids.replid.uppercased(), requestedOffset: 10, ids: ids, backlog: backlog) == .partial(from: 10))
        guard case .full = PSYNCDecision.decide(requestedID: ids.replid, requestedOffset: 6, ids: ids, backlog: backlog) else {
            Issue.record("an offset before the backlog needs a full sync"); return
        }
        guard case .full = PSYNCDecision.decide(requestedID: ids.replid, requestedOffset: 18, ids: ids, backlog: backlog) else {
            Issue.record("an offset past the stream needs a full sync"); return
        }
        guard case .full = PSYNCDecision.decide(requestedID: "?", requestedOffset: -1, ids: ids, backlog: backlog) else {
            Issue.record("? asks for a full sync"); return
        }
        guard case .full = PSYNCDecision.decide(requestedID: ids.replid, requestedOffset: 8, ids: ids, backlog: nil) else {
            Issue.record("no backlog, no partial sync"); return
        }
        // After a promotion the old id is served up to the offset of the switch.
        let old = ids.replid
        ids.shift(at: 12)
        #expect(ids.replid2 == old && ids.secondOffset == 13 && ids.replid != old)
        #expect(PSYNCDecision.decide(requestedID: old, requestedOffset: 13, ids: ids, backlog: backlog) == .partial(from: 13))
        guard case .full = PSYNCDecision.decide(requestedID: old, requestedOffset: 14, ids: ids, backlog: backlog) else {
            Issue.record("the old id covers the stream only up to the switch"); return
        }
        ids.clearSecond()
        guard case .full = PSYNCDecision.decide(requestedID: old, requestedOffset: 13, ids: ids, backlog: backlog) else {
            Issue.record("a cleared second id is not served"); return
        }
        #expect(PSYNCDecision.decide(requestedID: ids.replid, requestedOffset: nil, ids: ids, backlog: backlog) == .full(reason: "Invalid offset"))
    }

    /// One stream for everyone: online replicas and the backlog get the same bytes; a replica in
    /// a full sync gets what was made after its fork once it is online, with a SELECT first.
    @Test func masterStream() {
        let master = ReplicationMaster(backlogSize: 1 << 20)
        master.feed([PropagatedCommand(db: 0, args: [Array("SET".utf8), Array("a".utf8), Array("1".utf8)])])
        #expect(master.offset == 0, "nothing is recorded before the first replica")
        master.createBacklogIfNeeded()
        var sentA: [UInt8] = [], sentB: [UInt8] = []
        let a = ReplicaLink(id: 1, address: "a", state: .online) { sentA += Array($0) }
        let b = ReplicaLink(id: 2, address: "b", state: .online) { sentB += Array($0) }
        _ = master.attachPartial(a, from: 1)
        master.attachFull(b)
        var turns = 0
        master.turnStarted = { turns += 1 }
        master.feed([PropagatedCommand(db: 0, args: [Array("SET".utf8), Array("k".utf8), Array("v".utf8)])])
        let first = Array("*2\r\n$6\r\nSELECT\r\n$1\r\n0\r\n*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n".utf8)
        #expect(sentA == [] && turns == 1, "online replicas get the stream at the end of the turn")
        master.flushTurn()
        #expect(sentA == first)
        #expect(sentB == [], "a replica waiting for its RDB gets nothing: the RDB will hold it")
        let forkOffset = master.syncStarted([b])
        #expect(forkOffset == Int64(first.count))
        master.feed([PropagatedCommand(db: 0, args: [Array("DEL".utf8), Array("k".utf8)])])
        let second = Array("*2\r\n$6\r\nSELECT\r\n$1\r\n0\r\n*2\r\n$3\r\nDEL\r\n$1\r\nk\r\n".utf8)
        #expect(sentA == first && turns == 2)
        #expect(sentB == [] && b.pendingBytes == second.count)
        master.transferSent([b], nowMillis: 1)
        // b goes online mid-turn: the turn's bytes go out first (to a only), then b's pending
        // ones, so that neither gets a byte twice.
        master.acknowledged(b, offset: forkOffset, nowMillis: 1)
        #expect(b.state == .online && sentB == second)
        #expect(sentA == first + second)
        master.flushTurn()
        #expect(sentA == first + second && sentB == second, "nothing is sent twice")
        #expect(master.backlog?.bytes(from: 1) == first + second)
        // An ACK that comes before the transfer is reaped puts the replica online at once then.
        let c = ReplicaLink(id: 3, address: "c", state: .online) { _ in }
        master.attachFull(c)
        _ = master.syncStarted([c])
        master.acknowledged(c, offset: master.offset, nowMillis: 2)
        #expect(c.state == .transferring)
        master.transferSent([c], nowMillis: 3)
        #expect(c.state == .online)
        master.feedPing()
        master.flushTurn()
        #expect(sentA.suffix(14) == Array("*1\r\n$4\r\nPING\r\n".utf8) && sentB == second + ReplicationMaster.ping)
    }
}
