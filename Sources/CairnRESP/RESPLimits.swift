// Named limits for everything the decoders accept. Defaults are Redis 7.0's; the server copies
// configurable ones (proto-max-bulk-len, client-query-buffer-limit) from its configuration.

public struct RESPLimits: Sendable, Equatable {
    /// `proto-max-bulk-len`: the largest bulk string a client may send.
    public var bulkLengthBytesMax: Int
    /// `client-query-buffer-limit`: unparsed bytes a client may accumulate before it is dropped.
    public var queryBufferBytesMax: Int
    /// Largest inline command line, and largest `*<count>` / `$<len>` header line (PROTO_INLINE_MAX_SIZE).
    public var inlineBytesMax: Int
    /// Largest element count of a multibulk request (Redis accepts up to INT_MAX).
    public var multibulkCountMax: Int
    /// Before AUTH, when a password is required: at most this many elements per request...
    public var unauthenticatedMultibulkCountMax: Int
    /// ...and bulk strings of at most this many bytes.
    public var unauthenticatedBulkLengthBytesMax: Int

    public static let redisDefault = RESPLimits(
        bulkLengthBytesMax: 512 * 1024 * 1024,
        queryBufferBytesMax: 1024 * 1024 * 1024,
        inlineBytesMax: 64 * 1024,
        multibulkCountMax: Int(Int32.max),
        unauthenticatedMultibulkCountMax: 10,
        unauthenticatedBulkLengthBytesMax: 16 * 1024
    )

    public init(
        bulkLengthBytesMax: Int, queryBufferBytesMax: Int, inlineBytesMax: Int,
        multibulkCountMax: Int, unauthenticatedMultibulkCountMax: Int, unauthenticatedBulkLengthBytesMax: Int
    ) {
        self.bulkLengthBytesMax = bulkLengthBytesMax
        self.queryBufferBytesMax = queryBufferBytesMax
        self.inlineBytesMax = inlineBytesMax
        self.multibulkCountMax = multibulkCountMax
        self.unauthenticatedMultibulkCountMax = unauthenticatedMultibulkCountMax
        self.unauthenticatedBulkLengthBytesMax = unauthenticatedBulkLengthBytesMax
    }
}
