// MEMORY USAGE's estimate of what one key costs Cairn, and the per-key figure eviction subtracts
// when it removes a key. It counts Cairn's own structures, not Redis's, so the numbers differ from
// Redis's (which counts its dictEntry, robj and sds headers):
//
//   - the key's record in the database's hash table: one ByteMap entry (key reference, KeyEntry,
//     hash, chain link) plus its share of the bucket array (one Int32 per entry at most load 1),
//     plus the Int32 slot in the volatile list when the key has an expiry;
//   - the key's bytes: a Swift array buffer (32-byte header + capacity) as one malloc chunk;
//   - the value: nothing more for an integer (stored inline); a string's array buffer; a list's
//     QuickList object, its deque of listpack nodes and each node's byte buffer.
//
// A malloc chunk is counted as glibc allocates it: the request plus 8 bytes of header, rounded up
// to 16, at least 32. Lists with more nodes than `samples` are estimated from the first `samples`
// nodes, as Redis samples nested values (0 = all). Hashes, sets and sorted sets count only their
// object header until those types expose their sizes on this branch (see `collectionBytes`).

public enum MemoryUsage {
    /// Redis's default MEMORY USAGE sample count.
    public static let defaultSamples = 5

    /// Bytes glibc's malloc sets aside for a request of `n` bytes.
    @inlinable
    public static func mallocChunk(_ n: Int) -> Int { max(32, (n + 8 + 15) & ~15) }

    /// A Swift array buffer of `capacity` bytes: 32-byte header (isa, refcount, count, capacity).
    @inlinable
    public static func byteArray(capacity: Int) -> Int { capacity == 0 ? 0 : mallocChunk(32 + capacity) }

    /// A class instance with `fields` bytes of stored properties (16-byte object header).
    @inlinable
    public static func object(fields: Int) -> Int { mallocChunk(16 + fields) }

    /// Table overhead of one key: its ByteMap entry and bucket slot (and volatile-list slot).
    public static func recordBytes(hasExpiry: Bool) -> Int {
        MemoryLayout<ByteMap<KeyEntry>.Entry>.stride + MemoryLayout<Int32>.stride
            + (hasExpiry ? MemoryLayout<Int32>.stride : 0)
    }

    /// The estimate for `key` holding `entry` (MEMORY USAGE's answer).
    public static func keyBytes(key: [UInt8], entry: KeyEntry, samples: Int = defaultSamples) -> Int {
        recordBytes(hasExpiry: entry.expireAt != noExpiry) + byteArray(capacity: key.capacity)
            + valueBytes(entry.value, samples: samples)
    }

    /// The value's heap footprint beyond the inline enum payload.
    public static func valueBytes(_ value: Value, samples: Int = defaultSamples) -> Int {
        switch value {
        case .int:
            return 0
        case .string(let s):
            return byteArray(capacity: s.bytes.capacity)
        case .list(let l):
            return listBytes(l, samples: samples)
        case .hash, .set, .zset:
            return collectionBytes(value, samples: samples)
        }
    }

    static func listBytes(_ l: QuickList, samples: Int) -> Int {
        let nodeCount = l.nodes.count
        // The QuickList object (deque reference, count) and the deque's storage of node structs.
        var total = object(fields: 16) + mallocChunk(32 + nodeCount * MemoryLayout<Listpack>.stride)
        guard nodeCount > 0 else { return total }
        let sampled = samples <= 0 ? nodeCount : min(samples, nodeCount)
        var nodeBytes = 0
        for i in 0..<sampled { nodeBytes += byteArray(capacity: l.nodes[i].bytes.capacity) }
        total += sampled == nodeCount ? nodeBytes : Int((Double(nodeBytes) / Double(sampled) * Double(nodeCount)).rounded())
        return total
    }

    /// Hashes, sets and sorted sets: the object header only, until their element storage can be
    /// measured from here.
    static func collectionBytes(_ value: Value, samples: Int) -> Int {
        object(fields: 32)
    }

    /// The sum over every key of every database: O(keys). For MEMORY STATS and tests only.
    public static func datasetBytes(_ engine: Engine) -> Int {
        var total = 0
        for db in engine.databases {
            for i in db.table.indices {
                total += keyBytes(key: db.table.key(at: i), entry: db.table[i], samples: 0)
            }
        }
        return total
    }

    /// The hash tables themselves (bucket arrays, volatile lists) of one database: MEMORY STATS'
    /// overhead.hashtable.main / .expires.
    public static func tableOverhead(_ db: Database) -> (main: Int, expires: Int) {
        let main = db.table.bucketCount * MemoryLayout<Int32>.stride
            + db.count * MemoryLayout<ByteMap<KeyEntry>.Entry>.stride
        return (main, db.table.volatileCount * MemoryLayout<Int32>.stride)
    }
}
