// Small helpers over ByteSource.

import CairnStorage

enum SourceReading {
    /// Reads until `buffer` is full or the source ends; the count read.
    static func readFully(_ source: ByteSource, into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        var done = 0
        while done < buffer.count {
            let n = try source.read(into: UnsafeMutableRawBufferPointer(rebasing: buffer[done...]))
            if n == 0 { break }
            done += n
        }
        return done
    }
}
