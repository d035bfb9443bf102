import CairnRESP

// Bitmap commands on string values (bitops.c in Redis). Bit 0 is the most significant bit of the
// first byte. Integer-encoded values are read as their decimal digits.

enum BitCommands {
    static let specs: [CommandSpec] = [
        CommandSpec("setbit", arity: 4, flags: [.write, .denyOOM], categories: [.write, .bitmap, .slow],
                    keys: [.at(1, [.RW, .access, .update])], group: "bitmap", since: "2.2.0",
                    summary: "Sets or clears the bit at offset in the string value stored at key", handler: setbit),
        CommandSpec("getbit", arity: 3, flags: [.readonly, .fast], categories: [.read, .bitmap, .fast],
                    keys: [.at(1, [.RO, .access])], group: "bitmap", since: "2.2.0",
                    summary: "Returns the bit value at offset in the string value stored at key", handler: getbit),
        CommandSpec("bitcount", arity: -2, flags: [.readonly], categories: [.read, .bitmap, .slow],
                    keys: [.at(1, [.RO, .access])],
                    group: "bitmap", since: "2.6.0", summary: "Count set bits in a string",
                    handler: bitcount),
        CommandSpec("bitpos", arity: -3, flags: [.readonly], categories: [.read, .bitmap, .slow],
                    keys: [.at(1, [.RO, .access])],
                    group: "bitmap", since: "2.8.7", summary: "Find first bit set or clear in a string",
                    handler: bitpos),
        CommandSpec("bitop", arity: -4, flags: [.write, .denyOOM], categories: [.write, .bitmap, .slow],
                    keys: [.at(2, [.OW, .update]), .from(3, lastKey: -1, [.RO, .access])],
                    group: "bitmap", since: "2.6.0",
                    summary: "Perform bitwise operations between strings", handler: bitop),
    ]

    /// A bit offset argument: a non-negative integer whose byte lies within proto-max-bulk-len.
    static func bitOffset(_ c: CommandContext, _ arg: Int) -> Int? {
        guard let v = c.args.int64(arg), v >= 0, (v >> 3) < Int64(c.engine.settings.protoMaxBulkLength) else {
            c.reply.error("ERR bit offset is not an integer or out of range")
            return nil
        }
        return Int(v)
    }

    static func setbit(_ c: CommandContext) {
        guard let offset = bitOffset(c, 2) else { return }
        guard let on = c.args.int64(3), on & ~1 == 0 else {
            return c.reply.error("ERR bit is not an integer or out of range")
        }
        let key = c.args[1]
        let db = c.db
        let byte = offset >> 3
        let index: Int
        var changed = false
        switch StringCommands.lookupStringIndex(c, key) {
        case .wrongType: return
        case .missing:
            index = db.insert(key, .string(StringBytes([], raw: true)))
        case .found(let i):
            index = i
        }
        let current = db.table.stringLength(at: index) ?? 0
        if current <= byte { changed = true }
        let mask = UInt8(0x80) >> UInt8(offset & 7)
        // Redis unshares the value even when no bit changes, so it always ends up raw.
        let old = db.table.editString(at: index, length: max(current, byte + 1)) { out in
            let old = out[byte] & mask != 0
            if old != (on == 1) {
                out[byte] ^= mask
                changed = true
            }
            return old
        }
        if changed {
            c.notify(.string, "setbit", keyAt: 1)
            c.engine.dirty += 1
        }
        c.reply.integer(old ? 1 : 0)
    }

    static func getbit(_ c: CommandContext) {
        guard let offset = bitOffset(c, 2) else { return }
        switch StringCommands.lookupString(c, c.args[1]) {
        case .wrongType: return
        case .missing: c.reply.integer(0)
        case .found(_, let v):
            let bytes = v.stringBytes ?? []
            let byte = offset >> 3
            let set = byte < bytes.count && bytes[byte] & (UInt8(0x80) >> UInt8(offset & 7)) != 0
            c.reply.integer(set ? 1 : 0)
        }
    }

