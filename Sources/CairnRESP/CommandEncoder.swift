// Commands as RESP arrays of bulk strings (docs/format-resp.md): what a client sends, what the AOF
// and the replication stream carry, what `redis-cli --pipe` reads. This is the one encoder of
// them; CommandParser is the one parser. Nothing here allocates per argument: an array header or
// bulk length is formatted on the stack, and a command built whole gets one array of its exact
// size (`encode(size:_:)`), since a write command's propagation does that once per call.

public enum CommandEncoder {
    /// `*<count>\r\n` or `$<length>\r\n`: a marker, at most 20 digits, CRLF.
    @usableFromInline static let headerBytesMax = 23

    // MARK: sizes

    /// Bytes of `*<count>\r\n`.
    @inlinable
    public static func arrayHeaderBytes(_ count: Int) -> Int { headerBytes(count) }

    /// Bytes of `$<length>\r\n<payload>\r\n`.
    @inlinable
    public static func bulkBytes(_ length: Int) -> Int { headerBytes(length) + length + 2 }

    /// Bytes of an integer's decimal form as a bulk string.
    @inlinable
    public static func bulkBytes(decimal v: Int64) -> Int { bulkBytes(Decimal.digitCount(v)) }

    // MARK: a command in an array of its own

    /// A command of exactly `size` bytes (summed from the sizes above), written by `body` straight
    /// into a new array: one allocation, no growth, no copy.
    @inlinable
    public static func encode(size: Int, _ body: (inout Writer) -> Void) -> [UInt8] {
        // Reserved, zeroed, then written in place: Array(unsafeUninitializedCapacity:) would be
        // the obvious way, but it looks up the array's generic metadata on every call (measured:
        // a fifth more instructions per propagated command than this).
        var out: [UInt8] = []
        out.reserveCapacity(size)
        out.append(contentsOf: repeatElement(0, count: size))
        out.withUnsafeMutableBytes { memory in
            var writer = Writer(memory)
            body(&writer)
            precondition(writer.written == size, "command size \(size) announced, \(writer.written) written")
        }
        return out
    }

    /// `args` as one command.
    public static func encode(_ args: [[UInt8]]) -> [UInt8] {
        var size = arrayHeaderBytes(args.count)
        for a in args { size += bulkBytes(a.count) }
        return encode(size: size) { w in
            w.arrayHeader(args.count)
            for a in args { a.withUnsafeBytes { w.bulk($0) } }
        }
    }

    /// Writes a command into memory sized for it; every write checks that it fits.
    public struct Writer {
        @usableFromInline let memory: UnsafeMutableRawBufferPointer
        @usableFromInline var written = 0

        /// Bytes written so far.
        @inlinable public var count: Int { written }

        @inlinable
        public init(_ memory: UnsafeMutableRawBufferPointer) { self.memory = memory }

        // Always inlined, with writeHeader: a propagated command's encoding then costs no more
        // instructions than the appends it replaced, even for arguments of one digit's length.
        @inlinable @inline(__always)
        public mutating func arrayHeader(_ elements: Int) {
            precondition(written + CommandEncoder.arrayHeaderBytes(elements) <= memory.count, "command larger than its size")
            written += CommandEncoder.writeHeader(UInt8(ascii: "*"), elements, into: memory.baseAddress! + written)
        }

        @inlinable @inline(__always)
        public mutating func bulk(_ bytes: UnsafeRawBufferPointer) {
            precondition(written + CommandEncoder.bulkBytes(bytes.count) <= memory.count, "command larger than its size")
            written += CommandEncoder.writeHeader(UInt8(ascii: "$"), bytes.count, into: memory.baseAddress! + written)
            if bytes.count > 0 {
                (memory.baseAddress! + written).copyMemory(from: bytes.baseAddress!, byteCount: bytes.count)
            }
            memory[written + bytes.count] = 13
            memory[written + bytes.count + 1] = 10
            written += bytes.count + 2
        }

        @inlinable
        public mutating func bulk(_ text: StaticString) {
            bulk(UnsafeRawBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount))
        }

