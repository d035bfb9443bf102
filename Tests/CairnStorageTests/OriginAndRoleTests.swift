import CairnRESP
@testable import CairnStorage
import Testing

/// Who may do what (docs/architecture.md): a client's origin decides the admission checks,
/// blocking and propagation; the node's role decides expiry, as Redis 7.0 does it.
@Suite struct OriginAndRoleTests {
    /// A user client and a master-link client on one engine.
    func pair(role: NodeRole = .master) -> (user: EngineHarness, master: EngineHarness) {
        let engine = Engine()
        engine.role = role
        return (EngineHarness(engine: engine), EngineHarness(engine: engine, origin: .master, id: 2))
    }

    // MARK: role and expiry

    @Test func aReplicaHidesExpiredKeysButNeverDeletesThem() {
        let (user, master) = pair(role: .replica)
        master.run("SET", "k", "v", "PX", "100000")
        user.engine.now = Clock.unixMillis()
        let db = user.engine.databases[0]
        let i = db.table.find(Array("k".utf8))!
        db.table.setExpire(at: i, user.engine.now - 10)  // its time ran out
        // Clients see no key (and the read does not delete it)...
        #expect(user.run("GET", "k") == .nilBulk)
        #expect(user.run("EXISTS", "k") == .integer(0))
        #expect(db.count == 1)
        // ...the master link still does: the master decided its next commands with the key there.
        #expect(master.run("GET", "k") == .bulk("v"))
        // The active cycle leaves it too; only the master's DEL removes it.
        #expect(user.engine.activeExpireCycle() == 0)
        #expect(db.count == 1)
        #expect(user.engine.stats.expiredKeys == 0)
        master.run("DEL", "k")
        #expect(db.count == 0)
    }

    @Test func aMasterDeletesAndPropagatesExpiredKeys() {
        let (user, _) = pair()
        var propagated: [[String]] = []
        user.engine.addPropagationSink(PropagationSink(.replicas) { batch in
            propagated += batch.commands.owned.map { $0.args.map { String(decoding: $0, as: UTF8.self) } }
        })
        user.run("SET", "k", "v", "PX", "100000")
        let db = user.engine.databases[0]
        db.table.setExpire(at: db.table.find(Array("k".utf8))!, Clock.unixMillis() - 10)
        #expect(user.run("GET", "k") == .nilBulk)
        #expect(db.count == 0)
        #expect(propagated.last == ["DEL", "k"])
    }

    @Test func aPastTimeOnAReplicaSetsTheTTLInsteadOfDeleting() {
        let (_, master) = pair(role: .replica)
        master.run("SET", "k", "v")
        master.run("PEXPIREAT", "k", "1")
        #expect(master.engine.databases[0].count == 1)
        master.run("SET", "x", "v", "PXAT", "1")
        #expect(master.engine.databases[0].count == 2)
        // The same on a master deletes at once.
        let (user, _) = pair()
        user.run("SET", "k", "v")
        #expect(user.run("PEXPIREAT", "k", "1") == .integer(1))
        #expect(user.engine.databases[0].count == 0)
    }

    @Test func randomKeyOnAReplicaWhoseKeysAllExpiredEnds() {
        let (user, master) = pair(role: .replica)
        master.run("SET", "a", "1", "PX", "100000")
        master.run("SET", "b", "1", "PX", "100000")
        let db = user.engine.databases[0]
        for key in ["a", "b"] { db.table.setExpire(at: db.table.find(Array(key.utf8))!, Clock.unixMillis() - 10) }
        // Redis gives up after 100 draws and returns an expired key rather than spin.
        guard case .bulkString(let key?) = user.run("RANDOMKEY") else { Issue.record("no key"); return }
        #expect(["a", "b"].contains(String(decoding: key, as: UTF8.self)))
        #expect(db.count == 2)
    }

    // MARK: origin

    @Test func aMasterLinkNeverBlocks() {
        let (_, master) = pair(role: .replica)
        #expect(master.run("BLPOP", "empty", "0") == .array(nil))
        #expect(master.run("BZPOPMIN", "empty", "0") == .array(nil))
        #expect(master.run("BLMOVE", "empty", "dst", "LEFT", "RIGHT", "0") == .nilBulk)
        #expect(master.client.blocked == nil)
        #expect(master.engine.blockedClientCount == 0)
    }

    @Test func aMasterLinkPassesEveryAdmissionStage() {
        let (user, master) = pair(role: .replica)
        for stage in Self.installable {
            user.engine.admission.install(stage) { _ in "ERR refused by \(stage)" }
        }
        master.client.authenticated = false
        #expect(master.run("SET", "k", "v") == .ok)
        #expect(user.run("GET", "k") == .err("ERR refused by protectedCommand"))
    }

    static let installable = AdmissionStage.allCases.filter { !AdmissionPipeline.builtIn.contains($0) }

