import NIOCore

// A resumable, bounded decoder for RESP2 and RESP3 values. Each element is consumed from the buffer
// as soon as it is complete and kept on a stack of open aggregates, so bytes are never parsed twice
// however the stream is split. Limits: bulk length, header line length, aggregate size and nesting
// depth (RESPLimits + `nestingDepthMax`).

public struct RESPDecodingError: Error, Equatable, Sendable, CustomStringConvertible {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { "Protocol error: \(message)" }
}

public struct RESPValueDecoder: Sendable {
    /// Aggregates nested deeper than this are refused.
    public static let nestingDepthMaxDefault = 128

    public var limits: RESPLimits
    public var nestingDepthMax: Int

    private enum AggregateKind: Sendable { case array, set, push, map, attribute }
    private struct Frame: Sendable {
        var kind: AggregateKind
        var remaining: Int
        var items: [RESPValue]
    }
    private var stack: [Frame] = []
    private var pendingBulk: (marker: UInt8, length: Int)? = nil

    public init(limits: RESPLimits = .redisDefault, nestingDepthMax: Int = RESPValueDecoder.nestingDepthMaxDefault) {
        self.limits = limits
        self.nestingDepthMax = nestingDepthMax
    }

    /// Returns the next complete top-level value, or nil when more bytes are needed. Consumes the
    /// bytes of every element it completes, including those of a partial aggregate.
    public mutating func decode(_ buffer: inout ByteBuffer) throws -> RESPValue? {
        while true {
            guard let element = try nextElement(&buffer) else { return nil }
            if let done = try push(element) { return done }
        }
    }

    /// Either a finished scalar, or an aggregate header that opened a frame (nil value).
    private enum Element { case value(RESPValue), opened }

    private mutating func push(_ element: Element) throws -> RESPValue? {
        var value: RESPValue
        switch element {
        case .opened:
            // An empty aggregate closes immediately.
            guard let top = stack.last, top.remaining == 0 else { return nil }
            value = close(stack.removeLast())
        case .value(let v):
            value = v
        }
        while true {
            guard !stack.isEmpty else { return value }
            stack[stack.count - 1].items.append(value)
            stack[stack.count - 1].remaining -= 1
            guard stack[stack.count - 1].remaining == 0 else { return nil }
            value = close(stack.removeLast())
        }
    }

    private func close(_ frame: Frame) -> RESPValue {
        switch frame.kind {
        case .array: return .array(frame.items)
        case .set: return .set(frame.items)
        case .push: return .push(frame.items)
        case .map, .attribute:
            var pairs: [(RESPValue, RESPValue)] = []
            pairs.reserveCapacity(frame.items.count / 2)
            var i = 0
            while i + 1 < frame.items.count { pairs.append((frame.items[i], frame.items[i + 1])); i += 2 }
            return frame.kind == .map ? .map(pairs) : .attribute(pairs)
        }
    }

