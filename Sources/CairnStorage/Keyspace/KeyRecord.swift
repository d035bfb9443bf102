#if canImport(Glibc)
import Glibc
#endif
import CairnRESP
import CPosix

// One key of the keyspace as one malloc'd block: a 16-byte header, the expiry only when the key
// has one, the value's scalar (an integer, or the reference to a collection object), the key's
// bytes and, for a string, the value's bytes; a small hash or sorted set (listpack encoded) is
// packed the same way, its listpack bytes in the place of a string's. No Swift object header and
// no reference count per key: the table's slots point at records with plain pointers, so a forked
// save child walks the keyspace without writing to a single shared page, and a small string key
// costs one allocation (Redis: dictEntry + robj + key sds, three). Layout (docs/benchmarks.md, "Where the bytes go"):
//
//   0   UInt8   kind          RecordKind: int, embstr, raw, list, hash, set, zset, packed hash,
//                             packed zset
//   1   UInt8   flags         bit 0: has an expiry block; bit 1: unshared integer (see KeyEntry)
//   2   UInt16  packed count  entries of a packed collection's listpack, 0xFFFF when that many or
//                             more (then counted by walking it); zero for other kinds
//   4   UInt32  access clock  LRU seconds or LFU minutes+counter (KeyEntry.accessClock)
//   8   UInt32  key length
//   12  UInt32  value length  bytes of a string value or packed listpack; 0 for other kinds
//   16  [expiry block, 16 bytes, only with flag bit 0]
//         Int64 expireAt (unix ms), Int32 slot in the table's volatile list, 4 bytes zero
//   s   [scalar, 8 bytes, only for int and collection kinds]
//         int: the Int64; list/hash/set/zset: the object, retained once by the record
//   k   key bytes, then a string value's bytes or a packed collection's listpack (Listpack's
//       own entry format: varint length, payload, backlen)
//
// All multi-byte fields are native-endian and naturally aligned (malloc returns 16-aligned
// blocks; 16 + 16 + 8 keeps the scalar 8-aligned). A record is resized with realloc, so the slot
// that points at it is updated whenever the value or the expiry changes size.

/// What a record's value is. The three string kinds are OBJECT ENCODING's int, embstr and raw;
/// `hash` and `zset` are objects (hashtable and skiplist encoded), `packedHash` and `packedZset`
/// listpack-encoded ones whose listpack lives in the record itself (no object, no reference count:
/// Redis's small hash or sorted set is one listpack allocation too).
@usableFromInline
enum RecordKind: UInt8 {
    case int = 0, embstr = 1, raw = 2, list = 3, hash = 4, set = 5, zset = 6, packedHash = 7, packedZset = 8

    @inlinable var isStringBytes: Bool { self == .embstr || self == .raw }
    @inlinable var isPacked: Bool { self == .packedHash || self == .packedZset }
    /// Whether the value's bytes follow the key (strings and packed collections).
    @inlinable var hasValueBytes: Bool { isStringBytes || isPacked }
    @inlinable var hasScalar: Bool { !hasValueBytes }
}

/// A view over one record (not an owner: the table frees records).
@usableFromInline
struct KeyRecord {
    @usableFromInline let base: UnsafeMutableRawPointer

    @inlinable init(_ base: UnsafeMutableRawPointer) { self.base = base }

    @usableFromInline static let headerSize = 16
    @usableFromInline static let expirySize = 16
    @usableFromInline static let scalarSize = 8
    @usableFromInline static let expiryFlag: UInt8 = 1
    @usableFromInline static let unsharedFlag: UInt8 = 2
    /// The packed count meaning "this many or more: walk the listpack".
    @usableFromInline static let packedCountUnknown = Int(UInt16.max)

    @inlinable var kind: RecordKind { RecordKind(rawValue: base.load(as: UInt8.self)).unsafelyUnwrapped }
    @inlinable var flags: UInt8 { base.load(fromByteOffset: 1, as: UInt8.self) }
    @inlinable var hasExpiry: Bool { flags & Self.expiryFlag != 0 }

