@testable import CairnServer
import CairnRESP
import CairnStorage
import Foundation
import Logging
import NIOCore
import Testing

/// Replays request streams from Fixtures/resp/ through the engine and requires the reply bytes to
/// equal those real Redis 7.0 gave for the same stream (captured by tools/capture-resp-fixture).
@Suite struct GoldenReplyTests {
    static let fixtures = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/resp")

    func replies(for name: String) throws -> (cairn: [UInt8], redis: [UInt8]) {
        let requests = try Data(contentsOf: Self.fixtures.appendingPathComponent("\(name).requests.bin"))
        let expected = try Data(contentsOf: Self.fixtures.appendingPathComponent("\(name).redis7.bin"))
        var settings = ServerSettings()
        settings.persistence.savePoints = []  // the streams' FLUSHALLs must not write dump.rdb here
        let server = Server(settings: settings, logger: Logger(label: "test"))
        defer {
            server.shutdownPromise.succeed(())
            try? server.group.syncShutdownGracefully()
        }
        let session = ClientSession(id: 1, authenticated: true, buffer: ByteBuffer())
        var parser = CommandParser()
        var input = ByteBuffer(bytes: requests)
        let error = server.engine.executeRequests(in: &input, parser: &parser, client: session)
        #expect(error == nil)
        #expect(input.readableBytes == 0)
        return (Array(session.reply.buffer.readableBytesView), Array(expected))
    }

    /// Splits a reply stream into its top-level replies, for readable failure messages.
    func split(_ bytes: [UInt8]) -> [String] {
        var decoder = RESPValueDecoder()
        var buffer = ByteBuffer(bytes: bytes)
        var out: [String] = []
        var start = buffer.readerIndex
        while let _ = try? decoder.decode(&buffer) {
            out.append(String(decoding: bytes[start..<buffer.readerIndex], as: UTF8.self))
            start = buffer.readerIndex
        }
        return out
    }

    @Test func stringsResp2MatchRedisByteForByte() throws {
        let (cairn, redis) = try replies(for: "strings-resp2")
        let c = split(cairn), r = split(redis)
        #expect(c.count == r.count)
        for (i, pair) in zip(c, r).enumerated() where pair.0 != pair.1 {
            Issue.record("reply \(i): cairn \(pair.0.debugDescription) redis \(pair.1.debugDescription)")
        }
    }

    @Test func stringsResp3MatchRedisAfterHello() throws {
        let (cairn, redis) = try replies(for: "strings-resp3")
        // HELLO's reply carries the client id and server version: compare everything after it.
        let c = Array(split(cairn).dropFirst()), r = Array(split(redis).dropFirst())
        #expect(c.count == r.count)
        for (i, pair) in zip(c, r).enumerated() where pair.0 != pair.1 {
            Issue.record("reply \(i + 1): cairn \(pair.0.debugDescription) redis \(pair.1.debugDescription)")
        }
    }
}
