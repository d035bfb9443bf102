// `cairn-rdb biggest FILE --top N`: the keys that take the most room in the file
// (docs/tools-cairn-rdb.md, "biggest").

import CairnStorage

public struct BiggestOptions: Sendable {
    public var path: String
    public var top: Int
    public var json: Bool
    public var filter: KeyFilter
    public init(path: String, top: Int = 10, json: Bool = false, filter: KeyFilter = KeyFilter()) {
        self.path = path
        self.top = top
        self.json = json
        self.filter = filter
    }
}

public struct BigKey: Sendable, Equatable {
    public var db: Int
    public var key: [UInt8]
    public var type: String
    /// Serialized bytes in the (decompressed) RDB stream.
    public var bytes: Int
    /// Elements of a collection, a string's length.
    public var elements: Int

    public init(db: Int, key: [UInt8], type: String, bytes: Int, elements: Int) {
        self.db = db
        self.key = key
        self.type = type
        self.bytes = bytes
        self.elements = elements
    }
}

/// The `capacity` largest keys seen, largest first; ties keep the one seen first.
public struct TopKeys: Sendable {
    public let capacity: Int
    public private(set) var keys: [BigKey] = []

    public init(capacity: Int) { self.capacity = max(0, capacity) }

    public func wants(bytes: Int) -> Bool {
        capacity > 0 && (keys.count < capacity || (keys.last?.bytes ?? 0) < bytes)
    }

    public mutating func offer(_ key: BigKey) {
        guard wants(bytes: key.bytes) else { return }
        // First position holding fewer bytes: equal sizes stay in file order.
        var lo = 0, hi = keys.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if keys[mid].bytes >= key.bytes { lo = mid + 1 } else { hi = mid }
        }
        keys.insert(key, at: lo)
        if keys.count > capacity { keys.removeLast() }
    }
}

public enum BiggestCommand {
    public static let topMax = 1_000_000

    public static func main(_ options: BiggestOptions) -> Int32 {
        ToolRunner.main(file: options.path) { try run(options, output: $0) }
    }

    public static func run(_ options: BiggestOptions, output: ByteOutput) throws {
        guard options.top >= 1 && options.top <= topMax else {
            throw ToolError.usage("--top must be between 1 and \(topMax), got \(options.top)")
        }
        let input = try RDBFile(path: options.path)
        var top = TopKeys(capacity: options.top)
        try input.forEachRecord { record in
            guard case .entry(let e) = record, top.wants(bytes: e.byteCount),
                  options.filter.includes(db: e.db, key: e.key) else { return }
            top.offer(BigKey(db: e.db, key: e.key, type: ValueFacts.typeName(e.value), bytes: e.byteCount,
                             elements: ValueFacts.elementCount(e.value)))
        }
        try output.write(options.json ? json(top.keys) : text(top.keys))
    }

    /// `rank  db  bytes  type  elements  key`, one key per line.
    public static func text(_ keys: [BigKey]) -> [UInt8] {
        var out: [UInt8] = []
        let rows = keys.enumerated().map { i, k in
            [String(i + 1), String(k.db), String(k.bytes), k.type, String(k.elements)]
        }
        let header = ["rank", "db", "bytes", "type", "elements"]
        let widths = header.indices.map { c in rows.reduce(header[c].count) { max($0, $1[c].count) } }
        func cells(_ row: [String]) -> String {
            row.indices.map { c in row[c] + String(repeating: " ", count: widths[c] - row[c].count) }.joined(separator: "  ")
        }
        out.append(contentsOf: (cells(header) + "  key\n").utf8)
        for (row, k) in zip(rows, keys) {
            out.append(contentsOf: (cells(row) + "  ").utf8)
            ByteEscaping.appendQuoted(k.key, to: &out)
            out.append(10)
        }
        return out
    }

    /// One JSON object per line: {"rank":1,"db":0,"key":"k","type":"list","bytes":N,"elements":N}.
    public static func json(_ keys: [BigKey]) -> [UInt8] {
        var out: [UInt8] = []
        for (i, k) in keys.enumerated() {
            out.append(contentsOf: #"{"rank":\#(i + 1),"db":\#(k.db),"key":"#.utf8)
            ByteEscaping.appendJSONString(k.key, to: &out)
            out.append(contentsOf: #","type":"\#(k.type)","bytes":\#(k.bytes),"elements":\#(k.elements)}"#.utf8)
            out.append(10)
        }
        return out
    }
}