    @inlinable var unsharedInteger: Bool {
        get { flags & Self.unsharedFlag != 0 }
        nonmutating set {
            let f = newValue ? flags | Self.unsharedFlag : flags & ~Self.unsharedFlag
            base.storeBytes(of: f, toByteOffset: 1, as: UInt8.self)
        }
    }

    @inlinable var accessClock: UInt32 {
        get { base.load(fromByteOffset: 4, as: UInt32.self) }
        nonmutating set { base.storeBytes(of: newValue, toByteOffset: 4, as: UInt32.self) }
    }

    @inlinable var keyLength: Int { Int(base.load(fromByteOffset: 8, as: UInt32.self)) }
    @inlinable var valueLength: Int { Int(base.load(fromByteOffset: 12, as: UInt32.self)) }

    @inlinable var expireAt: Int64 {
        hasExpiry ? base.load(fromByteOffset: Self.headerSize, as: Int64.self) : noExpiry
    }

    /// Slot in the volatile list; only for a record with an expiry block.
    @inlinable var volatileSlot: Int32 {
        get { base.load(fromByteOffset: Self.headerSize + 8, as: Int32.self) }
        nonmutating set { base.storeBytes(of: newValue, toByteOffset: Self.headerSize + 8, as: Int32.self) }
    }

    @inlinable var scalarOffset: Int { Self.headerSize + (hasExpiry ? Self.expirySize : 0) }
    @inlinable var keyOffset: Int { scalarOffset + (kind.hasScalar ? Self.scalarSize : 0) }

    @inlinable var key: UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(start: base + keyOffset, count: keyLength)
    }

    /// A string value's bytes (embstr and raw kinds), or a packed collection's listpack.
    @inlinable var stringBytes: UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(start: base + keyOffset + keyLength, count: valueLength)
    }

    /// Entries in a packed collection's listpack.
    @inlinable var packedCount: Int {
        let n = Int(base.load(fromByteOffset: 2, as: UInt16.self))
        return n < Self.packedCountUnknown ? n : Listpack.entryCount(in: stringBytes)
    }

    /// The packed-count field for a listpack of `count` entries (zero for unpacked kinds).
    @inlinable
    static func packedCountField(kind: RecordKind, count: Int64) -> UInt16 {
        kind.isPacked ? UInt16(clamping: count) : 0
    }

    @inlinable var scalar: Int64 { base.load(fromByteOffset: scalarOffset, as: Int64.self) }

    @inlinable var object: UnsafeMutableRawPointer {
        UnsafeMutableRawPointer(bitPattern: Int(scalar)).unsafelyUnwrapped
    }

    /// Bytes a record needs.
    @inlinable
    static func size(kind: RecordKind, keyLength: Int, valueLength: Int, hasExpiry: Bool) -> Int {
        headerSize + (hasExpiry ? expirySize : 0) + (kind.hasScalar ? scalarSize : 0) + keyLength + valueLength
    }

    @usableFromInline
    static func allocate(_ size: Int) -> UnsafeMutableRawPointer {
        guard let p = malloc(size) else { fatalError("Cairn: out of memory allocating \(size) bytes") }
        #if DEBUG
        RecordCensus.live += 1
        #endif
        return p
    }

    @inlinable
    static func resize(_ base: UnsafeMutableRawPointer, to size: Int) -> UnsafeMutableRawPointer {
        if cairn_malloc_usable_size(base) >= size { return base }
        guard let p = realloc(base, size) else { fatalError("Cairn: out of memory allocating \(size) bytes") }
        return p
    }
}

/// A value's kind and scalar as a record holds them; a string's bytes travel beside it.
@usableFromInline
struct RecordValue {
    @usableFromInline var kind: RecordKind
    @usableFromInline var scalar: Int64

    @inlinable init(kind: RecordKind, scalar: Int64 = 0) {
        self.kind = kind
        self.scalar = scalar
    }

