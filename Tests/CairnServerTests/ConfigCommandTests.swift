@testable import CairnServer
import CairnRESP
import CairnStorage
import Logging
import Testing
#if canImport(Glibc)
import Glibc
#endif

@Suite(.serialized) struct ConfigCommandTests {
    @Test func getSingleGlobAndUnknown() {
        let h = ServerHarness()
        #expect(h.run("CONFIG", "GET", "port") == .array([.bulk("port"), .bulk("6379")]))
        #expect(h.run("CONFIG", "GET", "PORT") == .array([.bulk("PORT"), .bulk("6379")]), "exact names answer as given")
        #expect(h.run("CONFIG", "GET", "P*RT") == .array([.bulk("port"), .bulk("6379")]))
        #expect(h.run("CONFIG", "GET", "port", "port") == .array([.bulk("port"), .bulk("6379")]))
        #expect(h.run("CONFIG", "GET", "nosuch") == .array([]))
        #expect(h.run("CONFIG", "GET", "*max-*-len*") == .array([.bulk("proto-max-bulk-len"), .bulk("536870912")]))
        #expect(h.run("CONFIG", "GET") == .err("ERR wrong number of arguments for 'config|get' command"))
        let everything = h.run("CONFIG", "GET", "*").pairs ?? []
        // Aliases (hash-max-ziplist-entries...) are listed too, as Redis 7.0 does.
        #expect(everything.count == ConfigTable.directives.reduce(0) { $0 + 1 + $1.aliases.count })
        h.run("HELLO", "3")
        #expect(h.raw("CONFIG", "GET", "hz") == "%1\r\n$2\r\nhz\r\n$2\r\n10\r\n")
    }

    @Test func setAppliesSettings() {
        let h = ServerHarness()
        #expect(h.run("CONFIG", "SET", "hz", "20", "loglevel", "warning", "maxclients", "100") == .ok)
        #expect(h.server.settings.hz == 20)
        #expect(h.server.engine.settings.hz == 20)
        #expect(h.server.logger.logLevel == .warning)
        #expect(h.run("CONFIG", "GET", "maxclients") == .array([.bulk("maxclients"), .bulk("100")]))
        #expect(h.run("CONFIG", "SET", "HZ", "0") == .ok)
        #expect(h.run("CONFIG", "GET", "hz") == .array([.bulk("hz"), .bulk("1")]), "hz is clamped like Redis")
        #expect(h.run("CONFIG", "SET", "hz", "1000") == .ok)
        #expect(h.server.settings.hz == 500)
        #expect(h.run("CONFIG", "SET", "proto-max-bulk-len", "2mb") == .ok)
        #expect(h.server.engine.settings.protoMaxBulkLength == 2 * 1024 * 1024)
    }

