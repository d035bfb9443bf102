import FuzzSupport

// Target rdb-gzip: RDB files in one gzip stream (rdbcompression zlib), loaded as
// at start-up (FuzzSupport/RDBTarget.swift). The custom mutator mostly mutates the RDB inside the
// frame and compresses it again, and sometimes the frame's own bytes (FrameMutator.swift).

@_cdecl("LLVMFuzzerCustomMutator")
public func customMutator(_ data: UnsafeMutablePointer<UInt8>, _ size: Int, _ maxSize: Int, _ seed: UInt32) -> Int {
    FrameMutator.mutate(data, size: size, maxSize: maxSize, seed: seed, frame: .gzip)
}

FuzzDriver.run { try RDBTarget.test($0) }
