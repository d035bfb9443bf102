import CairnStorage
import FuzzSupport

// Target aof-scanner: the AOF command scanner (Sources/CairnStorage/AOF/AOFScanner.swift) over
// one AOF file, as the loader and `cairn-aof check` read it: commands and annotations until the
// end, a torn tail or damage. Checked beyond "no trap": each item lies between the previous one
// and the end of the file, every argument's bytes can be read, and a refusal names an offset
// inside the file at or after the command it refuses. A file that starts with an RDB (a base
// written with the RDB preamble, a Redis 5/6 single-file AOF) is read as AOFLoader reads it: the
// RDB is loaded, then the commands after it are scanned from where it ended.

nonisolated(unsafe) let file = ScratchFile()

FuzzDriver.run { input in
    file.replace(with: input)
    let size = Int64(input.count)
    var start: Int64 = 0
    if input.starts(with: RDBFormat.magic) {
        let reader = try RDBReader(fd: file.fd)
        reader.allowsTrailingData = true
        _ = try RDBSnapshot.load(from: reader, into: Engine(), options: RDBLoadOptions())
        start = Int64(reader.offset)
    }
    let scanner = AOFScanner(fd: file.fd, startOffset: start, fileSize: size)
    var previousEnd = start
    var checksum: UInt8 = 0
    do throws(AOFScanProblem) {
        while true {
            let item = try scanner.next()
            FuzzCheck.require(scanner.itemStart == previousEnd, "item starts at \(scanner.itemStart), the previous ended at \(previousEnd)")
            FuzzCheck.require(scanner.offset >= scanner.itemStart && scanner.offset <= size, "item ends at \(scanner.offset) of \(size)")
            previousEnd = scanner.offset
            switch item {
            case .command(let arguments):
                FuzzCheck.require(arguments.count >= 1, "a command without arguments")
                for i in 0..<arguments.count { for byte in arguments[i] { checksum &+= byte } }
            case .annotation(let line):
                for byte in line { checksum &+= byte }
            case .end:
                FuzzCheck.require(scanner.offset == size, "clean end at \(scanner.offset) of \(size)")
                return
            }
        }
    } catch .truncated(let offset) {
        FuzzCheck.require(offset == previousEnd && offset < size, "truncated at \(offset), previous item ended at \(previousEnd), size \(size)")
    } catch .malformed(let offset, let commandStart, _) {
        FuzzCheck.require(commandStart == previousEnd && offset >= commandStart && offset < size,
                          "malformed at \(offset) in the command at \(commandStart), previous item ended at \(previousEnd), size \(size)")
    } catch .io(let message) {
        FuzzCheck.require(false, "read failed: \(message)")
    }
    _ = checksum
}
