import CairnRESP
import CairnStorage
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// DEBUG's views of low-level structures (HTSTATS, HTSTATS-KEY, STRUCTSIZE, SDSLEN, LISTPACK,
// QUICKLIST, CLIENT-EVICTION): Redis's reply types and text layouts, with the figures of Cairn's
// own structures, and a line saying which structure they describe where Cairn's differs from
// Redis's. Hash tables are measured bucket by bucket through their SCAN walks (one bucket per
// cursor step), so the chain lengths are the real ones.

extension DebugCommand {
    /// Redis's DICT_STATS_VECTLEN.
    static let chainLengthSlots = 50

    /// dictGetStats's text for one table given the length of each bucket's chain.
    static func tableStats(chains: [Int], elements: Int, structure: String) -> String {
        guard elements > 0 else { return "Hash table 0 stats (main hash table):\nNo stats available for empty dictionaries\n" }
        let size = chains.count
        var vector = [Int](repeating: 0, count: chainLengthSlots)
        var slots = 0, longest = 0, total = 0
        for n in chains {
            if n == 0 {
                vector[0] += 1
                continue
            }
            slots += 1
            vector[min(n, chainLengthSlots - 1)] += 1
            longest = max(longest, n)
            total += n
        }
        func fixed2(_ v: Float) -> String { InfoFormat.fixed(Double(v), 2) }
        var text = "Hash table 0 stats (main hash table):\n"
            + " table size: \(size)\n"
            + " number of elements: \(elements)\n"
            + " different slots: \(slots)\n"
            + " max chain length: \(longest)\n"
            + " avg chain length (counted): \(fixed2(Float(total) / Float(slots)))\n"
            + " avg chain length (computed): \(fixed2(Float(elements) / Float(slots)))\n"
            + " Chain length distribution:\n"
        for i in 0..<(chainLengthSlots - 1) where vector[i] != 0 {
            text += "   \(i): \(vector[i]) (\(fixed2(Float(vector[i]) / Float(size) * 100))%)\n"
        }
        return text + " structure: \(structure)\n"
    }

    /// The chain length of every bucket of a table walked with a SCAN-style `step` (each call
    /// visits one bucket and returns the next cursor, 0 at the end).
    static func chains(_ step: (UInt64, () -> Void) -> UInt64) -> [Int] {
        var lengths: [Int] = []
        var cursor: UInt64 = 0
        repeat {
            var n = 0
            cursor = step(cursor) { n += 1 }
            lengths.append(n)
        } while cursor != 0
        return lengths
    }

    /// HTSTATS <dbid>: the database's key table and its expires (verbatim text).
    static func htstats(_ c: CommandContext) {
        guard let id = c.args.int64(2) else { return c.replyNotInteger() }
        guard id >= 0 && id < Int64(c.engine.databases.count) else { return c.reply.error("ERR Out of range database") }
        let table = c.engine.databases[Int(id)].table
        var text = "[Dictionary HT]\n"
        text += tableStats(chains: chains { cursor, visit in table.scan(cursor: cursor) { _ in visit() } }, elements: table.count,
                           structure: "Cairn KeyTable (bucket array of chain heads over a dense array of key slots; resized at once, never rehashing)")
        text += "[Expires HT]\n"
        if table.volatileCount == 0 {
            text += "Hash table 0 stats (main hash table):\nNo stats available for empty dictionaries\n"
        } else {
            text += "Hash table 0 stats (main hash table):\n"
                + " number of elements: \(table.volatileCount)\n"
                + " structure: Cairn keeps no expires hash table (expiry times are in the key records; the keys that have one are listed in a dense array)\n"
        }
        c.reply.verbatim(text)
    }

    /// HTSTATS-KEY <key>: the hash table of a hash or set stored as a hashtable, or of a sorted
    /// set's skiplist encoding (its member map).
    static func htstatsKey(_ c: CommandContext) {
        let db = c.db
        guard let i = db.lookupRead(c.args[2], touch: false, notifyMiss: false) else { return c.reply.error("ERR no such key") }
        let notTable = "ERR The value stored at the specified key is not represented using an hash table"
        if db.table.isPacked(at: i) { return c.reply.error(notTable) }
        let stats: String
        switch db.table.value(at: i) {
        case .hash(let h) where !h.isListpack:
            stats = tableStats(chains: chains { cursor, visit in h.scan(cursor: cursor) { _, _ in visit() } }, elements: h.count,
                               structure: "Cairn ByteMap (bucket array of chain heads over a dense array of field/value entries)")
        case .set(let s) where !s.isIntset:
            stats = tableStats(chains: chains { cursor, visit in s.scan(cursor: cursor) { _ in visit() } }, elements: s.count,
                               structure: "Cairn ByteMap (bucket array of chain heads over a dense array of members)")
        case .zset(let z) where !z.isListpack:
            stats = tableStats(chains: chains { cursor, visit in z.scan(cursor: cursor, count: 0) { _, _ in visit() } }, elements: z.count,
                               structure: "Cairn ByteMap of member to skiplist node (bucket array of chain heads over a dense entry array)")
        default:
            return c.reply.error(notTable)
        }
        c.reply.verbatim(stats)
    }

