// A value in the keyspace. Strings are bytes, never Swift `String`: keys and values are binary safe.
// Strings that are canonical 64-bit integers are stored as `.int` (Redis's "int" encoding);
// others as bytes, reported as "embstr" up to 44 bytes and "raw" above or after in-place edits
// (APPEND, SETRANGE, SETBIT), matching what OBJECT ENCODING says in Redis.
// Collections are reference types mutated in place; COPY takes a deep copy (`copied()`).

public enum Value {
    case int(Int64)
    case string(StringBytes)
    case list(QuickList)
    case hash(HashValue)
    case set(SetValue)
    case zset(SortedSetValue)

    public static let embeddedStringBytesMax = 44

    /// The value Redis's tryObjectEncoding would build for a SET of `bytes`.
    @inlinable
    public static func string(fromStored bytes: UnsafeRawBufferPointer) -> Value {
        if bytes.count <= 20, let v = CairnRESP.Decimal.parseInt64(bytes) { return .int(v) }
        return .string(StringBytes(Array(bytes), raw: bytes.count > embeddedStringBytesMax))
    }

    @inlinable
    public static func string(fromStored bytes: [UInt8]) -> Value {
        if bytes.count <= 20, let v = CairnRESP.Decimal.parseInt64(bytes) { return .int(v) }
        return .string(StringBytes(bytes, raw: bytes.count > embeddedStringBytesMax))
    }

    public var type: ValueType {
        switch self {
        case .int, .string: return .string
        case .list: return .list
        case .hash: return .hash
        case .set: return .set
        case .zset: return .zset
        }
    }

    /// TYPE's answer.
    public var typeName: StaticString { type.name }

    /// OBJECT ENCODING's answer.
    public var encodingName: StaticString {
        switch self {
        case .int: return "int"
        case .string(let s): return s.raw ? "raw" : "embstr"
        case .list: return "quicklist"  // Redis 7.0 encodes every list as a quicklist
        case .hash(let h): return h.encodingName
        case .set(let s): return s.encodingName
        case .zset(let z): return z.encodingName
        }
    }

    /// An independent copy (COPY): collections are duplicated, strings are values already.
    public func copied() -> Value {
        switch self {
        case .int, .string: return self
        case .list(let l): return .list(l.copy())
        case .hash(let h): return .hash(h.copy())
        case .set(let s): return .set(s.copy())
        case .zset(let z): return .zset(z.copy())
        }
    }

    /// A list, hash, set or sorted set without elements: never a key in Redis, so loading and
    /// RESTORE skip or refuse it.
    public var isEmptyCollection: Bool {
        switch self {
        case .int, .string: return false
        case .list(let l): return l.count == 0
        case .hash(let h): return h.isEmpty
        case .set(let s): return s.isEmpty
        case .zset(let z): return z.isEmpty
        }
    }

    public var isString: Bool {
        switch self {
        case .int, .string: return true
        default: return false
        }
    }

    /// The bytes of a string value (decimal digits for `.int`), or nil for other types.
    public var stringBytes: [UInt8]? {
        switch self {
        case .int(let v): return CairnRESP.Decimal.bytes(v)
        case .string(let s): return s.bytes
        default: return nil
        }
    }
}

/// What TYPE answers for a value.
public enum ValueType: Sendable {
    case string, list, hash, set, zset

    public var name: StaticString {
        switch self {
        case .string: return "string"
        case .list: return "list"
        case .hash: return "hash"
        case .set: return "set"
        case .zset: return "zset"
        }
    }
}

/// A string value's bytes plus whether Redis would call it "raw" rather than "embstr".
public struct StringBytes {
    public var bytes: [UInt8]
    public var raw: Bool
    @inlinable public init(_ bytes: [UInt8], raw: Bool) {
        self.bytes = bytes
        self.raw = raw
    }
}

import CairnRESP
