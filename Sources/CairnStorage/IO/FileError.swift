#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A system call failed on a file. `description` is the system's text alone (what Redis puts
/// after a colon in its replies); `detail` also names the operation and the file, for logs.
public struct FileError: Error, CustomStringConvertible, Sendable {
    public enum Operation: String, Sendable {
        case open, write, fsync, close, rename
        case openDirectory = "open directory"
        case fsyncDirectory = "fsync directory"
    }
    public let operation: Operation
    public let path: String
    public let code: Int32

    public init(_ operation: Operation, _ path: String, code: Int32) {
        self.operation = operation
        self.path = path
        self.code = code
    }

    public init(_ operation: Operation, _ path: String, _ error: Errno) {
        self.init(operation, path, code: error.code)
    }

    public var description: String { String(cString: strerror(code)) }
    public var detail: String { "\(operation.rawValue) \(path): \(description)" }
}
