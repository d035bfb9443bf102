@testable import CairnBackup
import CairnStorage
import BackupFuzzSupport
import FuzzSupport

// Target backup-archive: `cairn-backup verify` and `restore`'s reading of an archive
// (Sources/CairnBackup/Read: ArchiveReader, ArchiveCheck; Tar/TarReader; Encryption/
// DecryptingSource; Integrity/ArchiveTrailer; BackupManifest; the RDB member's parse), with the
// fixtures' key (Fixtures/backup/fixture.key) for encrypted archives. The input is the archive
// file as it is; backup-tar fuzzes the tar stream inside the layers. Checked beyond "no trap":
// every member handed to the restore side has a safe relative path (BackupOutput.swift).

FuzzDriver.run { input in
    let reader = try ArchiveReader(source: MemorySource(Array(input)), key: BackupFuzz.fixtureKey)
    _ = try ArchiveCheck.run(reader, output: CheckingOutput())
}
