// The set value type. Representation and commands: see the collections issue (in progress).

public final class SetValue {
    public init() {}

    /// OBJECT ENCODING's answer.
    public var encodingName: StaticString { "hashtable" }

    public func copy() -> SetValue { SetValue() }
}
