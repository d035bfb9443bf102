// The server's request parser: multibulk (`*N\r\n$len\r\n...`) and inline commands.
//
// It works on the unconsumed bytes of a connection, starting at the first byte of the current
// request. When a request is incomplete it remembers how far it got (cursor, pending bulk length,
// argument ranges found so far) and resumes there when called again with more bytes, so no byte is
// parsed twice. Argument ranges are offsets from the start of the request, valid until the caller
// consumes it. Error texts and acceptance rules follow Redis's processMultibulkBuffer and
// processInlineBuffer (networking.c), e.g. the two bytes after a bulk are skipped, not checked.

public struct ArgumentRange: Sendable, Equatable {
    public var start: Int32
    public var count: Int32
    @inlinable public init(start: Int, count: Int) {
        self.start = Int32(truncatingIfNeeded: start)
        self.count = Int32(truncatingIfNeeded: count)
    }
}

public struct CommandParser: Sendable {
    public enum Step: Equatable, Sendable {
        /// A whole multibulk request of `length` bytes; arguments are in `arguments`, as offsets
        /// into the bytes passed to `parse`.
        case multibulk(length: Int)
        /// A whole inline request of `length` bytes; arguments are in `arguments`, as offsets into
        /// `inlineStorage` (inline arguments are unquoted, so they are copies).
        case inline(length: Int)
        /// `length` bytes held no command (empty line, `*0`, `*-1`): consume and go on.
        case empty(length: Int)
        case needMoreBytes
        /// The client broke the protocol: reply `-ERR Protocol error: <message>` and close.
        case protocolError(ProtocolError)
    }

    public var limits: RESPLimits
    /// Argument ranges of the request just parsed (or of the partial one in progress).
    public private(set) var arguments: [ArgumentRange] = []
    /// Unquoted bytes of an inline request's arguments.
    public private(set) var inlineStorage: [UInt8] = []

    // Resume state for a partial multibulk request.
    private var expectedCount = -1      // -1: header not parsed yet
    private var cursor = 0              // where parsing resumes, relative to the request start
    private var pendingBulkLength = -1  // length from a parsed `$len` header whose payload is not all here
    private var lineScan = 0            // where the search for the current header line's '\r' resumes

    public init(limits: RESPLimits = .redisDefault) {
        self.limits = limits
        arguments.reserveCapacity(16)
    }

    /// Forget the request that was just returned (or a partial one) and start on a new one.
    @inlinable
    public mutating func reset() {
        resetState()
    }

    @usableFromInline
    internal mutating func resetState() {
        expectedCount = -1
        cursor = 0
        lineScan = 0
        pendingBulkLength = -1
        arguments.removeAll(keepingCapacity: true)
    }

    /// Parses the request that starts at `bytes[0]`. `authenticated` is false while the client
    /// still has to AUTH (tighter limits apply then).
    public mutating func parse(_ bytes: UnsafeRawBufferPointer, authenticated: Bool = true) -> Step {
        guard bytes.count > 0 else { return .needMoreBytes }
        if bytes[0] == UInt8(ascii: "*") {
            return parseMultibulk(bytes, authenticated: authenticated)
        }
        return parseInline(bytes)
    }

    // MARK: multibulk

