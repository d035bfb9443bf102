import CairnStorage
import Testing

/// Bytes of an ASCII literal.
private func b(_ s: String) -> [UInt8] { Array(s.utf8) }

@Suite struct GlobPatternTests {
    static let keys: [[UInt8]] = [
        b("hello"), b("hallo"), b("hxllo"), b("hllo"), b("heeeello"), b("Hello"), b("h*llo"), b("h?llo"), b("h[llo"), b("h\\llo"), b("hbllo"), b("h-llo"), b("h]llo"), b("h^llo"), b("a"), b("A"), b("b"), b("Z"), b("z"), [128], [255], b("^"), b(""), b("abc"), [97, 0, 99], b("hello\\"), b("*"), b("-"), b("aXbXc"),
    ]
    /// Pattern, then the keys KEYS returned for it on Redis 7.0.15.
    static let cases: [([UInt8], [[UInt8]])] = [
        (b("h?llo"), [b("h*llo"), b("h-llo"), b("h?llo"), b("h[llo"), b("h\\llo"), b("h]llo"), b("h^llo"), b("hallo"), b("hbllo"), b("hello"), b("hxllo")]),
        (b("h*llo"), [b("h*llo"), b("h-llo"), b("h?llo"), b("h[llo"), b("h\\llo"), b("h]llo"), b("h^llo"), b("hallo"), b("hbllo"), b("heeeello"), b("hello"), b("hllo"), b("hxllo")]),
        (b("h[ae]llo"), [b("hallo"), b("hello")]),
        (b("h[^e]llo"), [b("h*llo"), b("h-llo"), b("h?llo"), b("h[llo"), b("h\\llo"), b("h]llo"), b("h^llo"), b("hallo"), b("hbllo"), b("hxllo")]),
        (b("h[a-b]llo"), [b("hallo"), b("hbllo")]),
        (b("h[b-a]llo"), [b("hallo"), b("hbllo")]),
        (b("h\\*llo"), [b("h*llo")]),
        (b("h\\\\llo"), [b("h\\llo")]),
        (b("h\\?llo"), [b("h?llo")]),
        (b("h["), []),
        (b("h[a"), []),
        (b("h[^"), []),
        (b("h[\\]]llo"), [b("h]llo")]),
        (b("h[]]llo"), []),
        (b("h[\\\\]llo"), [b("h\\llo")]),
        (b("h[a-]llo"), []),
        (b("h[-a]llo"), [b("h-llo"), b("hallo")]),
        (b("h[\\-]llo"), [b("h-llo")]),
        (b("hello\\"), [b("hello\\")]),
        (b("hello\\\\"), [b("hello\\")]),
        (b("*\\"), [b("hello\\")]),
        ([91, 97, 45, 255, 93], [b("*"), b("-"), b("A"), b("Z"), b("^"), b("a"), [255]]),
        ([91, 128, 45, 255, 93], [[128], [255]]),
        ([91, 255, 45, 97, 93], [b("*"), b("-"), b("A"), b("Z"), b("^"), b("a"), [255]]),
        (b("[^a-z]"), [b("*"), b("-"), b("A"), b("Z"), b("^"), [128], [255]]),
        (b("[[]"), []),
        (b("[^]"), [b("*"), b("-"), b("A"), b("Z"), b("^"), b("a"), b("b"), b("z"), [128], [255]]),
        (b(""), [b("")]),
        (b("?"), [b("*"), b("-"), b("A"), b("Z"), b("^"), b("a"), b("b"), b("z"), [128], [255]]),
        (b("**"), [b("*"), b("-"), b("A"), b("Hello"), b("Z"), b("^"), b("a"), [97, 0, 99], b("aXbXc"), b("abc"), b("b"), b("h*llo"), b("h-llo"), b("h?llo"), b("h[llo"), b("h\\llo"), b("h]llo"), b("h^llo"), b("hallo"), b("hbllo"), b("heeeello"), b("hello"), b("hello\\"), b("hllo"), b("hxllo"), b("z"), [128], [255]]),
        (b("*o"), [b("Hello"), b("h*llo"), b("h-llo"), b("h?llo"), b("h[llo"), b("h\\llo"), b("h]llo"), b("h^llo"), b("hallo"), b("hbllo"), b("heeeello"), b("hello"), b("hllo"), b("hxllo")]),
        (b("h*l*o"), [b("h*llo"), b("h-llo"), b("h?llo"), b("h[llo"), b("h\\llo"), b("h]llo"), b("h^llo"), b("hallo"), b("hbllo"), b("heeeello"), b("hello"), b("hllo"), b("hxllo")]),
        (b("*e*"), [b("Hello"), b("heeeello"), b("hello"), b("hello\\")]),
        (b("HELLO"), []),
        (b("[H]ello"), [b("Hello")]),
        (b("a?c"), [[97, 0, 99], b("abc")]),
        (b("a*c"), [[97, 0, 99], b("aXbXc"), b("abc")]),
        ([97, 0, 99], [[97, 0, 99]]),
        (b("h**llo*"), [b("h*llo"), b("h-llo"), b("h?llo"), b("h[llo"), b("h\\llo"), b("h]llo"), b("h^llo"), b("hallo"), b("hbllo"), b("heeeello"), b("hello"), b("hello\\"), b("hllo"), b("hxllo")]),
        (b("["), []),
        (b("[^"), [b("*"), b("-"), b("A"), b("Z"), b("^"), b("a"), b("b"), b("z"), [128], [255]]),
        (b("\\"), []),
        (b("\\*"), [b("*")]),
        (b("[*]"), [b("*")]),
        (b("[?]"), []),
        (b("[\\^]llo"), []),
        (b("h[^^]llo"), [b("h*llo"), b("h-llo"), b("h?llo"), b("h[llo"), b("h\\llo"), b("h]llo"), b("hallo"), b("hbllo"), b("hello"), b("hxllo")]),
        (b("h[a-cx]llo"), [b("hallo"), b("hbllo"), b("hxllo")]),
        (b("h[a\\-c]llo"), [b("h-llo"), b("hallo")]),
        (b("a*b*c"), [b("aXbXc"), b("abc")]),
        (b("*X*X*"), [b("aXbXc")]),
        (b("*["), []),
        (b("[a-z]*"), [b("a"), [97, 0, 99], b("aXbXc"), b("abc"), b("b"), b("h*llo"), b("h-llo"), b("h?llo"), b("h[llo"), b("h\\llo"), b("h]llo"), b("h^llo"), b("hallo"), b("hbllo"), b("heeeello"), b("hello"), b("hello\\"), b("hllo"), b("hxllo"), b("z")]),
        (b("?*?"), [b("Hello"), [97, 0, 99], b("aXbXc"), b("abc"), b("h*llo"), b("h-llo"), b("h?llo"), b("h[llo"), b("h\\llo"), b("h]llo"), b("h^llo"), b("hallo"), b("hbllo"), b("heeeello"), b("hello"), b("hello\\"), b("hllo"), b("hxllo")]),
        (b("h[^a-z]llo"), [b("h*llo"), b("h-llo"), b("h?llo"), b("h[llo"), b("h\\llo"), b("h]llo"), b("h^llo")]),
    ]


