/// One extension after a PING's, PONG's or MEET's gossip entries (`clusterMsgPingExt`;
/// docs/format-cluster-bus.md, "Ping extensions"). Redis 7.0 defines only the hostname; later
/// versions add more (human nodename, forgotten node, shard id), which arrive here as
/// `.unknown` and re-encode unchanged, so a newer peer never breaks the link.
public enum PingExtension: Hashable, Sendable {
    /// `cluster-announce-hostname` of the sender, without its terminating NUL. Sent only when
    /// set; a PING without it means the sender has no hostname.
    case hostname([UInt8])
    /// An extension type Redis 7.0 does not define: its type and the bytes after its 8-byte
    /// header, padding included (a multiple of 8 when decoded).
    case unknown(type: UInt16, data: [UInt8])

    /// The type number of the hostname extension (`CLUSTERMSG_EXT_TYPE_HOSTNAME`).
    public static let hostnameType: UInt16 = 0

    /// The extension's type number on the wire.
    public var type: UInt16 {
        switch self {
        case .hostname: PingExtension.hostnameType
        case .unknown(let type, _): type
        }
    }

    /// The hostname as text, for `.hostname`.
    public var hostnameText: String? {
        guard case .hostname(let bytes) = self else { return nil }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// The bytes after the 8-byte extension header, before padding.
    var payload: [UInt8] {
        switch self {
        case .hostname(let name): name + [0]
        case .unknown(_, let data): data
        }
    }

    /// The extension's size on the wire: header plus payload padded to 8 bytes.
    var encodedBytes: Int {
        BusFormat.extensionHeaderBytes + PingExtension.padded(payload.count)
    }

    /// `count` rounded up to a multiple of the extension alignment.
    static func padded(_ count: Int) -> Int {
        let align = BusFormat.extensionAlignmentBytes
        return (count + align - 1) / align * align
    }
}