    /// STRUCTSIZE: the sizes of Cairn's core structures, in Redis's `name:bytes ` layout (Redis
    /// lists robj, dictEntry and the sds headers, which Cairn does not have).
    static func structSize(_ c: CommandContext) {
        let slot = MemoryUsage.recordBytes(hasExpiry: false) - MemoryLayout<Int32>.stride
        var text = "bits:\(MemoryLayout<Int>.size * 8) "
        text += "keytable-slot:\(slot) "
        text += "keytable-bucket:\(MemoryLayout<Int32>.size) "
        text += "value:\(MemoryLayout<Value>.size) "
        text += "keyentry:\(MemoryLayout<KeyEntry>.size) "
        text += "stringbytes:\(MemoryLayout<StringBytes>.size) "
        text += "listpack:\(MemoryLayout<Listpack>.size) "
        text += "bytemap-entry:\(MemoryLayout<ByteMap<[UInt8]>.Entry>.stride) "
        c.reply.bulk(text)
    }

    /// SDSLEN <key>: Redis reports its key and value sds strings. A Cairn string key keeps both
    /// in one key record at their exact lengths (no spare room), so both *_zmalloc figures are
    /// that record's malloc chunk.
    static func sdslen(_ c: CommandContext) {
        let db = c.db
        guard let i = db.table.find(c.args[2]) else { return c.reply.error("ERR no such key") }
        guard let length = db.table.stringLength(at: i), case .bytes = db.table.stringView(at: i) else {
            return c.reply.error("ERR Not an sds encoded string.")
        }
        let record = MemoryUsage.keyBytes(db.table, at: i) - MemoryUsage.recordBytes(hasExpiry: db.table.expireAt(at: i) != noExpiry)
        let keyLength = db.table.keyBytes(at: i).count
        c.reply.simpleString("key_sds_len:\(keyLength), key_sds_avail:0, key_zmalloc: \(record), "
            + "val_sds_len:\(length), val_sds_avail:0, val_zmalloc: \(record) (Cairn: key and value share one key record)")
    }

    // MARK: listpacks and quicklists, printed on stdout as Redis's lpRepr / quicklistRepr do

    /// lpRepr's layout for Cairn's listpack encoding: each entry is a LEB128 length, the payload,
    /// and the header+payload size as a reversed LEB128 (backlen); there is no total-bytes header
    /// or end byte.
    static func listpackRepr(_ bytes: UnsafeRawBufferPointer, count: Int) -> String {
        var text = "{total bytes \(bytes.count)} {num entries \(count)}\n"
        text += "{Cairn listpack: <LEB128 length><payload><reversed LEB128 backlen> per entry, no header or end byte}\n"
        var offset = 0
        var index = 0
        while offset < bytes.count {
            var length = 0, shift = 0, header = 0
            while offset + header < bytes.count {
                let b = bytes[offset + header]
                length |= Int(b & 0x7F) << shift
                header += 1
                shift += 7
                if b & 0x80 == 0 { break }
            }
            var back = 1, x = (header + length) >> 7
            while x > 0 { back += 1; x >>= 7 }
            let total = min(header + length + back, bytes.count - offset)
            let address = UInt(bitPattern: bytes.baseAddress.map { $0 + offset })
            text += "{\n\taddr: 0x\(pad(String(address, radix: 16), 8, "0")),\n\tindex: \(pad(String(index), 2)),\n"
            text += "\toffset: \(offset),\n\thdr+entrylen+backlen: \(pad(String(header + length + back), 2)),\n"
            text += "\thdrlen: \(pad(String(header), 3)),\n\tbacklen: \(pad(String(back), 2)),\n\tpayload: \(length)\n"
            text += "\tbytes: " + (0..<total).map { pad(String(bytes[offset + $0], radix: 16), 2, "0") + "|" }.joined() + "\n"
            let start = min(offset + header, bytes.count)
            let payload = bytes[start..<min(start + length, bytes.count)]
            text += "\t[str]" + String(decoding: payload.prefix(40), as: UTF8.self) + (payload.count > 40 ? "..." : "") + "\n}\n"
            offset += total
            index += 1
        }
        return text + "{end}\n\n"
    }

    static func pad(_ s: String, _ width: Int, _ fill: Character = " ") -> String {
        s.count >= width ? s : String(repeating: fill, count: width - s.count) + s
    }

