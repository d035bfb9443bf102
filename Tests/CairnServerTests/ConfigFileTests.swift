@testable import CairnServer
import Testing

@Suite struct ConfigFileTests {
    @Test func appliesDirectivesAndOverrides() throws {
        var s = ServerSettings()
        try ConfigFile.apply("# comment\nport 7000\nbind 127.0.0.1 ::1\n", to: &s)
        #expect(s.port == 7000)
        #expect(s.bind == ["127.0.0.1", "::1"])
        try ConfigFile.apply(ConfigFile.text(fromOverrides: ["--port", "7001", "--dir", "/tmp"]), to: &s)
        #expect(s.port == 7001)
        #expect(s.dir == "/tmp")
    }

    @Test func refusesUnknownDirectiveNamingTheLine() {
        var s = ServerSettings()
        #expect(throws: ConfigError.self) { try ConfigFile.apply("port 1\nnot-a-directive 3\n", to: &s) }
        do { try ConfigFile.apply("port 1\nnot-a-directive 3\n", to: &s) } catch {
            #expect("\(error)".contains("at line 2"))
            #expect("\(error)".contains("Bad directive or wrong number of arguments"))
        }
    }
}
