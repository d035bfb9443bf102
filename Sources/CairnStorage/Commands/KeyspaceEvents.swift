import CairnRESP

// Keyspace notifications (Redis 7.0's notify.c): when `notify-keyspace-events` enables an event's
// class, a command that changed a key publishes the event on `__keyspace@<db>__:<key>` (message:
// the event name) and/or `__keyevent@<db>__:<event>` (message: the key). Messages go to this
// node's subscribers only, also in a cluster (Redis uses pubsubPublishMessage, not the bus).
//
// Commands call `notify` at the point where Redis's calls notifyKeyspaceEvent, with the same event
// name. With notifications off (the default) a call costs one load and one test: the key's bytes
// are an autoclosure, built only when some class is on.

/// Redis's NOTIFY_* bits, in its order (CONFIG GET prints them through ParityConfig).
public struct KeyspaceEventClasses: OptionSet, Sendable {
    public let rawValue: Int
    public init(rawValue: Int) { self.rawValue = rawValue }

    /// K: publish on `__keyspace@<db>__:<key>`.
    public static let keyspace = KeyspaceEventClasses(rawValue: 1 << 0)
    /// E: publish on `__keyevent@<db>__:<event>`.
    public static let keyevent = KeyspaceEventClasses(rawValue: 1 << 1)
    /// g: type-independent commands (DEL, EXPIRE, RENAME, ...).
    public static let generic = KeyspaceEventClasses(rawValue: 1 << 2)
    /// $: strings.
    public static let string = KeyspaceEventClasses(rawValue: 1 << 3)
    /// l, s, h, z: lists, sets, hashes, sorted sets.
    public static let list = KeyspaceEventClasses(rawValue: 1 << 4)
    public static let set = KeyspaceEventClasses(rawValue: 1 << 5)
    public static let hash = KeyspaceEventClasses(rawValue: 1 << 6)
    public static let zset = KeyspaceEventClasses(rawValue: 1 << 7)
    /// x: a key deleted because its time ran out.
    public static let expired = KeyspaceEventClasses(rawValue: 1 << 8)
    /// e: a key evicted for maxmemory.
    public static let evicted = KeyspaceEventClasses(rawValue: 1 << 9)
    /// t: streams.
    public static let stream = KeyspaceEventClasses(rawValue: 1 << 10)
    /// m: a read found no key (not part of A).
    public static let keyMiss = KeyspaceEventClasses(rawValue: 1 << 11)
    /// d: module key types (accepted; Cairn has no modules).
    public static let module = KeyspaceEventClasses(rawValue: 1 << 13)
    /// n: a key was created (not part of A).
    public static let newKey = KeyspaceEventClasses(rawValue: 1 << 14)

    /// The classes some engine of this process has had on: a first test that costs one load
    /// (reading the engine's own setting through a command's unowned engine costs a retain and
    /// a release per call). Only ever grows; the engine's setting decides.
    nonisolated(unsafe) static var enabledInSomeEngine = 0

    /// A: every class but m and n.
    public static let all: KeyspaceEventClasses = [.generic, .string, .list, .set, .hash, .zset, .expired, .evicted, .stream, .module]

    private static let letters: [(Character, KeyspaceEventClasses)] = [
        ("K", .keyspace), ("E", .keyevent), ("g", .generic), ("$", .string), ("l", .list), ("s", .set),
        ("h", .hash), ("z", .zset), ("x", .expired), ("e", .evicted), ("t", .stream), ("m", .keyMiss),
        ("d", .module), ("n", .newKey), ("A", .all),
    ]

    /// Redis's keyspaceEventsStringToFlags; nil for an unknown character.
    public init?(configText: String) {
        var flags: KeyspaceEventClasses = []
        for c in configText {
            guard let bit = Self.letters.first(where: { $0.0 == c })?.1 else { return nil }
            flags.formUnion(bit)
        }
        self = flags
    }
}

extension Engine {
    /// Publishes `event` for `key` of database `db` if its class is enabled (notifyKeyspaceEvent).
    @inline(__always)
    public func notify(_ type: KeyspaceEventClasses, _ event: StaticString, _ key: @autoclosure () -> [UInt8], db: Int) {
        guard settings.keyspaceEvents.rawValue & type.rawValue != 0 else { return }
        publishKeyspaceEvent(event, key(), db: db)
    }

    @inline(never)
    func publishKeyspaceEvent(_ event: StaticString, _ key: [UInt8], db: Int) {
        let name = event.withUTF8Buffer { Array($0) }
        let flags = settings.keyspaceEvents
        if flags.contains(.keyspace) {
            publish(channel: Array("__keyspace@\(db)__:".utf8) + key, message: name)
        }
        if flags.contains(.keyevent) {
            publish(channel: Array("__keyevent@\(db)__:".utf8) + name, message: key)
        }
    }
}

extension CommandContext {
    /// `notify` for a key of the command's database.
    @inline(__always)
    public func notify(_ type: KeyspaceEventClasses, _ event: StaticString, _ key: @autoclosure () -> [UInt8]) {
        guard KeyspaceEventClasses.enabledInSomeEngine & type.rawValue != 0 else { return }
        engine.notify(type, event, key(), db: db.id)
    }

    /// `notify` for the command's argument `index`.
    @inline(__always)
    public func notify(_ type: KeyspaceEventClasses, _ event: StaticString, keyAt index: Int) {
        guard KeyspaceEventClasses.enabledInSomeEngine & type.rawValue != 0 else { return }
        engine.notify(type, event, args.bytes(index), db: db.id)
    }
}
