import ArgumentParser
import CairnServer
import Foundation

struct CairnServerCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cairn-server",
        abstract: "A Redis-compatible, durable key-value server.",
        discussion: """
        Takes redis-server's arguments: an optional config file in redis.conf syntax, then
        `--directive value` overrides.

        Examples:
          cairn-server
          cairn-server /etc/cairn/cairn.conf
          cairn-server --port 6380 --dir ./data
        """
    )

    @Argument(parsing: .captureForPassthrough, help: "[config-file] [--directive value ...]")
    var arguments: [String] = []

    func run() throws {
        let code = ServerMain.run(arguments: arguments)
        if code != 0 { throw ExitCode(code) }
    }
}

CairnServerCommand.main()
