import CairnGossip
import NIOCore
import Testing

/// One test per kind of damage: each gives its own error code, never a trap, and the stream
/// decoder either consumes the whole bad message (framing intact) or refuses for good.
@Suite struct BusBadInputTests {
    func ping(gossip: Int = 1, hostname: String? = "alice.example") throws -> [UInt8] {
        let entries = (0..<gossip).map { _ in BusSamples.gossip(BusSamples.bob, port: 7001) }
        return try BusEncoder.bytes(of: BusMessage(header: BusSamples.header(), body: .ping(PingData(gossip: entries, hostname: hostname))))
    }

    func code(_ bytes: [UInt8], messageBytesMax: Int = BusDecoder.messageBytesMaxDefault) -> BusError.Code? {
        do {
            _ = try BusDecoder.decode(message: bytes, messageBytesMax: messageBytesMax)
            return nil
        } catch {
            return error.code
        }
    }

    @Test func wrongSignature() throws {
        var bytes = try ping()
        bytes[3] = UInt8(ascii: "B")
        #expect(code(bytes) == .badSignature)
        #expect(code(Array("GET / HTTP/1.1\r\n\r\n".utf8)) == .badSignature, "a stranger speaking another protocol")
    }

    @Test func wrongVersion() throws {
        #expect(code(BusSamples.patched(try ping(), at: BusFormat.Offset.version, UInt16(2))) == .unsupportedVersion)
        #expect(code(BusSamples.patched(try ping(), at: BusFormat.Offset.version, UInt16(0))) == .unsupportedVersion)
    }

    @Test func truncatedHeader() throws {
        let bytes = try ping()
        for length in [0, 4, 7, 8, 100, BusFormat.headerBytes - 1] {
            #expect(code(Array(bytes.prefix(length))) == .truncated, "\(length) bytes")
        }
    }

    @Test func truncatedBody() throws {
        let bytes = try ping()
        #expect(code(Array(bytes.dropLast())) == .truncated)
        #expect(code(Array(bytes.prefix(BusFormat.headerBytes + 10))) == .truncated)
        #expect(code(bytes + [0]) == .trailingBytes)
    }

    @Test func totalLengthBelowTheHeader() throws {
        for length in [0, 8, BusFormat.headerBytes - 1] {
            #expect(code(BusSamples.patched(try ping(), at: BusFormat.Offset.totalLength, UInt32(length))) == .lengthBelowHeader)
        }
    }

    @Test func totalLengthAboveTheMaximum() throws {
        let huge = BusSamples.patched(try ping(), at: BusFormat.Offset.totalLength, UInt32.max)
        #expect(code(huge) == .lengthAboveMax)
        let bytes = try ping()
        #expect(code(bytes, messageBytesMax: bytes.count) == nil, "the limit itself is allowed")
        #expect(code(bytes, messageBytesMax: bytes.count - 1) == .lengthAboveMax)
    }

    @Test func pingCountNotMatchingItsLength() throws {
        let bytes = try ping(gossip: 2, hostname: nil)
        #expect(code(bytes) == nil)
        #expect(code(BusSamples.patched(bytes, at: BusFormat.Offset.count, UInt16(3))) == .lengthMismatch, "more entries than bytes")
        #expect(code(BusSamples.patched(bytes, at: BusFormat.Offset.count, UInt16(1))) == .lengthMismatch, "bytes left over")
        #expect(code(BusSamples.patched(bytes, at: BusFormat.Offset.count, UInt16.max)) == .lengthMismatch)
    }

    /// The ping's single hostname extension starts after one gossip entry.
    var extensionOffset: Int { BusFormat.headerBytes + BusFormat.gossipEntryBytes }

