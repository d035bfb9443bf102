import Dispatch
import Synchronization

// Lazy freeing (Redis 7.0's lazyfree.c): a value that is costly to free — a collection of more
// than 64 allocations (Redis's LAZYFREE_THRESHOLD, counted as its lazyfreeGetFreeEffort counts)
// — is handed to a background thread instead of being freed on the keyspace thread, and so are
// whole databases emptied by FLUSHALL / FLUSHDB ASYNC. UNLINK always frees this way; DEL, FLUSH*,
// expiry, eviction and implicit deletes (RENAME over a key, SET over a collection, ...) do when
// their `lazyfree-lazy-*` directive is yes.
//
// A value handed over is no longer referenced by anything on the keyspace thread (taken out of
// its record), so releasing it elsewhere is safe; the records of a detached table are freed
// there too. The thread is a serial Dispatch queue: jobs run in order, one at a time.

public final class LazyFreer: Sendable {
    /// Redis's LAZYFREE_THRESHOLD.
    public static let threshold = 64

    private let queue = DispatchQueue(label: "cairn.lazyfree")
    private let pending = Atomic<Int>(0)
    private let freed = Atomic<Int>(0)

    public init() {}

    /// Objects handed over and not yet freed (INFO lazyfree_pending_objects).
    public var pendingObjects: Int { pending.load(ordering: .relaxed) }
    /// Objects freed in the background since start-up or CONFIG RESETSTAT (INFO lazyfreed_objects).
    public var freedObjects: Int { freed.load(ordering: .relaxed) }

    public func resetStats() { freed.store(0, ordering: .relaxed) }

    /// Redis's lazyfreeGetFreeEffort: how many allocations freeing `value` costs.
    public static func freeEffort(_ value: Value) -> Int {
        switch value {
        case .int, .string: return 1
        case .list(let l): return l.nodes.count
        case .hash(let h): return h.table?.count ?? 1
        case .set(let s): return s.table?.count ?? 1
        case .zset(let z): return z.list?.count ?? 1
        }
    }

    /// Frees `value` in the background if that is worth it; returns whether it was handed over.
    /// The caller must hold the only reference (it was just taken out of the keyspace).
    @discardableResult
    public func free(_ value: consuming Value) -> Bool {
        guard Self.freeEffort(value) > Self.threshold else { return false }
        let box = Handover(value)
        pending.add(1, ordering: .relaxed)
        queue.async { [self] in
            box.release()
            pending.subtract(1, ordering: .relaxed)
            freed.add(1, ordering: .relaxed)
        }
        return true
    }

    /// Frees a whole detached table in the background (its `count` objects are counted).
    public func free(_ entries: DetachedEntries) {
        let n = entries.count
        guard n > 0 else { return entries.free() }
        pending.add(n, ordering: .relaxed)
        queue.async { [self] in
            entries.free()
            pending.subtract(n, ordering: .relaxed)
            freed.add(n, ordering: .relaxed)
        }
    }

    /// Waits until every job handed over so far is done (tests, shutdown).
    public func drain() { queue.sync {} }

    /// Moves a value to the lazy-free thread, which drops the last reference.
    private final class Handover: @unchecked Sendable {
        private var value: Value?
        init(_ value: consuming Value) { self.value = value }
        func release() { value = nil }
    }
}
