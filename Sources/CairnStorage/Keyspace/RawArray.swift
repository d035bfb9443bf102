#if canImport(Glibc)
import Glibc
#endif

/// A growable array of plain (bitwise-copyable) elements in manually managed memory, for the key
/// table's slots and buckets. Unlike Array it costs no reference-count traffic, uniqueness check
/// or exclusivity check per access (the table reads it on every command), and a forked save child
/// reads it without writing to a page it shares with the server. It has no value semantics: a copy
/// shares the storage, and the owner calls `deallocate()` once.
@usableFromInline
struct RawArray<Element: BitwiseCopyable> {
    @usableFromInline var base: UnsafeMutablePointer<Element>?
    @usableFromInline var count = 0
    @usableFromInline var capacity = 0

    @usableFromInline init() {}

    @usableFromInline init(repeating element: Element, count: Int) {
        reserveCapacity(count)
        base?.initialize(repeating: element, count: count)
        self.count = count
    }

    @inlinable var isEmpty: Bool { count == 0 }
    @inlinable var indices: Range<Int> { 0..<count }

    @inlinable
    subscript(index: Int) -> Element {
        get {
            assert(index >= 0 && index < count, "RawArray index \(index) out of 0..<\(count)")
            return base.unsafelyUnwrapped[index]
        }
        nonmutating set {
            assert(index >= 0 && index < count, "RawArray index \(index) out of 0..<\(count)")
            base.unsafelyUnwrapped[index] = newValue
        }
    }

    @inlinable
    mutating func append(_ element: Element) {
        if count == capacity { grow(to: Swift.max(16, capacity * 2)) }
        (base.unsafelyUnwrapped + count).initialize(to: element)
        count += 1
    }

    @inlinable
    @discardableResult
    mutating func removeLast() -> Element {
        precondition(count > 0, "removeLast on an empty RawArray")
        count -= 1
        return base.unsafelyUnwrapped[count]
    }

    /// Makes room for `n` elements in all.
    mutating func reserveCapacity(_ n: Int) {
        if n > capacity { grow(to: n) }
    }

    @usableFromInline
    mutating func grow(to n: Int) {
        let bytes = n * MemoryLayout<Element>.stride
        guard let p = realloc(base, Swift.max(bytes, 1)) else { fatalError("Cairn: out of memory allocating \(bytes) bytes") }
        base = p.bindMemory(to: Element.self, capacity: n)
        capacity = n
    }

    /// Frees the storage; the array is empty afterwards.
    mutating func deallocate() {
        free(base)
        base = nil
        count = 0
        capacity = 0
    }

    /// Bytes of storage held (MEMORY STATS).
    var allocatedBytes: Int { capacity * MemoryLayout<Element>.stride }
}
