// The frame around one subcommand: run it, flush its output, and turn a failure into a message
// on stderr and an exit status (ToolExit).

import CairnStorage

public enum ToolRunner {
    /// Runs `body` with standard output; returns the exit status. Failures print
    /// `<tool>: <file>: <message>` on stderr.
    public static func main(tool: String = "cairn-rdb", file: String?, _ body: (ByteOutput) throws -> Void) -> Int32 {
        let out = ByteOutput.standardOutput()
        var status = ToolExit.ok
        var message: String? = nil
        do {
            try body(out)
        } catch {
            status = ToolExit.forError(error)
            message = Self.message(for: error, tool: tool, file: file)
        }
        do {
            try out.flush()
        } catch {
            if message == nil {
                status = ToolExit.forError(error)
                message = Self.message(for: error, tool: tool, file: nil)
            }
        }
        if let message { printError(message) }
        return status.rawValue
    }

    /// A line on stderr (a newline is added when missing).
    public static func printError(_ message: String) {
        var text = message.hasSuffix("\n") ? message : message + "\n"
        _ = text.withUTF8 { POSIX.writeAll(2, UnsafeRawBufferPointer($0)) }
    }

    /// The stderr line for a failure. RDB errors name the file; tool errors already say what
    /// they were doing.
    public static func message(for error: any Error, tool: String, file: String?) -> String {
        switch error {
        case let e as ToolError: return "\(tool): \(e.message)"
        case let e as FileError: return "\(tool): cannot \(e.detail)"
        case let e as RDBError:
            let kind: String
            switch e.kind {
            case .corrupt: kind = "damaged RDB"
            case .unsupported: kind = "unsupported RDB content"
            case .io: kind = "I/O error"
            }
            return "\(tool): \(file.map { "\($0): " } ?? "")\(kind): \(e)"
        default: return "\(tool): \(file.map { "\($0): " } ?? "")\(error)"
        }
    }
}
