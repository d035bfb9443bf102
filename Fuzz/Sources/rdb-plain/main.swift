import FuzzSupport

// Target rdb-plain: RDB files as Redis writes them (no outer frame; LZF strings, every
// encoding), loaded as at start-up (FuzzSupport/RDBTarget.swift). The reader finds an outer LZ4
// or gzip frame by its magic, so mutations may wander into those too; rdb-lz4 and rdb-gzip
// fuzz through the frames on purpose.

FuzzDriver.run { try RDBTarget.test($0) }
