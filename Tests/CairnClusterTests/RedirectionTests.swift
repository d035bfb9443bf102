import Testing
@testable import CairnCluster

/// The slot check, branch by branch, against Redis 7.0's getNodeByQuery.
@Suite struct RedirectionTests {
    static let a = NodeName(String(repeating: "a", count: 40))!
    static let b = NodeName(String(repeating: "b", count: 40))!
    static let r = NodeName(String(repeating: "c", count: 40))!
    static let migratingSlot = 1000, importingSlot = 6000, unservedSlot = 16000

    /// A (7000, hostname a.test) serves 0-5460 and migrates 1000 to B; B (7001) serves the rest
    /// but 16000, and A imports 6000 from it; R (7002) replicates B. `me` is A or R.
    static func cluster(me: NodeName = a, status: ClusterStatus = .ok) -> ClusterState {
        let nodes = [
            ClusterNode(name: a, ip: "127.0.0.1", port: 7000, busPort: 17000, hostname: "a.test", flags: .master, configEpoch: 1),
            ClusterNode(name: b, ip: "127.0.0.1", port: 7001, busPort: 17001, flags: .master, configEpoch: 2),
            ClusterNode(name: r, ip: "127.0.0.1", port: 7002, busPort: 17002, flags: .replica, replicaOf: b),
        ]
        var state = ClusterState(myself: nodes.first { $0.name == me }!)
        for node in nodes where node.name != me { state.add(node) }
        for slot in 0..<clusterSlotCount where slot != unservedSlot { state.assign(slot, to: slot <= 5460 ? a : b) }
        if me == a {
            state.setMigrating(migratingSlot, to: b)
            state.setImporting(importingSlot, from: b)
        }
        state.status = status
        return state
    }

    /// A key in `slot`, and a second, different key in the same slot.
    static func keys(in slot: Int) -> [[UInt8]] {
        guard let tag = (0..<1_000_000).lazy.map({ Array("t\($0)".utf8) }).first(where: { keySlot($0) == slot }) else { return [] }
        return [Array("{".utf8) + tag + Array("}:1".utf8), Array("{".utf8) + tag + Array("}:2".utf8)]
    }

    static let aSlot = 42, bSlot = 9000
    static let read = RoutedCommand(), write = RoutedCommand(isWrite: true)

    struct Case: CustomTestStringConvertible, Sendable {
        let name: String
        var me: NodeName = a
        var status: ClusterStatus = .ok
        var settings = RedirectionSettings()
        let keys: [[UInt8]]
        var command = read
        /// Keys that exist here; nil means every key.
        var present: Set<[UInt8]>? = nil
        let expected: Redirection
        var testDescription: String { name }
    }

