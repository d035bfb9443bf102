import Logging

// TEMPORARY: stand-ins with the signatures of branch a1-aofload, so that the server wiring
// compiles before that branch lands. Delete when merging main.

public struct AOFLoadOptions: Sendable { public var loadTruncated = true; public init() {} }
public struct AOFLoadSummary: Sendable {
    public var commands = 0; public var baseKeys = 0; public var truncatedFile: String?
    public var truncatedBytes: Int64 = 0; public var rolledBackTransaction = false; public var seconds = 0.0; public init() {}
}
public enum AOFLoader {
    public static func load(directory: String, prefix: String, into engine: Engine, options: AOFLoadOptions, logger: Logger) throws -> AOFLoadSummary? {
        throw AOFError(.io, "AOFLoader placeholder")
    }
}
public enum AOFBase {
    public static func write(_ engine: Engine, to fd: Int32, rdbPreamble: Bool, rdb: RDBSaveOptions) throws {
        throw AOFError(.io, "AOFBase placeholder")
    }
    public static func warmUp() {}
}