    private mutating func nextElement(_ buffer: inout ByteBuffer) throws -> Element? {
        if let pending = pendingBulk {
            guard buffer.readableBytes >= pending.length + 2 else { return nil }
            let payload = buffer.readBytes(length: pending.length) ?? []
            buffer.moveReaderIndex(forwardBy: 2)
            pendingBulk = nil
            return .value(try bulkValue(marker: pending.marker, payload))
        }
        guard let lineEnd = buffer.readableBytesView.firstIndex(of: UInt8(ascii: "\r")).map({ $0 - buffer.readerIndex }) else {
            if buffer.readableBytes > limits.inlineBytesMax { throw RESPDecodingError("too big header line") }
            return nil
        }
        guard buffer.readableBytes >= lineEnd + 2 else { return nil }
        // A line without even a type byte: refused, not taken for one still arriving.
        guard lineEnd > 0 else { throw RESPDecodingError("empty line") }
        guard let marker = buffer.getInteger(at: buffer.readerIndex, as: UInt8.self),
              let line = buffer.getBytes(at: buffer.readerIndex + 1, length: lineEnd - 1)
        else { return nil }
        buffer.moveReaderIndex(forwardBy: lineEnd + 2)
        switch marker {
        case UInt8(ascii: "+"): return .value(.simpleString(line))
        case UInt8(ascii: "-"): return .value(.error(line))
        case UInt8(ascii: ":"):
            guard let v = Decimal.parseInt64(line) else { throw RESPDecodingError("invalid integer") }
            return .value(.integer(v))
        case UInt8(ascii: "_"): return .value(.null)
        case UInt8(ascii: "#"):
            if line == [UInt8(ascii: "t")] { return .value(.boolean(true)) }
            if line == [UInt8(ascii: "f")] { return .value(.boolean(false)) }
            throw RESPDecodingError("invalid boolean")
        case UInt8(ascii: ","):
            guard let d = Self.parseDouble(line) else { throw RESPDecodingError("invalid double") }
            return .value(.double(d))
        case UInt8(ascii: "("):
            return .value(.bigNumber(line))
        case UInt8(ascii: "$"), UInt8(ascii: "!"), UInt8(ascii: "="):
            guard let length = Decimal.parseInt64(line) else { throw RESPDecodingError("invalid bulk length") }
            if length == -1 && marker == UInt8(ascii: "$") { return .value(.bulkString(nil)) }
            guard length >= 0, length <= Int64(limits.bulkLengthBytesMax) else { throw RESPDecodingError("invalid bulk length") }
            pendingBulk = (marker, Int(length))
            return try nextElement(&buffer)
        case UInt8(ascii: "*"), UInt8(ascii: "~"), UInt8(ascii: ">"), UInt8(ascii: "%"), UInt8(ascii: "|"):
            guard let count = Decimal.parseInt64(line) else { throw RESPDecodingError("invalid multibulk length") }
            if count == -1 && marker == UInt8(ascii: "*") { return .value(.array(nil)) }
            let isPairs = marker == UInt8(ascii: "%") || marker == UInt8(ascii: "|")
            guard count >= 0, count <= Int64(limits.multibulkCountMax) / (isPairs ? 2 : 1) else {
                throw RESPDecodingError("invalid multibulk length")
            }
            guard stack.count < nestingDepthMax else { throw RESPDecodingError("nesting too deep") }
            let kind: AggregateKind
            switch marker {
            case UInt8(ascii: "*"): kind = .array
            case UInt8(ascii: "~"): kind = .set
            case UInt8(ascii: ">"): kind = .push
            case UInt8(ascii: "%"): kind = .map
            default: kind = .attribute
            }
            let n = Int(count) * (isPairs ? 2 : 1)
            var items: [RESPValue] = []
            items.reserveCapacity(Swift.min(n, 1024))
            stack.append(Frame(kind: kind, remaining: n, items: items))
            return .opened
        default:
            throw RESPDecodingError("unknown type byte '\(Character(Unicode.Scalar(marker)))'")
        }
    }

    private func bulkValue(marker: UInt8, _ payload: [UInt8]) throws -> RESPValue {
        switch marker {
        case UInt8(ascii: "!"): return .bulkError(payload)
        case UInt8(ascii: "="):
            guard payload.count >= 4, payload[3] == UInt8(ascii: ":") else { throw RESPDecodingError("invalid verbatim string") }
            return .verbatim(format: Array(payload[0..<3]), text: Array(payload[4...]))
        default: return .bulkString(payload)
        }
    }

    static func parseDouble(_ line: [UInt8]) -> Double? {
        switch line {
        case Array("inf".utf8), Array("+inf".utf8): return .infinity
        case Array("-inf".utf8): return -.infinity
        case Array("nan".utf8): return .nan
        default: return Double(String(decoding: line, as: UTF8.self))
        }
    }
}
