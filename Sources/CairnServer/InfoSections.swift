import CairnRESP
import CairnStorage
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// The lines of each INFO section. Field names are Redis 7.0's. A field Cairn cannot measure is
// left out rather than filled with a made-up value (e.g. latency percentiles).

enum InfoSections {
    static func server(_ server: Server) -> [String] {
        let nowMicros = Clock.unixMicros()
        let uptime = max(0, nowMicros / 1000 - server.startedAtMillis) / 1000
        #if os(Linux)
        let multiplexing = "epoll"
        #else
        let multiplexing = "kqueue"
        #endif
        return [
            "# Server",
            "redis_version:\(Server.redisVersion)",
            "redis_git_sha1:00000000",
            "redis_git_dirty:0",
            "redis_build_id:\(Server.buildID)",
            "cairn_version:\(Server.cairnVersion)",
            "redis_mode:standalone",
            "os:\(ProcessMetrics.operatingSystem())",
            "arch_bits:\(MemoryLayout<Int>.size * 8)",
            "monotonic_clock:POSIX clock_gettime",
            "multiplexing_api:\(multiplexing)",
            // Atomics through Swift's (swift-atomics, the C11 builtins underneath); not built by
            // GCC, so 0.0.0 as Redis prints for other compilers.
            "atomicvar_api:c11-builtin",
            "gcc_version:0.0.0",
            "process_id:\(getpid())",
            "process_supervised:\(ProcessControl.supervisedMode ?? "no")",
            "run_id:\(server.runID)",
            "tcp_port:\(server.boundPort ?? server.settings.port)",
            "server_time_usec:\(nowMicros)",
            "uptime_in_seconds:\(uptime)",
            "uptime_in_days:\(uptime / 86400)",
            "hz:\(server.settings.hz)",
            "configured_hz:\(server.settings.hz)",
            "lru_clock:\(server.engine.lruClock)",
            "executable:\(ProcessMetrics.executablePath())",
            "config_file:\(server.configFile ?? "")",
            "io_threads_active:0",
        ]
    }

    static func clients(_ server: Server) -> [String] {
        [
            "# Clients",
            "connected_clients:\(server.connectedClients)",
            "cluster_connections:0",
            "maxclients:\(server.settings.maxclients)",
            // The largest input and pending output now (Redis: over the last few seconds).
            "client_recent_max_input_buffer:\(server.clients.map(\.inputBufferBytes).max() ?? 0)",
            "client_recent_max_output_buffer:\(server.clients.compactMap { h in h.session.map { OutputBufferLimits.countedBytes(pending: $0.reply.buffer.readableBytes + h.queuedOutputBytes) } }.max() ?? 0)",
            "blocked_clients:\(server.engine.blockedClientCount + server.engine.postponedClientCount)",
            "tracking_clients:\(server.engine.tracking.clientCount)",
            "clients_in_timeout_table:0",
        ]
    }