    /// The kind and scalar of `value`. A collection's object is retained (the record's reference).
    /// A listpack-encoded hash or sorted set is packed instead: its kind is packedHash or
    /// packedZset and the scalar is the listpack's entry count (withRecordBytes gives its bytes).
    @inlinable
    init(retaining value: Value) {
        switch value {
        case .int(let v): self.init(kind: .int, scalar: v)
        case .string(let s): self.init(kind: s.raw ? .raw : .embstr)
        case .list(let l): self.init(kind: .list, scalar: Self.retained(l))
        case .hash(let h) where h.isListpack: self.init(kind: .packedHash, scalar: Int64(h.pack.count))
        case .hash(let h): self.init(kind: .hash, scalar: Self.retained(h))
        case .set(let s): self.init(kind: .set, scalar: Self.retained(s))
        case .zset(let z) where z.isListpack: self.init(kind: .packedZset, scalar: Int64(z.pairs.count))
        case .zset(let z): self.init(kind: .zset, scalar: Self.retained(z))
        }
    }

    /// What Redis's tryObjectEncoding makes of a SET of `bytes` (see Value.string(fromStored:)):
    /// an integer when they are one, else embstr or raw bytes.
    @inlinable
    init(stringFrom bytes: UnsafeRawBufferPointer) {
        if bytes.count <= 20, let v = CairnRESP.Decimal.parseInt64(bytes) {
            self.init(kind: .int, scalar: v)
        } else {
            self.init(kind: bytes.count > Value.embeddedStringBytesMax ? .raw : .embstr)
        }
    }

    @inlinable
    static func retained<T: AnyObject>(_ object: T) -> Int64 {
        Int64(Int(bitPattern: Unmanaged.passRetained(object).toOpaque()))
    }
}

/// Calls `body` with the bytes a record stores for `value` (empty unless it is a byte string or
/// a listpack-encoded hash or sorted set).
@inlinable
func withRecordBytes<R>(of value: Value, _ body: (UnsafeRawBufferPointer) -> R) -> R {
    switch value {
    case .string(let s): return s.bytes.withUnsafeBytes(body)
    case .hash(let h) where h.isListpack: return h.pack.bytes.withUnsafeBytes(body)
    case .zset(let z) where z.isListpack: return z.pairs.bytes.withUnsafeBytes(body)
    default: return body(UnsafeRawBufferPointer(start: nil, count: 0))
    }
}

extension KeyRecord {
    /// The value, as a `Value` (a string's bytes are copied into an array; a collection is the
    /// record's object, retained by the caller's reference; a packed hash or sorted set is a new
    /// object holding a copy of the listpack, whose changes the record does not see: a command
    /// that writes one stores it back, KeyTable.setPacked or setValue).
    @inlinable
    var value: Value {
        switch kind {
        case .int: return .int(scalar)
        case .embstr: return .string(StringBytes(Array(stringBytes), raw: false))
        case .raw: return .string(StringBytes(Array(stringBytes), raw: true))
        case .list: return .list(Unmanaged<QuickList>.fromOpaque(object).takeUnretainedValue())
        case .hash: return .hash(Unmanaged<HashValue>.fromOpaque(object).takeUnretainedValue())
        case .set: return .set(Unmanaged<SetValue>.fromOpaque(object).takeUnretainedValue())
        case .zset: return .zset(Unmanaged<SortedSetValue>.fromOpaque(object).takeUnretainedValue())
        case .packedHash: return .hash(HashValue(packed: Listpack(copying: stringBytes, count: packedCount)))
        case .packedZset: return .zset(SortedSetValue(packed: Listpack(copying: stringBytes, count: packedCount)))
        }
    }

    /// Drops the record's reference to its collection object, if it has one.
    @usableFromInline
    func releaseObject() {
        switch kind {
        case .int, .embstr, .raw, .packedHash, .packedZset: return
        case .list: Unmanaged<QuickList>.fromOpaque(object).release()
        case .hash: Unmanaged<HashValue>.fromOpaque(object).release()
        case .set: Unmanaged<SetValue>.fromOpaque(object).release()
        case .zset: Unmanaged<SortedSetValue>.fromOpaque(object).release()
        }
    }

