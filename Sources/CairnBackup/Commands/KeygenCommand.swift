// `cairn-backup keygen FILE`: a new random key as 64 hex digits in a new file readable by its
// owner only (docs/tools-cairn-backup.md, "Keys"). Never overwrites.

import CairnTools
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

public enum KeygenCommand {
    public static func main(path: String) -> Int32 {
        BackupRunner.main { try run(path: path, output: $0) }
    }

    public static func run(path: String, output: ByteOutput) throws {
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw BackupError.io("cannot create \(path)", errno: errno) }
        var text = BackupKey.generate().hexString + "\n"
        let ok = text.withUTF8 { p in write(fd, p.baseAddress, p.count) == p.count }
        let synced = fsync(fd) == 0
        close(fd)
        guard ok && synced else {
            unlink(path)
            throw BackupError(.io, "cannot write \(path)")
        }
        let key = try BackupKey.load(path: path)
        try output.write("wrote a new key to \(path) (key id \(key.id.hexString)); keep a copy away from the archives\n")
    }
}