    static let cases: [Case] = {
        let inA = keys(in: aSlot), inB = keys(in: bSlot)
        let migrating = keys(in: migratingSlot), importing = keys(in: importingSlot), unserved = keys(in: unservedSlot)
        return [
            Case(name: "no keys", keys: [], expected: .serve(slot: nil)),
            Case(name: "own slot", keys: [inA[0]], expected: .serve(slot: aSlot)),
            Case(name: "other's slot", keys: [inB[0]], expected: .moved(slot: bSlot, to: b)),
            Case(name: "keys in two slots", keys: [inA[0], inB[0]], expected: .crossSlot),
            Case(name: "unserved first key before cross slot", keys: [unserved[0], inA[0]], expected: .slotNotServed),
            Case(name: "cross slot into an unserved slot", keys: [inA[0], unserved[0]], expected: .crossSlot),
            Case(name: "two keys one slot", keys: inA, expected: .serve(slot: aSlot)),
            Case(name: "unserved slot", keys: [unserved[0]], expected: .slotNotServed),
            Case(name: "unserved slot, cluster down", status: .fail, keys: [unserved[0]], expected: .slotNotServed),
            Case(name: "down", status: .fail, keys: [inA[0]], expected: .clusterDown),
            Case(name: "down, reads allowed, read", status: .fail, settings: RedirectionSettings(allowReadsWhenDown: true),
                 keys: [inA[0]], expected: .serve(slot: aSlot)),
            Case(name: "down, reads allowed, read elsewhere", status: .fail, settings: RedirectionSettings(allowReadsWhenDown: true),
                 keys: [inB[0]], expected: .moved(slot: bSlot, to: b)),
            Case(name: "down, reads allowed, write", status: .fail, settings: RedirectionSettings(allowReadsWhenDown: true),
                 keys: [inA[0]], command: write, expected: .clusterDownReadOnly),
            Case(name: "down, reads allowed, EXEC of writes", status: .fail, settings: RedirectionSettings(allowReadsWhenDown: true),
                 keys: [inA[0]], command: RoutedCommand(queuedWrite: true), expected: .serve(slot: aSlot)),
            Case(name: "down, sharded pub/sub allowed", status: .fail, keys: [inA[0]],
                 command: RoutedCommand(isShardedPubSub: true), expected: .serve(slot: aSlot)),
            Case(name: "down, sharded pub/sub refused", status: .fail,
                 settings: RedirectionSettings(allowReadsWhenDown: true, allowPubSubShardWhenDown: false),
                 keys: [inA[0]], command: RoutedCommand(isShardedPubSub: true), expected: .clusterDown),
            Case(name: "migrating, key here", keys: [migrating[0]], expected: .serve(slot: migratingSlot)),
            Case(name: "migrating, key gone", keys: [migrating[0]], present: [], expected: .ask(slot: migratingSlot, to: b)),
            Case(name: "migrating, write of a gone key", keys: [migrating[0]], command: write, present: [],
                 expected: .ask(slot: migratingSlot, to: b)),
            Case(name: "migrating, some keys gone", keys: migrating, present: [migrating[0]], expected: .tryAgain),
            Case(name: "migrating, all keys gone", keys: migrating, present: [], expected: .ask(slot: migratingSlot, to: b)),
            Case(name: "migrating, MIGRATE", keys: migrating, command: RoutedCommand(isMigrate: true), present: [],
                 expected: .serve(slot: migratingSlot)),
            Case(name: "migrating, sharded pub/sub", keys: [migrating[0]], command: RoutedCommand(isShardedPubSub: true),
                 present: [], expected: .serve(slot: migratingSlot)),
            Case(name: "importing, no ASKING", keys: [importing[0]], expected: .moved(slot: importingSlot, to: b)),
            Case(name: "importing, ASKING, key not yet here", keys: [importing[0]], command: RoutedCommand(asking: true),
                 present: [], expected: .serve(slot: importingSlot)),
            Case(name: "importing, ASKING, some keys missing", keys: importing, command: RoutedCommand(asking: true),
                 present: [importing[0]], expected: .tryAgain),
            Case(name: "importing, ASKING, same key twice missing", keys: [importing[0], importing[0]],
                 command: RoutedCommand(asking: true), present: [], expected: .serve(slot: importingSlot)),
            Case(name: "importing, ASKING, all keys here", keys: importing, command: RoutedCommand(asking: true),
                 expected: .serve(slot: importingSlot)),
            Case(name: "importing, RESTORE-ASKING", keys: [importing[0]], command: RoutedCommand(impliesAsking: true, isWrite: true),
                 present: [], expected: .serve(slot: importingSlot)),
            Case(name: "importing, MIGRATE", keys: importing, command: RoutedCommand(isMigrate: true), present: [],
                 expected: .serve(slot: importingSlot)),
            Case(name: "replica, READONLY read of master's slot", me: r, keys: [inB[0]],
                 command: RoutedCommand(readOnlyClient: true), expected: .serve(slot: bSlot)),
            Case(name: "replica, READONLY write", me: r, keys: [inB[0]], command: RoutedCommand(readOnlyClient: true, isWrite: true),
                 expected: .moved(slot: bSlot, to: b)),
            Case(name: "replica, READONLY EXEC with a write", me: r, keys: [inB[0]],
                 command: RoutedCommand(readOnlyClient: true, queuedWrite: true), expected: .moved(slot: bSlot, to: b)),
            Case(name: "replica, read without READONLY", me: r, keys: [inB[0]], expected: .moved(slot: bSlot, to: b)),
            Case(name: "replica, READONLY read of another master's slot", me: r, keys: [inA[0]],
                 command: RoutedCommand(readOnlyClient: true), expected: .moved(slot: aSlot, to: a)),
            Case(name: "replica, sharded pub/sub", me: r, keys: [inB[0]], command: RoutedCommand(isShardedPubSub: true),
                 expected: .serve(slot: bSlot)),
        ]
    }()