        /// `v` in decimal, as a bulk string.
        @inlinable
        public mutating func bulk(decimal v: Int64) {
            let digits = Decimal.digitCount(v)
            precondition(written + CommandEncoder.bulkBytes(digits) <= memory.count, "command larger than its size")
            written += CommandEncoder.writeHeader(UInt8(ascii: "$"), digits, into: memory.baseAddress! + written)
            Decimal.write(v, into: UnsafeMutableRawBufferPointer(rebasing: memory[written...]), digits: digits)
            memory[written + digits] = 13
            memory[written + digits + 1] = 10
            written += digits + 2
        }
    }

    // MARK: appending to a stream

    /// `args` as one command, at the end of `out`.
    public static func append(_ args: [[UInt8]], to out: inout [UInt8]) {
        appendArrayHeader(args.count, to: &out)
        for a in args { appendBulk(a, to: &out) }
    }

    /// `*<count>\r\n`: the bulk strings of the command follow.
    @inlinable
    public static func appendArrayHeader(_ count: Int, to out: inout [UInt8]) {
        appendHeader(UInt8(ascii: "*"), count, to: &out)
    }

    @inlinable
    public static func appendBulk(_ bytes: UnsafeRawBufferPointer, to out: inout [UInt8]) {
        appendHeader(UInt8(ascii: "$"), bytes.count, to: &out)
        out.append(contentsOf: bytes)
        out.append(13)
        out.append(10)
    }

    @inlinable
    public static func appendBulk(_ bytes: [UInt8], to out: inout [UInt8]) {
        bytes.withUnsafeBytes { appendBulk($0, to: &out) }
    }

    @inlinable
    public static func appendBulk(_ bytes: ArraySlice<UInt8>, to out: inout [UInt8]) {
        bytes.withUnsafeBytes { appendBulk($0, to: &out) }
    }

    @inlinable
    public static func appendBulk(_ text: StaticString, to out: inout [UInt8]) {
        appendBulk(UnsafeRawBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount), to: &out)
    }

    /// `v` in decimal, as a bulk string.
    @inlinable
    public static func appendBulk(decimal v: Int64, to out: inout [UInt8]) {
        appendHeader(UInt8(ascii: "$"), Decimal.digitCount(v), to: &out)
        Decimal.append(v, to: &out)
        out.append(13)
        out.append(10)
    }

    // MARK: headers

    /// Bytes of `<marker><n>\r\n`.
    @inlinable
    static func headerBytes(_ n: Int) -> Int { n >= 0 && n < 10 ? 4 : Decimal.digitCount(Int64(n)) + 3 }

    @inlinable
    static func appendHeader(_ marker: UInt8, _ n: Int, to out: inout [UInt8]) {
        withUnsafeTemporaryAllocation(byteCount: headerBytesMax, alignment: 1) { header in
            let length = writeHeader(marker, n, into: header.baseAddress!)
            out.append(contentsOf: UnsafeRawBufferPointer(start: header.baseAddress, count: length))
        }
    }

    /// Writes `<marker><n>\r\n` at `p` (room for `headerBytesMax` bytes) and returns its length.
    @inlinable @inline(__always)
    static func writeHeader(_ marker: UInt8, _ n: Int, into p: UnsafeMutableRawPointer) -> Int {
        p.storeBytes(of: marker, as: UInt8.self)
        let digits: Int
        if n >= 0 && n < 10 {
            // Most arguments and argument counts: no division loop.
            (p + 1).storeBytes(of: UInt8(truncatingIfNeeded: n) &+ UInt8(ascii: "0"), as: UInt8.self)
            digits = 1
        } else {
            digits = Decimal.digitCount(Int64(n))
            Decimal.write(Int64(n), into: UnsafeMutableRawBufferPointer(start: p + 1, count: digits), digits: digits)
        }
        (p + 1 + digits).storeBytes(of: 13, as: UInt8.self)
        (p + 2 + digits).storeBytes(of: 10, as: UInt8.self)
        return digits + 3
    }
}
