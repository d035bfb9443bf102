import CairnRESP
import FuzzSupport

// Target resp-request: the server's request parser (Sources/CairnRESP/CommandParser.swift) on
// one connection's input. Every request is parsed until more bytes are needed or a protocol
// error ends the connection, as the request loop does. Checked beyond "no trap": argument ranges
// lie inside their request, and the same bytes fed in pieces (split where the input's hash says)
// give the same requests and the same error as fed at once: the parser resumes where it stopped.
// One input in four is parsed with tight limits and as an unauthenticated client too. And the
// parser never stalls: with tight limits, once enough filler follows the input to finish any bulk
// string and overflow any line, the connection must end in a protocol error; "need more bytes"
// is then a parser waiting for what can never come.

/// What a connection made of its input: each request's arguments, or its protocol error.
enum Outcome: Equatable {
    case multibulk([[UInt8]])
    case inline([[UInt8]])
    case empty(Int)
    case protocolError(String)
}

/// Parses `input` arriving in `pieces` (sizes); the last outcome may be a protocol error.
func parseConnection(_ input: UnsafeRawBufferPointer, pieces: [Int], limits: RESPLimits, authenticated: Bool) -> [Outcome] {
    var parser = CommandParser(limits: limits)
    var outcomes: [Outcome] = []
    var received = 0     // bytes of input that have arrived
    var start = 0        // where the current request starts
    var next = 0         // index into pieces
    while true {
        let region = UnsafeRawBufferPointer(rebasing: input[start..<received])
        switch parser.parse(region, authenticated: authenticated) {
        case .multibulk(let length):
            FuzzCheck.require(length > 0 && length <= region.count, "multibulk length \(length) of \(region.count) bytes")
            outcomes.append(.multibulk(parser.arguments.map { range in
                let s = Int(range.start), n = Int(range.count)
                FuzzCheck.require(s >= 0 && n >= 0 && s + n <= length, "argument \(s)+\(n) outside a \(length)-byte request")
                return Array(region[s..<(s + n)])
            }))
            parser.reset()
            start += length
        case .inline(let length):
            FuzzCheck.require(length > 0 && length <= region.count, "inline length \(length) of \(region.count) bytes")
            let storage = parser.inlineStorage
            outcomes.append(.inline(parser.arguments.map { range in
                let s = Int(range.start), n = Int(range.count)
                FuzzCheck.require(s >= 0 && n >= 0 && s + n <= storage.count, "inline argument \(s)+\(n) outside \(storage.count) bytes")
                return Array(storage[s..<(s + n)])
            }))
            parser.reset()
            start += length
        case .empty(let length):
            FuzzCheck.require(length > 0 && length <= region.count, "empty length \(length) of \(region.count) bytes")
            outcomes.append(.empty(length))
            start += length
        case .needMoreBytes:
            guard next < pieces.count else { return outcomes }
            received += pieces[next]
            next += 1
        case .protocolError(let message):
            outcomes.append(.protocolError(String(describing: message)))
            return outcomes
        }
    }
}

let tightLimits = RESPLimits(bulkLengthBytesMax: 100, queryBufferBytesMax: 1000, inlineBytesMax: 32,
                             multibulkCountMax: 20, unauthenticatedMultibulkCountMax: 3, unauthenticatedBulkLengthBytesMax: 10)

/// Parses `input` followed by filler; true when the connection ended in a protocol error (as it
/// must: the filler is not a request that fits the limits), false when it still wanted bytes.
func endsWithError(_ input: UnsafeRawBufferPointer) -> Bool {
    let filler = tightLimits.bulkLengthBytesMax + 2 + tightLimits.inlineBytesMax + 1
    let bytes = Array(input) + [UInt8](repeating: UInt8(ascii: "x"), count: filler)
    let outcomes = bytes.withUnsafeBytes { parseConnection($0, pieces: [$0.count], limits: tightLimits, authenticated: true) }
    if case .protocolError? = outcomes.last { return true }
    return false
}

FuzzDriver.run { input in
    FuzzCheck.require(endsWithError(input), "the parser waits for more bytes that cannot help (\(input.count) input bytes)")
    let whole = parseConnection(input, pieces: [input.count], limits: .redisDefault, authenticated: true)
    // A header line or inline request longer than the limit is refused only while its end has
    // not arrived (as Redis): pieces can change the verdict only for inputs longer than that.
    if input.count <= RESPLimits.redisDefault.inlineBytesMax {
        let pieces = Chunking.pieces(of: input)
        let split = parseConnection(input, pieces: pieces, limits: .redisDefault, authenticated: true)
        FuzzCheck.require(split == whole, "in pieces \(pieces): \(split)\nat once: \(whole)")
    }
    if Chunking.fnv1a(input) % 4 == 0 {
        _ = parseConnection(input, pieces: [input.count], limits: .redisDefault, authenticated: false)
        _ = parseConnection(input, pieces: Chunking.pieces(of: input), limits: tightLimits, authenticated: false)
    }
}
