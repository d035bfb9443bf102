// The command stream of the AOF (and later the replication stream): SELECT when the database
// changes, `#TS:` annotations only when asked for, and a stream that forgets its database.

import CairnRESP
@testable import CairnStorage
import Testing

@Suite struct CommandStreamEncoderTests {
    func command(_ db: Int, _ words: String...) -> PropagatedCommand {
        PropagatedCommand(db: db, args: words.map { Array($0.utf8) })
    }

    @Test func selectsAndAnnotates() {
        var e = CommandStreamEncoder(timestamps: true)
        var out: [UInt8] = []
        e.append([command(0, "SET", "k", "v")], nowMillis: 5_000, to: &out)
        e.append([command(0, "DEL", "k")], nowMillis: 5_999, to: &out)
        e.append([command(2, "INCR", "n")], nowMillis: 6_000, to: &out)
        let expected = "#TS:5\r\n*2\r\n$6\r\nSELECT\r\n$1\r\n0\r\n*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n"
            + "*2\r\n$3\r\nDEL\r\n$1\r\nk\r\n#TS:6\r\n*2\r\n$6\r\nSELECT\r\n$1\r\n2\r\n*2\r\n$4\r\nINCR\r\n$1\r\nn\r\n"
        #expect(String(decoding: out, as: UTF8.self) == expected)
    }

    @Test func replicationStyleStreamHasNoAnnotationsAndForgetsItsDatabase() {
        var e = CommandStreamEncoder()
        var out: [UInt8] = []
        e.append([command(12, "SET", "k", "v"), command(12, "DEL", "k")], nowMillis: 5_000, to: &out)
        #expect(e.selectedDB == 12)
        e.forgetSelectedDB()
        e.append(command(12, "INCR", "n"), to: &out)
        let select = "*2\r\n$6\r\nSELECT\r\n$2\r\n12\r\n"
        #expect(String(decoding: out, as: UTF8.self) == select + "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n"
            + "*2\r\n$3\r\nDEL\r\n$1\r\nk\r\n" + select + "*2\r\n$4\r\nINCR\r\n$1\r\nn\r\n")
    }

    @Test func timestampAnnotationsAreRead() {
        func seconds(_ text: String) -> Int64?? {
            Array(text.utf8).withUnsafeBytes { AOFTimestamp.isTimestamp($0) ? .some(AOFTimestamp.seconds($0)) : nil }
        }
        #expect(seconds("TS:1700000000") == .some(1_700_000_000))
        #expect(seconds("TS:x") == .some(nil))
        #expect(seconds("TS:") == .some(nil))
        #expect(seconds("other") == nil)
    }

    @Test func propagatedWordsEncodeAsTheirBytes() {
        let words: [PropagationWord] = [.word("SET"), .bytes([0, 13, 10]), .int(-1234567890123), .word("KEEPTTL")]
        let bytes: [UInt8] = [0, 13, 10]
        bytes.withUnsafeBytes { raw in
            let command = PropagatedCommand(db: 0, words: words + [.raw(raw)])
            #expect(command.args == [Array("SET".utf8), bytes, Array("-1234567890123".utf8), Array("KEEPTTL".utf8), bytes])
            #expect(command.resp == CommandEncoder.encode(command.args))
        }
    }
}
