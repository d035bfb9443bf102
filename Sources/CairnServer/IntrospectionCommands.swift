import CairnRESP
import CairnStorage

// Commands that describe or reconfigure the server: INFO, CONFIG, COMMAND.

enum IntrospectionCommands {
    static let specs: [CommandSpec] = [InfoCommand.spec, ConfigCommand.spec, CommandCommand.spec]
}
