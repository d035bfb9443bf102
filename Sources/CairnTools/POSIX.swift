// The few system calls the tools make, under names that do not clash with their methods, for
// Glibc and Darwin alike.

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

enum POSIX {
    static func write(_ fd: Int32, _ buffer: UnsafeRawPointer?, _ count: Int) -> Int {
        #if canImport(Glibc)
        return Glibc.write(fd, buffer, count)
        #else
        return Darwin.write(fd, buffer, count)
        #endif
    }

    static func close(_ fd: Int32) {
        #if canImport(Glibc)
        _ = Glibc.close(fd)
        #else
        _ = Darwin.close(fd)
        #endif
    }

    /// Whether `fd` is a terminal (progress bars are drawn only there).
    static func isTerminal(_ fd: Int32) -> Bool { isatty(fd) == 1 }

    /// Writes all of `data` to `fd`, retrying short writes and EINTR; the errno on failure.
    static func writeAll(_ fd: Int32, _ data: UnsafeRawBufferPointer) -> Int32? {
        var done = 0
        while done < data.count {
            let n = write(fd, data.baseAddress.map { $0 + done }, data.count - done)
            if n < 0 {
                if errno == EINTR { continue }
                return errno
            }
            done += n
        }
        return nil
    }
}