    @Test(arguments: cases)
    func decision(_ c: Case) {
        let state = Self.cluster(me: c.me, status: c.status)
        let verdict = state.route(keys: c.keys, command: c.command, settings: c.settings) { key in
            c.present.map { $0.contains(key) } ?? true
        }
        #expect(verdict == c.expected)
    }

    @Test func keysAreLookedUpOnlyInMovingSlots() {
        var asked = 0
        let state = Self.cluster()
        _ = state.route(keys: Self.keys(in: Self.aSlot), command: Self.read, settings: RedirectionSettings()) { _ in asked += 1; return true }
        #expect(asked == 0)
        let moving = Self.keys(in: Self.migratingSlot)
        _ = state.route(keys: moving + [moving[0]], command: Self.read, settings: RedirectionSettings()) { _ in asked += 1; return true }
        #expect(asked == 3)  // every key of the command, repeats included, as Redis counts them
    }

    @Test func errorTexts() {
        let state = Self.cluster()
        func text(_ r: Redirection, _ endpoint: EndpointType = .ip) -> String? { r.errorMessage(in: state, endpoint: endpoint) }
        #expect(text(.serve(slot: 1)) == nil)
        #expect(text(.moved(slot: 3999, to: Self.b)) == "MOVED 3999 127.0.0.1:7001")
        #expect(text(.ask(slot: 3999, to: Self.b)) == "ASK 3999 127.0.0.1:7001")
        #expect(text(.moved(slot: 1, to: Self.a), .hostname) == "MOVED 1 a.test:7000")
        #expect(text(.moved(slot: 1, to: Self.b), .hostname) == "MOVED 1 ?:7001")
        #expect(text(.ask(slot: 1, to: Self.a), .unknownEndpoint) == "ASK 1 :7000")
        #expect(text(.crossSlot) == "CROSSSLOT Keys in request don't hash to the same slot")
        #expect(text(.tryAgain) == "TRYAGAIN Multiple keys request during rehashing of slot")
        #expect(text(.clusterDown) == "CLUSTERDOWN The cluster is down")
        #expect(text(.clusterDownReadOnly) == "CLUSTERDOWN The cluster is down and only accepts read commands")
        #expect(text(.slotNotServed) == "CLUSTERDOWN Hash slot not served")
    }

    /// The MOVED errors a real redis-server 7.0 gave under each endpoint type (redirections.txt),
    /// from the state of its own nodes.conf.
    @Test func matchesRealRedirections() throws {
        var state = try #require(try NodesConf.parse(Fixture.bytes("nodes-conf/hostname-1.conf"))).state
        state.status = .ok
        let lines = try Fixture.text("nodes-conf/redirections.txt").split(separator: "\n")
        #expect(lines.count == 3)
        for line in lines {
            let parts = line.split(separator: " ", maxSplits: 1)
            let endpoint = try #require(EndpointType(rawValue: String(parts[0])))
            let reply = String(parts[1])
            let slot = try #require(Int(reply.split(separator: " ")[1]))
            let verdict = state.route(keys: [Self.keys(in: slot)[0]], command: Self.read,
                                      settings: RedirectionSettings(preferredEndpoint: endpoint)) { _ in true }
            #expect("-" + (verdict.errorMessage(in: state, endpoint: endpoint) ?? "") == reply)
        }
    }
}
