import NIOCore

// Protected mode (Redis 7.0 networking.c clientAcceptHandler): while `protected-mode` is yes and
// the default user is `nopass`, only loopback (127.0.0.0/8, ::1) and unix-socket clients are
// served. Any other client is sent Redis's DENIED explanation and disconnected. Since Redis 7.0
// an explicit `bind` no longer switches protected mode off, so neither does it here.

enum ProtectedMode {
    /// Redis's text, byte for byte (without the leading '-' of the error reply).
    static let deniedMessage = "DENIED Redis is running in protected mode because protected mode is enabled and no password is set for the default user. In this mode connections are only accepted from the loopback interface. If you want to connect from external computers to Redis you may adopt one of the following solutions: 1) Just disable protected mode sending the command 'CONFIG SET protected-mode no' from the loopback interface by connecting to Redis from the same host the server is running, however MAKE SURE Redis is not publicly accessible from internet if you do so. Use CONFIG REWRITE to make this change permanent. 2) Alternatively you can just disable the protected mode by editing the Redis configuration file, and setting the protected mode option to 'no', and then restarting the server. 3) If you started the server manually just for testing, restart it with the '--protected-mode no' option. 4) Setup a an authentication password for the default user. NOTE: You only need to do one of the above things in order for the server to start accepting connections from the outside."

    /// Whether a connection from `remote` must be refused.
    static func refuses(protectedMode: Bool, defaultUserIsNoPass: Bool, remote: SocketAddress?) -> Bool {
        guard protectedMode && defaultUserIsNoPass else { return false }
        return !isLocal(remote)
    }

    /// Redis's connIsLocal: unix sockets, 127.x.x.x and ::1. An unknown peer is not local.
    static func isLocal(_ address: SocketAddress?) -> Bool {
        guard let address else { return false }
        switch address {
        case .unixDomainSocket: return true
        case .v4: return address.ipAddress?.hasPrefix("127.") ?? false
        case .v6: return address.ipAddress == "::1"
        }
    }
}
