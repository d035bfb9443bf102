#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// The hash value type (t_hash.c in Redis). Two encodings, as OBJECT ENCODING reports them:
//   "listpack"  - one Listpack of alternating field, value entries, in insertion order (an update
//                 keeps the field's place). Lookups walk it without copying anything.
//   "hashtable" - a ByteMap from field to value bytes.
// A hash starts as a listpack and converts once it has more than hash-max-listpack-entries fields
// or is given a field or value longer than hash-max-listpack-value bytes; it never converts back.

/// The thresholds a write checks (redis.conf hash-max-listpack-entries / -value).
public struct HashLimits: Sendable {
    public var maxListpackEntries: Int
    public var maxListpackValue: Int
    public init(maxListpackEntries: Int, maxListpackValue: Int) {
        self.maxListpackEntries = maxListpackEntries
        self.maxListpackValue = maxListpackValue
    }
    public init(_ settings: EngineSettings) {
        self.init(maxListpackEntries: settings.hashMaxListpackEntries, maxListpackValue: settings.hashMaxListpackValue)
    }
}

public final class HashValue {
    /// Field, value, field, value... while listpack encoded; empty once converted.
    @usableFromInline var pack = Listpack()
    /// Non-nil once hashtable encoded.
    @usableFromInline var table: ByteMap<[UInt8]>?

    /// Redis's LISTPACK_MAX_SAFETY_SIZE: a listpack never grows past 1 GiB.
    static let listpackSafetyBytes = 1 << 30

    public init() {}

    /// A listpack-encoded hash holding `pack` (a copy of one packed in a key's record).
    @usableFromInline
    init(packed pack: Listpack) {
        self.pack = pack
    }

    /// A small hash whose listpack was filled straight from a file (field, value, field, value...,
    /// in the file's order: what HSET one by one gives). Nil when it needs the hashtable encoding
    /// (too many fields, an entry too long) or repeats a field: the caller decides.
    static func listpackLoaded(_ pack: Listpack, limits: HashLimits) -> HashValue? {
        guard pack.count % 2 == 0, pack.count / 2 <= limits.maxListpackEntries else { return nil }
        var fields: [Range<Int>] = []
        fields.reserveCapacity(pack.count / 2)
        var offset = 0
        while offset < pack.byteCount {
            let field = pack.decode(at: offset)
            let value = pack.decode(at: field.next)
            guard field.payload.count <= limits.maxListpackValue, value.payload.count <= limits.maxListpackValue else { return nil }
            fields.append(field.payload)
            offset = value.next
        }
        let repeated = pack.bytes.withUnsafeBytes { raw -> Bool in
            func bytes(_ r: Range<Int>) -> UnsafeRawBufferPointer { UnsafeRawBufferPointer(rebasing: raw[r]) }
            fields.sort { SkipList.compare(bytes($0), bytes($1)) < 0 }
            for k in fields.indices.dropFirst() where SkipList.compare(bytes(fields[k]), bytes(fields[k - 1])) == 0 { return true }
            return false
        }
        guard !repeated else { return nil }
        let h = HashValue()
        h.pack = pack
        return h
    }

    public var count: Int { table?.count ?? pack.count / 2 }
    public var isEmpty: Bool { count == 0 }
    public var isListpack: Bool { table == nil }

    /// OBJECT ENCODING's answer.
    public var encodingName: StaticString { table == nil ? "listpack" : "hashtable" }

    /// An independent copy (COPY). Both representations are copy-on-write values, so this is
    /// cheap until one side is written.
    public func copy() -> HashValue {
        let h = HashValue()
        h.pack = pack
        h.table = table
        return h
    }

    // MARK: reads

    /// The value of `field`, or nil. Borrowed from the hash's storage: no bytes are copied.
    public func value(_ field: UnsafeRawBufferPointer) -> ArraySlice<UInt8>? {
        if let table {
            guard let i = table.find(field) else { return nil }
            return table[payloadAt: i][...]
        }
        guard let o = pack.hashFieldOffset(field) else { return nil }
        return pack.payload(at: pack.offset(after: o))
    }

    public func value(_ field: [UInt8]) -> ArraySlice<UInt8>? { field.withUnsafeBytes { value($0) } }

    public func contains(_ field: UnsafeRawBufferPointer) -> Bool {
        if let table { return table.find(field) != nil }
        return pack.hashFieldOffset(field) != nil
    }

