#if canImport(Glibc)
import Glibc
#endif

/// A list's nodes (QuickList) in manually managed memory: an array of Listpack values that its
/// owner frees once (`deallocate`). A forked save child walks it without touching a reference
/// count: the table's base pointer is a plain field, and each node's bytes are found through
/// `Listpack`'s raw layout (QuickList.forEachNodeBytes) instead of retaining its array.
///
/// No value semantics: a copy of the struct shares the storage, so only QuickList holds one and
/// `copied()` makes an independent table. Pushing a node at the front moves the others (a node
/// holds 8 KiB, so that is one move of 16 bytes per node every few hundred pushes).
public struct NodeTable: RandomAccessCollection {
    @usableFromInline var base: UnsafeMutablePointer<Listpack>?
    public private(set) var count = 0
    @usableFromInline var capacity = 0

    init() {}

    public var startIndex: Int { 0 }
    public var endIndex: Int { count }

    public subscript(index: Int) -> Listpack {
        unsafeAddress {
            precondition(index >= 0 && index < count, "node index out of range")
            return UnsafePointer(base.unsafelyUnwrapped + index)
        }
        nonmutating unsafeMutableAddress {
            precondition(index >= 0 && index < count, "node index out of range")
            return base.unsafelyUnwrapped + index
        }
    }

    private mutating func reserve(_ n: Int) {
        guard n > capacity else { return }
        let newCapacity = Swift.max(4, Swift.max(n, capacity * 2))
        // Swift values are bitwise movable, so realloc may move the nodes.
        guard let p = realloc(base, newCapacity * MemoryLayout<Listpack>.stride) else {
            fatalError("Cairn: out of memory allocating \(newCapacity) list nodes")
        }
        base = p.bindMemory(to: Listpack.self, capacity: newCapacity)
        capacity = newCapacity
    }

    mutating func insert(_ node: Listpack, at index: Int) {
        precondition(index >= 0 && index <= count, "node index out of range")
        reserve(count + 1)
        let p = base.unsafelyUnwrapped
        if index < count { memmove(p + index + 1, p + index, (count - index) * MemoryLayout<Listpack>.stride) }
        (p + index).initialize(to: node)
        count += 1
    }

    mutating func append(_ node: Listpack) { insert(node, at: count) }
    mutating func prepend(_ node: Listpack) { insert(node, at: 0) }

    @discardableResult
    mutating func remove(at index: Int) -> Listpack {
        precondition(index >= 0 && index < count, "node index out of range")
        let p = base.unsafelyUnwrapped
        let node = (p + index).move()
        if index < count - 1 { memmove(p + index, p + index + 1, (count - index - 1) * MemoryLayout<Listpack>.stride) }
        count -= 1
        return node
    }

    @discardableResult mutating func removeFirst() -> Listpack { remove(at: 0) }
    @discardableResult mutating func removeLast() -> Listpack { remove(at: count - 1) }

    /// Drops every node and frees the storage.
    mutating func removeAll() {
        base?.deinitialize(count: count)
        free(base)
        base = nil
        count = 0
        capacity = 0
    }

    /// An independent table holding the same nodes (their bytes are copy-on-write values).
    func copied() -> NodeTable {
        var t = NodeTable()
        t.reserve(count)
        if count > 0 { t.base.unsafelyUnwrapped.initialize(from: base.unsafelyUnwrapped, count: count) }
        t.count = count
        return t
    }

    /// Storage held by the table itself (MEMORY USAGE).
    var allocatedBytes: Int { capacity * MemoryLayout<Listpack>.stride }
}
