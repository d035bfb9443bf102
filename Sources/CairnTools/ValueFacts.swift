// Names and sizes of values as the tools report them.

import CairnStorage

public enum ValueFacts {
    /// TYPE's answer: string, list, set, zset or hash.
    public static func typeName(_ value: Value) -> String {
        switch value {
        case .int, .string: return "string"
        case .list: return "list"
        case .set: return "set"
        case .zset: return "zset"
        case .hash: return "hash"
        }
    }

    /// Elements of a collection (hash: fields); a string's length in bytes.
    public static func elementCount(_ value: Value) -> Int {
        switch value {
        case .int, .string: return value.stringBytes?.count ?? 0
        case .list(let l): return l.count
        case .set(let s): return s.count
        case .zset(let z): return z.count
        case .hash(let h): return h.count
        }
    }

    /// The stored RDB type with its encoding, e.g. `list-quicklist2`, `set-intset`.
    public static func storedTypeName(_ code: UInt8) -> String {
        switch code {
        case RDBFormat.typeString: return "string"
        case RDBFormat.typeList: return "list-linked"
        case RDBFormat.typeSet: return "set-hashtable"
        case RDBFormat.typeZSet: return "zset-skiplist-v1"
        case RDBFormat.typeHash: return "hash-hashtable"
        case RDBFormat.typeZSet2: return "zset-skiplist"
        case RDBFormat.typeHashZipmap: return "hash-zipmap"
        case RDBFormat.typeListZiplist: return "list-ziplist"
        case RDBFormat.typeSetIntset: return "set-intset"
        case RDBFormat.typeZSetZiplist: return "zset-ziplist"
        case RDBFormat.typeHashZiplist: return "hash-ziplist"
        case RDBFormat.typeListQuicklist: return "list-quicklist"
        case RDBFormat.typeHashListpack: return "hash-listpack"
        case RDBFormat.typeZSetListpack: return "zset-listpack"
        case RDBFormat.typeListQuicklist2: return "list-quicklist2"
        case RDBFormat.typeSetListpack: return "set-listpack"
        default: return RDBFormat.typeName(code)
        }
    }
}
