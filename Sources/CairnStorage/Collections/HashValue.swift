// The hash value type. Representation and commands: see the collections issue (in progress).

public final class HashValue {
    public init() {}

    /// OBJECT ENCODING's answer.
    public var encodingName: StaticString { "listpack" }

    public func copy() -> HashValue { HashValue() }
}
