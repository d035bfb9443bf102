import CairnRESP

// How propagated commands are written to an AOF increment (docs/format-aof.md): each command a
// RESP array of bulk strings; `SELECT <db>` whenever the database differs from the previous
// command's; with aof-timestamp-enabled, a `#TS:<unix seconds>\r\n` annotation whenever the
// second changed since the last one.

public struct AOFCommandEncoder: Sendable {
    /// The database the log is in (-1: none yet, so the first command selects).
    public var selectedDB = -1
    /// The second of the last `#TS:` annotation.
    public var lastTimestamp: Int64 = -1
    public var timestamps: Bool

    public init(timestamps: Bool) { self.timestamps = timestamps }

    public mutating func append(_ batch: [PropagatedCommand], nowMillis: Int64, to out: inout [UInt8]) {
        if timestamps {
            let seconds = nowMillis / 1000
            if seconds != lastTimestamp {
                out.append(contentsOf: Array("#TS:\(seconds)\r\n".utf8))
                lastTimestamp = seconds
            }
        }
        for command in batch {
            if command.db != selectedDB {
                Self.encode([Self.selectWord, Array(String(command.db).utf8)], to: &out)
                selectedDB = command.db
            }
            out.append(contentsOf: command.resp)
        }
    }

    public static func encode(_ args: [[UInt8]], to out: inout [UInt8]) {
        out.append(UInt8(ascii: "*"))
        out.append(contentsOf: Decimal.bytes(Int64(args.count)))
        out.append(contentsOf: [13, 10])
        for a in args {
            out.append(UInt8(ascii: "$"))
            out.append(contentsOf: Decimal.bytes(Int64(a.count)))
            out.append(contentsOf: [13, 10])
            out.append(contentsOf: a)
            out.append(contentsOf: [13, 10])
        }
    }

    static let selectWord = Array("SELECT".utf8)
}
