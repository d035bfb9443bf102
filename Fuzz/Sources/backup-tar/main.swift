@testable import CairnBackup
import CairnStorage
import BackupFuzzSupport
import FuzzSupport

// Target backup-tar: the tar stream inside a backup archive (Sources/CairnBackup/Tar/TarReader,
// the MANIFEST.json member, ArchiveCheck's member checks, the RDB member's parse). The input is
// the tar stream; it is wrapped here as cairn-backup wraps it (LZ4 or, for one input in two,
// gzip, then the integrity trailer), so that every mutation reaches the tar reader; the archive
// is then read as in backup-archive.

FuzzDriver.run { input in
    let compression: ArchiveCompression = Chunking.fnv1a(input) % 2 == 0 ? .lz4 : .gzip
    let archive = MemorySink()
    let trailer = TrailerSink(next: archive, compression: compression)
    let sink = compression == .lz4 ? try CompressionFrames.lz4Sink(over: trailer, level: 1)
                                   : try CompressionFrames.gzipSink(over: trailer, level: 1, headerCRC: true)
    try sink.consume(input)
    try sink.finish()
    let reader = try ArchiveReader(source: MemorySource(archive.bytes), key: nil)
    _ = try ArchiveCheck.run(reader, output: CheckingOutput())
}
