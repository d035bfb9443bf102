import CairnRESP
@testable import CairnStorage
import Testing

/// The tracking table (Tracking.swift) through the engine: what is remembered, what is sent,
/// and what is forgotten.
@Suite struct TrackingTests {
    static func invalidate(_ keys: String...) -> RESPValue {
        .push([.bulk("invalidate"), .array(keys.map { .bulk($0) })])
    }

    @Test func aReadKeyIsInvalidatedOnceWhenModified() {
        let engine = Engine()
        let reader = EngineHarness(engine: engine, resp3: true, id: 1)
        let writer = EngineHarness(engine: engine, id: 2)
        #expect(engine.enableTracking(reader.client, .init()) == nil)
        #expect(engine.tracking.isActive && engine.tracking.clientCount == 1)
        reader.run("MGET", "k", "other")
        #expect(engine.tracking.keyCount == 2 && engine.tracking.totalItems == 2)
        writer.run("SET", "k", "v")
        #expect(reader.takeReply() == Self.invalidate("k"))
        #expect(engine.tracking.keyCount == 1, "k is forgotten once invalidated")
        writer.run("SET", "k", "w")
        #expect(reader.takeReply() == nil)
    }

    @Test func bcastSendsEachPrefixsKeysInByteOrder() {
        let engine = Engine()
        let reader = EngineHarness(engine: engine, resp3: true, id: 1)
        let writer = EngineHarness(engine: engine, id: 2)
        var options = Engine.TrackingOptions()
        options.bcast = true
        options.prefixes = [Array("b:".utf8), Array("a:".utf8)]
        #expect(engine.enableTracking(reader.client, options) == nil)
        #expect(reader.client.tracking?.prefixes == [Array("a:".utf8), Array("b:".utf8)])
        writer.run("MSET", "b:1", "x", "a:2", "y", "a:1", "z", "c", "w")
        var buffer = reader.client.reply.buffer
        reader.client.reply.buffer.clear()
        var decoder = RESPValueDecoder()
        #expect((try? decoder.decode(&buffer)) == Self.invalidate("a:1", "a:2"))
        #expect((try? decoder.decode(&buffer)) == Self.invalidate("b:1"))
        #expect(buffer.readableBytes == 0)
        #expect(engine.tracking.prefixCount == 2)
    }

    @Test func overlappingPrefixesAndModeSwitchesAreRefused() {
        let engine = Engine()
        let client = EngineHarness(engine: engine, resp3: true).client
        var options = Engine.TrackingOptions()
        options.bcast = true
        options.prefixes = [Array("ab".utf8), Array("a".utf8)]
        #expect(engine.enableTracking(client, options)?.hasPrefix("ERR Prefix 'ab' overlaps with another provided prefix 'a'") == true)
        #expect(client.tracking == nil)
        options.prefixes = []
        #expect(engine.enableTracking(client, options) == nil)
        #expect(engine.enableTracking(client, .init())?.hasPrefix("ERR You can't switch BCAST mode") == true)
    }

    @Test func closingAClientForgetsItsTracking() {
        let engine = Engine()
        let reader = EngineHarness(engine: engine, resp3: true, id: 1)
        var options = Engine.TrackingOptions()
        options.bcast = true
        #expect(engine.enableTracking(reader.client, options) == nil)
        engine.clientClosed(reader.client)
        #expect(!engine.tracking.isActive && engine.tracking.prefixCount == 0 && reader.client.tracking == nil)
    }

    @Test func theTableStaysUnderItsLimit() {
        let engine = Engine()
        engine.tracking.maxKeys = 2
        let reader = EngineHarness(engine: engine, resp3: true, id: 1)
        #expect(engine.enableTracking(reader.client, .init()) == nil)
        for key in ["a", "b", "c", "d"] {
            Arguments.with([Array("GET".utf8), Array(key.utf8)]) { engine.execute(reader.client, $0) }
        }
        #expect(engine.tracking.keyCount <= 2)
    }
}
