#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import NIOCore

// The bus's listening socket, bound here with plain system calls so that `ClusterBus.start` can
// report a bind failure synchronously while running on the event loop (where waiting for a
// NIO bind future would deadlock). NIO adopts the bound socket and listens on it.

/// Why the bus could not listen.
public struct BusListenError: Error, Hashable, Sendable, CustomStringConvertible {
    /// A sentence with the address and the system's reason.
    public let detail: String
    public var description: String { detail }
}

enum BusListenerSocket {
    /// A socket bound to `host`:`port` (SO_REUSEADDR set, not yet listening), or throws.
    static func bound(host: String, port: Int) throws -> NIOBSDSocket.Handle {
        let address: SocketAddress
        do {
            address = try SocketAddress(ipAddress: host, port: port)
        } catch {
            throw BusListenError(detail: "cluster bus: \(host) is not an IP address")
        }
        #if canImport(Glibc)
        let streamType = Int32(SOCK_STREAM.rawValue)
        #else
        let streamType = SOCK_STREAM
        #endif
        let family: Int32 = address.protocol == .inet6 ? AF_INET6 : AF_INET
        let fd = socket(family, streamType, 0)
        guard fd >= 0 else { throw BusListenError(detail: "cluster bus: socket(): \(lastError())") }
        var one: Int32 = 1
        _ = setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        let result = address.withSockAddr { pointer, length in bind(fd, pointer, socklen_t(length)) }
        guard result == 0 else {
            let reason = lastError()
            close(fd)
            throw BusListenError(detail: "Could not bind the cluster bus to \(host):\(port): \(reason)")
        }
        return fd
    }

    private static func lastError() -> String {
        guard let text = strerror(errno) else { return "errno \(errno)" }
        return String(cString: text)
    }
}
