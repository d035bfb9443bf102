import CairnRESP

enum BitCommands {
    static let specs: [CommandSpec] = []
}
