// `dump --json`: one JSON object per key (docs/tools-cairn-rdb.md, "dump --json"). Key order
// and spelling are fixed: scripts compare lines as text.
//   {"db":0,"key":"k","type":"zset","value":[["m","1.5"]],"expire_at_ms":-1}

import CairnStorage

public enum EntryJSON {
    /// The JSON object for one key, without the newline.
    public static func append(db: Int, key: [UInt8], value: Value, expireAt: Int64, to out: inout [UInt8]) {
        out.append(contentsOf: #"{"db":"#.utf8)
        out.append(contentsOf: String(db).utf8)
        out.append(contentsOf: #","key":"#.utf8)
        ByteEscaping.appendJSONString(key, to: &out)
        out.append(contentsOf: #","type":""#.utf8)
        out.append(contentsOf: ValueFacts.typeName(value).utf8)
        out.append(contentsOf: #"","value":"#.utf8)
        appendValue(value, to: &out)
        out.append(contentsOf: #","expire_at_ms":"#.utf8)
        out.append(contentsOf: String(expireAt == noExpiry ? -1 : expireAt).utf8)
        out.append(UInt8(ascii: "}"))
    }

    /// string → "s"; list and set → ["a",...]; hash → [["f","v"],...]; zset → [["m","score"],...]
    /// with the score as ZRANGE WITHSCORES replies it.
    public static func appendValue(_ value: Value, to out: inout [UInt8]) {
        switch value {
        case .int, .string:
            ByteEscaping.appendJSONString(value.stringBytes ?? [], to: &out)
        case .list(let list):
            var first = true
            out.append(UInt8(ascii: "["))
            list.forEach(from: 0, through: list.count - 1) { element in
                if !first { out.append(UInt8(ascii: ",")) }
                first = false
                ByteEscaping.appendJSONString(element, to: &out)
                return true
            }
            out.append(UInt8(ascii: "]"))
        case .set(let set):
            var first = true
            out.append(UInt8(ascii: "["))
            set.forEach { member in
                if !first { out.append(UInt8(ascii: ",")) }
                first = false
                ByteEscaping.appendJSONString(member.bytes, to: &out)
            }
            out.append(UInt8(ascii: "]"))
        case .hash(let hash):
            var first = true
            out.append(UInt8(ascii: "["))
            hash.forEach { field, v in
                if !first { out.append(UInt8(ascii: ",")) }
                first = false
                out.append(UInt8(ascii: "["))
                ByteEscaping.appendJSONString(field, to: &out)
                out.append(UInt8(ascii: ","))
                ByteEscaping.appendJSONString(v, to: &out)
                out.append(UInt8(ascii: "]"))
            }
            out.append(UInt8(ascii: "]"))
        case .zset(let zset):
            var first = true
            out.append(UInt8(ascii: "["))
            zset.forEachInOrder { member, score in
                if !first { out.append(UInt8(ascii: ",")) }
                first = false
                out.append(UInt8(ascii: "["))
                ByteEscaping.appendJSONString(member, to: &out)
                out.append(UInt8(ascii: ","))
                ByteEscaping.appendJSONString(ScoreFormat.bytes(score), to: &out)
                out.append(UInt8(ascii: "]"))
            }
            out.append(UInt8(ascii: "]"))
        }
    }
}
