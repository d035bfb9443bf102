import CairnRESP
import CairnStorage

// Commands that describe or reconfigure the server: INFO, CONFIG, COMMAND.

enum IntrospectionCommands {
    static func specs(_ server: Server) -> [CommandSpec] {
        [InfoCommand.spec(server), ConfigCommand.spec(server), CommandCommand.spec]
    }
}
