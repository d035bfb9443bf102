/// A node's name as it travels on the bus: 40 bytes, normally lowercase hexadecimal (a random
/// 160-bit id). Kept as raw bytes: the bus does not check the characters, and a name that is not
/// hexadecimal must still re-encode as it came.
public struct NodeNameField: Hashable, Sendable, CustomStringConvertible {
    /// The 40 bytes.
    public let bytes: [UInt8]

    /// All zeros: the "no master" value of the header's `slaveof` field.
    public static let none = NodeNameField(unchecked: [UInt8](repeating: 0, count: BusFormat.nodeNameBytes))

    /// A name from exactly 40 bytes; nil for any other count.
    public init?(bytes: some Collection<UInt8>) {
        guard bytes.count == BusFormat.nodeNameBytes else { return nil }
        self.bytes = Array(bytes)
    }

    /// A name from its text form, e.g. the reply of `CLUSTER MYID`; nil unless 40 ASCII bytes.
    public init?(_ text: String) {
        let utf8 = Array(text.utf8)
        guard utf8.allSatisfy({ $0 < 0x80 }) else { return nil }
        self.init(bytes: utf8)
    }

    init(unchecked bytes: [UInt8]) { self.bytes = bytes }

    /// True for the all-zero name.
    public var isNone: Bool { bytes.allSatisfy { $0 == 0 } }

    /// The name as text (bytes outside ASCII appear as replacement characters).
    public var description: String { String(decoding: bytes, as: UTF8.self) }
}

/// An IP address field: a NUL-terminated string in 46 bytes. Kept as raw bytes, because Redis
/// copies the whole buffer and whatever follows the terminator must re-encode unchanged.
public struct IPAddressField: Hashable, Sendable, CustomStringConvertible {
    /// The 46 bytes.
    public let bytes: [UInt8]

    /// All zeros: in a header, "use the address the message came from".
    public static let empty = IPAddressField(unchecked: [UInt8](repeating: 0, count: BusFormat.ipBytes))

    /// A field from exactly 46 bytes; nil for any other count.
    public init?(bytes: some Collection<UInt8>) {
        guard bytes.count == BusFormat.ipBytes else { return nil }
        self.bytes = Array(bytes)
    }

    /// A field holding `text`, cut to 45 bytes so that a terminator always fits, zero-padded.
    public init(_ text: String) {
        var field = Array(text.utf8.prefix(BusFormat.ipBytes - 1))
        field += [UInt8](repeating: 0, count: BusFormat.ipBytes - field.count)
        self.bytes = field
    }

    init(unchecked bytes: [UInt8]) { self.bytes = bytes }

    /// The address up to the first NUL.
    public var string: String {
        String(decoding: bytes.prefix { $0 != 0 }, as: UTF8.self)
    }

    /// True when the first byte is NUL (no address given).
    public var isEmpty: Bool { bytes.first == 0 }

    /// The address up to the first NUL.
    public var description: String { string }
}
