import CairnRESP

enum ExpireCommands {
    static let specs: [CommandSpec] = []
}
