import CairnStorage

// Client eviction (Redis 7.0's `maxmemory-clients`): when the memory of all normal and pub/sub
// clients reaches the limit, the largest evictable clients are closed until it is below again.
// A client's memory is what its connection holds: the input buffer, the reply buffer and the
// output not yet taken by the socket (Redis adds its client struct and argv; Cairn's session
// object is small next to the 16 KiB reply buffer). Replicas, the master link and clients that
// sent CLIENT NO-EVICT ON are never evicted (but, as in Redis, their memory counts).

extension Server {
    /// The limit in bytes (Redis's getClientEvictionLimit): `maxmemory-clients` as bytes, or as a
    /// percentage of maxmemory (nothing when maxmemory is 0); never below 128 KiB; 0 when off.
    static func clientEvictionLimit(_ text: String, maxmemory: Int) -> Int {
        let limit: Int
        if text.hasSuffix("%") {
            guard maxmemory > 0, let percent = Int(text.dropLast()) else { return 0 }
            limit = Int(Double(maxmemory) * Double(percent) / 100)
        } else {
            guard let bytes = Int(text), bytes > 0 else { return 0 }
            limit = bytes
        }
        return max(limit, 128 * 1024)
    }

    /// The memory `handler`'s client holds (CLIENT LIST tot-mem counts the same parts).
    static func clientMemory(_ handler: ConnectionHandler) -> Int {
        guard let session = handler.session else { return 0 }
        return handler.inputBufferBytes + session.reply.buffer.capacity + handler.queuedOutputBytes
    }

    /// Closes the largest evictable clients while the clients' memory is at or over the limit
    /// (Redis's evictClients). Called after each read and from the cron.
    func evictClientsIfNeeded() {
        guard clientEvictionLimit > 0 else { return }
        var total = 0
        var evictable: [(memory: Int, handler: ConnectionHandler)] = []
        for handler in connections.values {
            guard let session = handler.session, !session.closeAfterReply, session.origin == ClientOrigin.user, !session.isReplicaLink else { continue }
            let memory = Self.clientMemory(handler)
            total += memory
            if !session.noEvict { evictable.append((memory, handler)) }
        }
        guard total >= clientEvictionLimit else { return }
        evictable.sort { $0.memory > $1.memory }
        for (memory, handler) in evictable {
            guard total >= clientEvictionLimit else { return }
            if let session = handler.session {
                logger.notice("Evicting client: \(ClientInfo.line(session, now: Clock.unixMillis(), currentArgumentBytes: nil, queuedOutputBytes: handler.queuedOutputBytes))")
            }
            handler.kill()
            evictedClients += 1
            total -= memory
        }
        logger.warning("Over client maxmemory after evicting all evictable clients")
    }
}
