import CairnStorage
import Logging
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// How the server wires the persistence component (CairnStorage/Persistence): what only the
// server knows (AUX fields, the event loop that ends a turn, the connections whose replies wait
// for the AOF), and the signals that stop the node. The persistence work itself is the
// component's.

extension Server {
    /// Connects the component to the engine and the event loop, and registers its commands.
    func installPersistence() {
        persistence.auxFields = { [unowned(unsafe) self] in
            let usedMemory = ProcessMetrics.heapBytesInUse() ?? ProcessMetrics.residentBytes() ?? 0
            // The replication id and offset ride along for a replica (Redis writes them as
            // repl-id / repl-offset).
            var fields: [(key: String, value: [UInt8])] = [("used-mem", Array(String(usedMemory).utf8))]
            // With a replication history (a backlog, or a master link), the database the stream
            // is in too: a restarted node continues from it (Redis's rdbPopulateSaveInfo).
            if replication.isFeeding {
                let db = masterLink?.session?.db ?? (masterLink != nil ? masterLinkStreamDB : replication.streamDB ?? 0)
                fields.append(("repl-stream-db", Array(String(db).utf8)))
            }
            return fields + [("repl-id", Array(replicationID.utf8)), ("repl-offset", Array(String(replication.offset).utf8))]
        }
        persistence.scheduleTurnEnd = { [unowned(unsafe) self] in
            // Outside the loop (unit tests drive the engine directly) the caller ends the turn.
            if loop.inEventLoop { loop.execute { self.persistence.endAOFTurn() } }
        }
        persistence.onTurnWritten = { [unowned(unsafe) self] in releaseHeldReplies() }
        persistence.onFatalWriteError = { _ in exit(1) }
        persistence.install()
        engine.commands.register(AOFCommands.specs(self))
    }

    /// Replies may not leave before the AOF write of this turn (ConnectionHandler.flush).
    var aofHoldsReplies: Bool { persistence.holdsReplies }

    func holdReplies(_ handler: ConnectionHandler) {
        heldReplies.append(handler)
    }

    private func releaseHeldReplies() {
        guard !heldReplies.isEmpty else { return }
        let held = heldReplies
        heldReplies.removeAll(keepingCapacity: true)
        for handler in held { handler.releaseHeldReplies() }
    }

    /// Loads the dataset at start-up (the AOF, else the RDB file).
    public func loadDataFromDisk() throws {
        // A node configured as a replica loads as one (keys past their time are kept).
        if settings.replicaof != nil { engine.role = .replica }
        try persistence.loadDataFromDisk()
        restoreReplicationHistory(persistence.rdb.lastLoadAux)
    }

    /// The replication id and offset an RDB recorded (Redis 7.0's loadDataFromDisk): a replica
    /// continues its master's stream from there (PSYNC), a master keeps them as its second id so
    /// that its replicas continue from it.
    func restoreReplicationHistory(_ aux: [String: String]) {
        guard let id = aux["repl-id"], id.count == 40, let offset = aux["repl-offset"].flatMap({ Int64($0) }), offset >= 0,
              let db = aux["repl-stream-db"].flatMap({ Int($0) }), db >= 0 else { return }
        if settings.replicaof != nil {
            replication.adoptMaster(replid: id, offset: offset)
            masterLinkStreamDB = db
        } else {
            replication.restoreAsSecondary(replid: id, offset: offset)
            feedReplicasFromPropagation()
        }
        logger.notice("Replication history restored from the RDB file: \(id) at offset \(offset)")
    }
}
