import NIOCore

// Encodes replies into a connection's output buffer. One writer per connection, reused for every
// reply; the protocol version decides how RESP3-only types degrade for RESP2 clients (as Redis does:
// map -> flat array, set -> array, double -> bulk string, boolean -> integer, null -> `$-1`/`*-1`,
// verbatim -> bulk string, push -> array, big number -> bulk string).

public struct ReplyWriter {
    public var buffer: ByteBuffer
    public var resp3: Bool

    public init(buffer: ByteBuffer, resp3: Bool = false) {
        self.buffer = buffer
        self.resp3 = resp3
    }

    // MARK: scalars

    @inlinable public mutating func ok() { buffer.writeStaticString("+OK\r\n") }

    @inlinable public mutating func simpleString(_ s: StaticString) {
        buffer.writeInteger(UInt8(ascii: "+"))
        buffer.writeStaticString(s)
        buffer.writeStaticString("\r\n")
    }

    public mutating func simpleString(_ s: String) {
        buffer.writeInteger(UInt8(ascii: "+"))
        buffer.writeString(s)
        buffer.writeStaticString("\r\n")
    }

    public mutating func simpleString(bytes: [UInt8]) {
        buffer.writeInteger(UInt8(ascii: "+"))
        buffer.writeBytes(bytes)
        buffer.writeStaticString("\r\n")
    }

    /// An error reply; `message` starts with its code (`ERR ...`, `WRONGTYPE ...`). CR and LF in it
    /// are replaced by spaces so the reply stays one line, as Redis's addReplyErrorLength does.
    public mutating func error(_ message: String) {
        buffer.writeInteger(UInt8(ascii: "-"))
        var m = message
        if m.utf8.contains(where: { $0 == 13 || $0 == 10 }) {
            m = String(decoding: m.utf8.map { $0 == 13 || $0 == 10 ? 32 : $0 }, as: UTF8.self)
        }
        buffer.writeString(m)
        buffer.writeStaticString("\r\n")
    }

    /// An error reply from raw bytes (binary-safe echo of user input); CR/LF become spaces.
    public mutating func error(bytes: [UInt8]) {
        buffer.writeInteger(UInt8(ascii: "-"))
        buffer.writeBytes(bytes.map { $0 == 13 || $0 == 10 ? 32 : $0 })
        buffer.writeStaticString("\r\n")
    }

    /// An error reply that quotes bytes a client sent between `head` and `tail`, as Redis's
    /// `%s` / `%.Ns` formats do: the bytes as they came (no re-encoding), cut at the first NUL
    /// and after `limit` bytes; CR and LF become spaces.
    public mutating func error(_ head: String, quoting bytes: some Collection<UInt8>, limit: Int = .max, _ tail: String) {
        var message = Array(head.utf8)
        message.append(contentsOf: ClientBytes.cString(bytes).prefix(limit))
        message.append(contentsOf: tail.utf8)
        error(bytes: message)
    }

    @inlinable public mutating func error(_ message: StaticString) {
        buffer.writeInteger(UInt8(ascii: "-"))
        buffer.writeStaticString(message)
        buffer.writeStaticString("\r\n")
    }

    @inlinable public mutating func integer(_ v: Int64) {
        header(UInt8(ascii: ":"), v)
    }

    @inlinable public mutating func integer(_ v: Int) { integer(Int64(v)) }

    @inlinable public mutating func bulk(_ bytes: UnsafeRawBufferPointer) {
        header(UInt8(ascii: "$"), Int64(bytes.count))
        buffer.writeBytes(bytes)
        buffer.writeStaticString("\r\n")
    }

    @inlinable public mutating func bulk(_ bytes: [UInt8]) {
        header(UInt8(ascii: "$"), Int64(bytes.count))
        buffer.writeBytes(bytes)
        buffer.writeStaticString("\r\n")
    }

    @inlinable public mutating func bulk<C: Collection>(_ bytes: C) where C.Element == UInt8 {
        header(UInt8(ascii: "$"), Int64(bytes.count))
        buffer.writeBytes(bytes)
        buffer.writeStaticString("\r\n")
    }

    public mutating func bulk(_ s: String) {
        header(UInt8(ascii: "$"), Int64(s.utf8.count))
        buffer.writeString(s)
        buffer.writeStaticString("\r\n")
    }

