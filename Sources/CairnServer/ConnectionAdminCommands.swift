import CairnRESP
import CairnStorage

enum ConnectionAdminCommands {
    static let specs: [CommandSpec] = []
}