    /// used_memory is what glibc's malloc reports in use (see ProcessMetrics.heapBytesInUse); where
    /// that cannot be read, the resident set size stands in for it. Fields in Redis 7.0's order.
    /// With glibc malloc (Redis built with libc reports the same way): allocator_allocated is the
    /// bytes in use, allocator_active what malloc holds from the system, allocator_resident the
    /// RSS. Cairn has no Lua VM, functions or active defrag yet: those fields are 0 because there
    /// is nothing of them. mem_not_counted_for_evict is 0: Cairn's evictor counts
    /// all of malloc's bytes (Redis leaves out replica output buffers and the AOF buffer).
    static func memory(_ server: Server) -> [String] {
        let o = MemoryCommand.overview(server)
        let (used, rss, active, peak) = (o.total, o.rss, o.active, o.peak)
        let total = ProcessMetrics.totalSystemMemory()
        func ratio(_ a: Int, _ b: Int) -> String { b > 0 ? InfoFormat.fixed(Double(a) / Double(b), 2) : "0.00" }
        let maxmemory = server.settings.maxmemory
        return [
            "# Memory",
            "used_memory:\(used)",
            "used_memory_human:\(InfoFormat.human(used))",
            "used_memory_rss:\(rss)",
            "used_memory_rss_human:\(InfoFormat.human(rss))",
            "used_memory_peak:\(peak)",
            "used_memory_peak_human:\(InfoFormat.human(peak))",
            "used_memory_peak_perc:\(InfoFormat.fixed(peak > 0 ? Double(used) * 100 / Double(peak) : 0, 2))%",
            "used_memory_overhead:\(o.overhead)",
            "used_memory_startup:\(o.startup)",
            "used_memory_dataset:\(o.dataset)",
            "used_memory_dataset_perc:\(InfoFormat.fixed(Double(o.dataset) * 100 / Double(o.netUsage), 2))%",
            "allocator_allocated:\(used)",
            "allocator_active:\(active)",
            "allocator_resident:\(rss)",
            "total_system_memory:\(total)",
            "total_system_memory_human:\(InfoFormat.human(total))",
            "used_memory_lua:0",
            "used_memory_vm_eval:0",
            "used_memory_lua_human:0B",
            "used_memory_scripts_eval:0",
            "number_of_cached_scripts:0",
            "number_of_functions:0",
            "number_of_libraries:0",
            "used_memory_vm_functions:0",
            "used_memory_vm_total:0",
            "used_memory_vm_total_human:0B",
            "used_memory_functions:0",
            "used_memory_scripts:0",
            "used_memory_scripts_human:0B",
            "maxmemory:\(maxmemory)",
            "maxmemory_human:\(InfoFormat.human(maxmemory))",
            "maxmemory_policy:\(server.admin.evictor.policy.rawValue)",
            "allocator_frag_ratio:\(ratio(active, used))",
            "allocator_frag_bytes:\(active - used)",
            "allocator_rss_ratio:\(ratio(rss, active))",
            "allocator_rss_bytes:\(rss - active)",
            "rss_overhead_ratio:\(ratio(rss, rss))",
            "rss_overhead_bytes:0",
            "mem_fragmentation_ratio:\(ratio(rss, used))",
            "mem_fragmentation_bytes:\(rss - used)",
            "mem_not_counted_for_evict:0",
            "mem_replication_backlog:\(o.backlog)",
            "mem_total_replication_buffers:\(o.backlog + o.replicaBuffers)",
            "mem_clients_slaves:\(o.replicaBuffers)",
            "mem_clients_normal:\(o.normalBuffers)",
            "mem_cluster_links:\(o.clusterLinks)",
            "mem_aof_buffer:\(o.aofBuffer)",
            "mem_allocator:libc",
            "active_defrag_running:0",
            "lazyfree_pending_objects:\(server.engine.lazyFreer.pendingObjects)",
            "lazyfreed_objects:\(server.engine.lazyFreer.freedObjects)",
        ]
    }

    static func persistence(_ server: Server) -> [String] {
        server.persistence.infoLines()
    }

    static func stats(_ server: Server) -> [String] {
        let s = server.engine.stats
        return [
            "# Stats",
            "total_connections_received:\(server.totalConnectionsReceived)",
            "total_commands_processed:\(s.commandsProcessed)",
            "instantaneous_ops_per_sec:\(server.opsSamples.perSecond)",
            "total_net_input_bytes:\(server.netInputBytes)",
            "total_net_output_bytes:\(server.netOutputBytes)",
            "total_net_repl_input_bytes:\(server.net.replInputBytes)",
            "total_net_repl_output_bytes:\(server.net.replOutputBytes)",
            "instantaneous_input_kbps:\(NetworkStats.kbps(server.net.input))",
            "instantaneous_output_kbps:\(NetworkStats.kbps(server.net.output))",
            "instantaneous_input_repl_kbps:\(NetworkStats.kbps(server.net.replInput))",
            "instantaneous_output_repl_kbps:\(NetworkStats.kbps(server.net.replOutput))",
            "rejected_connections:\(server.rejectedConnections)",
            "sync_full:\(server.replication.fullSyncs)",
            "sync_partial_ok:\(server.replication.partialSyncs)",
            "sync_partial_err:\(server.replication.partialSyncErrors)",
            "expired_keys:\(s.expiredKeys)",
            "expired_stale_perc:\(InfoFormat.fixed(s.expiredStalePercent * 100, 2))",
            "expired_time_cap_reached_count:\(s.expiredTimeCapReached)",
            "expire_cycle_cpu_milliseconds:\(s.expireCycleMicros / 1000)",
            "evicted_keys:\(server.admin.evictor.evictedKeys)",
            "evicted_clients:\(server.evictedClients)",
            "total_eviction_exceeded_time:\(server.admin.evictor.exceededMillis(now: Clock.monotonicMicros()).total)",
            "current_eviction_exceeded_time:\(server.admin.evictor.exceededMillis(now: Clock.monotonicMicros()).current)",
            "keyspace_hits:\(s.keyspaceHits)",
            "keyspace_misses:\(s.keyspaceMisses)",
            "pubsub_channels:\(server.engine.pubsub.channelCount)",
            "pubsub_patterns:\(server.engine.pubsub.patternCount)",
            "pubsubshard_channels:\(server.engine.pubsub.shardChannelCount)",
            "latest_fork_usec:\(server.persistence.latestForkMicros)",
            "total_forks:\(server.persistence.totalForks)",
            // Zeros that are true: MIGRATE keeps no cached sockets, a writable replica tracks no
            // expires of its own, and there is no active defragmentation.
            "migrate_cached_sockets:0",
            "slave_expires_tracked_keys:0",
            "active_defrag_hits:0",
            "active_defrag_misses:0",
            "active_defrag_key_hits:0",
            "active_defrag_key_misses:0",
            "total_active_defrag_time:0",
            "current_active_defrag_time:0",
            "tracking_total_keys:\(server.engine.tracking.keyCount)",
            "tracking_total_items:\(server.engine.tracking.totalItems)",
            "tracking_total_prefixes:\(server.engine.tracking.prefixCount)",
            "unexpected_error_replies:\(s.unexpectedErrorReplies)",
            "total_error_replies:\(s.totalErrorReplies)",
            "dump_payload_sanitizations:0",  // sanitize-dump-payload is accepted without effect
            "total_reads_processed:\(server.net.readsProcessed)",
            "total_writes_processed:\(server.net.writesProcessed)",
            "io_threaded_reads_processed:0",
            "io_threaded_writes_processed:0",
            "reply_buffer_shrinks:\(server.net.replyBufferShrinks)",
            "reply_buffer_expands:\(server.net.replyBufferExpands)",
        ]
    }