    /// A new record. A collection in `value` must already be retained for it (RecordValue does).
    @usableFromInline
    static func make(key: UnsafeRawBufferPointer, value: RecordValue, stringBytes: UnsafeRawBufferPointer,
                     expireAt: Int64, accessClock: UInt32) -> KeyRecord {
        let hasExpiry = expireAt != noExpiry
        let valueLength = value.kind.hasValueBytes ? stringBytes.count : 0
        let size = size(kind: value.kind, keyLength: key.count, valueLength: valueLength, hasExpiry: hasExpiry)
        let r = KeyRecord(allocate(size))
        r.writeHeader(kind: value.kind, flags: hasExpiry ? expiryFlag : 0, accessClock: accessClock,
                      keyLength: key.count, valueLength: valueLength)
        r.base.storeBytes(of: packedCountField(kind: value.kind, count: value.scalar), toByteOffset: 2, as: UInt16.self)
        if hasExpiry {
            r.base.storeBytes(of: expireAt, toByteOffset: headerSize, as: Int64.self)
            r.base.storeBytes(of: Int32(-1), toByteOffset: headerSize + 8, as: Int32.self)
            r.base.storeBytes(of: Int32(0), toByteOffset: headerSize + 12, as: Int32.self)
        }
        if value.kind.hasScalar { r.base.storeBytes(of: value.scalar, toByteOffset: r.scalarOffset, as: Int64.self) }
        let k = r.keyOffset
        if key.count > 0 { (r.base + k).copyMemory(from: key.baseAddress!, byteCount: key.count) }
        if valueLength > 0 {
            (r.base + k + key.count).copyMemory(from: stringBytes.baseAddress!, byteCount: stringBytes.count)
        }
        return r
    }

    @inlinable
    func writeHeader(kind: RecordKind, flags: UInt8, accessClock: UInt32, keyLength: Int, valueLength: Int) {
        base.storeBytes(of: kind.rawValue, toByteOffset: 0, as: UInt8.self)
        base.storeBytes(of: flags, toByteOffset: 1, as: UInt8.self)
        base.storeBytes(of: UInt16(0), toByteOffset: 2, as: UInt16.self)
        base.storeBytes(of: accessClock, toByteOffset: 4, as: UInt32.self)
        base.storeBytes(of: UInt32(truncatingIfNeeded: keyLength), toByteOffset: 8, as: UInt32.self)
        base.storeBytes(of: UInt32(truncatingIfNeeded: valueLength), toByteOffset: 12, as: UInt32.self)
    }

    /// Replaces the value (the old collection reference, if any, is released by the caller
    /// first). Returns the record, which may have moved.
    @usableFromInline
    func replacingValue(kind: RecordKind, scalar: Int64, stringBytes: UnsafeRawBufferPointer) -> KeyRecord {
        let oldKeyOffset = keyOffset
        let keyLength = keyLength
        let newKeyOffset = scalarOffset + (kind.hasScalar ? Self.scalarSize : 0)
        let valueLength = kind.hasValueBytes ? stringBytes.count : 0
        let needed = newKeyOffset + keyLength + valueLength
        let r = KeyRecord(Self.resize(base, to: needed))
        if newKeyOffset != oldKeyOffset && keyLength > 0 {
            memmove(r.base + newKeyOffset, r.base + oldKeyOffset, keyLength)
        }
        r.base.storeBytes(of: kind.rawValue, toByteOffset: 0, as: UInt8.self)
        r.unsharedInteger = false
        r.base.storeBytes(of: Self.packedCountField(kind: kind, count: scalar), toByteOffset: 2, as: UInt16.self)
        r.base.storeBytes(of: UInt32(truncatingIfNeeded: valueLength), toByteOffset: 12, as: UInt32.self)
        if kind.hasScalar { r.base.storeBytes(of: scalar, toByteOffset: r.scalarOffset, as: Int64.self) }
        if valueLength > 0 {
            (r.base + newKeyOffset + keyLength).copyMemory(from: stringBytes.baseAddress!, byteCount: valueLength)
        }
        return r.shrunk(to: needed)
    }

