// The one RESP command encoder: exact bytes, the same from every entry point, and lengths of
// every digit count.

@testable import CairnRESP
import Testing

@Suite struct CommandEncoderTests {
    func b(_ s: String) -> [UInt8] { Array(s.utf8) }

    @Test func exactBytes() {
        let bytes = CommandEncoder.encode([b("SET"), b("k"), [0, 13, 10]])
        #expect(bytes == b("*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$3\r\n") + [0, 13, 10] + b("\r\n"))
        #expect(CommandEncoder.encode([b("PING"), []]) == b("*2\r\n$4\r\nPING\r\n$0\r\n\r\n"))
    }

    @Test(arguments: [0, 1, 9, 10, 99, 100, 12345])
    func everyEntryPointAgrees(length: Int) {
        let payload = [UInt8](repeating: UInt8(ascii: "x"), count: length)
        let args = Array(repeating: payload, count: length % 13 + 1) + [b("tail")]
        let whole = CommandEncoder.encode(args)
        #expect(whole.prefix(5) == ArraySlice(b("*\(args.count)\r\n$").prefix(5)))

        var appended: [UInt8] = [7]
        CommandEncoder.append(args, to: &appended)
        #expect(Array(appended.dropFirst()) == whole)

        var size = CommandEncoder.arrayHeaderBytes(args.count)
        for a in args { size += CommandEncoder.bulkBytes(a.count) }
        #expect(size == whole.count)
        let written = CommandEncoder.encode(size: size) { w in
            w.arrayHeader(args.count)
            for a in args { a.withUnsafeBytes { w.bulk($0) } }
        }
        #expect(written == whole)
    }

    @Test(arguments: [Int64(0), 7, 10, -1, -10, 1_700_000_000_000, Int64.max, Int64.min])
    func decimals(_ v: Int64) {
        let text = b(String(v))
        let expected = CommandEncoder.encode([b("SELECT"), text])
        var appended: [UInt8] = []
        CommandEncoder.appendArrayHeader(2, to: &appended)
        CommandEncoder.appendBulk("SELECT", to: &appended)
        CommandEncoder.appendBulk(decimal: v, to: &appended)
        #expect(appended == expected)
        let size = CommandEncoder.arrayHeaderBytes(2) + CommandEncoder.bulkBytes(6) + CommandEncoder.bulkBytes(decimal: v)
        #expect(CommandEncoder.encode(size: size) { w in
            w.arrayHeader(2)
            w.bulk("SELECT")
            w.bulk(decimal: v)
        } == expected)
        var digits: [UInt8] = []
        Decimal.append(v, to: &digits)
        #expect(digits == text)
    }

    @Test func decodesBackWithTheParser() {
        let args = [b("HSET"), b("h"), [0, 0xff], b(""), Array(repeating: 13, count: 300)]
        let bytes = CommandEncoder.encode(args)
        var parser = CommandParser()
        bytes.withUnsafeBytes { raw in
            #expect(parser.parse(raw) == .multibulk(length: bytes.count))
            #expect(parser.arguments.map { Array(raw[Int($0.start)..<Int($0.start + $0.count)]) } == args)
        }
    }
}
