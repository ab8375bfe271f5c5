import Testing

@testable import XCObjects

@Suite struct EnvFileTests {
  @Test func dockerFormat() throws {
    let text = "# a comment\n\n  A=1\nB=two words = kept\r\nC=\"quoted\"\nINHERITED\nUNSET\nA=again\n"
    let vars = try EnvFile.parse(text, file: "f.env", environment: ["INHERITED": "from-env"])
    #expect(vars.map { "\($0.0)=\($0.1)" } == [
      "A=1", "B=two words = kept", "C=\"quoted\"", "INHERITED=from-env", "A=again",
    ])
  }

  @Test func badLinesNameFileAndLine() {
    for (text, reason) in [("A=1\n=x\n", "f.env:2: no variable name before `=`"), ("\n\nMY VAR=1", "f.env:3: variable name `MY VAR` contains white space")] {
      #expect(throws: EnvFile.Failure.self) { try EnvFile.parse(text, file: "f.env", environment: [:]) }
      do { _ = try EnvFile.parse(text, file: "f.env", environment: [:]) } catch {
        #expect("\(error)" == reason)
      }
    }
  }
}
