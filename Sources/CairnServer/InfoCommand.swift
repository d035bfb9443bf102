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
        case "cluster": return ["# Cluster", "cluster_enabled:\(server.settings.cluster.enabled ? 1 : 0)"]
        case "keyspace": return InfoSections.keyspace(server.engine)
        case "latencystats": return InfoSections.latencyStats(server)
        default: return nil
        }
    }
}
