import CairnRESP
import Glibc

// Where the commands of the running top-level call are encoded as they are propagated: one
// growable byte area owned by the engine and reused call after call, plus where each command
// starts and for which database. A write command's propagation is then an encoding straight into
// memory that is already there: no allocation, no zero fill, no second copy (Redis keeps its
// pending propagation the same way, in a reused array). The sinks read the commands through
// PropagatedCommands, a view that is valid only while they receive the batch.
//
// Hand-written rather than an [UInt8]: an array cannot be written past its count without first
// being filled, and that fill was a fifth of the cost of propagating a SET.

final class PropagationBuffer {
    private var base: UnsafeMutableRawPointer
    private var capacity: Int
    private(set) var used = 0
    private(set) var entries: [PropagatedCommands.Entry] = []

    /// Kept across calls; a call that propagated more (a big MSET) gives its memory back.
    static let retainedCapacity = 64 * 1024

    init() {
        capacity = 4096
        base = malloc(capacity)!
    }

    deinit { free(base) }

    var isEmpty: Bool { entries.isEmpty }

    /// Encodes a command of exactly `size` bytes (CommandEncoder's sizes) with `body`.
    @inline(__always)
    func write(db: Int, size: Int, _ body: (inout CommandEncoder.Writer) -> Void) {
        reserve(size)
        var writer = CommandEncoder.Writer(UnsafeMutableRawBufferPointer(start: base + used, count: size))
        body(&writer)
        precondition(writer.count == size, "command size \(size) announced, \(writer.count) written")
        entries.append(PropagatedCommands.Entry(db: db, start: used, count: size))
        used += size
    }

    /// Adds a command already encoded.
    func append(db: Int, resp: UnsafeRawBufferPointer) {
        reserve(resp.count)
        if resp.count > 0 { (base + used).copyMemory(from: resp.baseAddress!, byteCount: resp.count) }
        entries.append(PropagatedCommands.Entry(db: db, start: used, count: resp.count))
        used += resp.count
    }

    /// Wraps the commands in MULTI/EXEC (the batch of a call that propagated several).
    func wrapInTransaction() {
        guard let first = entries.first, let last = entries.last else { return }
        append(db: first.db, resp: UnsafeRawBufferPointer(Self.multi))
        let multi = entries.removeLast()
        entries.insert(multi, at: 0)
        append(db: last.db, resp: UnsafeRawBufferPointer(Self.exec))
    }

    /// The commands, valid until the next change to this buffer.
    var commands: PropagatedCommands { PropagatedCommands(base: UnsafeRawPointer(base), entries: entries) }

    func clear() {
        used = 0
        entries.removeAll(keepingCapacity: true)
        if capacity > Self.retainedCapacity {
            capacity = Self.retainedCapacity
            base = realloc(base, capacity)!
        }
    }

    private func reserve(_ size: Int) {
        guard used + size > capacity else { return }
        capacity = max(capacity * 2, used + size)
        base = realloc(base, capacity)!
    }

    private static let multi: StaticString = "*1\r\n$5\r\nMULTI\r\n"
    private static let exec: StaticString = "*1\r\n$4\r\nEXEC\r\n"
}

extension UnsafeRawBufferPointer {
    init(_ text: StaticString) { self.init(start: text.utf8Start, count: text.utf8CodeUnitCount) }
}

/// The commands of one propagated batch, in order, each as its RESP encoding and the database it
/// applies to. A view of memory the engine reuses: valid only during the sink call that receives
/// it; a sink that keeps commands copies them (`owned`).
public struct PropagatedCommands {
    public struct Entry: Sendable {
        public let db: Int
        let start: Int
        let count: Int
    }

    private let base: UnsafeRawPointer?
    public let entries: [Entry]

    init(base: UnsafeRawPointer?, entries: [Entry]) {
        self.base = base
        self.entries = entries
    }

    public var count: Int { entries.count }
    public var isEmpty: Bool { entries.isEmpty }

    /// The database of command `i`.
    @inline(__always) public func db(_ i: Int) -> Int { entries[i].db }

    /// The RESP bytes of command `i`.
    @inline(__always) public func resp(_ i: Int) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(start: base! + entries[i].start, count: entries[i].count)
    }

    /// Copies of the commands, to keep after the sink call.
    public var owned: [PropagatedCommand] {
        (0..<count).map { PropagatedCommand(db: db($0), resp: Array(resp($0))) }
    }

    /// `commands` seen as a batch (tests and tools that feed a sink by hand).
    public static func with<R>(_ commands: [PropagatedCommand], _ body: (PropagatedCommands) -> R) -> R {
        let buffer = PropagationBuffer()
        for c in commands { c.resp.withUnsafeBytes { buffer.append(db: c.db, resp: $0) } }
        return withExtendedLifetime(buffer) { body(buffer.commands) }
    }
}
