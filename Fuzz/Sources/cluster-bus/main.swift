import CairnGossip
import FuzzSupport
import NIOCore

// Target cluster-bus: what a cluster-bus peer sends (Sources/CairnGossip, docs/format-cluster-bus.md).
// The input is a byte stream read with BusDecoder as a link reads it, message after message,
// skipping a bad message when the decoder says it consumed it whole (as Redis 7.0 ignores a
// wrong version or length) and stopping when the framing is lost. Inputs whose first byte is
// odd are read as one message instead: the rest of the input with a valid signature and
// `totlen` written over its first 8 bytes, so that mutations reach the per-type checks.
// Checked beyond "no trap": the stream fed whole and fed in two pieces gives the same messages
// and the same verdict; every message re-encodes to its own length and decodes to itself.

struct Outcome: Equatable {
    var messages: [BusMessage] = []
    var errors: [BusError.Code] = []
    var unread = 0
}

func read(_ bytes: [UInt8], splitAt split: Int) -> Outcome {
    var decoder = BusDecoder()
    var buffer = ByteBuffer()
    var outcome = Outcome()
    var framingLost = false
    for piece in [bytes[..<split], bytes[split...]] {
        buffer.writeBytes(piece)
        while !framingLost {
            let before = buffer.readableBytes
            do {
                guard let message = try decoder.next(from: &buffer) else { break }
                outcome.messages.append(message)
                FuzzCheck.require(before - buffer.readableBytes >= BusFormat.headerBytes,
                                  "a \(message.type) took \(before - buffer.readableBytes) bytes")
            } catch {
                outcome.errors.append(error.code)
                framingLost = !error.messageSkipped
                FuzzCheck.require(framingLost ? buffer.readableBytes == before : before - buffer.readableBytes >= BusFormat.headerBytes,
                                  "\(error) consumed \(before - buffer.readableBytes) bytes")
            }
        }
    }
    outcome.unread = buffer.readableBytes
    return outcome
}

FuzzDriver.run { input in
    var bytes = Array(input)
    if let first = bytes.first, first & 1 == 1 {
        bytes.removeFirst()
        if bytes.count >= 8 {
            bytes.replaceSubrange(0..<4, with: BusFormat.signature)
            let length = UInt32(bytes.count)
            bytes.replaceSubrange(4..<8, with: [UInt8(length >> 24), UInt8(length >> 16 & 0xFF), UInt8(length >> 8 & 0xFF), UInt8(length & 0xFF)])
        }
    }
    let whole = read(bytes, splitAt: bytes.count)
    let split = read(bytes, splitAt: bytes.count / 2)
    FuzzCheck.require(whole == split, "fed whole: \(whole.messages.count) messages, \(whole.errors); in two pieces: \(split.messages.count), \(split.errors)")
    for message in whole.messages {
        guard let encoded = try? BusEncoder.bytes(of: message) else {
            FuzzCheck.require(false, "a decoded \(message.type) does not encode")
            continue
        }
        FuzzCheck.require(encoded.count == BusEncoder.encodedBytes(of: message), "encodedBytes disagrees with the encoder")
        let again = try? BusDecoder.decode(message: encoded)
        FuzzCheck.require(again == message, "a \(message.type) does not decode to itself after re-encoding")
    }
}