    @Test func extensionRunningPastTheEnd() throws {
        let bytes = try ping()   // "alice.example" + NUL = 14, padded to 16: the extension is 24 bytes
        #expect(code(bytes) == nil)
        #expect(code(BusSamples.patched(bytes, at: extensionOffset, UInt32(32))) == .extensionPastEnd)
        #expect(code(BusSamples.patched(bytes, at: extensionOffset, UInt32.max - 7)) == .extensionPastEnd)
        #expect(code(BusSamples.patched(bytes, at: BusFormat.Offset.extensionCount, UInt16(2))) == .extensionPastEnd,
                "a second extension whose header is not there")
    }

    @Test func extensionLengthsThatCannotBe() throws {
        let bytes = try ping()
        #expect(code(BusSamples.patched(bytes, at: extensionOffset, UInt32(20))) == .extensionMisaligned)
        #expect(code(BusSamples.patched(bytes, at: extensionOffset, UInt32(0))) == .extensionTooShort)
        let unknown = BusMessage(header: BusSamples.header(), body: .ping(PingData(
            gossip: [BusSamples.gossip(BusSamples.bob, port: 7001)], extensions: [.unknown(type: 5, data: [UInt8](repeating: 1, count: 16))])))
        let other = try BusEncoder.bytes(of: unknown)
        #expect(code(other) == nil)
        #expect(code(BusSamples.patched(other, at: extensionOffset, UInt32(16))) == .lengthMismatch, "8 bytes left after it")
    }

    @Test func extensionsWithoutTheFlag() throws {
        var bytes = try ping()
        bytes[BusFormat.Offset.messageFlags] = 0
        #expect(code(bytes) == .extensionsWithoutFlag)
    }

    @Test func hostnameWithoutTerminator() throws {
        var bytes = try ping(hostname: "12345678")   // 8 bytes + NUL: padded to 16
        let payload = extensionOffset + BusFormat.extensionHeaderBytes
        for i in payload..<(payload + 16) { bytes[i] = UInt8(ascii: "x") }
        #expect(code(bytes) == .extensionMalformed)
    }

    @Test func unknownType() throws {
        let bytes = try BusEncoder.bytes(of: BusSamples.messages[7])   // FAILOVER_AUTH_ACK: header only
        for type in [UInt16(11), 12, 255, .max] {
            #expect(code(BusSamples.patched(bytes, at: BusFormat.Offset.type, type)) == .unknownType)
        }
    }

    @Test func fixedSizeTypesWithAnotherLength() throws {
        for message in BusSamples.messages where message.body.pingData == nil {
            var bytes = try BusEncoder.bytes(of: message)
            bytes.append(0)
            bytes = BusSamples.patched(bytes, at: BusFormat.Offset.totalLength, UInt32(bytes.count))
            #expect(code(bytes) == .lengthMismatch, "\(message.type) one byte longer")
        }
        let publish = try BusEncoder.bytes(of: BusSamples.messages[4])
        let dataAt = BusFormat.headerBytes
        #expect(code(BusSamples.patched(publish, at: dataAt, UInt32.max)) == .lengthMismatch, "channel longer than the message")
        #expect(code(BusSamples.patched(publish, at: dataAt + 4, UInt32.max)) == .lengthMismatch)
        let module = try BusEncoder.bytes(of: BusSamples.messages[10])
        #expect(code(BusSamples.patched(module, at: dataAt + 8, UInt32(1))) == .lengthMismatch)
        let shortPublish = BusSamples.patched(Array(publish.prefix(dataAt + 4)), at: BusFormat.Offset.totalLength, UInt32(dataAt + 4))
        #expect(code(shortPublish) == .lengthMismatch, "a PUBLISH too short for its two lengths")
    }

    @Test func aSkippedMessageLeavesTheStreamFramed() throws {
        let bad = BusSamples.patched(try ping(), at: BusFormat.Offset.version, UInt16(2))
        let good = try ping()
        var buffer = ByteBuffer(bytes: bad + good)
        var decoder = BusDecoder()
        #expect {
            _ = try decoder.next(from: &buffer)
        } throws: { error in
            (error as? BusError)?.code == .unsupportedVersion && (error as? BusError)?.messageSkipped == true
        }
        #expect(buffer.readableBytes == good.count)
        #expect(try decoder.next(from: &buffer) == BusDecoder.decode(message: good))
    }

    @Test func lostFramingStaysLost() throws {
        var bytes = try ping()
        bytes[0] = 0
        var buffer = ByteBuffer(bytes: bytes + (try ping()))
        var decoder = BusDecoder()
        for _ in 0..<2 {
            #expect {
                _ = try decoder.next(from: &buffer)
            } throws: { error in
                (error as? BusError)?.code == .badSignature && (error as? BusError)?.messageSkipped == false
            }
        }
    }

    @Test func needMoreBytesConsumesNothing() throws {
        let bytes = try ping()
        var decoder = BusDecoder()
        for length in [0, 7, 8, bytes.count - 1] {
            var buffer = ByteBuffer(bytes: bytes.prefix(length))
            #expect(try decoder.next(from: &buffer) == nil)
            #expect(buffer.readableBytes == length)
        }
    }

    @Test func aHugeDeclaredLengthWaitsWithoutAllocating() throws {
        // A valid prefix declaring the maximum: the decoder answers "need more" from 8 bytes.
        let prefix = BusSamples.patched(Array(try ping().prefix(8)), at: BusFormat.Offset.totalLength,
                                        UInt32(BusDecoder.messageBytesMaxDefault))
        var buffer = ByteBuffer(bytes: prefix)
        var decoder = BusDecoder()
        #expect(try decoder.next(from: &buffer) == nil)
        #expect(buffer.readableBytes == 8)
    }
}
