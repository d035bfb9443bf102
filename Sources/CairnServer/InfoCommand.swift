import CairnRESP
import CairnStorage

// INFO [section ...] (Redis 7.0's genRedisInfoString). Sections come out in Redis's fixed order
// whatever order they were asked in; `default`, `all` and `everything` as Redis. Fields are the
// ones whose values Cairn really knows; see docs in each section for what is left out and why.

enum InfoCommand {
    static func spec(_ server: Server) -> CommandSpec {
        CommandSpec(
            "info", arity: -1, flags: [.loading, .stale], categories: [.slow, .dangerous],
            group: "server", since: "1.0.0", summary: "Get information and statistics about the server",
            handler: server.bind(info))
    }

    /// Every section, in output order. `modules` is Redis's module_list section.
    static let sectionOrder = ["server", "clients", "memory", "persistence", "stats", "replication", "cpu",
                               "modules", "commandstats", "errorstats", "latencystats", "cluster", "keyspace"]
    static let defaultSections: Set<String> = ["server", "clients", "memory", "persistence", "stats",
                                               "replication", "cpu", "modules", "errorstats", "cluster", "keyspace"]

    static func info(_ server: Server, _ c: CommandContext) {
        var requested: Set<String> = []
        var all = false
        if c.args.count == 1 {
            requested = defaultSections
        }
        for i in 1..<max(1, c.args.count) {
            let name = c.args.string(i).lowercased()
            switch name {
            case "default": requested.formUnion(defaultSections)
            case "all", "everything": all = true
            case "module_list": requested.insert("modules")
            default: requested.insert(name)
            }
        }
        let text = render(server, sections: all ? Set(sectionOrder) : requested)
        c.reply.verbatim(text)
    }

    /// The INFO text for `sections` (lowercase names); sections are separated by an empty line.
    static func render(_ server: Server, sections: Set<String>) -> String {
        var out: [String] = []
        for name in sectionOrder where sections.contains(name) {
            guard let lines = section(name, server) else { continue }
            out.append(lines.map { $0 + "\r\n" }.joined())
        }
        return out.joined(separator: "\r\n")
    }

    static func section(_ name: String, _ server: Server) -> [String]? {
        switch name {
        case "server": return InfoSections.server(server)
        case "clients": return InfoSections.clients(server)
        case "memory": return InfoSections.memory(server)
        case "persistence": return InfoSections.persistence(server)
        case "stats": return InfoSections.stats(server)
        case "replication": return InfoSections.replication(server)
        case "cpu": return InfoSections.cpu()
        case "modules": return ["# Modules"]
        case "commandstats": return InfoSections.commandStats(server.engine)
        case "errorstats": return InfoSections.errorStats(server.engine)
        case "cluster": return ["# Cluster", "cluster_enabled:0"]
        case "keyspace": return InfoSections.keyspace(server.engine)
        default: return nil  // latencystats: Cairn keeps no latency histograms yet
        }
    }
}

/// Number formatting as Redis's printf formats produce it.
enum InfoFormat {
    /// `%.Nf`, rounding half to even on the binary value's scaled form.
    static func fixed(_ v: Double, _ decimals: Int) -> String {
        guard v.isFinite else { return v.isNaN ? "nan" : (v > 0 ? "inf" : "-inf") }
        var scale: Double = 1
        for _ in 0..<decimals { scale *= 10 }
        let scaled = (abs(v) * scale).rounded(.toNearestOrEven)
        guard scaled < 9e18 else { return "\(v)" }
        let n = Int64(scaled)
        let divisor = Int64(scale)
        let whole = n / divisor
        var fraction = String(n % divisor)
        while fraction.count < decimals { fraction = "0" + fraction }
        let sign = v < 0 && n != 0 ? "-" : ""
        return decimals == 0 ? "\(sign)\(whole)" : "\(sign)\(whole).\(fraction)"
    }

    /// Redis's bytesToHuman: `512B`, `1.28M`, `23.54G`.
    static func human(_ bytes: Int) -> String {
        let units: [(Double, String)] = [(1024, "K"), (1024 * 1024, "M"), (1024 * 1024 * 1024, "G"),
                                         (1024.0 * 1024 * 1024 * 1024, "T"), (1024.0 * 1024 * 1024 * 1024 * 1024, "P")]
        let n = Double(bytes)
        if bytes < 1024 { return "\(bytes)B" }
        for (index, (size, unit)) in units.enumerated() where index == units.count - 1 || n < size * 1024 {
            return fixed(n / size, 2) + unit
        }
        return "\(bytes)B"
    }

    /// Seconds with microseconds, as `%ld.%06ld` (CPU times).
    static func seconds(micros: Int64) -> String {
        var fraction = String(micros % 1_000_000)
        while fraction.count < 6 { fraction = "0" + fraction }
        return "\(micros / 1_000_000).\(fraction)"
    }
}