    /// Parses an optional BYTE|BIT unit word; nil after replying a syntax error.
    static func unitIsBit(_ c: CommandContext, _ arg: Int) -> Bool? {
        if c.args.matches(arg, "bit") { return true }
        if c.args.matches(arg, "byte") { return false }
        c.replySyntaxError()
        return nil
    }

    /// Normalises a start/end pair against `total` units as Redis does: negative values count from
    /// the end, then both are clamped to the valid range.
    static func clampRange(_ start: Int64, _ end: Int64, total: Int64) -> (Int64, Int64) {
        var s = start, e = end
        if s < 0 { s += total }
        if e < 0 { e += total }
        s = max(s, 0)
        e = max(e, 0)
        if e >= total { e = total - 1 }
        return (s, e)
    }

    static func bitcount(_ c: CommandContext) {
        // Redis 7.0 looks the key up before it parses the range, so a missing key answers 0 even
        // to malformed arguments.
        let bytes: [UInt8]
        switch StringCommands.lookupString(c, c.args[1]) {
        case .wrongType: return
        case .missing: return c.reply.integer(0)
        case .found(_, let v): bytes = v.stringBytes ?? []
        }
        let a = c.args
        var firstBit: Int64, lastBit: Int64
        if a.count == 4 || a.count == 5 {
            guard let start = a.int64(2), let end = a.int64(3) else { return c.replyNotInteger() }
            if start < 0 && end < 0 && start > end { return c.reply.integer(0) }
            var isBit = false
            if a.count == 5 {
                guard let unit = unitIsBit(c, 4) else { return }
                isBit = unit
            }
            let total = Int64(bytes.count) << (isBit ? 3 : 0)
            let (s, e) = clampRange(start, end, total: total)
            if s > e { return c.reply.integer(0) }
            (firstBit, lastBit) = isBit ? (s, e) : (s << 3, (e << 3) | 7)
        } else if a.count == 2 {
            if bytes.isEmpty { return c.reply.integer(0) }
            (firstBit, lastBit) = (0, Int64(bytes.count) * 8 - 1)
        } else {
            return c.replySyntaxError()
        }
        c.reply.integer(countBits(bytes, from: Int(firstBit), through: Int(lastBit)))
    }

    /// Set bits in the inclusive bit range (which lies within `bytes`).
    static func countBits(_ bytes: [UInt8], from first: Int, through last: Int) -> Int {
        let firstByte = first >> 3, lastByte = last >> 3
        let headMask = UInt8(0xFF) >> UInt8(first & 7)
        let tailMask = UInt8(0xFF) << UInt8(7 - (last & 7))
        if firstByte == lastByte { return (bytes[firstByte] & headMask & tailMask).nonzeroBitCount }
        var count = (bytes[firstByte] & headMask).nonzeroBitCount + (bytes[lastByte] & tailMask).nonzeroBitCount
        bytes.withUnsafeBytes { raw in
            var i = firstByte + 1
            while i + 8 <= lastByte {
                count += raw.loadUnaligned(fromByteOffset: i, as: UInt64.self).nonzeroBitCount
                i += 8
            }
            while i < lastByte {
                count += raw[i].nonzeroBitCount
                i += 1
            }
        }
        return count
    }

