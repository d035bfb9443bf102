import ArgumentParser

// The entry point the offline tools share: ArgumentParser exits 64 (EX_USAGE) on bad arguments,
// while cairn-rdb, cairn-aof and cairn-backup document exit status 2 for a usage error.

public enum ToolMain {
    public static func run<Command: ParsableCommand>(_ command: Command.Type) {
        do {
            var parsed = try command.parseAsRoot()
            try parsed.run()
        } catch {
            if command.exitCode(for: error) == .validationFailure {
                ToolRunner.printError(command.fullMessage(for: error))
                command.exit(withError: ExitCode(ToolExit.usage.rawValue))
            }
            command.exit(withError: error)
        }
    }
}
