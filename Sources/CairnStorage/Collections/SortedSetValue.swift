// The sortedset value type. Representation and commands: see the collections issue (in progress).

public final class SortedSetValue {
    public init() {}

    /// OBJECT ENCODING's answer.
    public var encodingName: StaticString { "listpack" }

    public func copy() -> SortedSetValue { SortedSetValue() }
}
