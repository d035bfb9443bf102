import Testing
@testable import CairnCluster

/// One test per kind of damage: each refused with the line named and what is wrong.
@Suite struct NodesConfErrorTests {
    static let me = "1c3d6c7bcb2f93201d4a4bc9b282a52911bcc9a6"
    static let other = "e6d1351cb3a3847225a8dffc96359040c4cbe87d"
    static let myLine = "\(me) 127.0.0.1:7000@17000 myself,master - 0 1796510749000 1 connected 0-5460"
    static let otherLine = "\(other) 127.0.0.1:7001@17001 master - 0 1796510748757 3 connected 10923-16383"
    static let vars = "vars currentEpoch 6 lastVoteEpoch 0"

    static func file(_ lines: String...) -> [UInt8] { Array((lines.joined(separator: "\n") + "\n").utf8) }

    static let cases: [(name: String, file: [UInt8], line: Int, code: NodesConfError.Code)] = [
        ("truncated line", file(myLine, String(otherLine.prefix(60))), 2, .missingFields),
        ("torn last line", Array((myLine + "\n" + otherLine.prefix(70)).utf8), 2, .truncated),
        ("torn in a slot range", Array((myLine + "\n" + otherLine.prefix(otherLine.count - 3)).utf8), 2, .truncated),
        ("slot out of range", file(myLine, otherLine.replacingOccurrences(of: "10923-16383", with: "10923-16384")), 2, .badSlot),
        ("reversed range", file(myLine.replacingOccurrences(of: "0-5460", with: "5460-0")), 1, .badSlot),
        ("slot served twice", file(myLine, otherLine.replacingOccurrences(of: "10923-16383", with: "5000")), 2, .badSlot),
        ("non-numeric slot", file(myLine.replacingOccurrences(of: "0-5460", with: "0-54x0")), 1, .badSlot),
        ("bad moving slot", file(myLine + " [5000->\(other)]"), 1, .badSlot),
        ("moving slot both ways", file(myLine + " [5->-\(other)] [5-<-\(other)]", otherLine), 1, .badSlot),
        ("bad epoch", file(myLine.replacingOccurrences(of: " 1 connected", with: " 1x connected")), 1, .badEpoch),
        ("negative epoch", file(myLine.replacingOccurrences(of: " 1 connected", with: " -1 connected")), 1, .badEpoch),
        ("epoch overflow", file(myLine.replacingOccurrences(of: " 1 connected", with: " 18446744073709551616 connected")), 1, .badEpoch),
        ("bad currentEpoch", file(myLine, "vars currentEpoch six lastVoteEpoch 0"), 2, .badVars),
        ("vars without value", file(myLine, "vars currentEpoch 6 lastVoteEpoch"), 2, .badVars),
        ("missing myself", file(otherLine, vars), 0, .missingMyself),
        ("nothing but blank lines", file("", "", ""), 0, .missingMyself),
        ("two myself", file(myLine, otherLine.replacingOccurrences(of: " master ", with: " myself,master ")), 2, .badMyself),
        ("myself twice on a line", file(myLine.replacingOccurrences(of: "myself,master", with: "myself,myself")), 1, .badMyself),
        ("myself in handshake", file(myLine.replacingOccurrences(of: "myself,master", with: "myself,handshake")), 1, .badMyself),
        ("unknown flag", file(myLine.replacingOccurrences(of: "myself,master", with: "myself,primary")), 1, .unknownFlag),
        ("empty flag", file(myLine.replacingOccurrences(of: "myself,master", with: "myself,,master")), 1, .unknownFlag),
        ("short node name", file(myLine.replacingOccurrences(of: me, with: String(me.dropLast()))), 1, .badNodeName),
        ("uppercase node name", file(myLine.replacingOccurrences(of: me, with: me.uppercased())), 1, .badNodeName),
        ("bad master name", file(otherLine.replacingOccurrences(of: " master - ", with: " slave xyz "), myLine), 1, .badNodeName),
        ("own master", file(myLine.replacingOccurrences(of: "myself,master -", with: "myself,slave \(me)")), 1, .badMaster),
        ("duplicate node", file(myLine, otherLine, otherLine.replacingOccurrences(of: "10923-16383", with: "")), 3, .duplicateNode),
        ("address without port", file(myLine.replacingOccurrences(of: "127.0.0.1:7000@17000", with: "127.0.0.1")), 1, .badAddress),
        ("port out of range", file(myLine.replacingOccurrences(of: ":7000@", with: ":70000@")), 1, .badAddress),
        ("bus port not a number", file(myLine.replacingOccurrences(of: "@17000", with: "@x")), 1, .badAddress),
        ("old address with port too high", file(myLine.replacingOccurrences(of: ":7000@17000", with: ":60000")), 1, .badAddress),
        ("IP too long", file(myLine.replacingOccurrences(of: "127.0.0.1", with: String(repeating: "1", count: 46))), 1, .badAddress),
        ("bad ping time", file(myLine.replacingOccurrences(of: " - 0 ", with: " - zero ")), 1, .badTime),
        ("bad link state", file(myLine.replacingOccurrences(of: "connected", with: "linked")), 1, .badLinkState),
        ("NUL byte", Array((myLine + "\n\0\n").utf8), 2, .badByte),
        ("quoted field", file("\"\(myLine)\""), 1, .badByte),
        ("non-ASCII", file(myLine + " \u{e9}"), 1, .badByte),
    ]

