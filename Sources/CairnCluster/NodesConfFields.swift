// The lexical layer of nodes.conf: bytes allowed, fields, numbers (docs/format-nodes-conf.md).

extension NodesConfLoader {
    static let busPortOffset = 10000
    static let portMax = 65535

    /// The whitespace-separated fields of a line. Only printable ASCII and blanks may appear:
    /// Redis writes nothing else, and quotes (which Redis's splitter would interpret) are refused
    /// rather than guessed at.
    static func split(_ line: ArraySlice<UInt8>, number: Int) throws(NodesConfError) -> [Field] {
        var fields: [Field] = []
        var start: Int? = nil
        for at in line.indices {
            let byte = line[at]
            if isBlank(byte) {
                if let s = start { fields.append(line[s..<at]) }
                start = nil
                continue
            }
            guard byte > 0x20, byte < 0x7F, byte != UInt8(ascii: "\""), byte != UInt8(ascii: "'") else {
                throw NodesConfError(line: number, code: .badByte, detail: "byte 0x\(String(byte, radix: 16)) at column \(at - line.startIndex + 1)")
            }
            if start == nil { start = at }
        }
        if let s = start { fields.append(line[s..<line.endIndex]) }
        return fields
    }

    /// Space, tab, CR, vertical tab, form feed: what Redis's splitter skips (newline ends the line).
    static func isBlank(_ byte: UInt8) -> Bool {
        byte == 0x20 || byte == 0x09 || byte == 0x0D || byte == 0x0B || byte == 0x0C
    }

    static func text(_ field: Field) -> String { String(decoding: field, as: UTF8.self) }

    static func equalsIgnoringCase(_ field: Field, _ word: String) -> Bool {
        field.count == word.utf8.count && zip(field, word.utf8).allSatisfy { lower($0) == lower($1) }
    }

    static func lower(_ byte: UInt8) -> UInt8 { (0x41...0x5A).contains(byte) ? byte | 0x20 : byte }

    /// A decimal number of at most 20 digits without sign, or nil (also on overflow).
    static func unsigned(_ field: Field) -> UInt64? {
        guard !field.isEmpty, field.count <= 20 else { return nil }
        var value: UInt64 = 0
        for byte in field {
            guard byte >= 0x30, byte <= 0x39 else { return nil }
            let (times, o1) = value.multipliedReportingOverflow(by: 10)
            let (sum, o2) = times.addingReportingOverflow(UInt64(byte - 0x30))
            guard !o1, !o2 else { return nil }
            value = sum
        }
        return value
    }

    /// A decimal number with an optional `-`, in Int64 range, or nil.
    static func signed(_ field: Field) -> Int64? {
        let negative = field.first == UInt8(ascii: "-")
        guard let magnitude = unsigned(negative ? field.dropFirst() : field) else { return nil }
        if negative {
            guard magnitude <= UInt64(Int64.max) + 1 else { return nil }
            return magnitude == UInt64(Int64.max) + 1 ? Int64.min : -Int64(magnitude)
        }
        guard magnitude <= UInt64(Int64.max) else { return nil }
        return Int64(magnitude)
    }

    static func port(_ field: Field) -> Int? {
        guard let value = unsigned(field), value <= UInt64(portMax) else { return nil }
        return Int(value)
    }

    static func slot(_ field: Field) -> Int? {
        guard let value = unsigned(field), value < UInt64(clusterSlotCount) else { return nil }
        return Int(value)
    }
}
