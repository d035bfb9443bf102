import CairnRESP

// The commands that recreate one key on an empty server, as Redis's rewriteAppendOnlyFileRio
// writes them (rewriteListObject, rewriteSetObject, ...): SET for a string; RPUSH, SADD, HSET or
// ZADD for a collection, split so that no command carries more than `itemsPerCommand` elements (a
// hash's field-value pair is one element); then PEXPIREAT if the key expires. The AOF base writes
// them (64 elements per command, as Redis), and so does `cairn-rdb dump --resp` (1000 by default).

public enum KeyCommands {
    /// Appends the commands for one key to `out`, calling `commandEnded` after each (it may write
    /// out and empty a buffer that grew large). Scores are written as `%.17g`, which round-trips
    /// every double and which ZADD reads back (`inf` and `-inf` included).
    public static func append(key: [UInt8], value: Value, expireAt: Int64, itemsPerCommand: Int,
                              to out: inout [UInt8], commandEnded: (inout [UInt8]) throws -> Void) throws {
        var batch = Batch(key: key, itemsPerCommand: max(1, itemsPerCommand))
        // The collections' iterations take bodies that cannot throw: the first failure of
        // `commandEnded` is kept, ends the iteration and is thrown after it.
        var failure: (any Error)? = nil
        func element(_ write: (inout [UInt8]) -> Void) -> Bool {
            guard failure == nil else { return false }
            batch.begin(&out)
            write(&out)
            if batch.end() {
                do { try commandEnded(&out) } catch { failure = error }
            }
            return failure == nil
        }

        switch value {
        case .int(let v):
            single("SET", key, to: &out) { CommandEncoder.appendBulk(decimal: v, to: &$0) }
            try commandEnded(&out)
        case .string(let s):
            single("SET", key, to: &out) { CommandEncoder.appendBulk(s.bytes, to: &$0) }
            try commandEnded(&out)
        case .list(let list):
            batch.start("RPUSH", items: list.count, argumentsPerItem: 1)
            list.forEach(from: 0, through: list.count - 1) { e in element { CommandEncoder.appendBulk(e, to: &$0) } }
        case .set(let set):
            batch.start("SADD", items: set.count, argumentsPerItem: 1)
            set.forEach { member in
                _ = element { out in
                    switch member {
                    case .int(let v): CommandEncoder.appendBulk(decimal: v, to: &out)
                    case .bytes(let b): CommandEncoder.appendBulk(b, to: &out)
                    }
                }
            }
        case .hash(let hash):
            batch.start("HSET", items: hash.count, argumentsPerItem: 2)
            hash.forEach { field, v in
                _ = element { out in
                    CommandEncoder.appendBulk(field, to: &out)
                    CommandEncoder.appendBulk(v, to: &out)
                }
            }
        case .zset(let zset):
            batch.start("ZADD", items: zset.count, argumentsPerItem: 2)
            zset.forEachInOrder { member, score in
                _ = element { out in
                    appendScore(score, to: &out)
                    CommandEncoder.appendBulk(member, to: &out)
                }
            }
        }
        if let failure { throw failure }
        if expireAt != noExpiry {
            single("PEXPIREAT", key, to: &out) { CommandEncoder.appendBulk(decimal: expireAt, to: &$0) }
            try commandEnded(&out)
        }
    }

    /// `<word> <key> <value>`, the value written by `value`.
    private static func single(_ word: StaticString, _ key: [UInt8], to out: inout [UInt8], _ value: (inout [UInt8]) -> Void) {
        CommandEncoder.appendArrayHeader(3, to: &out)
        CommandEncoder.appendBulk(word, to: &out)
        CommandEncoder.appendBulk(key, to: &out)
        value(&out)
    }

    private static func appendScore(_ score: Double, to out: inout [UInt8]) {
        withUnsafeTemporaryAllocation(byteCount: ScoreFormat.maxLength, alignment: 1) { text in
            let n = ScoreFormat.write(score, into: text)
            CommandEncoder.appendBulk(UnsafeRawBufferPointer(rebasing: text[..<n]), to: &out)
        }
    }

    /// Starts a command every `itemsPerCommand` elements, its header sized for what is left.
    private struct Batch {
        let key: [UInt8]
        let itemsPerCommand: Int
        var word: StaticString = ""
        var remaining = 0
        var argumentsPerItem = 1
        var inCommand = 0

        init(key: [UInt8], itemsPerCommand: Int) {
            self.key = key
            self.itemsPerCommand = itemsPerCommand
        }

        mutating func start(_ word: StaticString, items: Int, argumentsPerItem: Int) {
            self.word = word
            remaining = items
            self.argumentsPerItem = argumentsPerItem
        }

        mutating func begin(_ out: inout [UInt8]) {
            guard inCommand == 0 else { return }
            CommandEncoder.appendArrayHeader(2 + min(remaining, itemsPerCommand) * argumentsPerItem, to: &out)
            CommandEncoder.appendBulk(word, to: &out)
            CommandEncoder.appendBulk(key, to: &out)
        }

        /// True when the element just written ended a command.
        mutating func end() -> Bool {
            inCommand += 1
            remaining -= 1
            guard inCommand == itemsPerCommand || remaining == 0 else { return false }
            inCommand = 0
            return true
        }
    }
}
