import Testing

@testable import XCJailfile

/// CMD, ENTRYPOINT and ENV as Docker users write them (issue 18): JSON exec form, shell form,
/// Docker's quoting, and `ENV K=V K2=V2` / `ENV K V…`.
@Suite struct DockerFormsTests {
  func step(_ line: String) throws -> Instruction {
    try BuildPlan.parse("FROM busybox:latest\n" + line, file: "J").steps[1].instruction
  }

  func error(_ text: String) -> JailfileError? {
    do {
      _ = try BuildPlan.parse("FROM busybox:latest\n" + text, file: "J")
      return nil
    } catch { return error }
  }

  @Test func execFormIsAJSONArray() throws {
    #expect(
      try step(#"CMD ["/bin/sh","/app/hello.sh"]"#)
        == .config(.cmd(entryPoint: "main", arguments: ["/bin/sh", "/app/hello.sh"], shell: nil)))
    #expect(
      try step(#"CMD [ "echo", "hi there", "a\"b" ]"#)
        == .config(.cmd(entryPoint: "main", arguments: ["echo", "hi there", #"a"b"#], shell: nil)))
    #expect(
      try step(#"ENTRYPOINT ["/usr/bin/env", "-i"]"#)
        == .config(.entryPoint(name: "main", program: "/usr/bin/env", arguments: ["-i"], environment: [:])))
  }

  @Test func shellFormKeepsTheTextForSh() throws {
    #expect(
      try step(#"CMD echo "hi there" && ls"#)
        == .config(.cmd(entryPoint: "main", arguments: ["echo", "hi there", "&&", "ls"], shell: #"echo "hi there" && ls"#)))
    #expect(
      try step("ENTRYPOINT exec httpd -f")
        == .config(.entryPoint(name: "main", program: "/bin/sh", arguments: ["-c", "exec httpd -f"], environment: [:])))
    // xc's form: one program word after VAR=VALUE words.
    #expect(
      try step("ENTRYPOINT A=1 /bin/cat")
        == .config(.entryPoint(name: "main", program: "/bin/cat", arguments: [], environment: ["A": "1"])))
  }

  @Test func aBadArrayIsAnErrorNotWords() throws {
    let e = error("CMD ['/bin/sh', 'x']")
    #expect(e?.location == JailfileLocation(line: 2, column: 5))
    #expect(e?.message.contains("JSON array of strings") == true, "\(String(describing: e))")
    #expect(error("CMD []")?.message.contains("needs a program") == true)
  }

  func envPairs(_ line: String) throws -> [String: String] {
    guard case .env(let pairs) = try step(line) else { Issue.record("not ENV"); return [:] }
    var out: [String: String] = [:]
    for p in pairs { out[p.name] = try p.value.expand(file: "J") { _ in nil } }
    return out
  }

  @Test func envQuotingIsDockers() throws {
    #expect(try envPairs(#"ENV GREETING="hi there""#) == ["GREETING": "hi there"])
    #expect(try envPairs(#"ENV A=1 B='two words' C=x\ y D="q\"q""#) == ["A": "1", "B": "two words", "C": "x y", "D": #"q"q"#])
    #expect(try envPairs("ENV NAME John Doe") == ["NAME": "John Doe"])
    #expect(error(#"ENV A=a\"b" c"#)?.message.contains("unterminated") == true)
  }
}
