// `cairn-rdb dump FILE`: every key, as text, JSON lines or RESP commands
// (docs/tools-cairn-rdb.md, "dump").

import CairnStorage
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

public enum DumpFormat: String, Sendable {
    case text, json, resp
}

public struct DumpOptions: Sendable {
    public var path: String
    public var format: DumpFormat
    public var filter: KeyFilter
    /// Elements (hash: field-value pairs) per command of `--resp` output.
    public var batchElements: Int
    /// The time `ttl=` in text output counts from (unix ms); nil is now.
    public var nowMs: Int64?

    public init(path: String, format: DumpFormat = .text, filter: KeyFilter = KeyFilter(),
                batchElements: Int = DumpOptions.batchElementsDefault, nowMs: Int64? = nil) {
        self.path = path
        self.format = format
        self.filter = filter
        self.batchElements = batchElements
        self.nowMs = nowMs
    }

    /// Large enough that a collection takes few commands, small enough that none is huge.
    public static let batchElementsDefault = 1000
}

public enum DumpCommand {
    public static func main(_ options: DumpOptions) -> Int32 {
        ToolRunner.main(file: options.path) { try run(options, output: $0) }
    }

    public static func run(_ options: DumpOptions, output: ByteOutput) throws {
        let input = try RDBFile(path: options.path)
        let now = options.nowMs ?? currentTimeMs()
        var stream = CommandStreamEncoder()
        var line: [UInt8] = []
        line.reserveCapacity(4096)
        try input.forEachRecord { record in
            guard case .entry(let e) = record, options.filter.includes(db: e.db, key: e.key) else { return }
            line.removeAll(keepingCapacity: true)
            switch options.format {
            case .text:
                EntryText.append(db: e.db, key: e.key, value: e.value, expireAt: e.expireAt, nowMs: now, to: &line)
                line.append(10)
            case .json:
                EntryJSON.append(db: e.db, key: e.key, value: e.value, expireAt: e.expireAt, to: &line)
                line.append(10)
            case .resp:
                // Each command is written out as it ends, so a huge collection never sits in memory.
                stream.select(e.db, to: &line)
                try KeyCommands.append(key: e.key, value: e.value, expireAt: e.expireAt,
                                       itemsPerCommand: options.batchElements, to: &line) { pending in
                    try output.write(pending)
                    pending.removeAll(keepingCapacity: true)
                }
            }
            try output.write(line)
        }
    }
}

func currentTimeMs() -> Int64 {
    var ts = timespec()
    clock_gettime(CLOCK_REALTIME, &ts)
    return Int64(ts.tv_sec) * 1000 + Int64(ts.tv_nsec) / 1_000_000
}
