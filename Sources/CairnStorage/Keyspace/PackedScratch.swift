// The objects a write to a small hash or sorted set works on. Such a collection is packed in its
// key's record (KeyRecord), so a command that changes one copies the listpack into an object,
// changes it with the collection's own code, and stores the bytes back. Allocating that object
// and its array for every HSET or ZADD would cost more than the change itself, so the engine
// keeps one of each and reuses it, with the array's capacity.
//
// A command takes the object (the engine's slot becomes nil), and gives it back after storing
// the bytes, if it is still listpack encoded; one that converted to a hashtable or skiplist now
// belongs to the record, and the next take makes a new object. A command that returns early
// without giving it back only costs the next take an allocation: nothing reachable from the
// engine ever aliases a value in the keyspace.

struct PackedScratch {
    private var hash: HashValue?
    private var zset: SortedSetValue?

    /// A hash holding a copy of the packed listpack `raw` of `entries` entries.
    mutating func takeHash(copying raw: UnsafeRawBufferPointer, entries: Int) -> HashValue {
        let h = hash ?? HashValue()
        hash = nil
        h.pack.replaceAll(copying: raw, count: entries)
        return h
    }

    /// A sorted set holding a copy of the packed listpack `raw` of `entries` entries.
    mutating func takeZset(copying raw: UnsafeRawBufferPointer, entries: Int) -> SortedSetValue {
        let z = zset ?? SortedSetValue()
        zset = nil
        z.pairs.replaceAll(copying: raw, count: entries)
        return z
    }

    /// Gives back a hash taken here, once its bytes are stored; kept only while listpack encoded.
    mutating func give(_ h: HashValue) { if h.isListpack { hash = h } }

    mutating func give(_ z: SortedSetValue) { if z.isListpack { zset = z } }

    /// Whether an object of each kind waits here (tests: a write gave its copy back).
    var holds: (hash: Bool, zset: Bool) { (hash != nil, zset != nil) }
}
