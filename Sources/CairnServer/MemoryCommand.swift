import CairnRESP
import CairnStorage
import CPosix

// MEMORY USAGE | STATS | DOCTOR | MALLOC-STATS | PURGE | HELP (object.c in Redis 7.0).
// USAGE answers MemoryUsage's estimate of Cairn's own structures (see MemoryUsage.swift for what
// it counts). STATS reports the allocator-level figures Cairn measures (malloc's bytes in use,
// startup heap, client buffers, hash-table overhead) and derives the dataset size from them as
// Redis does (total minus overhead). MALLOC-STATS and PURGE answer as Redis built with libc malloc.

enum MemoryCommand {
    static func spec(_ server: Server) -> CommandSpec {
        CommandSpec(
            "memory", arity: -2, flags: [], categories: [.slow], group: "server", since: "4.0.0",
            summary: "A container for memory diagnostics commands",
            subcommands: [
                CommandSpec("usage", arity: -3, flags: [.readonly], categories: [.read, .slow], keys: [.at(2, [.RO])],
                            group: "server", since: "4.0.0", summary: "Estimate the memory usage of a key", handler: usage),
                plain("stats", "Show memory usage details", server.bind(stats)),
                plain("doctor", "Outputs memory problems report", server.bind(doctor)),
                plain("malloc-stats", "Show allocator internal stats", mallocStats),
                plain("purge", "Ask the allocator to release memory", purge),
                CommandSpec("help", arity: 2, flags: [.loading, .stale], categories: [.slow], group: "server",
                            since: "4.0.0", summary: "Show helpful text about the different subcommands", handler: help),
            ],
            handler: { _ in })
    }

    private static func plain(_ name: String, _ summary: String, _ handler: @escaping CommandHandler) -> CommandSpec {
        CommandSpec(name, arity: 2, flags: [], categories: [.slow], group: "server", since: "4.0.0",
                    summary: summary, handler: handler)
    }

    /// MEMORY USAGE key [SAMPLES count]: options are checked before the key is looked up; the key
    /// is found without expiring or touching it (as Redis's dictFind).
    static func usage(_ c: CommandContext) {
        var samples = MemoryUsage.defaultSamples
        var j = 3
        while j < c.args.count {
            if c.args.matches(j, "samples") && j + 1 < c.args.count {
                guard let n = c.args.int64(j + 1) else { return c.replyNotInteger() }
                guard n >= 0 else { return c.replySyntaxError() }
                samples = n == 0 ? Int.max : Int(clamping: n)
                j += 2
            } else {
                return c.replySyntaxError()
            }
        }
        let db = c.db
        guard let i = db.table.find(c.args[2]) else { return c.reply.null() }
        c.reply.integer(MemoryUsage.keyBytes(db.table, at: i, samples: samples == Int.max ? 0 : samples))
    }

    /// The memory figures INFO memory and MEMORY STATS report (Redis's getMemoryOverheadData).
    /// With glibc malloc: `total` is the bytes in use, `active` what malloc holds from the
    /// system, `resident` the RSS (Redis built with libc fills its allocator_* fields the same
    /// way). Cairn has no Lua or function caches yet: those are 0.
    struct Overview {
        var total = 0
        var startup = 0
        var peak = 0
        var rss = 0
        var active = 0
        var backlog = 0
        var replicaBuffers = 0
        var normalBuffers = 0
        var clusterLinks = 0
        var aofBuffer = 0
        var tables: [(db: Int, main: Int, expires: Int, slotToKeys: Int)] = []
        var keys = 0

        var overhead: Int {
            startup + backlog + replicaBuffers + normalBuffers + clusterLinks + aofBuffer
                + tables.reduce(0) { $0 + $1.main + $1.expires + $1.slotToKeys }
        }
        var dataset: Int { max(0, total - overhead) }
        /// Redis's net usage: what was allocated since start-up (at least 1).
        var netUsage: Int { max(1, total - startup) }
    }

    static func overview(_ server: Server) -> Overview {
        var o = Overview()
        o.rss = ProcessMetrics.residentBytes() ?? 0
        o.total = ProcessMetrics.heapBytesInUse() ?? o.rss
        o.active = ProcessMetrics.heapBytesHeld() ?? o.total
        o.startup = server.startupMemory
        o.peak = max(o.total, server.admin.peakMemory)
        server.admin.peakMemory = o.peak
        for handler in server.clients {
            guard let session = handler.session else { continue }
            if session.isReplicaLink { o.replicaBuffers += session.reply.buffer.capacity + handler.queuedOutputBytes }
            else { o.normalBuffers += session.reply.buffer.capacity }
        }
        o.backlog = server.replication.backlog?.capacity ?? 0
        o.aofBuffer = server.persistence.aof.writer?.buffer.count ?? 0
        o.clusterLinks = server.clusterBus?.links.reduce(0) { $0 + $1.sendBufferAllocatedBytes } ?? 0
        for db in server.engine.databases where db.count > 0 {
            let t = MemoryUsage.tableOverhead(db)
            o.tables.append((db.id, t.main, t.expires, t.slotToKeys))
        }
        o.keys = server.engine.totalKeys
        return o
    }

