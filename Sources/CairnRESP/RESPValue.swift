// A decoded RESP2/RESP3 value, as a client (cairn-backup, replication, tests) reads replies.
// The server's request path does not use this type: it parses requests with CommandParser.

public enum RESPValue: Sendable, Hashable {
    case simpleString([UInt8])
    case error([UInt8])
    case integer(Int64)
    case bulkString([UInt8]?)          // nil: RESP2 null bulk `$-1`
    case array([RESPValue]?)           // nil: RESP2 null array `*-1`
    case null                          // RESP3 `_`
    case boolean(Bool)                 // RESP3 `#t` / `#f`
    case double(Double)                // RESP3 `,`
    case bigNumber([UInt8])            // RESP3 `(`
    case bulkError([UInt8])            // RESP3 `!`
    case verbatim(format: [UInt8], text: [UInt8])  // RESP3 `=`
    case map([(RESPValue, RESPValue)])  // RESP3 `%`
    case set([RESPValue])              // RESP3 `~`
    case attribute([(RESPValue, RESPValue)])  // RESP3 `|` (precedes the value it annotates)
    case push([RESPValue])             // RESP3 `>`

    public static func == (a: RESPValue, b: RESPValue) -> Bool {
        switch (a, b) {
        case let (.simpleString(x), .simpleString(y)), let (.error(x), .error(y)),
             let (.bigNumber(x), .bigNumber(y)), let (.bulkError(x), .bulkError(y)):
            return x == y
        case let (.integer(x), .integer(y)): return x == y
        case let (.bulkString(x), .bulkString(y)): return x == y
        case let (.array(x), .array(y)): return x == y
        case (.null, .null): return true
        case let (.boolean(x), .boolean(y)): return x == y
        case let (.double(x), .double(y)): return x == y || (x.isNaN && y.isNaN)
        case let (.verbatim(f1, t1), .verbatim(f2, t2)): return f1 == f2 && t1 == t2
        case let (.map(x), .map(y)), let (.attribute(x), .attribute(y)):
            return x.count == y.count && zip(x, y).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 }
        case let (.set(x), .set(y)), let (.push(x), .push(y)): return x == y
        default: return false
        }
    }

    public func hash(into hasher: inout Hasher) {
        switch self {
        case .simpleString(let x), .error(let x), .bigNumber(let x), .bulkError(let x): hasher.combine(x)
        case .integer(let x): hasher.combine(x)
        case .bulkString(let x): hasher.combine(x)
        case .array(let x): hasher.combine(x)
        case .null: hasher.combine(0)
        case .boolean(let x): hasher.combine(x)
        case .double(let x): hasher.combine(x)
        case .verbatim(let f, let t): hasher.combine(f); hasher.combine(t)
        case .map(let x), .attribute(let x): hasher.combine(x.count)
        case .set(let x), .push(let x): hasher.combine(x)
        }
    }

    /// The bytes of a string-like value (simple, bulk, verbatim text), for convenience.
    public var bytes: [UInt8]? {
        switch self {
        case .simpleString(let b), .bigNumber(let b): return b
        case .bulkString(let b): return b
        case .verbatim(_, let t): return t
        default: return nil
        }
    }

    public var string: String? { bytes.map { String(decoding: $0, as: UTF8.self) } }
}