    @Test(arguments: cases.indices)
    func refused(index: Int) {
        let c = Self.cases[index]
        do {
            _ = try NodesConf.parse(c.file)
            Issue.record("\(c.name): loaded")
        } catch {
            #expect(error.line == c.line, "\(c.name): \(error)")
            #expect(error.code == c.code, "\(c.name): \(error)")
            #expect(error.description.contains(c.line > 0 ? "line \(c.line):" : "nodes.conf:"), "\(c.name)")
        }
    }

    @Test func lineTooLong() {
        let long = myLineWith(padding: NodesConf.lineBytesMax)
        #expect(throws: NodesConfError(line: 1, code: .lineTooLong, detail: "\(long.count - 1) bytes, at most \(NodesConf.lineBytesMax)")) {
            try NodesConf.parse(long)
        }
        #expect(throws: Never.self) { try NodesConf.parse(myLineWith(padding: NodesConf.lineBytesMax - Self.myLine.utf8.count)) }
    }

    private func myLineWith(padding: Int) -> [UInt8] {
        Array((Self.myLine + String(repeating: " ", count: padding) + "\n").utf8)
    }

    @Test func messagesNameTheProblem() throws {
        do {
            _ = try NodesConf.parse(Self.file(Self.myLine, Self.otherLine.replacingOccurrences(of: "10923-16383", with: "10923-16384")))
        } catch {
            #expect(error.description == "nodes.conf line 2: bad slot: '10923-16384': expected a range a-b of slots 0-16383 with a <= b")
        }
        do {
            _ = try NodesConf.parse(Self.file(Self.otherLine))
        } catch {
            #expect(error.description == "nodes.conf: missing myself: no node line has the myself flag")
        }
    }

    /// Every real fixture cut at every line boundary and in the middle of every line: either
    /// refused, or (cut at a line end) loaded with the same myself.
    @Test func everyCutOfARealFileIsRefusedOrKeepsIdentity() throws {
        let bytes = try Fixture.bytes("nodes-conf/node-4.conf")
        let whole = try #require(try NodesConf.parse(bytes)).state
        for length in 1..<bytes.count {
            do {
                let cut = try #require(try NodesConf.parse(Array(bytes[..<length])))
                #expect(bytes[length - 1] == UInt8(ascii: "\n"), "cut at \(length) loaded")
                #expect(cut.state.myself == whole.myself)
            } catch let error as NodesConfError {
                #expect(error.line > 0 || error.code == .missingMyself)
            }
        }
    }
}
