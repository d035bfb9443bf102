import CairnRESP
import CairnStorage

// LATENCY LATEST | HISTORY | RESET | HELP (latency.c in Redis 7.0). With
// `latency-monitor-threshold` N > 0 ms, every command that ran for at least N ms adds a sample to
// the "command" event, or to "fast-command" for commands flagged fast, as Redis 7.0 does. Each
// event keeps its last 160 samples, one per second (a second's worst), and its all-time maximum.
// DOCTOR, GRAPH and HISTOGRAM are not implemented (their replies are Redis's prose and charts).

struct LatencyEvent {
    static let samplesMax = 160
    var samples: [(time: Int64, millis: Int64)] = []  // oldest first
    var maxMillis: Int64 = 0

    mutating func add(_ millis: Int64, nowSeconds: Int64) {
        maxMillis = max(maxMillis, millis)
        if let last = samples.last, last.time == nowSeconds {
            if millis > last.millis { samples[samples.count - 1].millis = millis }
            return
        }
        samples.append((nowSeconds, millis))
        if samples.count > Self.samplesMax { samples.removeFirst(samples.count - Self.samplesMax) }
    }
}

struct LatencyMonitor {
    var thresholdMillis: Int64 = 0
    /// Events in creation order (Redis's dict order is arbitrary; this one is stable).
    var events: [(name: String, event: LatencyEvent)] = []

    /// latencyAddSampleIfNeeded.
    mutating func addIfNeeded(_ name: String, millis: Int64, nowSeconds: Int64) {
        guard thresholdMillis > 0, millis >= thresholdMillis else { return }
        if let i = events.firstIndex(where: { $0.name == name }) {
            events[i].event.add(millis, nowSeconds: nowSeconds)
        } else {
            var e = LatencyEvent()
            e.add(millis, nowSeconds: nowSeconds)
            events.append((name, e))
        }
    }

    /// Resets the named events (all when `names` is empty); returns how many existed.
    mutating func reset(_ names: [String]) -> Int {
        if names.isEmpty {
            defer { events = [] }
            return events.count
        }
        var removed = 0
        for name in names {
            if let i = events.firstIndex(where: { $0.name == name }) {
                events.remove(at: i)
                removed += 1
            }
        }
        return removed
    }
}

enum LatencyCommand {
    static func spec(_ server: Server) -> CommandSpec {
        CommandSpec(
            "latency", arity: -2, flags: [], categories: [.slow], group: "server", since: "2.8.13",
            summary: "A container for latency diagnostics commands",
            subcommands: [
                admin("latest", 2, "Return the latest latency samples for all events", server.bind(latest)),
                admin("history", 3, "Return timestamp-latency samples for an event", server.bind(history)),
                admin("reset", -2, "Reset latency data for one or more events", server.bind(reset)),
                CommandSpec("help", arity: 2, flags: [.loading, .stale], categories: [.slow], group: "server",
                            since: "2.8.13", summary: "Show helpful text about the different subcommands", handler: help),
            ],
            handler: { _ in })
    }

    private static func admin(_ name: String, _ arity: Int, _ summary: String, _ handler: @escaping CommandHandler) -> CommandSpec {
        CommandSpec(name, arity: arity, flags: [.admin, .noscript, .loading, .stale], categories: [.admin, .slow, .dangerous],
                    group: "server", since: "2.8.13", summary: summary, handler: handler)
    }

    static func latest(_ server: Server, _ c: CommandContext) {
        let events = server.admin.latency.events
        c.reply.arrayHeader(events.count)
        for (name, e) in events {
            let last = e.samples.last ?? (0, 0)
            c.reply.arrayHeader(4)
            c.reply.bulk(name)
            c.reply.integer(last.time)
            c.reply.integer(last.millis)
            c.reply.integer(e.maxMillis)
        }
    }

    static func history(_ server: Server, _ c: CommandContext) {
        let name = c.args.string(2)
        guard let e = server.admin.latency.events.first(where: { $0.name == name })?.event else {
            return c.reply.arrayHeader(0)
        }
        c.reply.arrayHeader(e.samples.count)
        for s in e.samples {
            c.reply.arrayHeader(2)
            c.reply.integer(s.time)
            c.reply.integer(s.millis)
        }
    }

    static func reset(_ server: Server, _ c: CommandContext) {
        let names = (2..<c.args.count).map { c.args.string($0) }
        c.reply.integer(server.admin.latency.reset(names))
    }

    static func help(_ c: CommandContext) {
        Help.reply(c, command: "LATENCY", lines: [
            "DOCTOR",
            "    Return a human readable latency analysis report.",
            "GRAPH <event>",
            "    Return an ASCII latency graph for the <event> class.",
            "HISTORY <event>",
            "    Return time-latency samples for the <event> class.",
            "LATEST",
            "    Return the latest latency samples for all events.",
            "RESET [<event> ...]",
            "    Reset latency data of one or more <event> classes.",
            "    (default: reset all data for all event classes)",
            "HISTOGRAM [COMMAND ...]",
            "    Return a cumulative distribution of latencies in the format of a histogram for the specified command names.",
            "    If no commands are specified then all histograms are replied.",
        ])
    }
}
