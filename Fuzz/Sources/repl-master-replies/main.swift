import CairnReplication
import FuzzSupport

// Target repl-master-replies: what a replica reads from its master before the command stream
// (Sources/CairnReplication/MasterReplies.swift): reply lines, the PSYNC reply, the bulk header,
// and the end of an EOF-marked transfer. The input is read as the replica reads it: lines, each
// decoded as a PSYNC reply and as a bulk header, and whatever follows the last whole line fed to
// an EOF watcher in two pieces. Checked beyond "no trap": a line never takes more bytes than
// there are, and a decoded reply formats back to the line it came from.

FuzzDriver.run { input in
    let bytes = Array(input)
    var at = 0
    while at < bytes.count {
        let next = bytes[at...].withUnsafeBytes { MasterReplies.line(in: $0) }
        guard case .line(let line, let consumed) = next else { break }
        FuzzCheck.require(consumed >= 1 && consumed <= bytes.count - at, "a line took \(consumed) of \(bytes.count - at) bytes")
        at += consumed
        switch MasterReplies.psync(line) {
        case .fullResync(let replid, let offset):
            FuzzCheck.require(line == "+FULLRESYNC \(replid) \(offset)" || line.hasPrefix("+FULLRESYNC \(replid) "), "FULLRESYNC: \(line)")
        case .partial(let replid):
            FuzzCheck.require(line == (replid.map { "+CONTINUE \($0)" } ?? "+CONTINUE"), "CONTINUE: \(line)")
        case .tryLater, .refused:
            break
        }
        switch MasterReplies.bulkHeader(line) {
        case .eofMarked(let mark):
            FuzzCheck.require(mark.count == MasterReplies.eofMarkBytes && line == "$EOF:" + String(decoding: mark, as: UTF8.self),
                              "EOF header: \(line)")
        case .length(let n):
            FuzzCheck.require(n >= 0, "negative length from \(line)")
        case .keepAlive:
            FuzzCheck.require(line.isEmpty, "keep-alive from \(line)")
        case .masterError, .invalid:
            break
        }
    }
    // The rest as a transfer body, against a mark taken from the input itself.
    let rest = Array(bytes[at...])
    let mark = Array(rest.suffix(MasterReplies.eofMarkBytes))
    guard mark.count == MasterReplies.eofMarkBytes else { return }
    var watcher = EOFMarkWatcher(mark: mark)
    let half = rest.count / 2
    let first = rest[..<half].withUnsafeBytes { watcher.feed($0) }
    let second = rest[half...].withUnsafeBytes { watcher.feed($0) }
    FuzzCheck.require(second, "the transfer ends with its mark but was not seen to end")
    if first { FuzzCheck.require(Array(rest[..<half].suffix(mark.count)) == mark, "ended early") }
}
