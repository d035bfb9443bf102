// `create --node HOST:PORT`: asks a running node for a fresh snapshot and opens it
// (docs/tools-cairn-backup.md, "create"). BGSAVE, then INFO persistence until the save this
// command started has finished (rdb_saves counts forks; rdb_bgsave_in_progress goes back to 0)
// and succeeded (rdb_last_bgsave_status:ok, LASTSAVE not older than the request); the file is
// found through CONFIG GET dir / dbfilename, so the tool must run on the node's machine.

import CairnRESP
import CairnStorage
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

public struct NodeOptions: Sendable {
    public var address: String
    public var passwordFile: String?
    public var user: String?
    public var timeoutSeconds = 600
    /// Between two INFO polls while the save runs.
    public var pollMillis = 100

    public init(address: String) { self.address = address }
}

enum NodeSnapshot {
    static func take(_ options: NodeOptions) throws -> SourceSet {
        let (host, port) = try parseAddress(options.address)
        let deadline = UTCTime.nowMillis() + Int64(options.timeoutSeconds) * 1000
        let client = try RESPClient(host: host, port: port, timeoutSeconds: max(1, min(options.timeoutSeconds, 60)))
        if let file = options.passwordFile { try authenticate(client, passwordFile: file, user: options.user) }

        let before = try persistenceInfo(client)
        let savesBefore = before["rdb_saves"].flatMap { Int64($0) }
        var requestedAt = UTCTime.nowMillis() / 1000
        // Without rdb_saves (older servers) only LASTSAVE tells our save apart: start it in a
        // later second than the last one.
        if savesBefore == nil, let last = lastSave(client) {
            while UTCTime.nowMillis() / 1000 <= last { usleep(20_000) }
            requestedAt = UTCTime.nowMillis() / 1000
        }
        while true {
            if let message = try client.command("BGSAVE").errorText {
                // Another save or an AOF rewrite holds the fork: wait for it, then ask again.
                if message.contains("in progress") || message.contains("child process is active") {
                    try wait(until: deadline, options)
                    continue
                }
                throw BackupError(.node, "BGSAVE refused by \(client.address): \(message)")
            }
            break
        }
        while true {
            let info = try persistenceInfo(client)
            let running = info["rdb_bgsave_in_progress"] != "0"
            let saves = info["rdb_saves"].flatMap { Int64($0) }
            var started = true
            if let savesBefore { started = (saves ?? savesBefore) > savesBefore }
            if !running && started {
                guard info["rdb_last_bgsave_status"] == "ok" else {
                    throw BackupError(.node, "BGSAVE failed on \(client.address) (rdb_last_bgsave_status:\(info["rdb_last_bgsave_status"] ?? "?")); see the node's log")
                }
                if let last = lastSave(client), last >= requestedAt { break }
            }
            try wait(until: deadline, options)
        }
        let takenAt = UTCTime.nowMillis()

        let dir = try configGet(client, "dir")
        let dbfilename = try configGet(client, "dbfilename")
        guard dir.hasPrefix("/") else { throw BackupError(.node, "the node's dir '\(dir)' is not an absolute path") }
        let rdbPath = dir + "/" + dbfilename
        guard let rdb = try SourceFile.open(rdbPath, as: dbfilename, role: .rdb) else {
            throw BackupError(.node, "\(rdbPath), the node's fresh RDB, is not on this machine: run create --node where the node runs, or use --data-dir")
        }
        var files = [rdb]
        var nodeId: String? = nil
        if let cluster = try? info(client, section: "cluster"), cluster["cluster_enabled"] == "1" {
            if case .bulkString(let id?)? = try? client.command("CLUSTER", "MYID") { nodeId = String(decoding: id, as: UTF8.self) }
            if let name = try? configGet(client, "cluster-config-file"), !name.contains("/"),
               let conf = try SourceFile.read(dir + "/" + name, as: name, role: .nodesConf) {
                files.append(conf)
            }
        }
        let source = BackupManifest.Source(kind: "node", address: options.address, dir: dir, dbfilename: dbfilename, appenddirname: nil)
        return SourceSet(files: files, source: source, nodeId: nodeId, takenAtMs: takenAt)
    }

