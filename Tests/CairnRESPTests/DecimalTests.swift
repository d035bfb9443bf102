import CairnRESP
import Testing

@Suite struct DecimalTests {
    @Test(arguments: [("0", Int64(0)), ("-1", -1), ("9223372036854775807", Int64.max), ("-9223372036854775808", Int64.min)])
    func parsesCanonicalIntegers(_ text: String, _ value: Int64) {
        #expect(Decimal.parseInt64(Array(text.utf8)) == value)
        #expect(Decimal.bytes(value) == Array(text.utf8))
    }

    @Test(arguments: ["", "-", "+1", "01", "-0", " 1", "1 ", "9223372036854775808", "-9223372036854775809", "1a", "123456789012345678901"])
    func rejectsNonCanonical(_ text: String) {
        #expect(Decimal.parseInt64(Array(text.utf8)) == nil)
    }
}
