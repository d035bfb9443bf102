// The set of slots a node serves, in the byte layout the cluster bus carries verbatim
// (docs/format-cluster-bus.md): slot `s` is bit `s & 7` (least significant first) of byte `s / 8`.

/// A set of hash slots as Redis's 16384-bit bitmap (2048 bytes).
public struct SlotBitmap: Hashable, Sendable, CustomStringConvertible {
    /// The size of the bitmap.
    public static let byteCount = clusterSlotCount / 8

    /// The bitmap itself: what the cluster bus sends.
    public private(set) var bytes: [UInt8]

    /// An empty set.
    public init() {
        bytes = Array(repeating: 0, count: Self.byteCount)
    }

    /// The set whose bitmap is `raw` (as the bus carries it), or nil unless `raw` is exactly
    /// `byteCount` bytes.
    public init?(bytes raw: some Collection<UInt8>) {
        guard raw.count == Self.byteCount else { return nil }
        bytes = Array(raw)
    }

    /// The slots of `ranges` (each slot must be valid).
    public init(ranges: [ClosedRange<Int>]) {
        self.init()
        for range in ranges {
            for slot in range { insert(slot) }
        }
    }

    /// The set of `slots` (each must be a valid slot).
    public init(slots: some Sequence<Int>) {
        self.init()
        for slot in slots { insert(slot) }
    }

    /// Whether `slot` is in the set (false for a number outside 0..<16384).
    @inlinable
    public func contains(_ slot: Int) -> Bool {
        guard isValidSlot(slot) else { return false }
        return bytes[slot >> 3] & (1 << UInt8(slot & 7)) != 0
    }

    /// Adds `slot`; a number outside 0..<16384 is a programming error.
    public mutating func insert(_ slot: Int) {
        precondition(isValidSlot(slot), "slot out of range")
        bytes[slot >> 3] |= 1 << UInt8(slot & 7)
    }

    /// Removes `slot` (nothing for a number outside 0..<16384).
    public mutating func remove(_ slot: Int) {
        guard isValidSlot(slot) else { return }
        bytes[slot >> 3] &= ~(1 << UInt8(slot & 7))
    }

    /// How many slots are in the set.
    public var count: Int {
        var total = 0
        forEachWord { total += $0.nonzeroBitCount }
        return total
    }

    /// Whether no slot is in the set.
    public var isEmpty: Bool {
        var empty = true
        forEachWord { empty = empty && $0 == 0 }
        return empty
    }

    /// The map as 256 64-bit words, in order (a word's bit order is the platform's: callers
    /// only count bits or compare whole words with 0 and all ones). A loop over words instead
    /// of a closure per byte: these run after every slot command and for each nodes.conf save.
    private func forEachWord(_ body: (_ word: UInt64) -> Void) {
        bytes.withUnsafeBytes { raw in
            for index in 0..<(Self.byteCount / 8) {
                body(raw.loadUnaligned(fromByteOffset: index * 8, as: UInt64.self))
            }
        }
    }

    /// The slots in this set and not in `other` (a byte at a time: what a bus message claims
    /// beyond what its sender is known to serve, usually nothing).
    public func subtracting(_ other: SlotBitmap) -> SlotBitmap {
        var out = self
        for index in 0..<Self.byteCount { out.bytes[index] &= ~other.bytes[index] }
        return out
    }

    /// The slots of the set in ascending order.
    public var slots: [Int] {
        var out: [Int] = []
        bytes.withUnsafeBytes { raw in
            for word in 0..<(Self.byteCount / 8) where raw.loadUnaligned(fromByteOffset: word * 8, as: UInt64.self) != 0 {
                for slot in (word * 64)..<(word * 64 + 64) where raw[slot >> 3] & (1 << UInt8(slot & 7)) != 0 {
                    out.append(slot)
                }
            }
        }
        return out
    }

    /// The slots as ranges, `0-5460 7000` (short enough for test failures and logs).
    public var description: String { ranges.map(\.slotRangeText).joined(separator: " ") }

    /// The set as maximal runs of consecutive slots, ascending: what CLUSTER NODES prints
    /// (`0-5460`, or `7` for a run of one) and CLUSTER SLOTS lists.
    public var ranges: [ClosedRange<Int>] {
        var out: [ClosedRange<Int>] = []
        var start: Int? = nil
        bytes.withUnsafeBytes { raw in
            for word in 0..<(Self.byteCount / 8) {
                // Whole words first: most of a map is runs of 0x00 and 0xFF bytes.
                let value = raw.loadUnaligned(fromByteOffset: word * 8, as: UInt64.self)
                if value == 0, start == nil { continue }
                if value == UInt64.max, start != nil { continue }
                for slot in (word * 64)..<(word * 64 + 64) {
                    let present = raw[slot >> 3] & (1 << UInt8(slot & 7)) != 0
                    if present, start == nil { start = slot }
                    if !present, let first = start {
                        out.append(first...(slot - 1))
                        start = nil
                    }
                }
            }
        }
        if let first = start { out.append(first...(clusterSlotCount - 1)) }
        return out
    }
}

/// Whether `slot` is a hash slot number (0..<16384).
@inlinable
public func isValidSlot(_ slot: Int) -> Bool { slot >= 0 && slot < clusterSlotCount }

extension ClosedRange where Bound == Int {
    /// The range as CLUSTER NODES and nodes.conf write it: `a-b`, or `a` when it holds one slot.
    public var slotRangeText: String {
        lowerBound == upperBound ? "\(lowerBound)" : "\(lowerBound)-\(upperBound)"
    }
}
