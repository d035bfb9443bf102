import CairnRESP
import Testing

/// Drives a CommandParser the way a connection does: bytes arrive in chunks, whole requests are
/// consumed, partial ones stay in the buffer until more bytes come.
struct ParserDriver {
    var parser: CommandParser
    var buffer: [UInt8] = []
    var commands: [[String]] = []
    var error: String? = nil
    var authenticated = true

    init(limits: RESPLimits = .redisDefault) { parser = CommandParser(limits: limits) }

    mutating func feed(_ bytes: [UInt8]) {
        guard error == nil else { return }
        buffer.append(contentsOf: bytes)
        var consumed = 0
        var parser = self.parser
        var found: [[String]] = []
        var failure: String? = nil
        buffer.withUnsafeBytes { raw in
            loop: while true {
                let region = UnsafeRawBufferPointer(rebasing: raw[consumed...])
                switch parser.parse(region, authenticated: authenticated) {
                case .multibulk(let length):
                    found.append(parser.arguments.map { String(decoding: region[Int($0.start)..<Int($0.start + $0.count)], as: UTF8.self) })
                    parser.reset()
                    consumed += length
                case .inline(let length):
                    let s = parser.inlineStorage
                    found.append(parser.arguments.map { String(decoding: s[Int($0.start)..<Int($0.start + $0.count)], as: UTF8.self) })
                    parser.reset()
                    consumed += length
                case .empty(let length):
                    consumed += length
                case .needMoreBytes:
                    break loop
                case .protocolError(let m):
                    failure = m.description
                    break loop
                }
            }
        }
        self.parser = parser
        buffer.removeFirst(consumed)
        commands += found
        error = failure
    }

    mutating func feed(_ s: String) { feed(Array(s.utf8)) }
}

@Suite struct CommandParserTests {
    static let pipeline = "*3\r\n$3\r\nSET\r\n$3\r\nkey\r\n$5\r\nva\r\nl\r\n*1\r\n$4\r\nPING\r\nPING\r\n ECHO \"a b\\x41\\n\" 'c\\'d'\r\n*0\r\n\r\n*2\r\n$3\r\nGET\r\n$0\r\n\r\n"
    static let expected = [["SET", "key", "va\r\nl"], ["PING"], ["PING"], ["ECHO", "a bA\n", "c'd"], ["GET", ""]]

    @Test func wholeBuffer() {
        var d = ParserDriver()
        d.feed(Self.pipeline)
        #expect(d.error == nil)
        #expect(d.commands == Self.expected)
        #expect(d.buffer.isEmpty)
    }

    @Test func byteByByte() {
        var d = ParserDriver()
        for b in Array(Self.pipeline.utf8) { d.feed([b]) }
        #expect(d.error == nil)
        #expect(d.commands == Self.expected)
        #expect(d.buffer.isEmpty)
    }

    @Test(arguments: [2, 3, 5, 7, 11, 64])
    func chunked(size: Int) {
        var d = ParserDriver()
        let bytes = Array(Self.pipeline.utf8)
        var i = 0
        while i < bytes.count {
            d.feed(Array(bytes[i..<min(bytes.count, i + size)]))
            i += size
        }
        #expect(d.commands == Self.expected)
        #expect(d.buffer.isEmpty)
    }

    @Test func binarySafeArguments() {
        var d = ParserDriver()
        d.feed([UInt8]("*2\r\n$3\r\n".utf8) + [0, 13, 10] + [UInt8]("\r\n$0\r\n\r\n".utf8))
        #expect(d.commands.count == 1)
        #expect(d.commands.first?.first == String(decoding: [0, 13, 10], as: UTF8.self))
    }

    @Test(arguments: [
        ("*abc\r\n", "invalid multibulk length"),
        ("*-\r\n", "invalid multibulk length"),
        ("*2147483648\r\n", "invalid multibulk length"),
        ("*1\r\nfoo\r\n", "expected '$', got 'f'"),
        ("*1\r\n$-1\r\n", "invalid bulk length"),
        ("*1\r\n$x\r\n", "invalid bulk length"),
        ("*1\r\n$536870913\r\n", "invalid bulk length"),
        ("ECHO \"abc\r\n", "unbalanced quotes in request"),
        ("ECHO \"abc\"def\r\n", "unbalanced quotes in request"),
        ("ECHO 'abc\r\n", "unbalanced quotes in request"),
    ])
    func protocolErrors(_ input: String, _ message: String) {
        var d = ParserDriver()
        d.feed(input)
        #expect(d.error == message)
    }

