import Testing

@testable import XCJailfile

/// The meaning level: every directive's words, options and order, checked before a build.
@Suite struct BuildPlanTests {
  func plan(_ text: String) throws -> [Instruction] { try BuildPlan.parse(text, file: "J").steps.map(\.instruction) }

  func error(_ text: String) -> JailfileError? {
    do {
      _ = try BuildPlan.parse(text, file: "J")
      return nil
    } catch { return error }
  }

  @Test func everyDirective() throws {
    let text = """
      ARG VERSION=1
      FROM base:${VERSION} as build
      RUN make
      FROM busybox:latest
      RUN sh <<EOF
      echo hi
      EOF
      COPY --from build /out/app /usr/bin/app
      COPY --from=build --to build a/ /x
      COPY site /srv
      ENV GREETING=hello WHO="the world"
      WORKDIR /srv
      ENTRYPOINT[entry_point:web] PORT=${PORT:-80} /bin/httpd
      CMD -f -p $PORT
      VOLUME --hint size=1G --required -d "the data" --ro /data store
      ADDENV --require --description=who WHO=world
      ALLOW raw_sockets -mount
      ALLOW[replace:true] sysvipc
      NOINIT
      NODEINIT
      SYSVIPC shm -msg
      MOUNT procfs /proc
      DEVICE path 'bpf*' unhide
      """
    let steps = try plan(text)
    #expect(steps.count == 21)
    guard case .arg("VERSION", let d?) = steps[0] else { Issue.record("ARG: \(steps[0])"); return }
    #expect(d.word.text == "1")
    guard case .from(let image, "build") = steps[1] else { Issue.record("FROM: \(steps[1])"); return }
    #expect(try image.expand(file: "J") { ["VERSION": "3"][$0] } == "base:3")
    #expect(steps[2] == .run(command: "make", stdin: nil))
    #expect(steps[4] == .run(command: "sh", stdin: "\necho hi\n"))
    guard case .copy(let s, let t, "build", nil) = steps[5] else { Issue.record("COPY: \(steps[5])"); return }
    #expect((s.word.text, t.word.text) == ("/out/app", "/usr/bin/app"))
    guard case .copy(_, _, "build", "build") = steps[6] else { Issue.record("COPY: \(steps[6])"); return }
    guard case .env(let pairs) = steps[8] else { Issue.record("ENV: \(steps[8])"); return }
    #expect(pairs.map(\.name) == ["GREETING", "WHO"])
    #expect(pairs.map(\.value.word.text) == ["hello", "the world"])
    #expect(steps[9] == .config(.workdir(entryPoint: "main", directory: "/srv")))
    #expect(steps[10] == .config(.entryPoint(name: "web", program: "/bin/httpd", arguments: [], environment: ["PORT": "${PORT:-80}"])))
    #expect(steps[11] == .config(.cmd(entryPoint: "main", arguments: ["-f", "-p", "$PORT"], shell: "-f -p $PORT")))
    #expect(
      steps[12]
        == .config(
          .volume(.init(name: "store", destination: "/data", hints: ["size": "1G"], required: true, readOnly: true, description: "the data"))))
    #expect(steps[13] == .config(.addEnv(name: "WHO", defaultValue: "world", required: true, description: "who")))
    #expect(steps[14] == .config(.allow(["raw_sockets", "-mount"], replace: false)))
    #expect(steps[15] == .config(.allow(["sysvipc"], replace: true)))
    #expect(steps[16] == .config(.noInit))
    #expect(steps[17] == .config(.noDeinit))
    #expect(steps[18] == .config(.sysvipc(["shm", "-msg"])))
    #expect(steps[19] == .config(.mount(fsType: "procfs", mountPoint: "/proc")))
    #expect(steps[20] == .config(.device(rule: "path bpf* unhide")))
    #expect(try BuildPlan.parse(text, file: "J").arguments == ["VERSION"])
  }

  @Test func summariesForProgress() throws {
    let p = try BuildPlan.parse("FROM a\nRUN sh <<EOF\nx\nEOF\nRUN " + String(repeating: "y", count: 100), file: "J")
    #expect(p.steps[0].summary == "FROM a")
    #expect(p.steps[1].summary == "RUN sh <<EOF")
    #expect(p.steps[2].summary.count == 70)
  }

  @Test func meaningErrorsPointAtTheWord() throws {
    func check(_ text: String, _ line: Int, _ column: Int, _ message: String, sourceLocation: SourceLocation = #_sourceLocation) {
      let e = error(text)
      #expect(e?.location == JailfileLocation(line: line, column: column), "\(String(describing: e))", sourceLocation: sourceLocation)
      #expect(e?.message.contains(message) == true, "\(String(describing: e))", sourceLocation: sourceLocation)
    }
    check("RUN x", 1, 1, "RUN before any FROM")
    check("ENV A=1", 1, 1, "the Jailfile has no FROM")
    check("FROM a\nFROM b", 2, 1, "a second FROM needs the previous stage to be named")
    check("FROM a as x\nFROM b as x", 2, 11, "already used")
    check("FROM a b c", 1, 8, "expected `as NAME`")
    check("FROM a as", 1, 10, "expected a stage name")
    check("FROM", 1, 5, "FROM needs an image")
    check("FROM a\nCOPY x", 2, 7, "COPY takes a source and a destination")
    check("FROM a\nCOPY x y", 2, 8, "must be an absolute path")
    check("FROM a\nCOPY --frm b x /y", 2, 6, "COPY has no option `--frm`")
    check("FROM a\nCOPY --from", 2, 12, "needs a value")
    check("FROM a\nCOPY --from b x /y", 2, 1, "no earlier `FROM … as b`")
    check("FROM a\nENV 1A=b", 2, 5, "expected a variable name before `=`")
    check("FROM a\nENV A", 2, 5, "expected NAME=VALUE")
    check("FROM a\nENV A=${B", 2, 7, "expected `}` to close")
    check("FROM a\nCMD x $", 2, 7, "expected a variable name or `{` after `$`")
    check("FROM a\nCMD \"a $\"", 2, 8, "expected a variable name or `{`")
    check("FROM a\nWORKDIR", 2, 8, "missing a value: WORKDIR is written `WORKDIR DIR`")
    check("FROM a\nWORKDIR a b", 2, 11, "expected the end of the line")
    check("FROM a\nNOINIT x", 2, 8, "expected the end of the line")
    check("FROM a\nRUN", 2, 4, "RUN needs a command")
    check("FROM a\nCOPY a /b <<EOF\nEOF", 2, 11, "only RUN takes a heredoc")
    check("FROM a\nSYSVIPC shm nope", 2, 13, "expected one of shm")
    check("FROM a\nFROB x", 2, 1, "unknown directive `FROB`")
    check("FROM a\nCMD[user:x] y", 2, 5, "CMD takes the argument `entry_point`, not `user`")
    check("FROM[x:y] a", 1, 6, "FROM takes no [arguments]")
    check("FROM a\nVOLUME", 2, 7, "VOLUME takes a mount point")
    check("FROM a\nVOLUME --ro=yes /d", 2, 8, "takes no value")
    check("FROM a\nVOLUME --hint x /d", 2, 8, "--hint takes KEY=VALUE")
    check("FROM a\nADDENV A B", 2, 10, "ADDENV takes one")
    check("FROM a\nENTRYPOINT A=1", 2, 15, "ENTRYPOINT needs a program")
    #expect(error("FROM a\nRUNN x")?.help?.hasPrefix("did you mean `RUN`?") == true)
  }

  @Test func unsetBuildVariableIsLocated() throws {
    let p = try BuildPlan.parse("FROM base:$TAG", file: "J")
    guard case .from(let image, _) = p.steps[0].instruction else { Issue.record(); return }
    #expect(throws: JailfileError(file: "J", .init(line: 1, column: 11), "the variable `TAG` is not set")) {
      try image.expand(file: "J") { _ in nil }
    }
  }
}
