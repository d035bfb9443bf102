// Callbacks around command execution (admission checks, the evictor's bookkeeping, SLOWLOG and
// MONITOR observers). They run for every command, so a subsystem arms its callback only while it
// has something to do (maxmemory set, a user with restrictions, a persistence error, a monitor
// connected): walking a disarmed entry reads a flag, with no closure call and no reference
// counting.

/// Names one callback in an ArmableList, to arm or disarm it later.
public struct HookHandle: Hashable, Sendable {
    let id: Int
}

public struct ArmableList<Callback> {
    @usableFromInline struct Entry {
        let id: Int
        @usableFromInline var armed: Bool
        @usableFromInline let callback: Callback
    }

    @usableFromInline var entries: [Entry] = []
    private var nextID = 0
    /// Some entry is armed (the engine skips the walk when none is).
    @usableFromInline var anyArmed = false

    public init() {}

    /// Appends `callback` (armed unless said otherwise).
    @discardableResult
    public mutating func add(armed: Bool = true, _ callback: Callback) -> HookHandle {
        insert(at: entries.count, armed: armed, callback)
    }

    /// Inserts `callback` at `position` (observers that must run first).
    @discardableResult
    public mutating func insert(at position: Int, armed: Bool = true, _ callback: Callback) -> HookHandle {
        nextID += 1
        entries.insert(Entry(id: nextID, armed: armed, callback: callback), at: position)
        anyArmed = entries.contains { $0.armed }
        return HookHandle(id: nextID)
    }

    public mutating func arm(_ handle: HookHandle, _ armed: Bool) {
        guard let i = entries.firstIndex(where: { $0.id == handle.id }), entries[i].armed != armed else { return }
        entries[i].armed = armed
        anyArmed = entries.contains { $0.armed }
    }

    public var count: Int { entries.count }

    /// Calls `body` with each armed callback, in order.
    @inlinable
    public func forEachArmed(_ body: (Callback) -> Void) {
        guard anyArmed else { return }
        entries.withUnsafeBufferPointer { e in
            for entry in e where entry.armed { body(entry.callback) }
        }
    }
}
