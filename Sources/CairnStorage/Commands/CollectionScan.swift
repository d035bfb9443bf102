import CairnRESP

// The SCAN family's shared parts, after Redis's scanGenericCommand: the options after the cursor
// (SCAN, HSCAN, SSCAN, ZSCAN) and the driver for scanning one collection (HSCAN, SSCAN, ZSCAN).
// The cursor itself is parsed by KeyspaceCommands.parseScanCursor.

/// `[MATCH pattern] [COUNT count] [TYPE type]` after a SCAN-family cursor.
struct ScanOptions {
    /// How many elements a call aims to collect before filtering.
    var count = KeyspaceCommands.scanDefaultCount
    /// nil when everything matches (no MATCH, or MATCH `*`).
    var pattern: UnsafeRawBufferPointer? = nil
    /// SCAN's TYPE filter, up to its first NUL byte (Redis compares it as a C string).
    var typeName: ArraySlice<UInt8>? = nil

    /// Parses options from argument `first` on; TYPE only where `allowType` (SCAN). Replies and
    /// returns nil on a bad COUNT (`ERR value is not an integer...`, `ERR syntax error` below 1)
    /// or anything unrecognised (`ERR syntax error`). A repeated option: the last one wins.
    static func parse(_ c: CommandContext, from first: Int, allowType: Bool) -> ScanOptions? {
        var o = ScanOptions()
        var j = first
        while j < c.args.count {
            let hasValue = j + 1 < c.args.count
            if c.args.matches(j, "count") && hasValue {
                guard let n = c.args.int64(j + 1) else {
                    c.replyNotInteger()
                    return nil
                }
                guard n >= 1 else {
                    c.replySyntaxError()
                    return nil
                }
                o.count = Int(n)
            } else if c.args.matches(j, "match") && hasValue {
                let p = c.args[j + 1]
                o.pattern = p.count == 1 && p[0] == UInt8(ascii: "*") ? nil : p
            } else if allowType && c.args.matches(j, "type") && hasValue {
                let t = c.args[j + 1]
                o.typeName = ArraySlice(t.prefix(upTo: t.firstIndex(of: 0) ?? t.count))
            } else {
                c.replySyntaxError()
                return nil
            }
            j += 2
        }
        return o
    }

    /// Whether `element` passes MATCH.
    @inline(__always)
    func matches(_ element: [UInt8]) -> Bool {
        guard let pattern else { return true }
        return element.withUnsafeBytes { GlobPattern.matches(pattern, $0) }
    }

    /// At most 10×COUNT further buckets per call, so a sparse table cannot stall the server.
    var maxIterations: Int {
        let (m, overflow) = count.multipliedReportingOverflow(by: 10)
        return overflow ? Int.max : m
    }
}

/// HSCAN / SSCAN / ZSCAN key cursor [MATCH pattern] [COUNT count].
enum CollectionScan {
    /// Where the elements come from.
    enum Source {
        /// A compact encoding (listpack, intset): everything in one reply, cursor 0, whatever the
        /// cursor and COUNT asked (as Redis).
        case whole([[UInt8]])
        /// A hash table: `step(cursor, &items)` appends the elements of one bucket (each followed
        /// by its value for pairs) and returns the next cursor, 0 at the end.
        case table((UInt64, inout [[UInt8]]) -> UInt64)
    }

    /// Parses the cursor (argument 2), replying `ERR invalid cursor` when it is not one. Done
    /// before the key is looked up, as Redis does.
    static func cursor(_ c: CommandContext) -> UInt64? {
        guard let cursor = KeyspaceCommands.parseScanCursor(c.args[2]) else {
            c.reply.error("ERR invalid cursor")
            return nil
        }
        return cursor
    }

    /// The reply for a missing key (options are not even parsed): cursor 0, nothing.
    static func replyEmpty(_ c: CommandContext) {
        c.reply.arrayHeader(2)
        c.reply.bulk(integer: 0)
        c.reply.arrayHeader(0)
    }

    /// Parses the options (argument 3 on) and replies with one batch. `pairs`: each element is
    /// followed by its value (HSCAN, ZSCAN); MATCH then looks at the element only and a filtered
    /// element takes its value with it.
    static func run(_ c: CommandContext, cursor: UInt64, pairs: Bool, source: () -> Source) {
        guard let options = ScanOptions.parse(c, from: 3, allowType: false) else { return }
        var items: [[UInt8]] = []
        var next: UInt64 = 0
        switch source() {
        case .whole(let all):
            items = all
        case .table(let step):
            next = cursor
            var iterationsLeft = options.maxIterations
            while true {
                next = step(next, &items)
                // Redis counts values too when deciding it has COUNT elements.
                if next == 0 || iterationsLeft == 0 || items.count >= options.count { break }
                iterationsLeft -= 1
            }
        }
        if options.pattern != nil {
            var kept: [[UInt8]] = []
            kept.reserveCapacity(items.count)
            let stride = pairs ? 2 : 1
            var k = 0
            while k + stride <= items.count {
                if options.matches(items[k]) {
                    kept.append(items[k])
                    if pairs { kept.append(items[k + 1]) }
                }
                k += stride
            }
            items = kept
        }
        c.reply.arrayHeader(2)
        // Redis writes the unsigned cursor through a signed long long.
        c.reply.bulk(integer: Int64(bitPattern: next))
        c.reply.arrayHeader(items.count)
        for item in items { c.reply.bulk(item) }
    }
}
