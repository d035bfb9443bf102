// An archive on disk opened for reading, with a progress bar over its bytes.

import CairnStorage
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

final class ArchiveFile {
    let path: String
    let size: Int64
    let reader: ArchiveReader
    let progress: Progress
    private let file: OpenFile

    init(path: String, key: BackupKey?, showProgress: Bool) throws {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw BackupError.io("cannot open \(path)", errno: errno) }
        file = OpenFile(fd: fd)
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw BackupError.io("cannot stat \(path)", errno: errno) }
        guard (st.st_mode & S_IFMT) == S_IFREG else { throw BackupError(.io, "\(path) is not a regular file") }
        self.path = path
        size = Int64(st.st_size)
        let progress = Progress(total: size, allowed: showProgress)
        self.progress = progress
        reader = try ArchiveReader(source: CountingSource(next: FileSource(fd: fd)) { progress.set($0) }, key: key)
    }
}
