import CairnRESP
import NIOCore
import Testing

@Suite struct RESPValueDecoderTests {
    static let sample = "+OK\r\n-ERR bad\r\n:-42\r\n$3\r\nfoo\r\n$-1\r\n*-1\r\n*2\r\n$1\r\na\r\n*0\r\n_\r\n#t\r\n,1.5\r\n,inf\r\n(123456789012345678901234567890\r\n!3\r\nERR\r\n=7\r\ntxt:abc\r\n%1\r\n+k\r\n:1\r\n~2\r\n:1\r\n:2\r\n>2\r\n+message\r\n*1\r\n*0\r\n|1\r\n+ttl\r\n:3\r\n"

    static let expected: [RESPValue] = [
        .simpleString(Array("OK".utf8)), .error(Array("ERR bad".utf8)), .integer(-42),
        .bulkString(Array("foo".utf8)), .bulkString(nil), .array(nil),
        .array([.bulkString(Array("a".utf8)), .array([])]), .null, .boolean(true), .double(1.5), .double(.infinity),
        .bigNumber(Array("123456789012345678901234567890".utf8)), .bulkError(Array("ERR".utf8)),
        .verbatim(format: Array("txt".utf8), text: Array("abc".utf8)),
        .map([(.simpleString(Array("k".utf8)), .integer(1))]), .set([.integer(1), .integer(2)]),
        .push([.simpleString(Array("message".utf8)), .array([.array([])])]),
        .attribute([(.simpleString(Array("ttl".utf8)), .integer(3))]),
    ]

    func decodeAll(chunks: [[UInt8]]) throws -> [RESPValue] {
        var decoder = RESPValueDecoder()
        var buffer = ByteBuffer()
        var out: [RESPValue] = []
        for c in chunks {
            buffer.writeBytes(c)
            while let v = try decoder.decode(&buffer) { out.append(v) }
        }
        #expect(buffer.readableBytes == 0)
        return out
    }

    @Test func whole() throws {
        #expect(try decodeAll(chunks: [Array(Self.sample.utf8)]) == Self.expected)
    }

    @Test func byteByByte() throws {
        #expect(try decodeAll(chunks: Array(Self.sample.utf8).map { [$0] }) == Self.expected)
    }

    /// Everything but attributes and RESP2 nulls (RESP3 has one null) survives write + decode.
    @Test func roundTripThroughWriter() throws {
        let values = Self.expected.filter {
            switch $0 {
            case .attribute, .bulkString(nil), .array(nil): return false
            default: return true
            }
        }
        var w = ReplyWriter(buffer: ByteBuffer(), resp3: true)
        for v in values { w.value(v) }
        var decoder = RESPValueDecoder()
        var out: [RESPValue] = []
        while let v = try decoder.decode(&w.buffer) { out.append(v) }
        #expect(out == values)
    }

    func nested(_ depth: Int) -> [UInt8] {
        Array((String(repeating: "*1\r\n", count: depth) + ":1\r\n").utf8)
    }

    @Test func nestingDepthBelowAndAtLimit() throws {
        var ok = RESPValueDecoder(nestingDepthMax: 8)
        var b1 = ByteBuffer(bytes: nested(8))
        #expect(try ok.decode(&b1) != nil)
        var bad = RESPValueDecoder(nestingDepthMax: 8)
        var b2 = ByteBuffer(bytes: nested(9))
        #expect(throws: RESPDecodingError.self) { try bad.decode(&b2) }
    }

    @Test func bulkLengthLimit() throws {
        var limits = RESPLimits.redisDefault
        limits.bulkLengthBytesMax = 4
        var ok = RESPValueDecoder(limits: limits)
        var b1 = ByteBuffer(string: "$4\r\nabcd\r\n")
        #expect(try ok.decode(&b1) == .bulkString(Array("abcd".utf8)))
        var bad = RESPValueDecoder(limits: limits)
        var b2 = ByteBuffer(string: "$5\r\n")
        #expect(throws: RESPDecodingError.self) { try bad.decode(&b2) }
    }

    @Test(arguments: ["?x\r\n", ":abc\r\n", "#x\r\n", ",nope\r\n", "*-2\r\n", "$-2\r\n", "=2\r\nab\r\n", "\r\n", "*1\r\n\r\n"])
    func malformed(_ input: String) {
        var d = RESPValueDecoder()
        var b = ByteBuffer(string: input)
        #expect(throws: RESPDecodingError.self) { try d.decode(&b) }
    }

    /// A line with no type byte is refused at once; it used to return "need more bytes" forever,
    /// without consuming anything (found by the resp-value fuzz target:
    /// Fixtures/fuzz/resp-value/line-without-type-byte).
    @Test(arguments: ["\r\n", "\r", "\r\n+OK\r\n", "*2\r\n:1\r\n\r\n"])
    func lineWithoutTypeByte(_ input: String) {
        var d = RESPValueDecoder()
        var b = ByteBuffer(string: input)
        #expect(throws: RESPDecodingError("unknown type byte '\\r'")) {
            while try d.decode(&b) != nil {}
        }
    }

    @Test func incompleteReturnsNil() throws {
        var d = RESPValueDecoder()
        var b = ByteBuffer(string: "*2\r\n$3\r\nfo")
        #expect(try d.decode(&b) == nil)
        b.writeString("o\r\n:1\r\n")
        #expect(try d.decode(&b) == .array([.bulkString(Array("foo".utf8)), .integer(1)]))
    }
}
