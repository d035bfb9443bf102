// Where an AOF file's `#TS:<unix seconds>` annotations are (docs/format-backup.md, "Point-in-time
// restore"), which Redis 7 and Cairn write with aof-timestamp-enabled: the first one later than a
// given time, and where a cut there must go so that no MULTI ... EXEC block is left half. The
// engine's AOFScanner reads the file, so it is judged as the server loading it would judge it; a
// torn last command or annotation ends the scan.

import CairnStorage
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

struct AOFTimestampScan {
    /// Offset where the file must be cut so that nothing after `after` remains; nil when nothing is later.
    var cutOffset: Int64?
    /// The annotation found there.
    var cutTimestamp: Int64?
    var firstTimestamp: Int64?
    var lastTimestamp: Int64?
    /// Where the last complete command or annotation ends.
    var completeBytes: Int64 = 0

    /// Scans all of `fd` (called `name` in messages) for the first annotation later than `after`.
    init(fd: Int32, name: String, after: Int64) throws {
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw BackupError.io("cannot read \(name)", errno: errno) }
        let scanner = AOFScanner(fd: fd, fileSize: Int64(st.st_size))
        var multiStart: Int64? = nil
        scanning: while true {
            let item: AOFScanner.Item
            do {
                item = try scanner.next()
            } catch {
                switch error {
                case .truncated: break scanning
                case .malformed(_, let commandStart, let reason):
                    throw BackupError.damaged("\(name): \(reason) at offset \(commandStart)")
                case .io(let text): throw BackupError(.io, "cannot read \(name): \(text)")
                }
            }
            let at = scanner.itemStart
            switch item {
            case .end:
                break scanning
            case .annotation(let text):
                // The scanner returns a last line without its line end, as Redis's loader reads
                // it; here it is a torn tail, whose time would be a cut-off number.
                if scanner.offset == at + 1 + Int64(text.count) { break scanning }
                if AOFTimestamp.isTimestamp(text) {
                    guard let ts = AOFTimestamp.seconds(text) else {
                        throw BackupError.damaged("\(name): bad #TS annotation at offset \(at)")
                    }
                    if firstTimestamp == nil { firstTimestamp = ts }
                    lastTimestamp = ts
                    if ts > after && cutOffset == nil {
                        cutOffset = multiStart ?? at
                        cutTimestamp = ts
                    }
                }
            case .command(let args):
                if args.matches(0, "multi") {
                    multiStart = at
                } else if args.matches(0, "exec") || args.matches(0, "discard") {
                    multiStart = nil
                }
            }
            completeBytes = scanner.offset
        }
    }
}
