import CairnStorage

// The network counters of INFO stats beyond total_net_input/output_bytes: replication traffic
// (a master link's input, what replicas are sent), read and write calls, reply-buffer resizes,
// and the instantaneous kbps rates, sampled as Redis's trackInstantaneousMetric.

struct NetworkStats {
    /// Bytes read from this replica's master (total_net_repl_input_bytes).
    var replInputBytes: Int64 = 0
    /// Bytes written to replicas: their stream and the replies on their links
    /// (total_net_repl_output_bytes; Redis counts a replica client's writes there).
    var replOutputBytes: Int64 = 0
    /// Reads from and writes to client sockets (total_reads_processed / total_writes_processed).
    var readsProcessed: Int64 = 0
    var writesProcessed: Int64 = 0
    /// A client's reply buffer given back after a large reply / grown past its size.
    var replyBufferShrinks: Int64 = 0
    var replyBufferExpands: Int64 = 0

    var input = OpsSampler(), output = OpsSampler(), replInput = OpsSampler(), replOutput = OpsSampler()

    /// One sample of each rate (serverCron).
    mutating func sample(input inputBytes: Int64, output outputBytes: Int64, nowMillis: Int64) {
        input.sample(commands: inputBytes, nowMillis: nowMillis)
        output.sample(commands: outputBytes, nowMillis: nowMillis)
        replInput.sample(commands: replInputBytes, nowMillis: nowMillis)
        replOutput.sample(commands: replOutputBytes, nowMillis: nowMillis)
    }

    /// A rate in KiB/s with two decimals, as Redis prints instantaneous_*_kbps.
    static func kbps(_ sampler: OpsSampler) -> String {
        InfoFormat.fixed(Double(sampler.perSecond) / 1024, 2)
    }
}
