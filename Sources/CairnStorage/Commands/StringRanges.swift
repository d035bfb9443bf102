import CairnRESP

// Commands that read or write part of a string: APPEND, STRLEN, GETRANGE/SUBSTR, SETRANGE, LCS.

extension StringCommands {
    static func append(_ c: CommandContext) {
        let key = c.args[1]
        let suffix = c.args[2]
        let db = c.db
        switch lookupStringIndex(c, key) {
        case .wrongType: return
        case .missing:
            // A new key gets the argument as SET would store it (int or embstr encoded).
            db.insert(key, Value.string(fromStored: suffix))
            c.notify(.string, "append", keyAt: 1)
            c.reply.integer(suffix.count)
        case .found(let i):
            let current = db.table.stringLength(at: i) ?? 0
            guard checkStringLength(c, Int64(current), Int64(suffix.count)) else { return }
            let count = current + suffix.count
            db.table.editString(at: i, length: count) { out in
                if suffix.count > 0 { (out.baseAddress! + current).copyMemory(from: suffix.baseAddress!, byteCount: suffix.count) }
            }
            c.notify(.string, "append", keyAt: 1)
            c.reply.integer(count)
        }
        c.engine.dirty += 1
    }

    static func strlen(_ c: CommandContext) {
        switch lookupString(c, c.args[1]) {
        case .wrongType: return
        case .missing: c.reply.integer(0)
        case .found(_, let v): c.reply.integer(stringLength(v))
        }
    }

    /// GETRANGE and SUBSTR.
    static func getrange(_ c: CommandContext) {
        guard var start = c.args.int64(2), var end = c.args.int64(3) else { return c.replyNotInteger() }
        switch lookupString(c, c.args[1]) {
        case .wrongType: return
        case .missing: c.reply.bulk([UInt8]())
        case .found(_, let v):
            let bytes = v.stringBytes ?? []
            let length = Int64(bytes.count)
            if start < 0 && end < 0 && start > end { return c.reply.bulk([UInt8]()) }
            if start < 0 { start += length }
            if end < 0 { end += length }
            start = max(start, 0)
            end = max(end, 0)
            if end >= length { end = length - 1 }
            if start > end || length == 0 { return c.reply.bulk([UInt8]()) }
            c.reply.bulk(bytes[Int(start)...Int(end)])
        }
    }

    static func setrange(_ c: CommandContext) {
        guard let offset = c.args.int64(2) else { return c.replyNotInteger() }
        guard offset >= 0 else { return c.reply.error("ERR offset is out of range") }
        let key = c.args[1]
        let patch = c.args[3]
        let db = c.db
        let index: Int?
        switch lookupStringIndex(c, key) {
        case .wrongType: return
        case .missing:
            if patch.count == 0 { return c.reply.integer(0) }
            index = nil
        case .found(let i):
            if patch.count == 0 { return c.reply.integer(db.table.stringLength(at: i) ?? 0) }
            index = i
        }
        guard checkStringLength(c, offset, Int64(patch.count)) else { return }
        let start = Int(offset)
        // A new key starts as an empty raw string, edited like an existing one.
        let i = index ?? db.insert(key, .string(StringBytes([], raw: true)))
        let count = max(db.table.stringLength(at: i) ?? 0, start + patch.count)
        db.table.editString(at: i, length: count) { out in
            (out.baseAddress! + start).copyMemory(from: patch.baseAddress!, byteCount: patch.count)
        }
        c.notify(.string, "setrange", keyAt: 1)
        c.engine.dirty += 1
        c.reply.integer(count)
    }

    // MARK: LCS

