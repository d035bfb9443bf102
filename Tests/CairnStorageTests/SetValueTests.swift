import CairnRESP
@testable import CairnStorage
import Testing

@Suite struct SetValueTests {
    func b(_ s: String) -> [UInt8] { Array(s.utf8) }

    func strings(_ s: SetValue) -> [String] {
        s.members.map { String(decoding: $0.bytes, as: UTF8.self) }
    }

    @Test func intsetStaysSortedAndUnique() {
        let s = SetValue()
        for m in ["5", "-3", "9223372036854775807", "-9223372036854775808", "0", "5", "12"] {
            s.add(b(m), maxIntsetEntries: 512)
        }
        #expect(s.isIntset)
        #expect("\(s.encodingName)" == "intset")
        #expect(strings(s) == ["-9223372036854775808", "-3", "0", "5", "12", "9223372036854775807"])
        #expect(s.contains(b("12")))
        #expect(!s.contains(b("13")))
        #expect(!s.contains(b("012")), "not canonical, so not the integer 12")
        #expect(!s.contains(b("abc")))
        #expect(s.contains(int: -3))
        #expect(s.validate(maxIntsetEntries: 512) == nil)
    }

    @Test func nonCanonicalIntegersConvert() {
        // Redis's string2ll refuses these, so each makes the set a hashtable.
        for m in ["-0", "007", "+1", " 1", "1 ", "1.0", "9223372036854775808", "-9223372036854775809", "", "0x10"] {
            let s = SetValue()
            s.add(b("1"), maxIntsetEntries: 512)
            #expect(s.add(b(m), maxIntsetEntries: 512))
            #expect(!s.isIntset, "\(m)")
            #expect(s.contains(b(m)) && s.contains(b("1")) && s.contains(int: 1))
            #expect(s.count == 2)
        }
    }

    @Test func convertsPastTheEntryLimitAndNeverBack() {
        let s = SetValue()
        for i in 0..<4 { s.add(int: Int64(i), maxIntsetEntries: 4) }
        #expect(s.isIntset)
        #expect(!s.add(int: 3, maxIntsetEntries: 4), "a duplicate does not convert")
        #expect(s.isIntset)
        s.add(int: 4, maxIntsetEntries: 4)
        #expect(!s.isIntset)
        for i in 0..<5 { #expect(s.contains(int: Int64(i))) }
        for i in 0..<4 { #expect(s.remove(int: Int64(i))) }
        #expect(!s.isIntset)
        #expect(s.count == 1)
        let zero = SetValue()
        zero.add(b("7"), maxIntsetEntries: 0)
        #expect(!zero.isIntset)
    }

    @Test func membersAsIntegersOrBytesAreTheSame() {
        let s = SetValue()
        s.add(b("x"), maxIntsetEntries: 512)
        s.add(.int(42), maxIntsetEntries: 512)
        #expect(s.contains(.bytes(b("42"))))
        #expect(s.contains(.int(42)))
        #expect(!s.add(.bytes(b("42")), maxIntsetEntries: 512))
        #expect(s.remove(.bytes(b("42"))))
        #expect(!s.remove(.int(42)))
        #expect(SetMember.int(-7).bytes == b("-7"))
    }

    @Test func removeAtAndMemberAt() {
        for convert in [false, true] {
            let s = SetValue()
            for i in 0..<10 { s.add(int: Int64(i), maxIntsetEntries: 512) }
            if convert { s.convertToTable() }
            var seen = Set<[UInt8]>()
            while !s.isEmpty {
                let m = s.member(at: 0)
                #expect(s.remove(at: 0) == m)
                #expect(seen.insert(m.bytes).inserted)
            }
            #expect(seen.count == 10)
        }
    }

    @Test func copyIsIndependent() {
        let s = SetValue()
        s.add(b("1"), maxIntsetEntries: 512)
        let c = s.copy()
        c.add(b("x"), maxIntsetEntries: 512)
        #expect(s.isIntset && s.count == 1)
        #expect(!c.isIntset && c.count == 2)
        let d = c.copy()
        d.remove(.bytes(b("x")))
        #expect(c.count == 2 && d.count == 1)
    }

    /// Random adds and removes against a Set model, across the conversion.
    @Test func randomEditsMatchModel() {
        var rng = SeededRandom(seed: 9)
        for round in 0..<30 {
            let s = SetValue()
            var model = Set<[UInt8]>()
            let words = round % 3 == 0
            for _ in 0..<400 {
                let n = Int.random(in: -40..<40, using: &rng)
                let m = words && Int.random(in: 0..<50, using: &rng) == 0 ? b("w\(n)") : b("\(n)")
                if Int.random(in: 0..<3, using: &rng) == 0 {
                    #expect(m.withUnsafeBytes { s.remove($0) } == (model.remove(m) != nil))
                } else {
                    #expect(s.add(m, maxIntsetEntries: 50) == model.insert(m).inserted)
                }
                #expect(s.count == model.count)
            }
            #expect(Set(s.members.map(\.bytes)) == model)
            #expect(s.validate(maxIntsetEntries: 50) == nil)
        }
    }

    @Test func scanCoversEverythingAcrossResizes() {
        let s = SetValue()
        for i in 0..<300 { s.add(b("m\(i)"), maxIntsetEntries: 512) }
        var seen = Set<[UInt8]>()
        var cursor: UInt64 = 0
        var steps = 0
        repeat {
            cursor = s.scan(cursor: cursor) { seen.insert($0) }
            steps += 1
            if steps == 30 { for i in 0..<250 { s.remove(.bytes(b("m\(i)"))) } }
        } while cursor != 0
        for i in 250..<300 { #expect(seen.contains(b("m\(i)"))) }
    }
}
