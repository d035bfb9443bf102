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
            "cairn_version:\(Server.cairnVersion)",
            "redis_mode:standalone",
            "os:\(ProcessMetrics.operatingSystem())",
            "arch_bits:\(MemoryLayout<Int>.size * 8)",
            "monotonic_clock:POSIX clock_gettime",
            "multiplexing_api:\(multiplexing)",
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
            "blocked_clients:\(server.engine.blockedClientCount + server.engine.postponedClientCount)",
            "tracking_clients:\(server.engine.tracking.clientCount)",
            "clients_in_timeout_table:0",
        ]
    }

    /// used_memory is what glibc's malloc reports in use (see ProcessMetrics.heapBytesInUse); where
    /// that cannot be read, the resident set size stands in for it.
    static func memory(_ server: Server) -> [String] {
        let rss = ProcessMetrics.residentBytes() ?? 0
        let used = ProcessMetrics.heapBytesInUse() ?? rss
        let total = ProcessMetrics.totalSystemMemory()
        server.admin.peakMemory = max(server.admin.peakMemory, used)
        let peak = server.admin.peakMemory
        var lines = [
            "# Memory",
            "used_memory:\(used)",
            "used_memory_human:\(InfoFormat.human(used))",
            "used_memory_peak:\(peak)",
            "used_memory_peak_human:\(InfoFormat.human(peak))",
            "used_memory_rss:\(rss)",
            "used_memory_rss_human:\(InfoFormat.human(rss))",
            "used_memory_startup:\(server.startupMemory)",
            "total_system_memory:\(total)",
            "total_system_memory_human:\(InfoFormat.human(total))",
            "maxmemory:\(server.settings.maxmemory)",
            "maxmemory_human:\(InfoFormat.human(server.settings.maxmemory))",
            "maxmemory_policy:\(server.admin.evictor.policy.rawValue)",
        ]
        if used > 0 {
            lines.append("mem_fragmentation_ratio:\(InfoFormat.fixed(Double(rss) / Double(used), 2))")
            lines.append("mem_fragmentation_bytes:\(rss - used)")
        }
        lines.append("mem_allocator:libc")
        return lines
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
            "rejected_connections:\(server.rejectedConnections)",
            "sync_full:\(server.replication.fullSyncs)",
            "sync_partial_ok:\(server.replication.partialSyncs)",
            "sync_partial_err:\(server.replication.partialSyncErrors)",
            "expired_keys:\(s.expiredKeys)",
            "expired_stale_perc:\(InfoFormat.fixed(s.expiredStalePercent * 100, 2))",
            "expired_time_cap_reached_count:\(s.expiredTimeCapReached)",
            "expire_cycle_cpu_milliseconds:\(s.expireCycleMicros / 1000)",
            "evicted_keys:\(server.admin.evictor.evictedKeys)",
            "total_eviction_exceeded_time:\(server.admin.evictor.exceededMillis(now: Clock.monotonicMicros()).total)",
            "current_eviction_exceeded_time:\(server.admin.evictor.exceededMillis(now: Clock.monotonicMicros()).current)",
            "keyspace_hits:\(s.keyspaceHits)",
            "keyspace_misses:\(s.keyspaceMisses)",
            "pubsub_channels:\(server.engine.pubsub.channelCount)",
            "pubsub_patterns:\(server.engine.pubsub.patternCount)",
            "pubsubshard_channels:\(server.engine.pubsub.shardChannelCount)",
            "latest_fork_usec:\(server.persistence.latestForkMicros)",
            "total_forks:\(server.persistence.totalForks)",
            "tracking_total_keys:\(server.engine.tracking.keyCount)",
            "tracking_total_items:\(server.engine.tracking.totalItems)",
            "tracking_total_prefixes:\(server.engine.tracking.prefixCount)",
            "unexpected_error_replies:\(s.unexpectedErrorReplies)",
            "total_error_replies:\(s.totalErrorReplies)",
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
