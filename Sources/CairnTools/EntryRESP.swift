// `dump --resp`: the commands that recreate a key on an empty server, as RESP arrays for
// `redis-cli --pipe` (docs/tools-cairn-rdb.md). One SET / RPUSH / SADD / ZADD / HSET per key,
// collections split into batches so no single command is huge, then PEXPIREAT if the key expires.

import CairnStorage

public enum EntryRESP {
    /// Elements (hash: field-value pairs) per command.
    public static let batchElementsDefault = 1000

    public static func appendSelect(_ db: Int, to out: inout [UInt8]) {
        RESPCommandEncoding.appendArrayHeader(2, to: &out)
        RESPCommandEncoding.appendBulk("SELECT", to: &out)
        RESPCommandEncoding.appendBulk(Array(String(db).utf8), to: &out)
    }

    /// The commands for one key. `flush` is called after each command so that a huge collection
    /// never sits in memory as one buffer.
    public static func append(key: [UInt8], value: Value, expireAt: Int64, batchElements: Int = batchElementsDefault,
                              to out: inout [UInt8], flush: (inout [UInt8]) throws -> Void = { _ in }) throws {
        let batch = max(1, batchElements)
        switch value {
        case .int, .string:
            RESPCommandEncoding.appendArrayHeader(3, to: &out)
            RESPCommandEncoding.appendBulk("SET", to: &out)
            RESPCommandEncoding.appendBulk(key, to: &out)
            RESPCommandEncoding.appendBulk(value.stringBytes ?? [], to: &out)
            try flush(&out)
        case .list(let list):
            var batcher = Batcher(name: "RPUSH", key: key, total: list.count, perCommand: batch, argumentsPerElement: 1)
            try list.forEachThrowing { element in
                batcher.willAppend(to: &out)
                RESPCommandEncoding.appendBulk(element, to: &out)
                if batcher.didAppend() { try flush(&out) }
            }
        case .set(let set):
            var batcher = Batcher(name: "SADD", key: key, total: set.count, perCommand: batch, argumentsPerElement: 1)
            for member in set.members {
                batcher.willAppend(to: &out)
                RESPCommandEncoding.appendBulk(member.bytes, to: &out)
                if batcher.didAppend() { try flush(&out) }
            }
        case .hash(let hash):
            var batcher = Batcher(name: "HSET", key: key, total: hash.count, perCommand: batch, argumentsPerElement: 2)
            for pair in hash.pairs {
                batcher.willAppend(to: &out)
                RESPCommandEncoding.appendBulk(pair.field, to: &out)
                RESPCommandEncoding.appendBulk(pair.value, to: &out)
                if batcher.didAppend() { try flush(&out) }
            }
        case .zset(let zset):
            var batcher = Batcher(name: "ZADD", key: key, total: zset.count, perCommand: batch, argumentsPerElement: 2)
            var items: [(member: [UInt8], score: Double)] = []
            items.reserveCapacity(zset.count)
            zset.forEachInOrder { member, score in items.append((Array(member), score)) }
            for item in items {
                batcher.willAppend(to: &out)
                // %.17g round-trips every double, and ZADD reads "inf" / "-inf".
                RESPCommandEncoding.appendBulk(ScoreFormat.bytes(item.score), to: &out)
                RESPCommandEncoding.appendBulk(item.member, to: &out)
                if batcher.didAppend() { try flush(&out) }
            }
        }
        if expireAt != noExpiry {
            RESPCommandEncoding.appendArrayHeader(3, to: &out)
            RESPCommandEncoding.appendBulk("PEXPIREAT", to: &out)
            RESPCommandEncoding.appendBulk(key, to: &out)
            RESPCommandEncoding.appendBulk(Array(String(expireAt).utf8), to: &out)
            try flush(&out)
        }
    }

    /// Starts a new command header every `perCommand` elements, sized for what is left.
    struct Batcher {
        let name: StaticString
        let key: [UInt8]
        var remaining: Int
        let perCommand: Int
        let argumentsPerElement: Int
        var leftInCommand = 0

        init(name: StaticString, key: [UInt8], total: Int, perCommand: Int, argumentsPerElement: Int) {
            self.name = name
            self.key = key
            self.remaining = total
            self.perCommand = perCommand
            self.argumentsPerElement = argumentsPerElement
        }

        mutating func willAppend(to out: inout [UInt8]) {
            guard leftInCommand == 0 else { return }
            leftInCommand = min(perCommand, remaining)
            RESPCommandEncoding.appendArrayHeader(2 + leftInCommand * argumentsPerElement, to: &out)
            RESPCommandEncoding.appendBulk(name, to: &out)
            RESPCommandEncoding.appendBulk(key, to: &out)
        }

        /// True when a command just ended.
        mutating func didAppend() -> Bool {
            leftInCommand -= 1
            remaining -= 1
            return leftInCommand == 0
        }
    }
}

extension QuickList {
    /// Every element in order, with a body that may throw (QuickList.forEach's may not).
    func forEachThrowing(_ body: (ArraySlice<UInt8>) throws -> Void) throws {
        var failure: (any Error)? = nil
        forEach(from: 0, through: count - 1) { element in
            do {
                try body(element)
                return true
            } catch {
                failure = error
                return false
            }
        }
        if let failure { throw failure }
    }
}
