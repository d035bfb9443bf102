import CairnRESP
import FuzzSupport
import NIOCore

// Target resp-value: the RESP2/RESP3 value decoder (Sources/CairnRESP/RESPValueDecoder.swift),
// which reads replies (cairn-backup's client, the tests). Every value in the input is decoded
// until more bytes are needed or the decoder throws. Checked beyond "no trap": the same bytes
// fed in pieces give the same values, the same verdict and the same unconsumed tail (the decoder
// keeps partial aggregates and never re-parses), and no value is returned without consuming bytes.
// And the decoder never stalls: with small limits, once enough filler follows the input to finish
// any bulk string and overflow any header line, it must return values or throw; "need more bytes"
// is then a decoder waiting for what can never come.

enum Outcome: Equatable {
    case value(String)
    case needMoreBytes(unconsumed: Int)
    case failed(String)
}

func decodeStream(_ input: UnsafeRawBufferPointer, pieces: [Int], nestingDepthMax: Int) -> [Outcome] {
    var decoder = RESPValueDecoder(nestingDepthMax: nestingDepthMax)
    var buffer = ByteBufferAllocator().buffer(capacity: input.count)
    var outcomes: [Outcome] = []
    var offset = 0
    var next = 0
    while true {
        do {
            let before = buffer.readableBytes
            if let value = try decoder.decode(&buffer) {
                FuzzCheck.require(buffer.readableBytes < before, "a value decoded from no bytes")
                // String(reflecting:) rather than ==: a NaN double must equal itself here.
                outcomes.append(.value(String(reflecting: value)))
                continue
            }
        } catch {
            outcomes.append(.failed(String(describing: error)))
            return outcomes
        }
        guard next < pieces.count else {
            outcomes.append(.needMoreBytes(unconsumed: buffer.readableBytes))
            return outcomes
        }
        buffer.writeBytes(UnsafeRawBufferPointer(rebasing: input[offset..<(offset + pieces[next])]))
        offset += pieces[next]
        next += 1
    }
}

let probeLimits = RESPLimits(bulkLengthBytesMax: 64, queryBufferBytesMax: 1 << 20, inlineBytesMax: 64,
                             multibulkCountMax: 1 << 20, unauthenticatedMultibulkCountMax: 10, unauthenticatedBulkLengthBytesMax: 64)

/// Decodes `input` followed by filler; true when the decoder ended in an error (as it must: the
/// filler is not RESP), false when it still asked for more bytes.
func endsWithError(_ input: UnsafeRawBufferPointer) -> Bool {
    var decoder = RESPValueDecoder(limits: probeLimits)
    var buffer = ByteBufferAllocator().buffer(capacity: input.count + 256)
    buffer.writeBytes(input)
    buffer.writeRepeatingByte(UInt8(ascii: "x"), count: probeLimits.bulkLengthBytesMax + 2 + probeLimits.inlineBytesMax + 1)
    do {
        while try decoder.decode(&buffer) != nil {}
        return false
    } catch {
        return true
    }
}

FuzzDriver.run { input in
    FuzzCheck.require(endsWithError(input), "the decoder waits for more bytes that cannot help (\(input.count) input bytes)")
    let depth = Chunking.fnv1a(input) % 2 == 0 ? RESPValueDecoder.nestingDepthMaxDefault : 3
    let whole = decodeStream(input, pieces: [input.count], nestingDepthMax: depth)
    guard input.count <= RESPLimits.redisDefault.inlineBytesMax else { return }
    let pieces = Chunking.pieces(of: input)
    let split = decodeStream(input, pieces: pieces, nestingDepthMax: depth)
    FuzzCheck.require(split == whole, "in pieces \(pieces): \(split)\nat once: \(whole)")
}