    /// Calls `body` with every field and value, in storage order.
    public func forEach(_ body: (ArraySlice<UInt8>, ArraySlice<UInt8>) -> Void) {
        if let table {
            for i in table.indices {
                body(table.entries[i].key[...], table.entries[i].payload[...])
            }
            return
        }
        var field: ArraySlice<UInt8>? = nil
        pack.forEach { entry in
            if let f = field {
                body(f, entry)
                field = nil
            } else {
                field = entry
            }
            return true
        }
    }

    /// Every field/value pair in storage order (for sampling that needs positions).
    public var pairs: [(field: ArraySlice<UInt8>, value: ArraySlice<UInt8>)] {
        var out: [(field: ArraySlice<UInt8>, value: ArraySlice<UInt8>)] = []
        out.reserveCapacity(count)
        forEach { out.append(($0, $1)) }
        return out
    }

    /// The pair at position `index` of storage order: O(1) for a hashtable, O(n) for a listpack.
    public func pair(at index: Int) -> (field: ArraySlice<UInt8>, value: ArraySlice<UInt8>)? {
        guard index >= 0 && index < count else { return nil }
        if let table { return (table.entries[index].key[...], table.entries[index].payload[...]) }
        guard let o = pack.offset(ofIndex: index * 2) else { return nil }
        return (pack.payload(at: o), pack.payload(at: pack.offset(after: o)))
    }

    // MARK: writes

    /// Converts to a hashtable if any of `lengths` exceeds the value limit, or if adding them all
    /// could push the listpack past its safety size (Redis's hashTypeTryConversion).
    public func convertIfTooLong(_ lengths: some Sequence<Int>, limits: HashLimits) {
        guard table == nil else { return }
        var sum = 0
        for n in lengths {
            if n > limits.maxListpackValue {
                convertToTable()
                return
            }
            sum += n
        }
        if pack.byteCount + sum > Self.listpackSafetyBytes { convertToTable() }
    }

    /// Sets `field` to `value`; returns true if the field is new. Converts to a hashtable first if
    /// either is longer than the value limit, and after inserting if the hash has grown past the
    /// entry limit (Redis's hashTypeSet).
    @discardableResult
    public func set(_ field: UnsafeRawBufferPointer, _ value: UnsafeRawBufferPointer, limits: HashLimits) -> Bool {
        if table == nil && (field.count > limits.maxListpackValue || value.count > limits.maxListpackValue) {
            convertToTable()
        }
        if table != nil {
            let h = ByteMap<[UInt8]>.hash(field)
            if let i = table?.find(field, hash: h) {
                // Rewriting the same bytes (a common benchmark and cache pattern) allocates nothing.
                if let old = table?[payloadAt: i], Self.same(old, value) { return false }
                table?[payloadAt: i] = Array(value)
                return false
            }
            table?.insert(Array(field), hash: h, Array(value))
            return true
        }
        if let o = pack.hashFieldOffset(field) {
            let valueOffset = pack.offset(after: o)
            if !pack.payloadEquals(at: valueOffset, value) { pack.replace(at: valueOffset, with: value) }
            return false
        }
        pack.append(field)
        pack.append(value)
        if pack.count / 2 > limits.maxListpackEntries { convertToTable() }
        return true
    }

    @discardableResult
    public func set(_ field: UnsafeRawBufferPointer, _ value: [UInt8], limits: HashLimits) -> Bool {
        value.withUnsafeBytes { set(field, $0, limits: limits) }
    }

    @discardableResult
    public func set(_ field: [UInt8], _ value: [UInt8], limits: HashLimits) -> Bool {
        field.withUnsafeBytes { f in value.withUnsafeBytes { set(f, $0, limits: limits) } }
    }

    @inline(__always)
    static func same(_ a: [UInt8], _ b: UnsafeRawBufferPointer) -> Bool {
        guard a.count == b.count else { return false }
        if a.isEmpty { return true }
        return a.withUnsafeBytes { raw in raw.baseAddress.map { Listpack.bytesEqual($0, b) } ?? false }
    }

    /// Removes `field`; returns whether it was there.
    @discardableResult
    public func remove(_ field: UnsafeRawBufferPointer) -> Bool {
        if table != nil { return table?.remove(field) != nil }
        guard let o = pack.hashFieldOffset(field) else { return false }
        pack.remove(at: o)  // the field; its value now starts at `o`
        pack.remove(at: o)
        return true
    }

    /// Moves every pair into a hashtable, in listpack order.
    public func convertToTable() {
        guard table == nil else { return }
        var map = ByteMap<[UInt8]>(minimumCapacity: pack.count / 2)
        forEach { f, v in map.insert(Array(f), Array(v)) }
        pack = Listpack()
        table = map
    }