    static func bitpos(_ c: CommandContext) {
        let a = c.args
        guard let bit = a.int64(2) else { return c.replyNotInteger() }
        guard bit == 0 || bit == 1 else { return c.reply.error("ERR The bit argument must be 1 or 0.") }
        let lookingForOne = bit == 1
        // A missing key is an endless run of zero bits.
        let bytes: [UInt8]
        switch StringCommands.lookupString(c, a[1]) {
        case .wrongType: return
        case .missing: return c.reply.integer(lookingForOne ? -1 : 0)
        case .found(_, let v): bytes = v.stringBytes ?? []
        }
        var firstBit: Int64, lastBit: Int64
        var endGiven = false
        if a.count >= 4 && a.count <= 6 {
            guard let start = a.int64(3) else { return c.replyNotInteger() }
            var isBit = false
            if a.count == 6 {
                guard let unit = unitIsBit(c, 5) else { return }
                isBit = unit
            }
            let total = Int64(bytes.count) << (isBit ? 3 : 0)
            var end = total - 1
            if a.count >= 5 {
                guard let e = a.int64(4) else { return c.replyNotInteger() }
                end = e
                endGiven = true
            }
            let (s, e) = clampRange(start, end, total: total)
            if s > e { return c.reply.integer(-1) }
            (firstBit, lastBit) = isBit ? (s, e) : (s << 3, (e << 3) | 7)
        } else if a.count == 3 {
            if bytes.isEmpty { return c.reply.integer(-1) }
            (firstBit, lastBit) = (0, Int64(bytes.count) * 8 - 1)
        } else {
            return c.replySyntaxError()
        }
        if let found = findBit(bytes, one: lookingForOne, from: Int(firstBit), through: Int(lastBit)) {
            return c.reply.integer(found)
        }
        // Looking for a clear bit without an explicit end, the string counts as padded with zeros:
        // the answer is the first bit after the range's last byte.
        if lookingForOne || endGiven { return c.reply.integer(-1) }
        c.reply.integer(((lastBit >> 3) + 1) << 3)
    }

    /// Position of the first bit equal to `one` in the inclusive bit range, or nil.
    static func findBit(_ bytes: [UInt8], one: Bool, from first: Int, through last: Int) -> Int? {
        let skipWord: UInt64 = one ? 0 : .max
        var i = first >> 3
        let lastByte = last >> 3
        while i <= lastByte {
            var b = one ? bytes[i] : ~bytes[i]
            if i == first >> 3 { b &= UInt8(0xFF) >> UInt8(first & 7) }
            if i == lastByte { b &= UInt8(0xFF) << UInt8(7 - (last & 7)) }
            if b != 0 { return i * 8 + b.leadingZeroBitCount }
            i += 1
            // Whole bytes that cannot contain the bit are skipped eight at a time.
            while i + 8 <= lastByte,
                  bytes.withUnsafeBytes({ $0.loadUnaligned(fromByteOffset: i, as: UInt64.self) }) == skipWord {
                i += 8
            }
        }
        return nil
    }

    static func bitop(_ c: CommandContext) {
        enum Op { case and, or, xor, not }
        let a = c.args
        let op: Op
        if a.matches(1, "and") { op = .and }
        else if a.matches(1, "or") { op = .or }
        else if a.matches(1, "xor") { op = .xor }
        else if a.matches(1, "not") { op = .not }
        else { return c.replySyntaxError() }
        if op == .not && a.count != 4 {
            return c.reply.error("ERR BITOP NOT must be called with a single source key.")
        }
        let db = c.db
        var sources: [[UInt8]] = []
        sources.reserveCapacity(a.count - 3)
        for k in 3..<a.count {
            switch StringCommands.lookupString(c, a[k]) {
            case .wrongType: return
            case .missing: sources.append([])
            case .found(_, let v): sources.append(v.stringBytes ?? [])
            }
        }
        let length = sources.reduce(0) { max($0, $1.count) }
        let dest = a[2]
        guard length > 0 else {
            if db.delete(dest) {
                c.notify(.generic, "del", keyAt: 2)
                c.engine.dirty += 1
            }
            return c.reply.integer(0)
        }
        var result = [UInt8](repeating: 0, count: length)
        switch op {
        case .not:
            for j in 0..<length { result[j] = ~sources[0][j] }
        case .and:
            // Shorter sources read as zero-padded, so only the common prefix can have bits set.
            let common = sources.reduce(length) { min($0, $1.count) }
            for j in 0..<common {
                var b: UInt8 = 0xFF
                for s in sources { b &= s[j] }
                result[j] = b
            }
        case .or, .xor:
            for s in sources {
                for j in 0..<s.count {
                    if op == .or { result[j] |= s[j] } else { result[j] ^= s[j] }
                }
            }
        }
        db.set(dest, .string(StringBytes(result, raw: true)))
        c.notify(.string, "set", keyAt: 2)
        c.engine.dirty += 1
        c.reply.integer(length)
    }
}
