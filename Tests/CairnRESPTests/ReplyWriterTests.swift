import CairnRESP
import NIOCore
import Testing

@Suite struct ReplyWriterTests {
    func written(resp3: Bool, _ body: (inout ReplyWriter) -> Void) -> String {
        var w = ReplyWriter(buffer: ByteBuffer(), resp3: resp3)
        body(&w)
        return w.buffer.getString(at: 0, length: w.buffer.readableBytes) ?? ""
    }

    @Test func scalarsInBothProtocols() {
        #expect(written(resp3: false) { $0.null() } == "$-1\r\n")
        #expect(written(resp3: true) { $0.null() } == "_\r\n")
        #expect(written(resp3: false) { $0.nullArray() } == "*-1\r\n")
        #expect(written(resp3: false) { $0.boolean(true) } == ":1\r\n")
        #expect(written(resp3: true) { $0.boolean(false) } == "#f\r\n")
        #expect(written(resp3: false) { $0.double(formatted: Array("1.5".utf8)) } == "$3\r\n1.5\r\n")
        #expect(written(resp3: true) { $0.double(formatted: Array("inf".utf8)) } == ",inf\r\n")
        #expect(written(resp3: true) { $0.bigNumber("12345678901234567890") } == "(12345678901234567890\r\n")
        #expect(written(resp3: false) { $0.bigNumber("1") } == "$1\r\n1\r\n")
        #expect(written(resp3: true) { $0.verbatim("ab") } == "=6\r\ntxt:ab\r\n")
        #expect(written(resp3: false) { $0.verbatim("ab") } == "$2\r\nab\r\n")
        #expect(written(resp3: false) { $0.integer(Int64.min) } == ":-9223372036854775808\r\n")
        #expect(written(resp3: false) { $0.bulk(integer: -7) } == "$2\r\n-7\r\n")
        #expect(written(resp3: false) { $0.error("ERR a\r\nb") } == "-ERR a  b\r\n")
    }

    @Test func aggregatesInBothProtocols() {
        #expect(written(resp3: false) { $0.mapHeader(2) } == "*4\r\n")
        #expect(written(resp3: true) { $0.mapHeader(2) } == "%2\r\n")
        #expect(written(resp3: false) { $0.setHeader(3) } == "*3\r\n")
        #expect(written(resp3: true) { $0.setHeader(3) } == "~3\r\n")
        #expect(written(resp3: true) { $0.pushHeader(1) } == ">1\r\n")
        #expect(written(resp3: false) { $0.pushHeader(1) } == "*1\r\n")
    }

    @Test func deferredHeader() {
        let s = written(resp3: false) { w in
            let token = w.deferredArrayHeader()
            for i in 0..<12 { w.integer(i) }
            w.fillDeferredArrayHeader(token, count: 12)
        }
        #expect(s == "*12\r\n" + (0..<12).map { ":\($0)\r\n" }.joined())
    }
}