    private mutating func parseMultibulk(_ bytes: UnsafeRawBufferPointer, authenticated: Bool) -> Step {
        let n = bytes.count
        if expectedCount < 0 {
            guard let cr = Self.find(UInt8(ascii: "\r"), in: bytes, from: Swift.max(lineScan, 1)) else {
                if n > limits.inlineBytesMax { return .protocolError(ProtocolError("too big mbulk count string")) }
                lineScan = n
                return .needMoreBytes
            }
            lineScan = cr
            if cr + 1 >= n { return .needMoreBytes }  // need the '\n' too
            guard let count = Decimal.parseInt64(UnsafeRawBufferPointer(rebasing: bytes[1..<cr])),
                  count <= Int64(limits.multibulkCountMax)
            else { return .protocolError(ProtocolError("invalid multibulk length")) }
            if !authenticated && count > Int64(limits.unauthenticatedMultibulkCountMax) {
                return .protocolError(ProtocolError("unauthenticated multibulk length"))
            }
            cursor = cr + 2
            lineScan = cursor
            if count <= 0 {
                let length = cursor
                resetState()
                return .empty(length: length)
            }
            expectedCount = Int(count)
            arguments.reserveCapacity(Swift.min(Int(count), 1024))
        }
        while arguments.count < expectedCount {
            if pendingBulkLength < 0 {
                guard cursor < n else { return .needMoreBytes }
                guard let cr = Self.find(UInt8(ascii: "\r"), in: bytes, from: Swift.max(lineScan, cursor)) else {
                    if n - cursor > limits.inlineBytesMax { return .protocolError(ProtocolError("too big bulk count string")) }
                    lineScan = n
                    return .needMoreBytes
                }
                lineScan = cr
                if cr + 1 >= n { return .needMoreBytes }
                let marker = bytes[cursor]
                guard marker == UInt8(ascii: "$") else {
                    // Redis quotes the byte as it came (%c), not as a UTF-8 character; its
                    // formatted text is a C string, so a NUL ends it.
                    let text = Array("expected '$', got '".utf8) + [marker, UInt8(ascii: "'")]
                    return .protocolError(ProtocolError(bytes: Array(ClientBytes.cString(text))))
                }
                guard let length = Decimal.parseInt64(UnsafeRawBufferPointer(rebasing: bytes[(cursor + 1)..<cr])),
                      length >= 0, length <= Int64(limits.bulkLengthBytesMax)
                else { return .protocolError(ProtocolError("invalid bulk length")) }
                if !authenticated && length > Int64(limits.unauthenticatedBulkLengthBytesMax) {
                    return .protocolError(ProtocolError("unauthenticated bulk length"))
                }
                pendingBulkLength = Int(length)
                cursor = cr + 2
                lineScan = cursor
            }
            // Payload plus the two bytes that should be CRLF.
            guard n - cursor >= pendingBulkLength + 2 else { return .needMoreBytes }
            arguments.append(ArgumentRange(start: cursor, count: pendingBulkLength))
            cursor += pendingBulkLength + 2
            lineScan = cursor
            pendingBulkLength = -1
        }
        return .multibulk(length: cursor)
    }

    // MARK: inline

    private mutating func parseInline(_ bytes: UnsafeRawBufferPointer) -> Step {
        guard let nl = Self.find(UInt8(ascii: "\n"), in: bytes, from: lineScan) else {
            if bytes.count > limits.inlineBytesMax { return .protocolError(ProtocolError("too big inline request")) }
            lineScan = bytes.count
            return .needMoreBytes
        }
        var end = nl
        if end > 0 && bytes[end - 1] == UInt8(ascii: "\r") { end -= 1 }
        let length = nl + 1
        arguments.removeAll(keepingCapacity: true)
        inlineStorage.removeAll(keepingCapacity: true)
        let line = UnsafeRawBufferPointer(rebasing: bytes[0..<end])
        let ok = ArgumentSplitter.split(line) { arg in
            self.arguments.append(ArgumentRange(start: self.inlineStorage.count, count: arg.count))
            self.inlineStorage.append(contentsOf: arg)
        }
        expectedCount = -1
        cursor = 0
        lineScan = 0
        pendingBulkLength = -1
        guard ok else { return .protocolError(ProtocolError("unbalanced quotes in request")) }
        if arguments.isEmpty { return .empty(length: length) }
        return .inline(length: length)
    }

    @inline(__always)
    static func find(_ byte: UInt8, in bytes: UnsafeRawBufferPointer, from start: Int) -> Int? {
        guard start < bytes.count, let base = bytes.baseAddress else { return nil }
        guard let hit = memchr(base + start, Int32(byte), bytes.count - start) else { return nil }
        return UnsafeRawPointer(hit) - base
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