    /// `HOST:PORT`, `[v6]:PORT`.
    static func parseAddress(_ text: String) throws -> (String, Int) {
        var host: Substring
        var portText: Substring
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]"), text[text.index(after: close)...].hasPrefix(":") else {
                throw BackupError.usage("--node must be HOST:PORT, got '\(text)'")
            }
            host = text[text.index(after: text.startIndex)..<close]
            portText = text[text.index(close, offsetBy: 2)...]
        } else {
            guard let colon = text.lastIndex(of: ":") else { throw BackupError.usage("--node must be HOST:PORT, got '\(text)'") }
            host = text[..<colon]
            portText = text[text.index(after: colon)...]
        }
        guard !host.isEmpty, let port = Int(portText), (1...65535).contains(port) else {
            throw BackupError.usage("--node must be HOST:PORT, got '\(text)'")
        }
        return (String(host), port)
    }

    private static func authenticate(_ client: RESPClient, passwordFile: String, user: String?) throws {
        let password: [UInt8]
        do {
            guard let file = try SourceFile.read(passwordFile, as: passwordFile, role: .nodesConf, bytesMax: 64 * 1024),
                  case .bytes(var bytes) = file.content else {
                throw BackupError(.node, "cannot open the password file \(passwordFile): \(SystemText.error(ENOENT))")
            }
            while let last = bytes.last, last == 0x0A || last == 0x0D { bytes.removeLast() }
            password = bytes
        } catch let e as BackupError where e.exit == .io {
            throw BackupError(.node, e.message)
        }
        var args: [[UInt8]] = [Array("AUTH".utf8)]
        if let user { args.append(Array(user.utf8)) }
        args.append(password)
        // The reply is shown, never the password.
        if let message = try client.command(args).errorText {
            throw BackupError(.node, "AUTH refused by \(client.address): \(message)")
        }
    }

    private static func persistenceInfo(_ client: RESPClient) throws -> [String: String] {
        try info(client, section: "persistence")
    }

    private static func info(_ client: RESPClient, section: String) throws -> [String: String] {
        let reply = try client.command("INFO", section)
        if let message = reply.errorText { throw BackupError(.node, "INFO \(section) refused by \(client.address): \(message)") }
        guard let text = reply.string else { throw BackupError(.node, "unexpected INFO reply from \(client.address)") }
        var fields: [String: String] = [:]
        for line in text.split(whereSeparator: { $0 == "\r\n" || $0 == "\n" || $0 == "\r" }) {
            guard !line.hasPrefix("#"), let colon = line.firstIndex(of: ":") else { continue }
            fields[String(line[..<colon])] = String(line[line.index(after: colon)...])
        }
        return fields
    }

    private static func lastSave(_ client: RESPClient) -> Int64? {
        if case .integer(let t)? = try? client.command("LASTSAVE") { return t }
        return nil
    }

    private static func configGet(_ client: RESPClient, _ name: String) throws -> String {
        let reply = try client.command("CONFIG", "GET", name)
        guard case .array(let items?) = reply, items.count == 2, let value = items[1].string else {
            if let message = reply.errorText { throw BackupError(.node, "CONFIG GET \(name) refused by \(client.address): \(message)") }
            throw BackupError(.node, "unexpected CONFIG GET \(name) reply from \(client.address)")
        }
        return value
    }

    private static func wait(until deadline: Int64, _ options: NodeOptions) throws {
        guard UTCTime.nowMillis() < deadline else {
            throw BackupError(.node, "the node's BGSAVE did not finish within \(options.timeoutSeconds) seconds")
        }
        usleep(UInt32(options.pollMillis * 1000))
    }
}