    /// MEMORY STATS: Redis 7.0's fields in its order (ratios as doubles).
    static func stats(_ server: Server, _ c: CommandContext) {
        let o = overview(server)
        func ratio(_ a: Int, _ b: Int) -> Double { b > 0 ? Double(a) / Double(b) : 0 }
        let head: [(String, Int)] = [
            ("peak.allocated", o.peak), ("total.allocated", o.total), ("startup.allocated", o.startup),
            ("replication.backlog", o.backlog), ("clients.slaves", o.replicaBuffers), ("clients.normal", o.normalBuffers),
            ("cluster.links", o.clusterLinks), ("aof.buffer", o.aofBuffer), ("lua.caches", 0), ("functions.caches", 0),
        ]
        let tail: [(String, Double?, Int?)] = [
            ("overhead.total", nil, o.overhead),
            ("keys.count", nil, o.keys),
            ("keys.bytes-per-key", nil, o.keys > 0 ? (o.total - o.startup) / o.keys : 0),
            ("dataset.bytes", nil, o.dataset),
            ("dataset.percentage", Double(o.dataset) * 100 / Double(o.netUsage), nil),
            ("peak.percentage", o.peak > 0 ? Double(o.total) * 100 / Double(o.peak) : 0, nil),
            ("allocator.allocated", nil, o.total),
            ("allocator.active", nil, o.active),
            ("allocator.resident", nil, o.rss),
            ("allocator-fragmentation.ratio", ratio(o.active, o.total), nil),
            ("allocator-fragmentation.bytes", nil, o.active - o.total),
            ("allocator-rss.ratio", ratio(o.rss, o.active), nil),
            ("allocator-rss.bytes", nil, o.rss - o.active),
            ("rss-overhead.ratio", ratio(o.rss, o.rss), nil),
            ("rss-overhead.bytes", nil, 0),
            ("fragmentation", ratio(o.rss, o.total), nil),
            ("fragmentation.bytes", nil, o.rss - o.total),
        ]
        c.reply.mapHeader(head.count + o.tables.count + tail.count)
        for (name, v) in head {
            c.reply.bulk(name)
            c.reply.integer(v)
        }
        for t in o.tables {
            c.reply.bulk("db.\(t.db)")
            c.reply.mapHeader(3)
            c.reply.bulk("overhead.hashtable.main")
            c.reply.integer(t.main)
            c.reply.bulk("overhead.hashtable.expires")
            c.reply.integer(t.expires)
            c.reply.bulk("overhead.hashtable.slot-to-keys")
            c.reply.integer(t.slotToKeys)
        }
        for (name, d, i) in tail {
            c.reply.bulk(name)
            // Redis computes the ratios as floats and replies with addReplyDouble.
            if let i { c.reply.integer(i) } else { c.reply.score(Double(Float(d ?? 0))) }
        }
    }

    static let emptyReport = "Hi Sam, this instance is empty or is using very little memory, my issues detector can't be used in these conditions. Please, leave for your mission on Earth and fill it with some data. The new Sam and I will be back to our programming as soon as I finished rebooting."
    static let healthyReport = "Hi Sam, I can't find any memory issue in your instance. I can only account for what occurs on this base."

    /// Redis's getMemoryDoctorReport, for the two verdicts Cairn can reach honestly: too little
    /// data to judge (under 5 MB in use), or nothing to report.
    static func doctor(_ server: Server, _ c: CommandContext) {
        let o = overview(server)
        c.reply.verbatim(o.total < 5 * 1024 * 1024 ? emptyReport : healthyReport)
    }

    static func mallocStats(_ c: CommandContext) {
        c.reply.verbatim("Stats not supported for the current allocator")
    }

    /// Redis asks jemalloc to purge its dirty pages; with glibc's malloc the equivalent is
    /// malloc_trim, which returns every whole free page inside the heap to the kernel (free
    /// memory left between live blocks by a load or by deletions).
    static func purge(_ c: CommandContext) {
        _ = cairn_malloc_trim()
        c.reply.ok()
    }

    static func help(_ c: CommandContext) {
        Help.reply(c, command: "MEMORY", lines: [
            "DOCTOR",
            "    Return memory problems reports.",
            "MALLOC-STATS",
            "    Return internal statistics report from the memory allocator.",
            "PURGE",
            "    Attempt to purge dirty pages for reclamation by the allocator.",
            "STATS",
            "    Return information about the memory usage of the server.",
            "USAGE <key> [SAMPLES <count>]",
            "    Return memory in bytes used by <key> and its value. Nested values are",
            "    sampled up to <count> times (default: 5, 0 means sample all).",
        ])
    }
}
