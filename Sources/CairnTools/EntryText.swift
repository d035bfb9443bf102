// `dump` without a format flag: one line per key for people to read (docs/tools-cairn-rdb.md).
//   db=0 key="user:1" type=hash ttl=-1 value={"name": "Ann", "age": "7"}
// Bytes are quoted as redis-cli quotes them. `ttl` is what is left at the time of the dump
// (`-1` for no expiry, `expired` for a time already past), followed by the stored expire time.

import CairnStorage

public enum EntryText {
    public static func append(db: Int, key: [UInt8], value: Value, expireAt: Int64, nowMs: Int64, to out: inout [UInt8]) {
        out.append(contentsOf: "db=\(db) key=".utf8)
        ByteEscaping.appendQuoted(key, to: &out)
        out.append(contentsOf: " type=\(ValueFacts.typeName(value)) ".utf8)
        out.append(contentsOf: ttlText(expireAt: expireAt, nowMs: nowMs).utf8)
        out.append(contentsOf: " value=".utf8)
        appendValue(value, to: &out)
    }

    public static func ttlText(expireAt: Int64, nowMs: Int64) -> String {
        if expireAt == noExpiry { return "ttl=-1" }
        let left = expireAt - nowMs
        return left > 0 ? "ttl=\(left)ms expire_at_ms=\(expireAt)" : "ttl=expired expire_at_ms=\(expireAt)"
    }

    /// string "s"; list ["a", "b"]; set {"a", "b"}; hash {"f": "v"}; zset {"m": 1.5} in score order.
    public static func appendValue(_ value: Value, to out: inout [UInt8]) {
        let separator: [UInt8] = [UInt8(ascii: ","), UInt8(ascii: " ")]
        let colon: [UInt8] = [UInt8(ascii: ":"), UInt8(ascii: " ")]
        var first = true
        switch value {
        case .int, .string:
            ByteEscaping.appendQuoted(value.stringBytes ?? [], to: &out)
        case .list(let list):
            out.append(UInt8(ascii: "["))
            list.forEach(from: 0, through: list.count - 1) { element in
                if !first { out.append(contentsOf: separator) }
                first = false
                ByteEscaping.appendQuoted(element, to: &out)
                return true
            }
            out.append(UInt8(ascii: "]"))
        case .set(let set):
            out.append(UInt8(ascii: "{"))
            set.forEach { member in
                if !first { out.append(contentsOf: separator) }
                first = false
                ByteEscaping.appendQuoted(member.bytes, to: &out)
            }
            out.append(UInt8(ascii: "}"))
        case .hash(let hash):
            out.append(UInt8(ascii: "{"))
            hash.forEach { field, v in
                if !first { out.append(contentsOf: separator) }
                first = false
                ByteEscaping.appendQuoted(field, to: &out)
                out.append(contentsOf: colon)
                ByteEscaping.appendQuoted(v, to: &out)
            }
            out.append(UInt8(ascii: "}"))
        case .zset(let zset):
            out.append(UInt8(ascii: "{"))
            zset.forEachInOrder { member, score in
                if !first { out.append(contentsOf: separator) }
                first = false
                ByteEscaping.appendQuoted(member, to: &out)
                out.append(contentsOf: colon)
                out.append(contentsOf: ScoreFormat.bytes(score))
            }
            out.append(UInt8(ascii: "}"))
        }
    }
}
