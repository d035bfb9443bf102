// MEMORY USAGE's estimate of what one key costs Cairn, and the per-key figure eviction subtracts
// when it removes a key. It counts Cairn's own structures, not Redis's, so the numbers differ from
// Redis's (which counts its dictEntry, robj and sds headers):
//
//   - the key's place in the database's hash table: one 16-byte slot plus its share of the
//     bucket array (one Int32 per slot at most load 1), plus the Int32 slot in the volatile list
//     when the key has an expiry;
//   - the key's record (KeyRecord.swift: header, expiry block, scalar, key and string bytes) as
//     one malloc chunk;
//   - a collection's storage: a list's QuickList object, its deque of listpack nodes and each
//     node's byte buffer.
//
// A malloc chunk is counted as glibc allocates it: the request plus 8 bytes of header, rounded up
// to 16, at least 32. Lists with more nodes than `samples` are estimated from the first `samples`
// nodes, as Redis samples nested values (0 = all). Hashes, sets and sorted sets count only their
// object header until those types expose their sizes (see `collectionBytes`).

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

    /// Table overhead of one key: its slot and bucket share (and volatile-list slot).
    public static func recordBytes(hasExpiry: Bool) -> Int {
        MemoryLayout<KeyTable.Slot>.stride + MemoryLayout<Int32>.stride
            + (hasExpiry ? MemoryLayout<Int32>.stride : 0)
    }

    /// The estimate for the key at `index` of `table` (MEMORY USAGE's answer).
    public static func keyBytes(_ table: KeyTable, at index: Int, samples: Int = defaultSamples) -> Int {
        let r = table.record(index)
        let size = KeyRecord.size(kind: r.kind, keyLength: r.keyLength, valueLength: r.valueLength, hasExpiry: r.hasExpiry)
        var total = recordBytes(hasExpiry: r.hasExpiry) + mallocChunk(size)
        switch r.kind {
        case .int, .embstr, .raw, .packedHash, .packedZset: break
        default: total += valueBytes(r.value, samples: samples)
        }
        return total
    }

    /// A collection's heap footprint beyond the key's record (0 for strings: they are in it).
    public static func valueBytes(_ value: Value, samples: Int = defaultSamples) -> Int {
        switch value {
        case .int, .string:
            return 0  // inside the key's record
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
                total += keyBytes(db.table, at: i, samples: 0)
            }
        }
        return total
    }

    /// The hash tables themselves (bucket arrays, volatile lists) of one database: MEMORY STATS'
    /// overhead.hashtable.main / .expires.
    public static func tableOverhead(_ db: Database) -> (main: Int, expires: Int, slotToKeys: Int) {
        let main = db.table.bucketCount * MemoryLayout<Int32>.stride
            + db.count * MemoryLayout<KeyTable.Slot>.stride
        return (main, db.table.volatileCount * MemoryLayout<Int32>.stride, db.table.slotIndexBytes)
    }
}
