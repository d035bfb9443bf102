import CairnStorage
import Logging
import NIOCore
import NIOPosix
import NIOSSL
#if canImport(Glibc)
import Glibc
#endif

// The server's side of TLS (Redis 7.0's tls.c and the tls-port listener of server.c): the
// tls-port listeners, whose connections get an NIOSSLServerHandler in front of the same
// ConnectionHandler as plain ones; start-up configuration ("Failed to configure TLS. Check logs
// for more info."); CONFIG SET of tls-* reconfiguring at run time, all or nothing (applyTlsCfg,
// applyTLSPort); and the client-side context outgoing links use (MasterLink with
// tls-replication yes).

/// The node's TLS state. Confined to the server's event loop, as the server is.
final class TLSState {
    /// The contexts in use: nil until TLS is configured (tls-port, tls-replication or tls-cluster).
    var contexts: TLSContexts?
    /// The tls-port listeners.
    var listeners: [Channel] = []
    /// Start-up bound the listeners: from then on changes apply at once.
    var started = false
    /// Clients connected over TLS (a replica among them gets a disk-based full sync).
    var clientIDs: Set<Int64> = []
}

/// Follows a TLS connection's client id (after ConnectionHandler, which assigns it).
final class TLSConnectionMarker: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    unowned(unsafe) let server: Server
    private var id: Int64?

    init(server: Server) { self.server = server }

    func channelActive(context: ChannelHandlerContext) {
        if let handler = try? context.pipeline.syncOperations.handler(type: ConnectionHandler.self), let id = handler.session?.id {
            self.id = id
            server.tlsClientConnected(id)
        }
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        if let id { server.tlsClientDisconnected(id) }
        id = nil
        context.fireChannelInactive()
    }
}

extension Server {
    /// Server.bind: configures TLS when asked for (initServer refuses to start otherwise) and
    /// listens on tls-port at every bind address. Returns the listeners.
    func bindTLSListeners() throws -> [Channel] {
        tls.started = true
        let d = TLSDirectives(settings.parity)
        guard d.enabled else { return [] }
        do {
            tls.contexts = try TLSContexts.make(d)
        } catch {
            logger.warning("\(error)")
            throw ConfigError("Failed to configure TLS. Check logs for more info.")
        }
        guard d.port != 0 else { return [] }
        var bound: [Channel] = []
        for entry in settings.bind {
            let optional = entry.hasPrefix("-")
            let host = optional ? String(entry.dropFirst()) : entry
            do {
                bound.append(try tlsBootstrap().bind(host: host, port: d.port).wait())
                logger.notice("Listening on \(host):\(d.port) (TLS)")
            } catch {
                if optional { continue }
                for channel in bound { channel.close(promise: nil) }
                throw ConfigError("Could not create server TCP listening socket \(host):\(d.port): \(error)")
            }
        }
        if bound.isEmpty { throw ConfigError("Failed listening on port \(d.port) (TLS), aborting.") }
        tls.listeners = bound
        return bound
    }

