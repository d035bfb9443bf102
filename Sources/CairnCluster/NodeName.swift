// Node names: 40 characters, as Redis generates them (random hex) and checks them
// (lowercase letters and digits).

/// A cluster node's name (its id): 40 characters from `a`-`z` and `0`-`9`, hex when generated.
public struct NodeName: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// The length of every name.
    public static let lengthBytes = 40

    /// The name as text.
    public let text: String

    /// The name `text`, or nil unless it is 40 characters from `a`-`z` and `0`-`9` (Redis's rule).
    public init?(_ text: String) {
        guard NodeName.isValid(text.utf8) else { return nil }
        self.text = text
    }

    /// The name spelled by `bytes` (the bus carries names as 40 raw bytes), or nil if not valid.
    public init?(bytes: some Collection<UInt8>) {
        guard NodeName.isValid(bytes) else { return nil }
        text = String(decoding: bytes, as: UTF8.self)
    }

    /// A new random name of 40 lowercase hex digits, as a node picks on its first start.
    public static func random(using generator: inout some RandomNumberGenerator) -> NodeName {
        let digits = Array("0123456789abcdef".utf8)
        let bytes = (0..<lengthBytes).map { _ in digits[Int(generator.next() & 15)] }
        return NodeName(uncheckedText: String(decoding: bytes, as: UTF8.self))
    }

    /// The name's 40 bytes.
    public var bytes: [UInt8] { Array(text.utf8) }

    public var description: String { text }

    public static func < (a: NodeName, b: NodeName) -> Bool { a.text < b.text }

    private init(uncheckedText: String) { text = uncheckedText }

    private static func isValid(_ bytes: some Collection<UInt8>) -> Bool {
        bytes.count == lengthBytes && bytes.allSatisfy { (0x61...0x7A).contains($0) || (0x30...0x39).contains($0) }
    }
}
