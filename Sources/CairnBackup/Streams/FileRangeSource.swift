// The first `limit` bytes of an open file, read with pread so that several passes can share one
// descriptor. A file that ends before `limit` changed under us: an error, never a short member.

import CairnStorage
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

final class FileRangeSource: ByteSource {
    private let fd: Int32
    private let limit: Int64
    private let name: String
    private(set) var position: Int64 = 0

    init(fd: Int32, limit: Int64, name: String) {
        self.fd = fd
        self.limit = limit
        self.name = name
    }

    func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        let want = Int(min(Int64(buffer.count), limit - position))
        guard want > 0 else { return 0 }
        while true {
            let n = pread(fd, buffer.baseAddress, want, off_t(position))
            if n < 0 {
                if errno == EINTR { continue }
                throw BackupError.io("cannot read \(name)", errno: errno)
            }
            if n == 0 { throw BackupError(.io, "\(name) shrank while it was being read (\(position) of \(limit) bytes)") }
            position += Int64(n)
            return n
        }
    }
}
