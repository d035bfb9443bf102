import CairnRESP
import CairnStorage

enum IntrospectionCommands {
    static let specs: [CommandSpec] = []
}