    static func lcs(_ c: CommandContext) {
        let db = c.db
        let first = db.lookupRead(c.args[1]).map { db.table.value(at: $0) }
        let second = db.lookupRead(c.args[2]).map { db.table.value(at: $0) }
        if first.map({ !$0.isString }) ?? false || second.map({ !$0.isString }) ?? false {
            return c.reply.error("ERR The specified keys must contain string values")
        }
        var getIndexes = false, getLength = false, withMatchLength = false
        var minMatchLength: Int64 = 0
        let a = c.args
        var j = 3
        while j < a.count {
            if a.matches(j, "idx") { getIndexes = true }
            else if a.matches(j, "len") { getLength = true }
            else if a.matches(j, "withmatchlen") { withMatchLength = true }
            else if a.matches(j, "minmatchlen") && j + 1 < a.count {
                guard let n = a.int64(j + 1) else { return c.replyNotInteger() }
                minMatchLength = max(n, 0)
                j += 1
            } else {
                return c.replySyntaxError()
            }
            j += 1
        }
        if getIndexes && getLength {
            return c.reply.error("ERR If you want both the length and indexes, please just use IDX.")
        }
        let x = first?.stringBytes ?? []
        let y = second?.stringBytes ?? []
        if x.count >= Int(UInt32.max) - 1 || y.count >= Int(UInt32.max) - 1 {
            return c.reply.error("ERR String too long for LCS")
        }
        let (cells, overflow) = (x.count + 1).multipliedReportingOverflow(by: y.count + 1)
        if overflow || cells > c.engine.settings.protoMaxBulkLength / 4 {
            return c.reply.error("ERR Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len")
        }
        let table = lcsTable(x, y)
        let width = y.count + 1
        let total = Int(table[x.count * width + y.count])

        if getLength && !getIndexes { return c.reply.integer(total) }

        // Walk back from the end, collecting the common subsequence and, for IDX, the ranges
        // where both strings match contiguously (reported last-first, as Redis does).
        var result = [UInt8](repeating: 0, count: total)
        var ranges: [(aStart: Int, aEnd: Int, bStart: Int, bEnd: Int)] = []
        var remaining = total
        var i = x.count, k = y.count
        var current: (aStart: Int, aEnd: Int, bStart: Int, bEnd: Int)?
        func emit() {
            guard let r = current else { return }
            if minMatchLength == 0 || Int64(r.aEnd - r.aStart + 1) >= minMatchLength { ranges.append(r) }
            current = nil
        }
        while i > 0 && k > 0 {
            if x[i - 1] == y[k - 1] {
                result[remaining - 1] = x[i - 1]
                remaining -= 1
                if var r = current {
                    r.aStart -= 1
                    r.bStart -= 1
                    current = r
                } else {
                    current = (i - 1, i - 1, k - 1, k - 1)
                }
                i -= 1
                k -= 1
                if i == 0 || k == 0 { emit() }
            } else {
                if table[(i - 1) * width + k] > table[i * width + k - 1] { i -= 1 } else { k -= 1 }
                emit()
            }
        }
        guard getIndexes else { return c.reply.bulk(result) }
        c.reply.mapHeader(2)
        c.reply.bulk(Array("matches".utf8))
        c.reply.arrayHeader(ranges.count)
        for r in ranges {
            c.reply.arrayHeader(withMatchLength ? 3 : 2)
            c.reply.arrayHeader(2)
            c.reply.integer(r.aStart)
            c.reply.integer(r.aEnd)
            c.reply.arrayHeader(2)
            c.reply.integer(r.bStart)
            c.reply.integer(r.bEnd)
            if withMatchLength { c.reply.integer(r.aEnd - r.aStart + 1) }
        }
        c.reply.bulk(Array("len".utf8))
        c.reply.integer(total)
    }

    /// The dynamic-programming table: entry [i * (y.count + 1) + j] is the LCS length of x[..<i]
    /// and y[..<j].
    static func lcsTable(_ x: [UInt8], _ y: [UInt8]) -> [UInt32] {
        let width = y.count + 1
        var table = [UInt32](repeating: 0, count: (x.count + 1) * width)
        table.withUnsafeMutableBufferPointer { t in
            for i in 1..<(x.count + 1) {
                let row = i * width, above = row - width
                for j in 1..<width {
                    if x[i - 1] == y[j - 1] {
                        t[row + j] = t[above + j - 1] + 1
                    } else {
                        t[row + j] = max(t[above + j], t[row + j - 1])
                    }
                }
            }
        }
        return table
    }
}
