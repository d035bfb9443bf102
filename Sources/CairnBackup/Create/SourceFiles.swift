// The files one archive is made of, held open from the moment the snapshot was taken: a descriptor
// keeps a renamed-over RDB or a deleted AOF file readable, and each size is fixed then, so an AOF
// increment that keeps growing is copied up to the length it had. Small files (the AOF manifest,
// nodes.conf) are read into memory at once, so that the bytes archived are the bytes examined.

import CairnStorage
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

final class OpenFile {
    let fd: Int32
    init(fd: Int32) { self.fd = fd }
    deinit { close(fd) }
}

struct SourceFile {
    enum Content {
        case file(OpenFile)
        case bytes([UInt8])
    }
    /// Relative to the data directory, `/`-separated.
    var path: String
    var role: BackupManifest.Role
    var size: Int64
    var mode: UInt32
    var mtime: Int64
    var content: Content

    /// A source of exactly `size` bytes.
    func source() -> ByteSource {
        switch content {
        case .file(let f): return FileRangeSource(fd: f.fd, limit: size, name: path)
        case .bytes(let b): return MemorySource(b)
        }
    }

    /// Opens `fullPath`; nil when it does not exist.
    static func open(_ fullPath: String, as path: String, role: BackupManifest.Role) throws -> SourceFile? {
        let fd = Glibc.open(fullPath, O_RDONLY | O_CLOEXEC)
        if fd < 0 {
            if errno == ENOENT { return nil }
            throw BackupError.io("cannot open \(fullPath)", errno: errno)
        }
        let file = OpenFile(fd: fd)
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw BackupError.io("cannot stat \(fullPath)", errno: errno) }
        guard (st.st_mode & S_IFMT) == S_IFREG else { throw BackupError(.io, "\(fullPath) is not a regular file") }
        return SourceFile(path: path, role: role, size: Int64(st.st_size), mode: UInt32(st.st_mode & 0o7777),
                          mtime: Int64(st.st_mtim.tv_sec), content: .file(file))
    }

    /// Reads a small file whole; nil when it does not exist.
    static func read(_ fullPath: String, as path: String, role: BackupManifest.Role, bytesMax: Int = 64 << 20) throws -> SourceFile? {
        guard let opened = try open(fullPath, as: path, role: role), case .file(let f) = opened.content else { return nil }
        guard opened.size <= Int64(bytesMax) else { throw BackupError(.io, "\(fullPath) is larger than \(bytesMax) bytes") }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let n = chunk.withUnsafeMutableBytes { Glibc.read(f.fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw BackupError.io("cannot read \(fullPath)", errno: errno)
            }
            if n == 0 { break }
            bytes.append(contentsOf: chunk[0..<n])
            guard bytes.count <= bytesMax else { throw BackupError(.io, "\(fullPath) is larger than \(bytesMax) bytes") }
        }
        var copy = opened
        copy.size = Int64(bytes.count)
        copy.content = .bytes(bytes)
        return copy
    }
}

/// What `create` archives: the files, where they came from, the node's id in a cluster.
struct SourceSet {
    var files: [SourceFile]
    var source: BackupManifest.Source
    var nodeId: String?
    /// When the snapshot was taken.
    var takenAtMs: Int64
}

/// The node id in a nodes.conf: the first field of the line flagged `myself`.
func nodeId(inNodesConf bytes: [UInt8]) -> String? {
    for line in bytes.split(separator: 0x0A) {
        let fields = line.split(separator: 0x20)
        guard fields.count > 2 else { continue }
        let flags = fields[2].split(separator: 0x2C)
        if flags.contains(where: { $0.elementsEqual("myself".utf8) }) { return String(decoding: fields[0], as: UTF8.self) }
    }
    return nil
}
