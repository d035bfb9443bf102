/// The one error of the cluster-bus codec. A decoding error means the peer sent something that
/// is not a Redis 7.0 bus message: the link that carried it should be dropped (Redis keeps the
/// link for a few of these, see `messageSkipped`). Nothing about the error is fatal to the node.
public struct BusError: Error, Hashable, Sendable, CustomStringConvertible {
    /// What went wrong. A struct rather than an enum so that codes can be added.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Raw: UInt8, Hashable, Sendable {
            case badSignature, lengthBelowHeader, lengthAboveMax, unsupportedVersion, unknownType, lengthMismatch
            case extensionsWithoutFlag, extensionTooShort, extensionMisaligned, extensionPastEnd, extensionMalformed
            case truncated, trailingBytes, tooLargeToEncode
        }
        private let raw: Raw
        private init(_ raw: Raw) { self.raw = raw }

        /// The first four bytes are not "RCmb".
        public static let badSignature = Code(.badSignature)
        /// `totlen` is smaller than the fixed header (2256 bytes).
        public static let lengthBelowHeader = Code(.lengthBelowHeader)
        /// `totlen` is larger than the decoder's `messageBytesMax`.
        public static let lengthAboveMax = Code(.lengthAboveMax)
        /// `ver` is not 1.
        public static let unsupportedVersion = Code(.unsupportedVersion)
        /// `type` is not one of Redis 7.0's eleven types.
        public static let unknownType = Code(.unknownType)
        /// `totlen` is not the length the type and its own counts or lengths give (gossip count
        /// and extensions, PUBLISH's two lengths, MODULE's length, or a fixed size).
        public static let lengthMismatch = Code(.lengthMismatch)
        /// A PING, PONG or MEET counts extensions but lacks the extension-data flag.
        public static let extensionsWithoutFlag = Code(.extensionsWithoutFlag)
        /// An extension's length is smaller than its own 8-byte header.
        public static let extensionTooShort = Code(.extensionTooShort)
        /// An extension's length is not a multiple of 8.
        public static let extensionMisaligned = Code(.extensionMisaligned)
        /// An extension, or its header, runs past the end of the message.
        public static let extensionPastEnd = Code(.extensionPastEnd)
        /// A hostname extension without a terminating NUL.
        public static let extensionMalformed = Code(.extensionMalformed)
        /// `decode(message:)` got fewer bytes than the message declares.
        public static let truncated = Code(.truncated)
        /// `decode(message:)` got more bytes than the message declares.
        public static let trailingBytes = Code(.trailingBytes)
        /// The encoder was given more gossip entries or extensions than 65535, or a message
        /// longer than 2^32 - 1 bytes.
        public static let tooLargeToEncode = Code(.tooLargeToEncode)

        /// The code's name, e.g. "badSignature".
        public var description: String { "\(raw)" }
    }

    /// What went wrong.
    public let code: Code
    /// A sentence for the log, with the numbers involved.
    public let detail: String

    init(_ code: Code, _ detail: String) {
        self.code = code
        self.detail = detail
    }

    /// True when the stream decoder consumed the whole bad message, so that the next message
    /// starts at the buffer's reader index. Redis 7.0 ignores such messages (wrong version,
    /// wrong length for the type) and keeps the link; a link may do the same. False when the
    /// framing itself is lost (signature, length out of bounds): the link must be dropped.
    public var messageSkipped: Bool {
        code != .badSignature && code != .lengthBelowHeader && code != .lengthAboveMax
    }

    /// The detail, prefixed with "cluster bus: ".
    public var description: String { "cluster bus: \(detail)" }
}
