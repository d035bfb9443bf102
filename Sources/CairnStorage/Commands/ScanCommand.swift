import CairnRESP

// SCAN cursor [MATCH pattern] [COUNT count] [TYPE type], after Redis's scanGenericCommand. The
// options are parsed by ScanOptions (CollectionScan.swift), shared with HSCAN, SSCAN and ZSCAN.
// The cursor is KeyTable's reverse-binary bucket cursor: a key present for the whole iteration is
// returned at least once however the table grows or shrinks between calls (it may come twice).

extension KeyspaceCommands {
    static let scanSpec = CommandSpec(
        "scan", arity: -2, flags: [.readonly], categories: [.keyspace, .read, .slow],
        group: "generic", since: "2.8.0", summary: "Incrementally iterate the keys space", handler: scan)

    /// Default COUNT: how many keys a call aims to collect before filtering.
    static let scanDefaultCount = 10

    /// Parses a cursor as Redis does with strtoul: optional `+` or `-` (negation wraps modulo
    /// 2^64), decimal digits, nothing after them. An empty argument is cursor 0, and parsing
    /// stops at a NUL byte because Redis hands strtoul a C string. Nil means `ERR invalid cursor`.
    static func parseScanCursor(_ bytes: UnsafeRawBufferPointer) -> UInt64? {
        let end = bytes.firstIndex(of: 0) ?? bytes.count
        if end == 0 { return 0 }
        var i = 0
        var negative = false
        if bytes[0] == UInt8(ascii: "+") || bytes[0] == UInt8(ascii: "-") {
            negative = bytes[0] == UInt8(ascii: "-")
            i = 1
        }
        guard i < end else { return nil }  // a sign without digits: strtoul consumes nothing
        var value: UInt64 = 0
        while i < end {
            let d = bytes[i] &- UInt8(ascii: "0")
            guard d < 10 else { return nil }
            let (times10, o1) = value.multipliedReportingOverflow(by: 10)
            let (sum, o2) = times10.addingReportingOverflow(UInt64(d))
            guard !o1 && !o2 else { return nil }  // ERANGE
            value = sum
            i += 1
        }
        return negative ? 0 &- value : value
    }

    static func scan(_ c: CommandContext) {
        guard var cursor = parseScanCursor(c.args[1]) else { return c.reply.error("ERR invalid cursor") }
        guard let options = ScanOptions.parse(c, from: 2, allowType: true) else { return }
        let count = options.count
        let typeName = options.typeName

        let db = c.db
        var keys: [[UInt8]] = []
        if db.count > 0 {
            // At most 10×COUNT further buckets per call, so a sparse table cannot stall the server.
            var iterationsLeft = options.maxIterations
            while true {
                cursor = db.table.scan(cursor: cursor) { keys.append(db.table.key(at: $0)) }
                if cursor == 0 || iterationsLeft == 0 || keys.count >= count { break }
                iterationsLeft -= 1
            }
        } else {
            cursor = 0
        }

        keys.removeAll { key in
            if !options.matches(key) { return true }
            if let typeName {
                // As Redis: a counted, non-touching read lookup (which reclaims an expired key and
                // then reports it as "none"), compared case-insensitively.
                let i = key.withUnsafeBytes { db.lookupRead($0, touch: false) }
                let actual = i.map { db.table.type(at: $0).name } ?? "none"
                if !equalsIgnoringASCIICase(typeName, actual) { return true }
            }
            return db.expireIfNeeded(key)
        }

        c.reply.arrayHeader(2)
        // Redis writes the unsigned cursor through a signed long long.
        c.reply.bulk(integer: Int64(bitPattern: cursor))
        c.reply.arrayHeader(keys.count)
        for key in keys { c.reply.bulk(key) }
    }

    static func equalsIgnoringASCIICase(_ a: ArraySlice<UInt8>, _ b: StaticString) -> Bool {
        guard a.count == b.utf8CodeUnitCount else { return false }
        let w = b.utf8Start
        for (k, byte) in a.enumerated() where ASCII.lower(byte) != ASCII.lower(w[k]) { return false }
        return true
    }
}
