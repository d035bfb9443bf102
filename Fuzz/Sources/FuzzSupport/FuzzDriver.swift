import CLibFuzzer
#if canImport(Glibc)
import Glibc
#endif

// The glue between libFuzzer and a target. libFuzzer is linked without its own `main`
// (libclang_rt.fuzzer_no_main, see tools/fuzz), so each target's main.swift hands its test to
// `FuzzDriver.run`, which starts libFuzzer's command-line driver. A test that throws has
// rejected its input cleanly, which is what a decoder should do with bad bytes; the findings
// are traps, sanitizer reports, timeouts, out-of-memory and failed `FuzzCheck.require`s.

/// One input, tested. Throwing is a clean rejection.
public typealias FuzzTest = (UnsafeRawBufferPointer) throws -> Void

public enum FuzzDriver {
    // Set once, before libFuzzer starts; libFuzzer calls the test on the main thread only.
    nonisolated(unsafe) private static var test: FuzzTest = { _ in }

    /// Runs libFuzzer with this process's arguments (`-runs=`, corpus directories, inputs to
    /// replay, ...) over `test`.
    public static func run(_ test: @escaping FuzzTest) -> Never {
        Self.test = test
        var argc = CommandLine.argc
        var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
        let status = LLVMFuzzerRunDriver(&argc, &argv) { data, size in
            let input = UnsafeRawBufferPointer(start: size > 0 ? data : nil, count: size)
            do { try FuzzDriver.test(input) } catch {}
            return 0
        }
        exit(status)
    }
}

public enum FuzzCheck {
    /// Ends the run as a finding (libFuzzer saves the input as a crash) when `condition` is
    /// false: for properties beyond "does not trap", e.g. that a decoder fed the same bytes in
    /// pieces returns the same values.
    public static func require(_ condition: @autoclosure () -> Bool, _ message: @autoclosure () -> String,
                               file: StaticString = #fileID, line: UInt = #line) {
        guard !condition() else { return }
        printError("==FUZZCHECK== \(file):\(line): \(message())")
        abort()
    }

    /// A line on stderr, where libFuzzer reports too.
    public static func printError(_ line: String) {
        var bytes = Array((line + "\n").utf8)
        var done = 0
        while done < bytes.count {
            let n = bytes.withUnsafeMutableBytes { Glibc.write(2, $0.baseAddress! + done, $0.count - done) }
            if n <= 0 { return }
            done += n
        }
    }
}