    /// Every pattern against every key, as Redis's KEYS matched them (KEYS uses no case folding).
    @Test func matchesWhatRedisKeysMatches() {
        for (pattern, expected) in Self.cases {
            let matched = Self.keys.filter { GlobPattern.matches(pattern, $0) }
            #expect(matched.sorted { $0.lexicographicallyPrecedes($1) } == expected.sorted { $0.lexicographicallyPrecedes($1) },
                    "pattern \(pattern)")
        }
    }

    @Test func loneStarDoesNotMatchTheEmptyString() {
        // stringmatchlen never enters its loop for an empty string; KEYS * only returns the empty
        // key because KEYS skips matching for a lone `*`.
        #expect(!GlobPattern.matches("*", ""))
        #expect(!GlobPattern.matches("**", ""))
        #expect(GlobPattern.matches("", ""))
        #expect(GlobPattern.matches("*", "x"))
    }

    @Test func caseFolding() {
        #expect(!GlobPattern.matches("HELLO", "hello"))
        #expect(GlobPattern.matches("HELLO", "hello", caseInsensitive: true))
        #expect(GlobPattern.matches("h[A-Z]llo", "hello", caseInsensitive: true))
        #expect(GlobPattern.matches("[A-Z]axmemory", "maxmemory", caseInsensitive: true))
        // Redis swaps reversed bounds before folding them (checked with CONFIG GET on 7.0.15):
        // [Z-a] folds to z..a and [a-Z] to z..a, which match nothing.
        #expect(!GlobPattern.matches("[Z-a]axmemory", "maxmemory", caseInsensitive: true))
        #expect(!GlobPattern.matches("[a-Z]axmemory", "maxmemory", caseInsensitive: true))
        #expect(GlobPattern.matches("[Z-a]", "_"))
        // Escaped characters inside a class compare exactly even when folding.
        #expect(!GlobPattern.matches("h[\\E]llo", "hello", caseInsensitive: true))
        #expect(GlobPattern.matches("h[E]llo", "hello", caseInsensitive: true))
    }

    @Test func nestingLimit() {
        // Redis gives up (no match) beyond 1000 nested stars; 7.0.15 matches with 1000, not 1001.
        let subject = String(repeating: "a", count: 1500)
        #expect(GlobPattern.matches(String(repeating: "*a", count: 1000), subject))
        #expect(!GlobPattern.matches(String(repeating: "*a", count: 1001), subject))
    }

    @Test func pathologicalPatternFinishesQuickly() {
        // Without the skip-longer-matches cut this is exponential.
        let subject = String(repeating: "a", count: 60)
        let pattern = String(repeating: "a*", count: 30) + "b"
        #expect(!GlobPattern.matches(pattern, subject))
    }
}
