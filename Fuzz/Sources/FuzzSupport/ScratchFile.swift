#if canImport(Glibc)
import Glibc
#endif

// For decoders that read a file descriptor (the AOF scanner preads): one unlinked temporary
// file, rewritten with each input. In /dev/shm when there is one, so no input touches a disk.

public final class ScratchFile {
    public let fd: Int32

    public init() {
        let directory = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp"
        var template = Array("\(directory)/cairn-fuzz-XXXXXX".utf8CString)
        let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard fd >= 0 else { fatalError("cannot create a scratch file in \(directory): \(String(cString: strerror(errno)))") }
        template.withUnsafeBufferPointer { _ = unlink($0.baseAddress!) }
        self.fd = fd
    }

    deinit { close(fd) }

    /// Replaces the file's content with `bytes`; the descriptor's offset is 0 afterwards.
    public func replace(with bytes: UnsafeRawBufferPointer) {
        guard ftruncate(fd, 0) == 0, lseek(fd, 0, SEEK_SET) == 0 else { fatalError("truncate: \(String(cString: strerror(errno)))") }
        var done = 0
        while done < bytes.count {
            let n = pwrite(fd, bytes.baseAddress! + done, bytes.count - done, off_t(done))
            guard n > 0 else { fatalError("pwrite: \(String(cString: strerror(errno)))") }
            done += n
        }
    }
}