    // MARK: scanning

    /// Visits the pairs of the hashtable bucket at `cursor` and returns the next cursor (see
    /// ByteMap.scan). Only meaningful for a hashtable; a listpack is returned whole by HSCAN.
    public func scan(cursor: UInt64, _ visit: ([UInt8], [UInt8]) -> Void) -> UInt64 {
        guard let table else { return 0 }
        return table.scan(cursor: cursor) { visit($0.key, $0.payload) }
    }

    /// Storage index of a uniformly random pair, or nil when empty.
    public func randomIndex<G: RandomNumberGenerator>(using g: inout G) -> Int? {
        let n = count
        return n == 0 ? nil : Int.random(in: 0..<n, using: &g)
    }

    /// Checks the representation's invariants; nil when sound. O(n), tests only.
    func validate(limits: HashLimits) -> String? {
        if let table {
            if !pack.isEmpty { return "hashtable with a non-empty listpack" }
            return table.validate()
        }
        if pack.count % 2 != 0 { return "listpack with an odd number of entries" }
        if pack.count / 2 > limits.maxListpackEntries { return "listpack past the entry limit" }
        var seen = Set<ArraySlice<UInt8>>()
        var k = 0
        var problem: String? = nil
        pack.forEach { e in
            if e.count > limits.maxListpackValue { problem = "listpack entry longer than the value limit" }
            if k % 2 == 0 && !seen.insert(e).inserted { problem = "duplicate field" }
            k += 1
            return problem == nil
        }
        return problem
    }
}

extension Listpack {
    /// Offset of the field entry equal to `field` in a listpack of field, value pairs, or nil.
    /// Walks the packed bytes directly: no copies, no per-entry bounds checks beyond the walk.
    func hashFieldOffset(_ field: UnsafeRawBufferPointer) -> Int? {
        bytes.withUnsafeBytes { Self.hashFieldOffset(in: $0, field) }
    }

    /// hashFieldOffset over listpack bytes held elsewhere (a hash packed in a key's record).
    static func hashFieldOffset(in raw: UnsafeRawBufferPointer, _ field: UnsafeRawBufferPointer) -> Int? {
        guard let base = raw.baseAddress else { return nil }
        let end = raw.count
        let n = field.count
        var o = 0
        while o < end {
            // Field entry: varint length, payload, backlen.
            let (fieldStart, fieldLength) = Listpack.header(base, at: o)
            if fieldLength == n && Listpack.bytesEqual(base + fieldStart, field) { return o }
            var next = fieldStart + fieldLength
            next += Listpack.varintSize(next - o)
            // Value entry: skipped.
            let (valueStart, valueLength) = Listpack.header(base, at: next)
            let valueEnd = valueStart + valueLength
            o = valueEnd + Listpack.varintSize(valueEnd - next)
        }
        return nil
    }

    /// Calls `body` with each payload of listpack bytes held elsewhere (a collection packed in a
    /// key's record), in order, until it returns false. Reads only: the forked save child walks
    /// records with it.
    @inline(__always)
    static func forEachPayload(in raw: UnsafeRawBufferPointer, _ body: (UnsafeRawBufferPointer) throws -> Bool) rethrows {
        var o = 0
        while o < raw.count {
            let e = rawEntry(raw, at: o)
            if try !body(UnsafeRawBufferPointer(rebasing: raw[e.start..<(e.start + e.length)])) { return }
            o = e.next
        }
    }

    /// The number of entries in listpack bytes held elsewhere (O(n)).
    @usableFromInline
    static func entryCount(in raw: UnsafeRawBufferPointer) -> Int {
        var n = 0
        forEachPayload(in: raw) { _ in n += 1; return true }
        return n
    }

    /// Payload start and length of the entry at `offset`.
    @inline(__always)
    static func header(_ base: UnsafeRawPointer, at offset: Int) -> (Int, Int) {
        var n = 0, shift = 0, i = offset
        while true {
            let b = base.load(fromByteOffset: i, as: UInt8.self)
            n |= Int(b & 0x7F) << shift
            i += 1
            if b & 0x80 == 0 { break }
            shift += 7
        }
        return (i, n)
    }

    /// Whether `field.count` bytes at `p` equal `field`.
    @inline(__always)
    static func bytesEqual(_ p: UnsafeRawPointer, _ field: UnsafeRawBufferPointer) -> Bool {
        guard let f = field.baseAddress, field.count > 0 else { return true }
        return memcmp(p, f, field.count) == 0
    }
}
