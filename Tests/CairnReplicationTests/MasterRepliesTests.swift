import CairnStorage
import Foundation
import Testing
@testable import CairnReplication

struct MasterRepliesTests {
    func line(_ text: String) -> MasterReplies.Line {
        Array(text.utf8).withUnsafeBytes { MasterReplies.line(in: $0) }
    }

    @Test func lines() {
        #expect(line("+PONG\r\nrest") == .line("+PONG", consumed: 7))
        #expect(line("\nnext") == .line("", consumed: 1), "a keep-alive newline")
        #expect(line("\r\n") == .line("", consumed: 2))
        #expect(line("+PONG\r") == .needMore)
        #expect(line("") == .needMore)
        #expect(line(String(repeating: "x", count: MasterReplies.lineBytesMax + 1)) == .tooLong)
    }

    @Test func psyncReplies() {
        let id = String(repeating: "a", count: 40)
        #expect(MasterReplies.psync("+FULLRESYNC \(id) 123") == .fullResync(replid: id, offset: 123))
        #expect(MasterReplies.psync("+CONTINUE") == .partial(replid: nil))
        #expect(MasterReplies.psync("+CONTINUE \(id)") == .partial(replid: id))
        #expect(MasterReplies.psync("-NOMASTERLINK Can't SYNC while not connected with my master") ==
                .tryLater("-NOMASTERLINK Can't SYNC while not connected with my master"))
        #expect(MasterReplies.psync("-LOADING Redis is loading the dataset in memory") == .tryLater("-LOADING Redis is loading the dataset in memory"))
        for bad in ["+FULLRESYNC", "+FULLRESYNC \(id)", "+FULLRESYNC short 1", "+FULLRESYNC \(id) -1", "+FULLRESYNC \(id) x",
                    "+FULLRESYNC \(id) 1 2", "+CONTINUE short", "+CONTINUE \(id) x", "-ERR unknown command 'PSYNC'", "", "+OK"] {
            #expect(MasterReplies.psync(bad) == .refused(bad), "\(bad)")
        }
    }

    @Test func bulkHeaders() {
        let mark = String(repeating: "m", count: 40)
        #expect(MasterReplies.bulkHeader("") == .keepAlive)
        #expect(MasterReplies.bulkHeader("$0") == .length(0))
        #expect(MasterReplies.bulkHeader("$1234") == .length(1234))
        #expect(MasterReplies.bulkHeader("$EOF:\(mark)") == .eofMarked(mark: Array(mark.utf8)))
        #expect(MasterReplies.bulkHeader("-ERR oops") == .masterError("ERR oops"))
        for bad in ["$-1", "$", "$x", "$EOF:short", "$EOF:\(mark)x", "+OK", "1234"] {
            #expect(MasterReplies.bulkHeader(bad) == .invalid(bad), "\(bad)")
        }
    }

    /// The end of an EOF-marked transfer is found however the bytes are split, never early.
    @Test func eofMarkAcrossChunks() {
        let mark = Array("0123456789abcdefghij0123456789abcdefghij".utf8)
        let payload = Array("REDIS0010 some rdb bytes, 0123456789abc (part of a mark) ...".utf8) + mark
        for chunk in 1...payload.count {
            var watcher = EOFMarkWatcher(mark: mark)
            var ended = -1
            var at = 0
            while at < payload.count {
                let piece = Array(payload[at..<min(payload.count, at + chunk)])
                at += piece.count
                if piece.withUnsafeBytes({ watcher.feed($0) }) { ended = at; break }
            }
            #expect(ended == payload.count, "chunk \(chunk)")
        }
    }
}

/// What a real redis-server 7.0 master sent a replica (Fixtures/replication/, made by
/// tools/capture-repl-fixture): the replies, +FULLRESYNC, the $EOF:-framed RDB, then the stream.
struct RedisMasterFixtureTests {
    @Test func decodesARealFullSync() throws {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Fixtures/replication/redis7-master-diskless.bin")
        let bytes = [UInt8](try Data(contentsOf: url))
        var at = 0
        func nextLine() -> String? {
            guard case .line(let text, let consumed) = bytes[at...].withUnsafeBytes({ MasterReplies.line(in: $0) }) else { return nil }
            at += consumed
            return text
        }
        #expect(nextLine() == "+PONG")
        #expect(nextLine() == "+OK")
        #expect(nextLine() == "+OK")
        guard case .fullResync(let replid, let offset) = MasterReplies.psync(nextLine() ?? "") else {
            Issue.record("no FULLRESYNC"); return
        }
        #expect(replid.count == 40 && offset == 0)
        guard case .eofMarked(let mark) = MasterReplies.bulkHeader(nextLine() ?? "") else {
            Issue.record("no $EOF: header"); return
        }
        // The transfer ends at the mark's second appearance (the master sends nothing after it
        // until the replica's ACK). Fed in small pieces up to there, the watcher sees the end at
        // the last piece and not before.
        var watcher = EOFMarkWatcher(mark: mark)
        let start = at
        var transferEnd = -1
        for i in start...(bytes.count - mark.count) where Array(bytes[i..<(i + mark.count)]) == mark {
            transferEnd = i + mark.count
            break
        }
        var end = -1
        while at < transferEnd {
            let piece = Array(bytes[at..<min(transferEnd, at + 7)])
            at += piece.count
            if piece.withUnsafeBytes({ watcher.feed($0) }) {
                end = at
                break
            }
        }
        #expect(end == transferEnd)
        #expect(end > start)
        let rdb = Array(bytes[start..<(end - mark.count)])
        #expect(rdb.starts(with: Array("REDIS0010".utf8)))
        let reader = try RDBReader(bytes: rdb)
        var keys: [String] = []
        while let record = try reader.next() {
            if case .entry(let e) = record { keys.append(String(decoding: e.key, as: UTF8.self)) }
        }
        #expect(keys.sorted() == ["greeting", "list"])
        // The stream: what the master's clients did after the transfer.
        let stream = String(decoding: bytes[end...], as: UTF8.self)
        #expect(stream == "*2\r\n$6\r\nSELECT\r\n$1\r\n0\r\n*3\r\n$3\r\nset\r\n$5\r\nafter\r\n$1\r\n1\r\n*2\r\n$4\r\nincr\r\n$5\r\nafter\r\n")
    }
}
