import CairnRESP

// The set value type (t_set.c in Redis). Two encodings, as OBJECT ENCODING reports them (Redis 7.0
// has no listpack sets):
//   "intset"    - a sorted array of 64-bit integers, while every member is a canonical integer
//                 (Redis's string2ll rules) and there are at most set-max-intset-entries of them.
//                 Iteration is ascending, as Redis's intset.
//   "hashtable" - a ByteMap of member bytes.
// A set converts to a hashtable when a non-integer member is added or the intset grows past the
// limit, and never converts back.

/// A member as a set hands it out: integers from an intset are not turned into bytes until needed.
public enum SetMember: Equatable {
    case int(Int64)
    case bytes([UInt8])

    /// The member's bytes (decimal digits for an integer).
    public var bytes: [UInt8] {
        switch self {
        case .int(let v): return Decimal.bytes(v)
        case .bytes(let b): return b
        }
    }
}

public final class SetValue {
    /// Sorted ascending, no duplicates, while intset encoded; empty once converted.
    @usableFromInline var ints: [Int64] = []
    /// Non-nil once hashtable encoded.
    @usableFromInline var table: ByteMap<Void>?

    /// Redis caps set-max-intset-entries at 2^30 (intset internals).
    static let intsetEntriesCap = 1 << 30

    public init() {}

    public var count: Int { table?.count ?? ints.count }
    public var isEmpty: Bool { count == 0 }
    public var isIntset: Bool { table == nil }

    /// OBJECT ENCODING's answer.
    public var encodingName: StaticString { table == nil ? "intset" : "hashtable" }

    /// An independent copy (COPY): both representations are copy-on-write values.
    public func copy() -> SetValue {
        let s = SetValue()
        s.ints = ints
        s.table = table
        return s
    }

    // MARK: intset search

    /// Index of `v` in the sorted intset, or where it would be inserted.
    @inline(__always)
    func search(_ v: Int64) -> (found: Bool, index: Int) {
        ints.withUnsafeBufferPointer { a in
            var lo = 0, hi = a.count
            while lo < hi {
                let mid = (lo + hi) >> 1
                let m = a[mid]
                if m == v { return (true, mid) }
                if m < v { lo = mid + 1 } else { hi = mid }
            }
            return (false, lo)
        }
    }

    /// Calls `body` with the decimal bytes of `v`, formatted on the stack.
    @inline(__always)
    static func withDigits<R>(_ v: Int64, _ body: (UnsafeRawBufferPointer) -> R) -> R {
        withUnsafeTemporaryAllocation(byteCount: 20, alignment: 1) { buf in
            let n = Decimal.digitCount(v)
            Decimal.write(v, into: buf, digits: n)
            return body(UnsafeRawBufferPointer(rebasing: buf[0..<n]))
        }
    }

    // MARK: membership

    public func contains(_ member: UnsafeRawBufferPointer) -> Bool {
        if let table { return table.find(member) != nil }
        guard let v = Decimal.parseInt64(member) else { return false }
        return search(v).found
    }

    public func contains(_ member: [UInt8]) -> Bool { member.withUnsafeBytes { contains($0) } }

    public func contains(int v: Int64) -> Bool {
        if let table { return Self.withDigits(v) { table.find($0) != nil } }
        return search(v).found
    }

    public func contains(_ member: SetMember) -> Bool {
        switch member {
        case .int(let v): return contains(int: v)
        case .bytes(let b): return contains(b)
        }
    }

    // MARK: writes

    /// Adds `member`; returns true if it was not there (Redis's setTypeAdd).
    @discardableResult
    public func add(_ member: UnsafeRawBufferPointer, maxIntsetEntries: Int) -> Bool {
        if table == nil {
            if let v = Decimal.parseInt64(member) { return add(int: v, maxIntsetEntries: maxIntsetEntries) }
            convertToTable(extra: 1)
        }
        return insertIntoTable(member, owned: nil)
    }

    @discardableResult
    public func add(_ member: [UInt8], maxIntsetEntries: Int) -> Bool {
        if table == nil {
            if let v = Decimal.parseInt64(member) { return add(int: v, maxIntsetEntries: maxIntsetEntries) }
            convertToTable(extra: 1)
        }
        return member.withUnsafeBytes { insertIntoTable($0, owned: member) }
    }