    static func printOnStdout(_ text: String) {
        let bytes = Array(text.utf8)
        var written = 0
        while written < bytes.count {
            let n = bytes[written...].withUnsafeBytes { write(STDOUT_FILENO, $0.baseAddress, $0.count) }
            if n <= 0 { break }
            written += n
        }
    }

    /// LISTPACK <key>: a hash or sorted set in the listpack encoding (lists are quicklists).
    static func listpack(_ c: CommandContext) {
        let db = c.db
        guard let i = db.lookupRead(c.args[2], touch: false, notifyMiss: false) else { return c.reply.error("ERR no such key") }
        if let (raw, count) = db.table.packedHash(at: i) ?? db.table.packedZset(at: i) {
            printOnStdout(listpackRepr(raw, count: count))
            return c.reply.simpleString("Listpack structure printed on stdout")
        }
        var elements: [[UInt8]] = []
        switch db.table.value(at: i) {
        case .hash(let h) where h.isListpack:
            for pair in h.pairs { elements += [Array(pair.field), Array(pair.value)] }
        case .zset(let z) where z.isListpack:
            _ = z.scan(cursor: 0, count: 0) { member, score in
                // (A value read out of its record: the scores are shown as text here.)
                elements += [Array(member), Array("\(score)".utf8)]
            }
        default:
            return c.reply.error("ERR Not a listpack encoded object.")
        }
        let pack = Listpack(elements)
        pack.bytes.withUnsafeBytes { printOnStdout(listpackRepr($0, count: pack.count)) }
        c.reply.simpleString("Listpack structure printed on stdout")
    }

    /// QUICKLIST <key> [<0|1>]: a list (every Cairn list is a quicklist of listpack nodes, never
    /// compressed, no plain nodes, no bookmarks; fill is -2, 8 KiB nodes).
    static func quicklist(_ c: CommandContext) {
        let db = c.db
        guard let i = db.lookupRead(c.args[2], touch: false, notifyMiss: false) else { return c.reply.error("ERR no such key") }
        let full = c.args.count == 4 ? atoiSemantics(c.args.bytes(3)) != 0 : false
        guard case .list(let l) = db.table.value(at: i) else { return c.reply.error("ERR Not a quicklist encoded object.") }
        var text = "{count : \(l.count)}\n{len : \(l.nodes.count)}\n{fill : -2}\n{compress : 0}\n{bookmark_count : 0}\n"
        for (n, node) in l.nodes.enumerated() {
            text += "{quicklist node(\(n))\n"
            text += "{container : PACKED, encoding: RAW, size: \(node.byteCount), count: \(node.count), recompress: 0, attempted_compress: 0}\n"
            if full {
                text += "{ listpack:\n"
                node.bytes.withUnsafeBytes { text += listpackRepr($0, count: node.count) }
                text += "}\n}\n"
            }
        }
        printOnStdout(text)
        c.reply.simpleString("Quicklist structure printed on stdout")
    }

    // MARK: client eviction

    /// Redis's CLIENT_MEM_USAGE_BUCKET_MIN_LOG / MAX_LOG.
    static let clientBucketMinLog = 15
    static let clientBucketMaxLog = 33

    /// CLIENT-EVICTION: the clients client eviction may close (normal and pub/sub clients without
    /// NO-EVICT), in Redis's memory buckets. Cairn keeps no buckets: they are counted now from
    /// each client's memory as eviction measures it (input buffer, reply buffer, queued output).
    static func clientEviction(_ server: Server, _ c: CommandContext) {
        guard server.clientEvictionLimit > 0 else { return c.reply.error("ERR maxmemory-clients is disabled.") }
        let bucketCount = 1 + clientBucketMaxLog - clientBucketMinLog
        var memory = [Int](repeating: 0, count: bucketCount)
        var clients = [Int](repeating: 0, count: bucketCount)
        for handler in server.clients {
            guard let session = handler.session, session.origin == .user, !session.isReplicaLink, !session.noEvict else { continue }
            let bytes = Server.clientMemory(handler)
            let bits = bytes > 0 ? Int.bitWidth - bytes.leadingZeroBitCount : 0
            let bucket = min(max(bits, clientBucketMinLog), clientBucketMaxLog) - clientBucketMinLog
            memory[bucket] += bytes
            clients[bucket] += 1
        }
        var text = ""
        for j in 0..<bucketCount {
            text += j == 0 ? "bucket          0" : "bucket " + pad(String(1 << (j - 1 + clientBucketMinLog)), 10)
            text += j == bucketCount - 1 ? "+            : " : " - " + pad(String((1 << (j + clientBucketMinLog)) - 1), 10) + ": "
            text += "tot-mem: " + pad(String(memory[j]), 10) + ", clients: \(clients[j])\n"
        }
        c.reply.verbatim(text)
    }
}