    @Test func stagesRunInRedisOrderWhateverTheInstallOrder() {
        let h = EngineHarness()
        var order: [AdmissionStage] = []
        for stage in Self.installable.reversed() {
            h.engine.admission.install(stage) { _ in order.append(stage); return nil }
        }
        h.run("PING")
        #expect(order == Self.installable)
        // The built-in stages sit at their places: NOAUTH comes after the protected-command
        // stage and before ACL.
        h.client.authenticated = false
        order = []
        #expect(h.run("GET", "k") == .err("NOAUTH Authentication required."))
        #expect(order == [.protectedCommand])
        h.client.authenticated = true
        h.engine.admission.install(.readOnlyReplica) { r in r.isWrite ? "READONLY You can't write against a read only replica." : nil }
        h.engine.admission.install(.acl) { r in r.command.spec.name == "set" ? "NOPERM no" : nil }
        #expect(h.run("SET", "k", "v") == .err("NOPERM no"))
        #expect(h.run("DEL", "k") == .err("READONLY You can't write against a read only replica."))
    }

    /// A stage that refuses EXEC (here: writes refused, and EXEC would run a write) discards the
    /// transaction with EXECABORT, whichever stage it is (Redis's rejectCommand).
    @Test func aRefusedExecDiscardsTheTransaction() {
        let h = EngineHarness()
        var refuseWrites = false
        h.engine.admission.install(.diskError) { r in refuseWrites && r.isWrite ? "MISCONF no disk" : nil }
        #expect(h.run("MULTI") == .ok)
        #expect(h.run("SET", "k", "v") == .simple("QUEUED"))
        refuseWrites = true
        #expect(h.run("EXEC") == .err("EXECABORT Transaction discarded because of: MISCONF no disk"))
        #expect(h.client.transaction == nil)
        #expect(h.run("GET", "k") == .nilBulk)
        // A command refused while queueing dooms the EXEC.
        refuseWrites = false
        h.run("MULTI")
        refuseWrites = true
        #expect(h.run("SET", "k", "v") == .err("MISCONF no disk"))
        refuseWrites = false
        #expect(h.run("EXEC") == .err("EXECABORT Transaction discarded because of previous errors."))
    }

    @Test func stagesMarkedForExecRunAgainWhenExecRunsTheQueue() {
        let h = EngineHarness()
        var allowed = true
        h.engine.admission.install(.acl, recheckInsideExec: true) { r in
            allowed ? nil : (r.insideExec ? "NOPERM changed" : "NOPERM no")
        }
        h.run("MULTI")
        h.run("SET", "k", "v")
        allowed = false
        // EXEC itself arrives with a queued SET: refused as a whole...
        #expect(h.run("EXEC") == .err("EXECABORT Transaction discarded because of: NOPERM no"))
        // ...but a stage that lets EXEC in and refuses the queued command answers inside EXEC.
        h.engine.admission = AdmissionPipeline()
        var execArrived = false
        h.engine.admission.install(.acl, recheckInsideExec: true) { r in
            if r.command.spec.name == "exec" { execArrived = true; return nil }
            return execArrived && r.insideExec ? "NOPERM changed" : nil
        }
        h.run("MULTI")
        h.run("SET", "k", "v")
        #expect(h.run("EXEC") == .array([.err("NOPERM changed")]))
    }

    /// A disarmed check is skipped (its owner knows it has nothing to refuse); one meant for a
    /// single command runs for that command only.
    @Test func armedAndCommandSpecificChecks() {
        let h = EngineHarness()
        var calls = 0
        let handle = h.engine.admission.install(.diskError, armed: false) { _ in calls += 1; return "MISCONF no" }
        #expect(h.run("SET", "k", "v") == .ok && calls == 0)
        h.engine.admission.arm(handle, true)
        #expect(h.run("SET", "k", "v") == .err("MISCONF no") && calls == 1)
        h.engine.admission.arm(handle, false)
        h.engine.admission.install(.protectedCommand, only: h.engine.commands.lookup("echo")) { _ in "ERR no echo" }
        #expect(h.run("PING") == .simple("PONG"))
        #expect(h.run("ECHO", "x") == .err("ERR no echo"))
    }

    // MARK: typed propagation

    @Test func masterStreamBatchesReachOnlyTheAOF() {
        let (user, master) = pair(role: .replica)
        var aof: [PropagationBatch] = [], replicas: [PropagationBatch] = []
        user.engine.addPropagationSink(PropagationSink(.aof) { aof.append($0) })
        user.engine.addPropagationSink(PropagationSink(.replicas) { replicas.append($0) })
        user.engine.masterStreamOffset = 1234
        master.run("SADD", "s", "a", "b")
        master.run("SPOP", "s")
        #expect(aof.count == 2 && replicas.isEmpty)
        #expect(aof.allSatisfy { $0.source == .masterStream && $0.masterOffset == 1234 })
        // A local write (a writable replica's own client) reaches both, without a master offset.
        user.run("SET", "local", "1")
        #expect(aof.count == 3 && replicas.count == 1)
        #expect(replicas[0].source == .local && replicas[0].masterOffset == nil)
    }
}