    @discardableResult
    public func add(int v: Int64, maxIntsetEntries: Int) -> Bool {
        if table != nil { return Self.withDigits(v) { insertIntoTable($0, owned: nil) } }
        let (found, at) = search(v)
        if found { return false }
        ints.insert(v, at: at)
        if ints.count > min(maxIntsetEntries, Self.intsetEntriesCap) { convertToTable(extra: 0) }
        return true
    }

    @discardableResult
    public func add(_ member: SetMember, maxIntsetEntries: Int) -> Bool {
        switch member {
        case .int(let v): return add(int: v, maxIntsetEntries: maxIntsetEntries)
        case .bytes(let b): return add(b, maxIntsetEntries: maxIntsetEntries)
        }
    }

    /// Inserts into the hashtable if absent; `owned` is the same bytes as an array, when the
    /// caller has one, so they need not be copied.
    @inline(__always)
    private func insertIntoTable(_ member: UnsafeRawBufferPointer, owned: [UInt8]?) -> Bool {
        let h = ByteMap<Void>.hash(member)
        if table?.find(member, hash: h) != nil { return false }
        table?.insert(owned ?? Array(member), hash: h, ())
        return true
    }

    /// Removes `member`; returns whether it was there.
    @discardableResult
    public func remove(_ member: UnsafeRawBufferPointer) -> Bool {
        if table != nil { return table?.remove(member) != nil }
        guard let v = Decimal.parseInt64(member) else { return false }
        return remove(int: v)
    }

    @discardableResult
    public func remove(int v: Int64) -> Bool {
        if table != nil { return Self.withDigits(v) { table?.remove($0) != nil } }
        let (found, at) = search(v)
        if found { ints.remove(at: at) }
        return found
    }

    @discardableResult
    public func remove(_ member: SetMember) -> Bool {
        switch member {
        case .int(let v): return remove(int: v)
        case .bytes(let b): return b.withUnsafeBytes { remove($0) }
        }
    }

    /// Moves every member into a hashtable, in intset order; `extra` is room for members about
    /// to be added.
    public func convertToTable(extra: Int = 0) {
        guard table == nil else { return }
        var map = ByteMap<Void>(minimumCapacity: ints.count + extra)
        for v in ints { map.insert(Decimal.bytes(v), ()) }
        ints = []
        table = map
    }

    // MARK: positions (random access for SPOP / SRANDMEMBER)

    /// The member at storage index `index` (0..<count).
    public func member(at index: Int) -> SetMember {
        if let table { return .bytes(table.entries[index].key) }
        return .int(ints[index])
    }

    /// Removes the member at storage index `index` and returns it. For a hashtable the last
    /// member moves into `index`.
    @discardableResult
    public func remove(at index: Int) -> SetMember {
        if table != nil, let removed = table?.remove(at: index).removed {
            return .bytes(removed.key)
        }
        return .int(ints.remove(at: index))
    }

    /// Storage index of a uniformly random member, or nil when empty.
    public func randomIndex<G: RandomNumberGenerator>(using g: inout G) -> Int? {
        let n = count
        return n == 0 ? nil : Int.random(in: 0..<n, using: &g)
    }

    // MARK: iteration

    /// Calls `body` with every member in storage order (ascending for an intset).
    public func forEach(_ body: (SetMember) -> Void) {
        if let table {
            for i in table.indices { body(.bytes(table.entries[i].key)) }
        } else {
            for v in ints { body(.int(v)) }
        }
    }

    public var members: [SetMember] {
        var out: [SetMember] = []
        out.reserveCapacity(count)
        forEach { out.append($0) }
        return out
    }

    /// Visits the members of the hashtable bucket at `cursor` and returns the next cursor (see
    /// ByteMap.scan). An intset is returned whole by SSCAN instead.
    public func scan(cursor: UInt64, _ visit: ([UInt8]) -> Void) -> UInt64 {
        guard let table else { return 0 }
        return table.scan(cursor: cursor) { visit($0.key) }
    }

    /// Checks the representation's invariants; nil when sound. O(n), tests only.
    func validate(maxIntsetEntries: Int) -> String? {
        if let table {
            if !ints.isEmpty { return "hashtable with a non-empty intset" }
            return table.validate()
        }
        if ints.count > maxIntsetEntries { return "intset past the entry limit" }
        for k in ints.indices.dropFirst() where ints[k - 1] >= ints[k] { return "intset not strictly ascending at \(k)" }
        return nil
    }
}
