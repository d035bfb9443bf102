// An RDB file opened by one of the tools: the descriptor, its size, the reader, and the
// progress bar drawn while records are pulled.

import CairnStorage
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

final class RDBFile {
    let path: String
    let fileBytes: Int64
    let reader: RDBReader
    private let fd: Int32

    /// Opens `path`: a file that cannot be opened is an I/O error (exit 4), a bad header is
    /// the reader's `RDBError`.
    init(path: String, verifyChecksum: Bool = true) throws {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw ToolError.io("cannot open \(path)", errno: errno) }
        var st = stat()
        guard fstat(fd, &st) == 0 else {
            let code = errno
            POSIX.close(fd)
            throw ToolError.io("cannot stat \(path)", errno: code)
        }
        if (st.st_mode & S_IFMT) == S_IFDIR {
            POSIX.close(fd)
            throw ToolError.io("cannot read \(path)", errno: EISDIR)
        }
        do {
            reader = try RDBReader(fd: fd, verifyChecksum: verifyChecksum)
        } catch {
            POSIX.close(fd)
            throw error
        }
        self.path = path
        self.fd = fd
        self.fileBytes = Int64(st.st_size)
    }

    deinit { POSIX.close(fd) }

    /// Pulls every record through `body`, in file order, ending with the reader's checksum check.
    func forEachRecord(_ body: (RDBRecord) throws -> Void) throws {
        let progress = ProgressReporter.forStandardError(fileBytes: fileBytes)
        defer { progress?.finish() }
        while let record = try reader.next() {
            try body(record)
            progress?.update(reader.fileBytesRead)
        }
    }

    /// What can be said of the stored CRC64 once the whole file was read and accepted.
    func checksumStatus() -> ChecksumStatus {
        // Files before RDB version 5 have no checksum; `rdbchecksum no` stores eight zero bytes.
        guard let sums = reader.checksums, sums.stored != 0 else { return .notStored }
        return .verified
    }
}

public enum ChecksumStatus: String, Sendable {
    /// The stored CRC64 matched the data.
    case verified = "ok"
    /// The file was written with `rdbchecksum no`: nothing to check against.
    case notStored = "not stored"
}
