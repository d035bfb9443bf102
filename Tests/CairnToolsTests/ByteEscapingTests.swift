import CairnTools
import Foundation
import Testing

@Suite struct ByteEscapingTests {
    func json(_ bytes: [UInt8]) -> String { String(decoding: ByteEscaping.jsonString(bytes), as: UTF8.self) }

    @Test func jsonEscapesQuotesBackslashesAndControls() {
        #expect(json(Array("plain".utf8)) == #""plain""#)
        #expect(json(Array(#"a"b\c"#.utf8)) == #""a\"b\\c""#)
        #expect(json([0, 9, 10, 13, 0x1f, 0x7f]) == #""\u0000\u0009\u000a\u000d\u001f\u007f""#)
    }

    @Test func jsonHighBytesAreLatin1Characters() {
        // Byte 0xff is U+00FF, written as UTF-8 c3 bf; 0xa0 is U+00A0 (c2 a0).
        #expect(ByteEscaping.jsonString([0xff]) == [0x22, 0xc3, 0xbf, 0x22])
        #expect(ByteEscaping.jsonString([0xa0, 0x41]) == [0x22, 0xc2, 0xa0, 0x41, 0x22])
        // C1 controls are escaped: U+0085 is a line break to str.splitlines.
        #expect(json([0x80, 0x85, 0x9f]) == #""\u0080\u0085\u009f""#)
    }

    @Test func everyByteRoundTripsThroughAJSONParser() throws {
        let all = (0...255).map { UInt8($0) }
        let doc = ByteEscaping.jsonString(all)
        let decoded = try JSONSerialization.jsonObject(with: Data(doc), options: [.fragmentsAllowed])
        let text = try #require(decoded as? String)
        // What Python's .encode("latin-1") does: each character's code point is the byte.
        let back = text.unicodeScalars.map { UInt8($0.value) }
        #expect(back == all)
        #expect(text.unicodeScalars.allSatisfy { $0.value < 256 })
        let lineBreaks = String(decoding: doc, as: UTF8.self).unicodeScalars.filter {
            [0x0a, 0x0b, 0x0c, 0x0d, 0x1c, 0x1d, 0x1e, 0x85, 0x2028, 0x2029].contains($0.value)
        }
        #expect(lineBreaks.isEmpty, "one key, one line, whatever splits the lines")
    }

    @Test func quotedAsRedisCliQuotes() {
        #expect(ByteEscaping.quoted(Array("hello world".utf8)) == #""hello world""#)
        #expect(ByteEscaping.quoted([0x22, 0x5c]) == #""\"\\""#)
        #expect(ByteEscaping.quoted([10, 13, 9, 7, 8]) == #""\n\r\t\a\b""#)
        #expect(ByteEscaping.quoted([0, 0x7f, 0x80, 0xff]) == #""\x00\x7f\x80\xff""#)
        #expect(ByteEscaping.quoted([]) == #""""#)
    }
}