    /// An integer sent as a bulk string (GET of an int-encoded value).
    @inlinable public mutating func bulk(integer v: Int64) {
        let digits = Decimal.digitCount(v)
        header(UInt8(ascii: "$"), Int64(digits))
        buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: digits) { out in
            Decimal.write(v, into: out, digits: digits)
            return digits
        }
        buffer.writeStaticString("\r\n")
    }

    /// Null bulk string: `$-1` in RESP2, `_` in RESP3.
    @inlinable public mutating func null() {
        if resp3 { buffer.writeStaticString("_\r\n") } else { buffer.writeStaticString("$-1\r\n") }
    }

    /// Null array: `*-1` in RESP2, `_` in RESP3.
    @inlinable public mutating func nullArray() {
        if resp3 { buffer.writeStaticString("_\r\n") } else { buffer.writeStaticString("*-1\r\n") }
    }

    public mutating func boolean(_ b: Bool) {
        if resp3 { buffer.writeStaticString(b ? "#t\r\n" : "#f\r\n") } else { integer(b ? 1 : 0) }
    }

    /// A double, formatted by the caller as Redis would print it (`1.5`, `inf`, `-inf`).
    public mutating func double(formatted: [UInt8]) {
        if resp3 {
            buffer.writeInteger(UInt8(ascii: ","))
            buffer.writeBytes(formatted)
            buffer.writeStaticString("\r\n")
        } else {
            bulk(formatted)
        }
    }

    public mutating func bigNumber(_ digits: String) {
        if resp3 {
            buffer.writeInteger(UInt8(ascii: "("))
            buffer.writeString(digits)
            buffer.writeStaticString("\r\n")
        } else {
            bulk(digits)
        }
    }

    /// Verbatim string (`=len\r\ntxt:...`); a bulk string in RESP2.
    public mutating func verbatim(_ text: String, format: StaticString = "txt") {
        if resp3 {
            header(UInt8(ascii: "="), Int64(text.utf8.count + 4))
            buffer.writeStaticString(format)
            buffer.writeInteger(UInt8(ascii: ":"))
            buffer.writeString(text)
            buffer.writeStaticString("\r\n")
        } else {
            bulk(text)
        }
    }

    // MARK: aggregates (the caller writes exactly `count` elements next)

    @inlinable public mutating func arrayHeader(_ count: Int) { header(UInt8(ascii: "*"), Int64(count)) }

    /// A map of `count` pairs; a flat array of 2×count elements in RESP2.
    @inlinable public mutating func mapHeader(_ count: Int) {
        if resp3 { header(UInt8(ascii: "%"), Int64(count)) } else { header(UInt8(ascii: "*"), Int64(count * 2)) }
    }

    @inlinable public mutating func setHeader(_ count: Int) {
        header(resp3 ? UInt8(ascii: "~") : UInt8(ascii: "*"), Int64(count))
    }

    @inlinable public mutating func pushHeader(_ count: Int) {
        header(resp3 ? UInt8(ascii: ">") : UInt8(ascii: "*"), Int64(count))
    }

    /// Placeholder for an aggregate whose length is known only after its elements are written
    /// (Redis's deferred length): returns a token for `fillDeferredHeader`.
    public mutating func deferredArrayHeader() -> Int {
        let at = buffer.writerIndex
        // `*` + 10 digits + CRLF reserved; shifted down when filled.
        buffer.writeStaticString("*0000000000\r\n")
        return at
    }

    public mutating func fillDeferredArrayHeader(_ token: Int, count: Int, marker: UInt8 = UInt8(ascii: "*")) {
        let reserved = 13
        let digits = Decimal.digitCount(Int64(count))
        let actual = 1 + digits + 2
        var header = [UInt8](repeating: 0, count: actual)
        header[0] = marker
        header.withUnsafeMutableBytes { Decimal.write(Int64(count), into: UnsafeMutableRawBufferPointer(rebasing: $0[1...]), digits: digits) }
        header[actual - 2] = 13
        header[actual - 1] = 10
        let tailStart = token + reserved
        let tailLength = buffer.writerIndex - tailStart
        if let tail = buffer.getBytes(at: tailStart, length: tailLength) {
            buffer.moveWriterIndex(to: token)
            buffer.writeBytes(header)
            buffer.writeBytes(tail)
        }
    }

    // MARK: pieces

    @inlinable
    public mutating func header(_ marker: UInt8, _ v: Int64) {
        let digits = Decimal.digitCount(v)
        buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: digits + 3) { out in
            out[0] = marker
            Decimal.write(v, into: UnsafeMutableRawBufferPointer(rebasing: out[1...]), digits: digits)
            out[digits + 1] = 13
            out[digits + 2] = 10
            return digits + 3
        }
    }

    /// Writes a decoded value back out (used by tests and proxies).
    public mutating func value(_ v: RESPValue) {
        switch v {
        case .simpleString(let b): simpleString(bytes: b)
        case .error(let b):
            buffer.writeInteger(UInt8(ascii: "-")); buffer.writeBytes(b); buffer.writeStaticString("\r\n")
        case .integer(let i): integer(i)
        case .bulkString(let b): if let b { bulk(b) } else { null() }
        case .array(let a):
            if let a { arrayHeader(a.count); for e in a { value(e) } } else { nullArray() }
        case .null: null()
        case .boolean(let b): boolean(b)
        case .double(let d):
            double(formatted: Array((d.isInfinite ? (d > 0 ? "inf" : "-inf") : "\(d)").utf8))
        case .bigNumber(let b): bigNumber(String(decoding: b, as: UTF8.self))
        case .bulkError(let b):
            if resp3 { header(UInt8(ascii: "!"), Int64(b.count)); buffer.writeBytes(b); buffer.writeStaticString("\r\n") }
            else { buffer.writeInteger(UInt8(ascii: "-")); buffer.writeBytes(b); buffer.writeStaticString("\r\n") }
        case .verbatim(_, let t): if resp3 { verbatim(String(decoding: t, as: UTF8.self)) } else { bulk(t) }
        case .map(let pairs): mapHeader(pairs.count); for (k, e) in pairs { value(k); value(e) }
        case .attribute(let pairs):
            if resp3 { header(UInt8(ascii: "|"), Int64(pairs.count)); for (k, e) in pairs { value(k); value(e) } }
        case .set(let a): setHeader(a.count); for e in a { value(e) }
        case .push(let a): pushHeader(a.count); for e in a { value(e) }
        }
    }
}
