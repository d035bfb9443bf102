// Why a nodes.conf was refused (docs/format-nodes-conf.md, "Load errors").

/// A nodes.conf that cannot be loaded: the line (1-based; 0 for the file as a whole), what is
/// wrong, and the offending text. The node must not start on it: starting fresh would give it a
/// new identity and lose its slots.
public struct NodesConfError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The kind of damage; more kinds may be added.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private let name: String
        private init(_ name: String) { self.name = name }
        public var description: String { name }

        /// A line longer than `NodesConf.lineBytesMax`.
        public static let lineTooLong = Code("line too long")
        /// A byte that is not printable ASCII or whitespace (NUL, control, quote, non-ASCII).
        public static let badByte = Code("bad byte")
        /// The last line does not end in a newline: a torn write.
        public static let truncated = Code("truncated")
        /// A node line with fewer than eight fields.
        public static let missingFields = Code("missing fields")
        /// A `vars` line whose names and values do not pair up, or a value that is not a number.
        public static let badVars = Code("bad vars")
        /// A node name that is not 40 characters of `a`-`z`, `0`-`9`.
        public static let badNodeName = Code("bad node name")
        /// A second line for a node already described.
        public static let duplicateNode = Code("duplicate node")
        /// An address that is not `ip:port@cport[,hostname]` with ports in range.
        public static let badAddress = Code("bad address")
        /// A flag Redis does not know.
        public static let unknownFlag = Code("unknown flag")
        /// A second node with the `myself` flag, or `myself` with `handshake`.
        public static let badMyself = Code("bad myself")
        /// A replica of itself.
        public static let badMaster = Code("bad master")
        /// A ping-sent or pong-received time that is not a number.
        public static let badTime = Code("bad time")
        /// A config epoch that is not an unsigned 64-bit number.
        public static let badEpoch = Code("bad epoch")
        /// A link state other than `connected` and `disconnected`.
        public static let badLinkState = Code("bad link state")
        /// A slot or range out of 0-16383, reversed, malformed, or a slot given twice.
        public static let badSlot = Code("bad slot")
        /// No node has the `myself` flag.
        public static let missingMyself = Code("missing myself")
    }

    /// The 1-based line number, 0 when the error is about the whole file.
    public let line: Int
    /// What is wrong.
    public let code: Code
    /// Details: the offending field and what was expected.
    public let detail: String

    public init(line: Int, code: Code, detail: String) {
        self.line = line
        self.code = code
        self.detail = detail
    }

    public var description: String {
        line > 0 ? "nodes.conf line \(line): \(code): \(detail)" : "nodes.conf: \(code): \(detail)"
    }
}
