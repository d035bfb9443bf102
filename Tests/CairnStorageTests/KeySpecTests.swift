@testable import CairnStorage
import Testing

/// Key specs are the one description of a command's keys: the legacy triple, movablekeys, key
/// positions and WATCH's read-only test are derived from them.
@Suite struct KeySpecTests {
    func positions(_ specs: [KeySpec]) -> KeyPositions { specs.legacyKeyPositions }

    /// Redis 7.0's populateCommandLegacyRangeSpec, on the shapes its commands have (each expected
    /// triple is what redis-server 7.0.15 shows for the command named).
    @Test func legacyTripleFollowsRedis() {
        #expect(positions([]) == .none)
        #expect(positions([.at(1, [.RO, .access])]) == KeyPositions(first: 1, last: 1, step: 1))  // GET
        #expect(positions([.from(1, lastKey: -1, step: 2, [.OW, .update])]) == KeyPositions(first: 1, last: -1, step: 2))  // MSET
        #expect(positions([.from(1, lastKey: 1, [.RO, .access])]) == KeyPositions(first: 1, last: 2, step: 1))  // LCS
        #expect(positions([.at(2, [.RO])]) == KeyPositions(first: 2, last: 2, step: 1))  // OBJECT ENCODING
        // Consecutive specs join; a negative last key wins (Redis compares them unsigned).
        #expect(positions([.at(1, [.RW, .access, .delete]), .at(2, [.RW, .insert])]) == KeyPositions(first: 1, last: 2, step: 1))  // LMOVE
        #expect(positions([.at(2, [.OW, .update]), .from(3, lastKey: -1, [.RO, .access])]) == KeyPositions(first: 2, last: -1, step: 1))  // BITOP
        // Key-count specs are not ranges: skipped, and a command with only those has no triple.
        #expect(positions([.at(1, [.OW, .update]), .numkeys(at: 2, [.RO, .access])]) == KeyPositions(first: 1, last: 1, step: 1))  // ZUNIONSTORE
        #expect(positions([.numkeys(at: 1, [.RO, .access])]) == .none)  // ZUNION
        #expect(positions([KeySpec([.RO, .access], .keyword("STREAMS", startFrom: 1), .range(lastKey: -1, step: 1, limit: 2))]) == .none)  // XREAD
        // Of several specs, one that steps by more than 1 leaves no triple.
        #expect(positions([.at(1, [.RW]), .from(2, lastKey: -1, step: 2, [.RO])]) == .none)
        // A lone spec is copied whatever it is (SPUBLISH's channel is not a key, but has a triple).
        #expect(positions([.at(1, [.notKey])]) == KeyPositions(first: 1, last: 1, step: 1))
    }

    @Test func movableKeysFollowRedis() {
        func spec(_ keys: [KeySpec], findKeys: KeyFinder? = nil) -> CommandSpec {
            CommandSpec("t", arity: -2, flags: [.readonly], categories: [.read], keys: keys, group: "generic",
                        findKeys: findKeys, handler: { _ in })
        }
        #expect(!spec([.at(1, [.RO])]).flags.contains(.movableKeys))
        #expect(!spec([.at(1, [.RW]), .at(2, [.RW])]).flags.contains(.movableKeys))
        #expect(spec([.numkeys(at: 1, [.RO])], findKeys: { _ in [] }).flags.contains(.movableKeys))
        #expect(spec([.at(1, [.RO])], findKeys: { _ in [1] }).flags.contains(.movableKeys), "a finder makes keys movable")
    }

    /// Every command the engine registers: movable keys come with a finder (keyIndices cannot read
    /// a key count or a keyword from the specs), and a command with keys has a triple or a finder.
    @Test func everyRegisteredCommandCanFindItsKeys() {
        let engine = Engine()
        for command in engine.commands.allIncludingSubcommands {
            let spec = command.spec
            if spec.flags.contains(.movableKeys) { #expect(spec.findKeys != nil, "\(command.fullName)") }
            #expect(spec.keySpecs.isEmpty != spec.hasKeys, "\(command.fullName)")
        }
    }

    /// Of the key arguments of a call, those the command only reads.
    @Test func readOnlyKeysFollowTheSpecs() {
        let engine = Engine()
        func readOnly(_ words: String...) -> [Int] {
            guard let spec = engine.commands.lookup(words[0])?.spec else { return [-1] }
            return Arguments.with(words.map { Array($0.utf8) }) { args in
                spec.keyIndices(args).filter { spec.isReadOnlyKey(at: $0, argc: args.count) }
            }
        }
        #expect(readOnly("get", "k") == [1])
        #expect(readOnly("set", "k", "v") == [])
        #expect(readOnly("sinterstore", "d", "a", "b") == [2, 3], "the sources")
        #expect(readOnly("zunionstore", "d", "2", "a", "b") == [3, 4], "keys found by a count, beside a plain writer")
        #expect(readOnly("lmove", "a", "b", "left", "right") == [])
        #expect(readOnly("copy", "a", "b") == [1])
        #expect(readOnly("bitop", "and", "d", "a", "b") == [3, 4])
        #expect(readOnly("blpop", "a", "b", "0") == [])
    }

    /// WATCH needs no help from the server: a write leaves the keys it only read alone.
    @Test func writesDoNotInvalidateWatchesOnKeysTheyOnlyRead() {
        let h = EngineHarness()
        let other = EngineHarness(engine: h.engine)
        h.run("SADD", "src", "a")
        h.run("WATCH", "src")
        other.run("SINTERSTORE", "dst", "src")
        other.run("ZUNIONSTORE", "zdst", "1", "src")
        h.run("MULTI")
        h.run("SCARD", "src")
        #expect(h.run("EXEC") == .array([.int(1)]))
        h.run("WATCH", "dst")
        other.run("SINTERSTORE", "dst", "src")
        h.run("MULTI")
        h.run("SCARD", "dst")
        #expect(h.run("EXEC") == .array(nil))
    }

    @Test func flagNamesInRedisOrder() {
        #expect(KeySpecFlags([.variableFlags, .update, .access, .RW]).names == ["RW", "access", "update", "variable_flags"])
        #expect(KeySpecFlags([.incomplete, .delete, .RM, .notKey, .insert, .OW, .RO]).names
                == ["RO", "OW", "RM", "insert", "delete", "not_key", "incomplete"])
        #expect(KeySpecFlags([.RW, .access]).readsData && !KeySpecFlags([.RW, .access]).writesData)
        #expect(KeySpecFlags([.OW, .insert]).writesData && !KeySpecFlags([.RO]).readsData)
    }
}