    static func replication(_ server: Server) -> [String] { server.replicationInfo() }

    /// INFO runs on the event loop thread, which is the thread that runs every command: Redis's
    /// "main thread".
    static func cpu() -> [String] {
        let process = ProcessMetrics.cpuTimes(.process)
        let children = ProcessMetrics.cpuTimes(.children)
        let main = ProcessMetrics.cpuTimes(.callingThread)
        return [
            "# CPU",
            "used_cpu_sys:\(InfoFormat.seconds(micros: process.systemMicros))",
            "used_cpu_user:\(InfoFormat.seconds(micros: process.userMicros))",
            "used_cpu_sys_children:\(InfoFormat.seconds(micros: children.systemMicros))",
            "used_cpu_user_children:\(InfoFormat.seconds(micros: children.userMicros))",
            "used_cpu_sys_main_thread:\(InfoFormat.seconds(micros: main.systemMicros))",
            "used_cpu_user_main_thread:\(InfoFormat.seconds(micros: main.userMicros))",
        ]
    }

    /// `cmdstat_<name>:calls=..,usec=..,usec_per_call=..,rejected_calls=..,failed_calls=..` for
    /// every command (and subcommand) that was called, rejected or failed.
    static func commandStats(_ engine: Engine) -> [String] {
        var lines = ["# Commandstats"]
        for command in engine.commands.allIncludingSubcommands {
            let st = command.stats
            guard st.calls > 0 || st.failedCalls > 0 || st.rejectedCalls > 0 else { continue }
            let perCall = st.calls > 0 ? Double(st.microseconds) / Double(st.calls) : 0
            lines.append("cmdstat_\(command.fullName):calls=\(st.calls),usec=\(st.microseconds),usec_per_call=\(InfoFormat.fixed(perCall, 2)),rejected_calls=\(st.rejectedCalls),failed_calls=\(st.failedCalls)")
        }
        return lines
    }

    static func latencyStats(_ server: Server) -> [String] {
        var lines = ["# Latencystats"]
        if server.admin.latencyTracking {
            let percentiles = ParityConfig.words([server.settings.parity.value("latency-tracking-info-percentiles")])
            lines += server.admin.commandLatencies.infoLines(server.engine.commands.allIncludingSubcommands, percentiles: percentiles)
        }
        return lines
    }

    /// `errorstat_<CODE>:count=N`, codes in byte order as Redis's radix tree yields them.
    static func errorStats(_ engine: Engine) -> [String] {
        let codes = engine.stats.errorCounts.keys.sorted { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }
        return ["# Errorstats"] + codes.map { "errorstat_\($0):count=\(engine.stats.errorCounts[$0] ?? 0)" }
    }

    /// Samples this many keys with a TTL per database to estimate `avg_ttl` (Redis estimates it
    /// too, from its active expiry samples).
    static let averageTTLSampleCount = 64

    static func keyspace(_ engine: Engine) -> [String] {
        var lines = ["# Keyspace"]
        for db in engine.databases where db.count > 0 || db.table.volatileCount > 0 {
            lines.append("db\(db.id):keys=\(db.count),expires=\(db.table.volatileCount),avg_ttl=\(averageTTL(db, engine))")
        }
        return lines
    }

    static func averageTTL(_ db: Database, _ engine: Engine) -> Int64 {
        let n = min(averageTTLSampleCount, db.table.volatileCount)
        guard n > 0 else { return 0 }
        var sum: Int64 = 0
        var counted: Int64 = 0
        for _ in 0..<n {
            guard let i = db.table.randomVolatileIndex(using: &engine.random) else { break }
            let remaining = db.table.expireAt(at: i) - engine.now
            if remaining > 0 {
                sum += remaining
                counted += 1
            }
        }
        return counted > 0 ? sum / counted : 0
    }
}
