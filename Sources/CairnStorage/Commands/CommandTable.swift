// Case-insensitive command lookup straight from the request bytes: no lowercase copy, no String.
// An open-addressing table keyed by a hash of the ASCII-lowercased name.

public final class RegisteredCommand {
    public let spec: CommandSpec
    /// Dense id for statistics arrays.
    public let id: Int
    /// `get` or `config|get`, as Redis names commands in errors, INFO and ACL.
    public let fullName: String
    public let subcommands: CommandTable?
    public var stats = CommandStats()
    /// Admission checks installed for this command alone (AdmissionPipeline `only:`).
    var dedicatedAdmissionChecks = 0

    init(spec: CommandSpec, id: Int, fullName: String, subcommands: CommandTable?) {
        self.spec = spec
        self.id = id
        self.fullName = fullName
        self.subcommands = subcommands
    }
}

public struct CommandStats: Sendable {
    public var calls: Int64 = 0
    public var microseconds: Int64 = 0
    public var rejectedCalls: Int64 = 0
    public var failedCalls: Int64 = 0
    public init() {}
}

public final class CommandTable {
    private var slots: [RegisteredCommand?]
    private var names: [[UInt8]]
    private var mask: Int
    public private(set) var all: [RegisteredCommand] = []
    private let container: String?
    private var nextID: () -> Int

    public convenience init(_ specs: [CommandSpec] = []) {
        var counter = 0
        self.init(specs, container: nil, nextID: { counter += 1; return counter - 1 })
    }

    private init(_ specs: [CommandSpec], container: String?, nextID: @escaping () -> Int) {
        self.container = container
        self.nextID = nextID
        slots = Array(repeating: nil, count: 64)
        names = Array(repeating: [], count: 64)
        mask = 63
        register(specs)
    }

    public func register(_ specs: [CommandSpec]) {
        for spec in specs { register(spec) }
    }

    public func register(_ spec: CommandSpec) {
        let full = container.map { "\($0)|\(spec.name)" } ?? spec.name
        let sub = spec.subcommands.isEmpty ? nil : CommandTable(spec.subcommands, container: spec.name, nextID: nextID)
        let command = RegisteredCommand(spec: spec, id: nextID(), fullName: full, subcommands: sub)
        if lookup(Array(spec.name.utf8)) != nil { remove(spec.name) }
        all.append(command)
        if all.count * 2 > slots.count { rebuild(size: slots.count * 2) } else { place(command) }
    }

    private func remove(_ name: String) {
        all.removeAll { $0.spec.name == name }
        rebuild(size: slots.count)
    }

    private func rebuild(size: Int) {
        slots = Array(repeating: nil, count: size)
        names = Array(repeating: [], count: size)
        mask = size - 1
        for c in all { place(c) }
    }

    private func place(_ command: RegisteredCommand) {
        let name = Array(command.spec.name.utf8)
        var i = name.withUnsafeBytes { Self.hash($0) } & mask
        while slots[i] != nil { i = (i + 1) & mask }
        slots[i] = command
        names[i] = name
    }

    @inline(__always)
    static func hash(_ bytes: UnsafeRawBufferPointer) -> Int {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in bytes { h = (h ^ UInt64(ASCII.lower(b))) &* 0x100_0000_01b3 }
        return Int(truncatingIfNeeded: h ^ (h >> 29))
    }

    public func lookup(_ name: UnsafeRawBufferPointer) -> RegisteredCommand? {
        var i = Self.hash(name) & mask
        while let c = slots[i] {
            let stored = names[i]
            if stored.count == name.count {
                var same = true
                for j in 0..<name.count where ASCII.lower(name[j]) != stored[j] { same = false; break }
                if same { return c }
            }
            i = (i + 1) & mask
        }
        return nil
    }

    public func lookup(_ name: [UInt8]) -> RegisteredCommand? { name.withUnsafeBytes { lookup($0) } }
    public func lookup(_ name: String) -> RegisteredCommand? { lookup(Array(name.utf8)) }

    /// Every command and subcommand, depth first.
    public var allIncludingSubcommands: [RegisteredCommand] {
        all.flatMap { [$0] + ($0.subcommands?.all ?? []) }
    }
}
