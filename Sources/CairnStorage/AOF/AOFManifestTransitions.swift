// How a multi-part AOF's manifest changes (docs/format-aof.md, "Manifest"; Redis 7.0's aof.c):
// the steps the server's rewrite and `cairn-aof rewrite` both take, so the two cannot disagree
// on names, sequence numbers or what becomes history.

extension AOFManifest {
    /// A new increment after the last one, and after any increment already history (Redis's
    /// getNewIncrAofName).
    public mutating func addIncrement(prefix: String) -> Entry {
        let seq = max(lastIncrSeq, history.filter { $0.name.hasSuffix(".incr.aof") }.map(\.seq).max() ?? 0) + 1
        let entry = Entry(name: Self.incrName(prefix, seq: seq), seq: seq, type: .incr)
        increments.append(entry)
        return entry
    }

    /// A new base after the current one, which becomes history (Redis's
    /// getNewBaseFileNameAndMarkPreAsHistory).
    public mutating func replaceBase(prefix: String, rdbPreamble: Bool) -> Entry {
        let seq = (base?.seq ?? 0) + 1
        if var old = base {
            old.type = .history
            history.append(old)
        }
        let entry = Entry(name: Self.baseName(prefix, seq: seq, rdbPreamble: rdbPreamble), seq: seq, type: .base)
        base = entry
        return entry
    }

    /// Increments the new base covers become history; the one being written stays when
    /// `keepingLast` (Redis's markRewrittenIncrAofAsHistory).
    public mutating func markRewrittenIncrementsAsHistory(keepingLast: Bool) {
        let keep = keepingLast && !increments.isEmpty ? 1 : 0
        let rewritten = increments.dropLast(keep)
        history += rewritten.map { Entry(name: $0.name, seq: $0.seq, type: .history) }
        increments.removeFirst(rewritten.count)
    }
}