    @Test func setIsAllOrNothing() {
        let h = ServerHarness()
        #expect(h.run("CONFIG", "SET", "hz", "20", "timeout", "-1") ==
                .err("ERR CONFIG SET failed (possibly related to argument 'timeout') - argument must be between 0 and 2147483647 inclusive"))
        #expect(h.server.settings.hz == 10)
        #expect(h.run("CONFIG", "SET", "hz", "5", "nosuch", "1") == .err("ERR Unknown option or number of arguments for CONFIG SET - 'nosuch'"))
        #expect(h.server.settings.hz == 10)
    }

    @Test func setErrorsAsRedis() {
        let h = ServerHarness()
        func failed(_ name: String, _ reason: String) -> RESPValue {
            .err("ERR CONFIG SET failed (possibly related to argument '\(name)') - \(reason)")
        }
        #expect(h.run("CONFIG", "SET", "hz") == .err("ERR wrong number of arguments for 'config|set' command"))
        #expect(h.run("CONFIG", "SET", "hz", "1", "hz") == .err("ERR syntax error"))
        #expect(h.run("CONFIG", "SET", "HZ", "abc") == failed("hz", "argument couldn't be parsed into an integer"))
        #expect(h.run("CONFIG", "SET", "hz", "20", "HZ", "30") == failed("HZ", "duplicate parameter"))
        #expect(h.run("CONFIG", "SET", "databases", "3") == failed("databases", "can't set immutable config"))
        #expect(h.run("CONFIG", "SET", "dir", "/tmp") == failed("dir", "can't set protected config"))
        #expect(h.run("CONFIG", "SET", "databases", "3", "nosuch", "1") == failed("databases", "can't set immutable config"))
        #expect(h.run("CONFIG", "SET", "nosuch", "1", "databases", "3") == .err("ERR Unknown option or number of arguments for CONFIG SET - 'nosuch'"))
        #expect(h.run("CONFIG", "SET", "maxclients", "0") == failed("maxclients", "argument must be between 1 and 4294967295 inclusive"))
        #expect(h.run("CONFIG", "SET", "protected-mode", "maybe") == failed("protected-mode", "argument must be 'yes' or 'no'"))
        #expect(h.run("CONFIG", "SET", "proto-max-bulk-len", "1") == failed("proto-max-bulk-len", "argument must be between 1048576 and 9223372036854775807 inclusive"))
        #expect(h.run("CONFIG", "SET", "active-expire-effort", "11") == failed("active-expire-effort", "argument must be between 1 and 10 inclusive"))
    }

    @Test func protectedDirChangesDirectory() throws {
        var settings = ServerSettings()
        settings.enableProtectedConfigs = "yes"
        let h = ServerHarness(settings: settings)
        let original = ConfigValue.workingDirectory() ?? "/"
        defer { _ = chdir(original) }
        #expect(h.run("CONFIG", "SET", "dir", "/nonexistent-cairn-dir") ==
                .err("ERR CONFIG SET failed (possibly related to argument 'dir') - No such file or directory"))
        #expect(ConfigValue.workingDirectory() == original)
        #expect(h.run("CONFIG", "SET", "dir", "/tmp", "dbfilename", "x.rdb") == .ok)
        #expect(ConfigValue.workingDirectory() == "/tmp")
        #expect(h.run("CONFIG", "GET", "dir") == .array([.bulk("dir"), .bulk("/tmp")]))
        #expect(h.run("CONFIG", "SET", "dbfilename", "a/b") ==
                .err("ERR CONFIG SET failed (possibly related to argument 'dbfilename') - dbfilename can't be a path, just a filename"))
    }

    @Test func protectedLocalOnlyFromLoopback() {
        var settings = ServerSettings()
        settings.enableProtectedConfigs = "local"
        let h = ServerHarness(settings: settings)
        #expect(h.run("CONFIG", "SET", "dbfilename", "a.rdb") == .ok)
        h.client.address = "10.0.0.5:4000"
        #expect(h.run("CONFIG", "SET", "dbfilename", "b.rdb") ==
                .err("ERR CONFIG SET failed (possibly related to argument 'dbfilename') - can't set protected config"))
    }

    @Test func resetStatZeroesCounters() {
        let h = ServerHarness()
        h.run("GET", "a")
        h.run("NOSUCH")
        #expect(h.run("CONFIG", "RESETSTAT") == .ok)
        let text = h.run("INFO", "commandstats", "errorstats", "stats").string ?? ""
        #expect(!text.contains("cmdstat_get"))
        #expect(!text.contains("errorstat_"))
        #expect(text.contains("keyspace_misses:0\r\n"))
        #expect(text.contains("total_error_replies:0\r\n"))
    }

    @Test func rewriteWithoutConfigFile() {
        let h = ServerHarness()
        #expect(h.run("CONFIG", "REWRITE") == .err("ERR The server is running without a config file"))
    }

    @Test func rewriteKeepsCommentsAndOrder() throws {
        let path = "/tmp/cairn-config-rewrite-\(getpid())-\(Int.random(in: 0..<1_000_000)).conf"
        defer { unlink(path) }
        let original = """
        # Cairn test configuration
        port 7000

        hz 15
        # timeout below
        timeout 5
        hz 16
        """
        try AtomicFile.replace(path, with: Array(original.utf8))
        var settings = ServerSettings()
        try ConfigFile.apply(original, to: &settings)
        let h = ServerHarness(settings: settings, configFile: path)
        h.server.settings.persistence.savePoints = SavePoint.defaults  // the harness clears them
        #expect(h.run("CONFIG", "SET", "hz", "33", "maxclients", "50", "timeout", "0") == .ok)
        #expect(h.run("CONFIG", "REWRITE") == .ok)
        let text = ProcessMetrics.readFile(path) ?? ""
        let cwd = ConfigValue.workingDirectory() ?? ""
        #expect(text == """
        # Cairn test configuration
        port 7000

        hz 33
        # timeout below
        timeout 0

        # Generated by CONFIG REWRITE
        dir "\(cwd)"
        maxclients 50
        user default on nopass ~* &* +@all

        """)
        var reread = ServerSettings()
        try ConfigFile.apply(text, to: &reread)
        #expect(reread.hz == 33 && reread.maxclients == 50 && reread.port == 7000 && reread.timeoutSeconds == 0)
        // A second rewrite is stable: the signature is not repeated.
        #expect(h.run("CONFIG", "REWRITE") == .ok)
        #expect(ProcessMetrics.readFile(path) == text)
    }

    @Test func rewriteQuotesStringsAndKeepsUnknownLines() {
        var settings = ServerSettings()
        settings.requirepass = "p a\"ss"
        let text = ConfigRewrite.rewrittenText("future-directive 1\nrequirepass old\n", settings: settings)
        #expect(text.hasPrefix("future-directive 1\nrequirepass \"p a\\\"ss\"\n"))
    }

    @Test func help() {
        let h = ServerHarness()
        let lines = h.run("CONFIG", "HELP").arrayValue ?? []
        #expect(lines.count == 11)
        #expect(lines.first == .simple("CONFIG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:"))
    }
}

extension ConfigCommandTests {
    /// In the serialized suite: it depends on the working directory, which another test changes.
    @Test func configFilePathIsMadeAbsolute() {
        #expect(Server.absolutePath("/etc/cairn.conf") == "/etc/cairn.conf")
        #expect(Server.absolutePath("-") == "-")
        let resolved = Server.absolutePath("Package.swift")
        #expect(resolved.hasPrefix("/") && resolved.hasSuffix("/Package.swift"))
        #expect(ProcessMetrics.readFile(resolved) != nil, "an existing relative file resolves to itself")
    }
}
