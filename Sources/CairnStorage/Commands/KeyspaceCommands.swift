import CairnRESP

enum KeyspaceCommands {
    static let specs: [CommandSpec] = []
}
