@testable import CairnTools
import Foundation
import Testing

@Suite struct ReplacementFileTests {
    @Test func commitReplacesTheTarget() throws {
        let dir = try ScratchDirectory()
        let target = dir.file("out.rdb")
        try Data("old".utf8).write(to: URL(fileURLWithPath: target))
        let file = try ReplacementFile(path: target)
        #expect(dir.names.count == 2, "the temporary file sits next to the target")
        let data = Array("new contents".utf8)
        _ = data.withUnsafeBytes { write(file.fd, $0.baseAddress, $0.count) }
        #expect(try String(contentsOfFile: target, encoding: .utf8) == "old", "untouched until commit")
        try file.commit()
        #expect(try String(contentsOfFile: target, encoding: .utf8) == "new contents")
        #expect(dir.names == ["out.rdb"])
    }

    @Test func abandonLeavesNothing() throws {
        let dir = try ScratchDirectory()
        let file = try ReplacementFile(path: dir.file("out.rdb"))
        file.abandon()
        #expect(dir.names.isEmpty)
    }

    @Test func missingDirectoryIsAnIOError() {
        #expect { try ReplacementFile(path: "/nonexistent-dir/out.rdb") } throws: { ToolExit.forError($0) == .io }
    }

    @Test func directoryOfAPath() {
        #expect(ReplacementFile.directory(of: "out.rdb") == ".")
        #expect(ReplacementFile.directory(of: "/out.rdb") == "/")
        #expect(ReplacementFile.directory(of: "a/b/out.rdb") == "a/b")
    }
}