    /// Makes the value a raw string of `length` bytes (at least its current length), keeping the
    /// current bytes (an integer's digits) as its prefix and zeroing the rest. Grows greedily as
    /// Redis's sdsMakeRoomFor (twice the need below 1 MiB, 1 MiB more above), so repeated APPEND,
    /// SETRANGE and SETBIT edit in place. Returns the record, which may have moved.
    @usableFromInline
    func growingRawString(to length: Int) -> KeyRecord {
        var r = self
        if kind == .int {
            let digits = CairnRESP.Decimal.bytes(scalar)
            r = digits.withUnsafeBytes { replacingValue(kind: .raw, scalar: 0, stringBytes: $0) }
        }
        let old = r.valueLength
        let valueStart = r.keyOffset + r.keyLength
        let needed = valueStart + length
        if cairn_malloc_usable_size(r.base) < needed {
            let greedy = length < 1 << 20 ? needed + length : needed + 1 << 20
            guard let p = realloc(r.base, greedy) else { fatalError("Cairn: out of memory allocating \(greedy) bytes") }
            r = KeyRecord(p)
        }
        if length > old { (r.base + valueStart + old).initializeMemory(as: UInt8.self, repeating: 0, count: length - old) }
        r.base.storeBytes(of: RecordKind.raw.rawValue, toByteOffset: 0, as: UInt8.self)
        r.unsharedInteger = false
        r.base.storeBytes(of: UInt32(truncatingIfNeeded: max(length, old)), toByteOffset: 12, as: UInt32.self)
        return r
    }

    /// A string value's bytes, writable in place (embstr and raw kinds).
    @inlinable var mutableStringBytes: UnsafeMutableRawBufferPointer {
        UnsafeMutableRawBufferPointer(start: base + keyOffset + keyLength, count: valueLength)
    }

    /// Gives memory back when the record uses less than half of its block (a big value replaced by
    /// a small one), as Redis's sds trimming does.
    @inlinable
    func shrunk(to needed: Int) -> KeyRecord {
        let usable = cairn_malloc_usable_size(base)
        guard usable > 64 && usable > needed * 2, let p = realloc(base, needed) else { return self }
        return KeyRecord(p)
    }

    /// Adds or removes the expiry block. Returns the record, which may have moved.
    @usableFromInline
    func settingExpiryBlock(_ present: Bool) -> KeyRecord {
        guard present != hasExpiry else { return self }
        let tail = Self.size(kind: kind, keyLength: keyLength, valueLength: valueLength, hasExpiry: false) - Self.headerSize
        if present {
            let r = KeyRecord(Self.resize(base, to: Self.headerSize + Self.expirySize + tail))
            memmove(r.base + Self.headerSize + Self.expirySize, r.base + Self.headerSize, tail)
            r.base.storeBytes(of: r.flags | Self.expiryFlag, toByteOffset: 1, as: UInt8.self)
            r.base.storeBytes(of: noExpiry, toByteOffset: Self.headerSize, as: Int64.self)
            r.volatileSlot = -1
            r.base.storeBytes(of: Int32(0), toByteOffset: Self.headerSize + 12, as: Int32.self)
            return r
        }
        memmove(base + Self.headerSize, base + Self.headerSize + Self.expirySize, tail)
        base.storeBytes(of: flags & ~Self.expiryFlag, toByteOffset: 1, as: UInt8.self)
        return shrunk(to: Self.headerSize + tail)
    }

    @inlinable
    func setExpireAt(_ at: Int64) { base.storeBytes(of: at, toByteOffset: Self.headerSize, as: Int64.self) }

    /// Frees the record and its collection reference.
    @usableFromInline
    func free() {
        freeUncounted()
        #if DEBUG
        RecordCensus.live -= 1
        #endif
    }

    /// `free` without the debug census (a record detached on the keyspace thread, which counted
    /// it out there, and freed on the lazy-free thread).
    func freeUncounted() {
        releaseObject()
        Glibc.free(base)
    }
}

#if DEBUG
/// Debug builds count the records the calling thread has allocated and not freed, so that a test
/// can check that a path frees every record it makes (a refused RDB load, say) while other tests
/// allocate on other threads. Kept per thread in a pthread key; not compiled into release builds.
enum RecordCensus {
    static let key: pthread_key_t = {
        var key = pthread_key_t()
        precondition(pthread_key_create(&key, nil) == 0, "pthread_key_create failed")
        return key
    }()

    static var live: Int {
        get { Int(bitPattern: pthread_getspecific(key)) }
        set { pthread_setspecific(key, UnsafeRawPointer(bitPattern: newValue)) }
    }
}
#endif
