import CairnStorage

/// Bytes of a literal.
func b(_ s: String) -> [UInt8] { Array(s.utf8) }

/// Values of every type, built as the engine builds them.
enum Samples {
    static let settings = EngineSettings()

    static func list(_ items: [[UInt8]]) -> Value { .list(QuickList(items)) }

    static func set(_ items: [[UInt8]]) -> Value {
        let s = SetValue()
        for m in items { s.add(m, maxIntsetEntries: settings.setMaxIntsetEntries) }
        return .set(s)
    }

    static func hash(_ pairs: [([UInt8], [UInt8])]) -> Value {
        let h = HashValue()
        for (f, v) in pairs { h.set(f, v, limits: HashLimits(settings)) }
        return .hash(h)
    }

    static func zset(_ items: [([UInt8], Double)]) -> Value {
        .zset(SortedSetValue.build(items.map { (member: $0.0, score: $0.1) }, sorted: false,
                                   limits: SortedSetValue.Limits(settings)))
    }

    static func string(_ bytes: [UInt8]) -> Value { Value.string(fromStored: bytes) }
}

/// A RESP stream of arrays of bulk strings, split back into commands (tests of `--resp`).
func parseCommands(_ bytes: [UInt8]) -> [[[UInt8]]]? {
    var i = 0
    func line() -> Int? {
        var n = 0
        var negative = false
        if i < bytes.count && bytes[i] == UInt8(ascii: "-") { negative = true; i += 1 }
        var digits = 0
        while i < bytes.count && bytes[i] >= 48 && bytes[i] <= 57 {
            n = n * 10 + Int(bytes[i] - 48)
            i += 1
            digits += 1
        }
        guard digits > 0, i + 1 < bytes.count, bytes[i] == 13, bytes[i + 1] == 10 else { return nil }
        i += 2
        return negative ? -n : n
    }
    var commands: [[[UInt8]]] = []
    while i < bytes.count {
        guard bytes[i] == UInt8(ascii: "*") else { return nil }
        i += 1
        guard let count = line() else { return nil }
        var args: [[UInt8]] = []
        for _ in 0..<count {
            guard i < bytes.count, bytes[i] == UInt8(ascii: "$") else { return nil }
            i += 1
            guard let len = line(), len >= 0, i + len + 2 <= bytes.count else { return nil }
            args.append(Array(bytes[i..<(i + len)]))
            guard bytes[i + len] == 13, bytes[i + len + 1] == 10 else { return nil }
            i += len + 2
        }
        commands.append(args)
    }
    return commands
}

func text(_ command: [[UInt8]]) -> [String] { command.map { String(decoding: $0, as: UTF8.self) } }