    /// The same listener and child options as the plain port's (Server.bind); each connection
    /// starts with the TLS handshake, under the context in use when it was accepted.
    private func tlsBootstrap() -> ServerBootstrap {
        clientListenerBootstrap { [self] channel in
            guard let context = tls.contexts?.server else { throw ChannelError.ioOnClosedChannel }
            try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: context))
            try channel.pipeline.syncOperations.addHandler(ConnectionHandler(server: self))
            try channel.pipeline.syncOperations.addHandler(TLSConnectionMarker(server: self))
        }
    }

    func tlsClientConnected(_ id: Int64) {
        tls.clientIDs.insert(id)
    }

    func tlsClientDisconnected(_ id: Int64) {
        tls.clientIDs.remove(id)
    }

    /// Shutdown: no more TLS connections.
    func closeTLSListeners() {
        for channel in tls.listeners { channel.close(promise: nil) }
        tls.listeners = []
    }

    /// The context for outgoing TLS links (Redis's redis_tls_client_ctx, or the server's
    /// context when no tls-client-cert-file/tls-client-key-file is set). Built on first use
    /// when TLS was not configured yet.
    func tlsClientContext() throws -> NIOSSLContext {
        if let contexts = tls.contexts { return contexts.client }
        do {
            let contexts = try TLSContexts.make(TLSDirectives(settings.parity))
            tls.contexts = contexts
            return contexts.client
        } catch {
            logger.warning("\(error)")
            throw error
        }
    }

    // MARK: run-time changes

    /// Settings changed (Server.settings' didSet): a changed tls-* directive reconfigures TLS;
    /// CONFIG SET has checked already (`tlsRefusal`) that the new configuration loads and the
    /// new port binds, so failures here are only logged and the old context stays.
    func tlsSettingsChanged(from old: ServerSettings) {
        guard tls.started else { return }
        let new = TLSDirectives(settings.parity), before = TLSDirectives(old.parity)
        guard new != before else { return }
        if new.enabled && (tls.contexts == nil || tls.contexts!.directives != new) {
            do {
                tls.contexts = try TLSContexts.make(new, requireCA: new.reconfigured != before.reconfigured || tls.contexts == nil)
            } catch {
                logger.warning("\(error)")
                logger.warning("Unable to update TLS configuration; the previous one stays in use.")
            }
        }
        if new.port != before.port { moveTLSPort(to: new.port) }
    }

    /// changeListenPort for tls-port: the old listeners close, the new port is listened on.
    private func moveTLSPort(to port: Int) {
        closeTLSListeners()
        guard port != 0, tls.contexts != nil else { return }
        for entry in settings.bind {
            let optional = entry.hasPrefix("-")
            let host = optional ? String(entry.dropFirst()) : entry
            tlsBootstrap().bind(host: host, port: port).whenComplete { [self] result in
                switch result {
                case .success(let channel):
                    guard TLSDirectives(settings.parity).port == port, !isShutDown else { return channel.close(promise: nil) }
                    tls.listeners.append(channel)
                    logger.notice("Listening on \(host):\(port) (TLS)")
                case .failure(let error):
                    if !optional { logger.warning("Could not create server TCP listening socket \(host):\(port): \(error)") }
                }
            }
        }
    }

    /// CONFIG SET's all-or-nothing for tls-* (ConfigCommand.set asks before applying): the
    /// configuration the pairs would make is loaded (applyTlsCfg) and a new tls-port is tried
    /// (applyTLSPort); a failure refuses the command with Redis's error and nothing changes.
    /// The error CONFIG SET gives for these name/value pairs, if TLS cannot take them; nil
    /// when they are fine, or when CONFIG SET itself refuses them (it reports that).
    func tlsRefusal(_ pairs: [(String, String)], client: ClientSession) -> String? {
        guard pairs.contains(where: { $0.0.lowercased().hasPrefix("tls-") }) else { return nil }
        var updated = settings
        var seen: Set<String> = []
        var order: [String] = []  // the tls-* names, as given
        for (name, value) in pairs {
            guard let d = ConfigTable.lookup(name), d.mutable, !seen.contains(d.name) else { return nil }
            if d.protected && !ConfigCommand.protectedChangesAllowed(self, client) { return nil }
            seen.insert(d.name)
            do { try d.set(&updated, [value]) } catch { return nil }
            if d.name.hasPrefix("tls-") { order.append(d.name) }
        }
        let new = TLSDirectives(updated.parity), current = TLSDirectives(settings.parity)
        guard new != current else { return nil }
        func failed(_ name: String, _ reason: String) -> String {
            logger.warning("Failed applying new configuration. Possibly related to new \(name) setting. Restoring previous settings.")
            return "ERR CONFIG SET failed (possibly related to argument '\(name)') - \(reason)"
        }
        let unable = "Unable to update TLS configuration. Check server logs."
        var checkedConfiguration = false
        for name in order {
            if name == "tls-port" {
                guard new.port != current.port, new.port != 0 else { continue }
                if tls.contexts == nil && !checkedConfiguration {
                    do { _ = try TLSContexts.make(new) } catch {
                        logger.warning("\(error)")
                        return failed(name, unable)
                    }
                }
                if let reason = tlsPortBindFailure(new.port) {
                    logger.warning("Warning: Could not create server TCP listening socket *:\(new.port): bind: \(reason)")
                    return failed(name, "Unable to listen on this port. Check server logs.")
                }
            } else if TLSDirectives.reconfiguringNames.contains(name) && !checkedConfiguration {
                checkedConfiguration = true
                guard new.enabled, new.reconfigured != current.reconfigured else { continue }
                do { _ = try TLSContexts.make(new) } catch {
                    logger.warning("\(error)")
                    return failed(name, unable)
                }
            }
        }
        return nil
    }

    /// Whether tls-port `port` can be bound at every non-optional bind address: a trial socket
    /// is bound and closed (SO_REUSEADDR, so the listener can take the port right after).
    private func tlsPortBindFailure(_ port: Int) -> String? {
        for entry in settings.bind {
            let optional = entry.hasPrefix("-")
            let host = optional ? String(entry.dropFirst()) : entry
            let address: SocketAddress
            do { address = try SocketAddress.makeAddressResolvingHost(host, port: port) } catch {
                if optional { continue }
                return "\(error)"
            }
            let fd = socket(address.protocol == .inet6 ? AF_INET6 : AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            guard fd >= 0 else { return String(cString: strerror(errno)) }
            defer { close(fd) }
            var one: Int32 = 1
            _ = setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
            if address.protocol == .inet6 {
                _ = setsockopt(fd, Int32(IPPROTO_IPV6), IPV6_V6ONLY, &one, socklen_t(MemoryLayout<Int32>.size))
            }
            let rc = address.withSockAddr { pointer, size in Glibc.bind(fd, pointer, socklen_t(size)) }
            if rc != 0 {
                if optional { continue }
                return String(cString: strerror(errno))
            }
        }
        return nil
    }
}
