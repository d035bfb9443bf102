import CairnRESP

// The command stream that the AOF and (later) the replication stream carry (docs/format-aof.md,
// "Command encoding"; Redis's feedAppendOnlyFile and replicationFeedSlaves): each command a RESP
// array of bulk strings, preceded by `SELECT <db>` whenever its database is not the one the
// stream is in; in the AOF with aof-timestamp-enabled, a `#TS:<unix seconds>` annotation before a
// batch whenever the second changed since the last one. A replication stream has no annotations,
// and forgets its database when a replica syncs anew so that its next command selects again.

public struct CommandStreamEncoder: Sendable {
    /// The database the stream is in: nil before the first command and after `forgetSelectedDB`.
    public private(set) var selectedDB: Int?
    /// Whether batches get `#TS:` annotations (only the AOF, with aof-timestamp-enabled).
    public var timestamps: Bool
    /// The second of the last annotation.
    private var lastTimestamp: Int64 = -1

    public init(timestamps: Bool = false) { self.timestamps = timestamps }

    /// Appends one propagated batch, annotated with the second of `nowMillis` if `timestamps`.
    public mutating func append(_ batch: PropagatedCommands, nowMillis: Int64, to out: inout [UInt8]) {
        annotate(nowMillis, to: &out)
        for i in 0..<batch.count { append(db: batch.db(i), resp: batch.resp(i), to: &out) }
    }

    /// As above, for commands kept in arrays of their own (tests, tools).
    public mutating func append(_ batch: [PropagatedCommand], nowMillis: Int64, to out: inout [UInt8]) {
        annotate(nowMillis, to: &out)
        for command in batch { append(command, to: &out) }
    }

    private mutating func annotate(_ nowMillis: Int64, to out: inout [UInt8]) {
        guard timestamps else { return }
        let seconds = nowMillis / 1000
        if seconds != lastTimestamp {
            AOFTimestamp.append(seconds: seconds, to: &out)
            lastTimestamp = seconds
        }
    }

    /// Appends one command, after a SELECT if it is for another database.
    @inline(__always)
    public mutating func append(_ command: PropagatedCommand, to out: inout [UInt8]) {
        select(command.db, to: &out)
        out.append(contentsOf: command.resp)
    }

    /// Appends one encoded command, after a SELECT if it is for another database.
    @inline(__always)
    public mutating func append(db: Int, resp: UnsafeRawBufferPointer, to out: inout [UInt8]) {
        select(db, to: &out)
        out.append(contentsOf: resp)
    }

    /// A SELECT, unless the stream is in `db` already; for writers that encode their commands
    /// themselves (the AOF base, `cairn-rdb dump --resp`).
    @inline(__always)
    public mutating func select(_ db: Int, to out: inout [UInt8]) {
        guard db != selectedDB else { return }
        CommandEncoder.appendArrayHeader(2, to: &out)
        CommandEncoder.appendBulk("SELECT", to: &out)
        CommandEncoder.appendBulk(decimal: Int64(db), to: &out)
        selectedDB = db
    }

    /// Makes the next command select its database again: it starts a new AOF file, or a replica
    /// that synced anew reads it.
    public mutating func forgetSelectedDB() { selectedDB = nil }
}

/// The `#TS:<unix seconds>` annotation lines of an AOF (docs/format-aof.md, "Annotations"), which
/// point-in-time cuts look for (`cairn-aof truncate-to-timestamp`, `cairn-backup restore --to-time`).
public enum AOFTimestamp {
    static func append(seconds: Int64, to out: inout [UInt8]) {
        out.append(contentsOf: "#TS:".utf8)
        Decimal.append(seconds, to: &out)
        out.append(13)
        out.append(10)
    }

    /// Whether an annotation (as AOFScanner returns it: without '#' and line end) is a `TS:` one.
    public static func isTimestamp(_ annotation: UnsafeRawBufferPointer) -> Bool {
        annotation.starts(with: "TS:".utf8)
    }

    /// The unix seconds of a `TS:<seconds>` annotation; nil for another annotation or a time that
    /// is not an integer.
    public static func seconds(_ annotation: UnsafeRawBufferPointer) -> Int64? {
        guard isTimestamp(annotation) else { return nil }
        return Decimal.parseInt64(UnsafeRawBufferPointer(rebasing: annotation[3...]))
    }
}
