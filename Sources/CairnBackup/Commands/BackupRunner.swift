// The frame around one subcommand: run it, flush its output, turn a failure into one line on
// stderr (`cairn-backup: message`) and an exit status (BackupExit).

import CairnTools

public enum BackupRunner {
    public static func main(_ body: (ByteOutput) throws -> Void) -> Int32 {
        let out = ByteOutput.standardOutput()
        var status = BackupExit.ok
        var message: String? = nil
        do {
            try body(out)
        } catch {
            let e = BackupError.from(error)
            status = e.exit
            message = "cairn-backup: \(e.message)"
        }
        do {
            try out.flush()
        } catch {
            if message == nil {
                status = .io
                message = "cairn-backup: \(error)"
            }
        }
        if let message { printError(message) }
        return status.rawValue
    }

    /// A line on stderr.
    public static func printError(_ message: String) { ToolRunner.printError(message) }
}
