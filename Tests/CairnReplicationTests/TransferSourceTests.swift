import CairnStorage
import Glibc
import Testing
@testable import CairnReplication

/// TransferSource over a pipe: it yields exactly the transfer's bytes, however the writer splits
/// them and whatever was read before, and never a byte of what follows.
struct TransferSourceTests {
    func drain(_ source: TransferSource, chunk: Int) throws -> [UInt8] {
        var out: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: chunk)
        while true {
            let n = try buffer.withUnsafeMutableBytes { try source.read(into: $0) }
            if n == 0 { return out }
            out += buffer[..<n]
        }
    }

    func pipeWith(_ bytes: [UInt8]) -> Int32 {
        var fds: [Int32] = [0, 0]
        _ = pipe(&fds)
        _ = bytes.withUnsafeBytes { write(fds[1], $0.baseAddress, bytes.count) }
        close(fds[1])
        return fds[0]
    }

    @Test func lengthFraming() throws {
        let rdb = (0..<5000).map { UInt8(truncatingIfNeeded: $0 * 7) }
        let stream = Array("*1\r\n$4\r\nPING\r\n".utf8)
        for split in [0, 1, 100, 4999, 5000, 5010] {
            let all = rdb + stream
            let prefix = Array(all.prefix(split))
            let fd = pipeWith(Array(all.dropFirst(split)))
            defer { close(fd) }
            let source = TransferSource(fd: fd, prefix: prefix, length: Int64(rdb.count), mark: nil, timeoutMillis: 1000)
            #expect(try drain(source, chunk: 333) == rdb, "split \(split)")
            #expect(TransferSource.overflow(prefix: prefix, length: Int64(rdb.count)) == Array(stream.prefix(max(0, split - 5000))))
        }
    }

    /// With EOF framing the reader pulls only what the RDB needs: here it pulls exactly the RDB,
    /// as RDBReader does, and the mark is checked after.
    @Test func eofFraming() throws {
        let mark = Array("0123456789abcdefghij0123456789abcdefghij".utf8)
        let rdb = (0..<3000).map { UInt8(truncatingIfNeeded: $0 * 13) }
        for split in [0, 10, 2990, 3000, 3020, 3040] {
            let all = rdb + mark
            let fd = pipeWith(Array(all.dropFirst(split)))
            defer { close(fd) }
            let source = TransferSource(fd: fd, prefix: Array(all.prefix(split)), length: nil, mark: mark, timeoutMillis: 1000)
            var got: [UInt8] = []
            var buffer = [UInt8](repeating: 0, count: 256)
            while got.count < rdb.count {
                let want = min(256, rdb.count - got.count)
                let n = try buffer.withUnsafeMutableBytes { try source.read(into: UnsafeMutableRawBufferPointer(rebasing: $0[..<want])) }
                #expect(n > 0)
                got += buffer[..<n]
            }
            #expect(got == rdb, "split \(split)")
            // A reader that asks for more once the RDB is whole gets the end, not a wait.
            #expect(try buffer.withUnsafeMutableBytes { try source.read(into: $0) } == 0)
            #expect(try source.finishMark(), "split \(split)")
        }
        // A transfer cut before its end is an error, not a short RDB.
        let fd = pipeWith(Array(rdb.prefix(100)))
        defer { close(fd) }
        let source = TransferSource(fd: fd, prefix: [], length: nil, mark: mark, timeoutMillis: 1000)
        #expect(throws: RDBError.self) { _ = try drain(source, chunk: 4096) }
    }
}