    @Test func bulkLengthLimitAtAndAbove() {
        var limits = RESPLimits.redisDefault
        limits.bulkLengthBytesMax = 16
        var ok = ParserDriver(limits: limits)
        ok.feed("*1\r\n$16\r\n0123456789abcdef\r\n")
        #expect(ok.error == nil && ok.commands.count == 1)
        var bad = ParserDriver(limits: limits)
        bad.feed("*1\r\n$17\r\n")
        #expect(bad.error == "invalid bulk length")
    }

    @Test func inlineLengthLimit() {
        var limits = RESPLimits.redisDefault
        limits.inlineBytesMax = 32
        var ok = ParserDriver(limits: limits)
        ok.feed(String(repeating: "a", count: 32))  // at the limit, still waiting for the newline
        #expect(ok.error == nil && ok.commands.isEmpty)
        ok.feed("\r\n")
        #expect(ok.commands.count == 1)
        var bad = ParserDriver(limits: limits)
        bad.feed(String(repeating: "a", count: 33))
        #expect(bad.error == "too big inline request")
    }

    @Test func headerLineLimits() {
        var limits = RESPLimits.redisDefault
        limits.inlineBytesMax = 16
        var count = ParserDriver(limits: limits)
        count.feed("*" + String(repeating: "1", count: 16))
        #expect(count.error == "too big mbulk count string")
        var bulk = ParserDriver(limits: limits)
        bulk.feed("*1\r\n$" + String(repeating: "1", count: 16))
        #expect(bulk.error == "too big bulk count string")
        var fits = ParserDriver(limits: limits)
        fits.feed("*1\r\n$" + String(repeating: "0", count: 14))
        #expect(fits.error == nil)
    }

    @Test func multibulkCountLimit() {
        var limits = RESPLimits.redisDefault
        limits.multibulkCountMax = 3
        var ok = ParserDriver(limits: limits)
        ok.feed("*3\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n")
        #expect(ok.commands == [["a", "b", "c"]])
        var bad = ParserDriver(limits: limits)
        bad.feed("*4\r\n")
        #expect(bad.error == "invalid multibulk length")
    }

    @Test func unauthenticatedLimits() {
        var ten = ParserDriver()
        ten.authenticated = false
        ten.feed("*10\r\n" + String(repeating: "$1\r\nx\r\n", count: 10))
        #expect(ten.error == nil && ten.commands.count == 1)
        var eleven = ParserDriver()
        eleven.authenticated = false
        eleven.feed("*11\r\n")
        #expect(eleven.error == "unauthenticated multibulk length")
        var bigBulk = ParserDriver()
        bigBulk.authenticated = false
        bigBulk.feed("*1\r\n$16384\r\n")
        #expect(bigBulk.error == nil)
        var tooBig = ParserDriver()
        tooBig.authenticated = false
        tooBig.feed("*1\r\n$16385\r\n")
        #expect(tooBig.error == "unauthenticated bulk length")
    }

    @Test func emptyRequestsAreSkipped() {
        var d = ParserDriver()
        d.feed("\r\n\n   \r\n*0\r\n*-1\r\nPING\r\n")
        #expect(d.commands == [["PING"]])
        #expect(d.error == nil)
    }

    /// Redis skips the two bytes after a bulk payload without checking them; so do we.
    @Test func bytesAfterBulkAreNotChecked() {
        var d = ParserDriver()
        d.feed("*1\r\n$4\r\nPINGxx*1\r\n$4\r\nPING\r\n")
        #expect(d.commands == [["PING"], ["PING"]])
    }

    /// The byte in "expected '$'" is the client's, not re-encoded as UTF-8 (Redis's %c).
    @Test func protocolErrorQuotesTheRawByte() {
        for (input, expected) in [([0xA9] as [UInt8], Array("expected '$', got '".utf8) + [0xA9, 0x27]),
                                  ([0x00, 0x41], Array("expected '$', got '".utf8))] {
            var parser = CommandParser()
            let request: [UInt8] = Array("*1\r\n".utf8) + input + Array("\r\n".utf8)
            let step = request.withUnsafeBytes { parser.parse($0) }
            #expect(step == .protocolError(ProtocolError(bytes: expected)))
        }
        #expect(ProtocolError(bytes: [0x41, 0xA9, 0x5C]).description == "A\\xa9\\x5c")
    }
}
