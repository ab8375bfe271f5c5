import Foundation
import Glibc
import Testing
import XCIPC
import XCTestSupport

/// `build` against the real xcd: Jailfiles run through instantiate, exec, commit and
/// replace_meta; failures stop at the directive with its location; nothing is left behind.
@Suite(.serialized, .enabled(if: runsAsRoot, "needs root (runc, mounts)"))
struct JailfileBuildTests {
  /// A fresh build context directory with `files` (path → contents).
  func context(_ files: [String: String]) throws -> String {
    var template = Array("/tmp/xcsh-build-XXXXXX".utf8CString)
    guard let p = mkdtemp(&template) else { throw TestFailure("mkdtemp failed") }
    let dir = String(cString: p)
    for (path, text) in files {
      let full = dir + "/" + path
      try FileManager.default.createDirectory(
        atPath: (full as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
      try text.write(toFile: full, atomically: true, encoding: .utf8)
    }
    return dir
  }

  /// Starts `xcsh --socket SOCKET -c CODE` in `cwd`.
  func start(_ code: String, socket: String, cwd: String) throws -> (Process, Pipe, Pipe) {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: XCShellObjectTests.xcsh)
    p.arguments = ["--socket", socket, "-c", code]
    p.currentDirectoryURL = URL(fileURLWithPath: cwd)
    let out = Pipe()
    let err = Pipe()
    p.standardOutput = out
    p.standardError = err
    p.standardInput = FileHandle.nullDevice
    try p.run()
    return (p, out, err)
  }

  /// Runs xcsh to completion: (status, stdout, stderr).
  func xcsh(_ code: String, socket: String, cwd: String) throws -> (Int32, String, String) {
    let r = try Xcsh.run(["--socket", socket, "-c", code], cwd: cwd)
    return (r.status, r.stdout, r.stderr)
  }

  /// The daemon lists no container and the image is absent.
  func expectNoBuildLeft(_ client: XCClient, image: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
    #expect(try client.call(ListContainersRequest()).isEmpty, sourceLocation: sourceLocation)
    let images = try client.call(ListAllImagesRequest()).manifests.map(\.imageReference)
    #expect(!images.contains(image), "\(images)", sourceLocation: sourceLocation)
  }

  @Test func failingRunStopsAtItsLineWithOutputAndLeavesNothing() throws {
    let dir = try context([
      "Jailfile": """
        # a build that fails at its third directive
        FROM busybox:latest
        RUN echo first-step
          RUN echo out-of-step; echo err-of-step >&2; exit 3
        RUN echo never-runs > /never
        """
    ])
    defer { try? FileManager.default.removeItem(atPath: dir) }
    try withDaemon { daemon in
      let client = try daemon.client()
      try Fixtures.importImage(client)
      let (status, out, err) = try xcsh("build --name broken --tag 1", socket: daemon.socket, cwd: dir)
      #expect(status == 3, "\(out)\(err)")
      #expect(err.contains("error: RUN at Jailfile:4:3 exited with status 3"), "\(err)")
      #expect(err.contains("out-of-step") && err.contains("err-of-step"), "\(err)")
      #expect(!err.contains("first-step\nout"), "only the failing step's output: \(err)")
      try expectNoBuildLeft(client, image: "broken:1")

      // The failure as a value: location and exit status as fields.
      let (_, caught, err2) = try xcsh(
        "try { build . --name broken } catch e { [$e.code $e.file $e.line $e.column $e.exit_code] | to json }",
        socket: daemon.socket, cwd: dir)
      #expect(caught == #"["build.step_failed","Jailfile","4","3",3]"# + "\n", "\(err2)")
      try expectNoBuildLeft(client, image: "broken:latest")
    }
  }

  @Test func syntaxErrorsStopBeforeAnythingRuns() throws {
    let dir = try context(["Jailfile": "FROM busybox:latest\nRUN true\ncopy a /b\n", "other.jail": "FROM nope:1\nRUN true\n", "ok.jail": "FROM busybox:latest\n", "copy.jail": "FROM busybox:latest\nCOPY missing.txt /x\n"])
    defer { try? FileManager.default.removeItem(atPath: dir) }
    try withDaemon { daemon in
      let client = try daemon.client()
      try Fixtures.importImage(client)
      var (status, _, err) = try xcsh("build --name bad", socket: daemon.socket, cwd: dir)
      #expect(status == 1)
      #expect(
        err.contains("error: Jailfile:3:1: expected a directive name (upper-case, like `RUN`), found `copy`"), "\(err)")
      #expect(err.contains("write `COPY`"), "\(err)")
      // A missing base image fails at FROM, located, and leaves nothing.
      (status, _, err) = try xcsh("build -f other.jail --name bad", socket: daemon.socket, cwd: dir)
      #expect(status == 1)
      #expect(err.contains("FROM at other.jail:1:1"), "\(err)")
      try expectNoBuildLeft(client, image: "bad:latest")
      // A COPY source that is not there: located, and the build container is gone.
      (status, _, err) = try xcsh("build -f copy.jail --name bad", socket: daemon.socket, cwd: dir)
      #expect(status == 1)
      #expect(err.contains("COPY at copy.jail:2:1: cannot read \(dir)/missing.txt: No such file or directory"), "\(err)")
      try expectNoBuildLeft(client, image: "bad:latest")
      (status, _, err) = try xcsh("build -f ok.jail --name bad --build-arg X=1", socket: daemon.socket, cwd: dir)
      #expect(err.contains("--build-arg X is not declared by an ARG in ok.jail"), "\(err)")
    }
  }

  /// Ctrl-C during a RUN: the build container is removed and xcsh ends with 130.
  @Test func interruptRemovesTheBuildContainer() throws {
    let dir = try context(["Jailfile": "FROM busybox:latest\nRUN echo started; sleep 600\n"])
    defer { try? FileManager.default.removeItem(atPath: dir) }
    try withDaemon { daemon in
      let client = try daemon.client()
      try Fixtures.importImage(client)
      let (p, _, err) = try start("build --name slow --verbose", socket: daemon.socket, cwd: dir)
      // Wait until the RUN has started (its output is relayed with --verbose).
      var seen = ""
      let handle = err.fileHandleForReading
      let deadline = Date().addingTimeInterval(60)
      while !seen.contains("started\n"), Date() < deadline {
        let chunk = handle.availableData
        if chunk.isEmpty { break }
        seen += String(decoding: chunk, as: UTF8.self)
      }
      #expect(seen.contains("[2/2] RUN echo started; sleep 600"), "\(seen)")
      #expect(try client.call(ListContainersRequest()).count == 1)
      kill(p.processIdentifier, SIGINT)
      _ = handle.readDataToEndOfFile()
      p.waitUntilExit()
      #expect(p.terminationStatus == 130)
      try expectNoBuildLeft(client, image: "slow:latest")
    }
  }

  /// A Jailfile with FROM, ARG, RUN, COPY (file and directory), ENV, ENTRYPOINT and CMD
  /// builds an image that runs and holds the changes.
  @Test func buildsAnImageThatRunsWithTheChanges() throws {
    let dir = try context([
      "Jailfile": """
        ARG GREETING=hello
        FROM busybox:latest
        RUN mkdir -p /app && echo "$GREETING from RUN" > /app/run.txt
        COPY motd.txt /etc/motd
        COPY motd.txt /tmp
        COPY site/ /srv/site
        ENV WHO=world
        RUN echo "$WHO" > /app/who.txt
        ENTRYPOINT /bin/cat
        CMD /app/run.txt
        """,
      "motd.txt": "copied in\n",
      "site/index.html": "<h1>hi</h1>\n",
      "site/sub/deep.txt": "deep\n",
    ])
    defer { try? FileManager.default.removeItem(atPath: dir) }
    try withDaemon { daemon in
      let client = try daemon.client()
      try Fixtures.importImage(client)
      var (status, out, err) = try xcsh(
        "build . --name app --tag 1 --build-arg GREETING=hi | get image_reference", socket: daemon.socket, cwd: dir)
      #expect(status == 0, "\(err)")
      #expect(out == "app:1\n", "\(err)")
      #expect(try client.call(ListContainersRequest()).isEmpty)
      (status, out, err) = try xcsh(
        "run app:1 -- main; run app:1 -- cat /etc/motd /tmp/motd.txt /srv/site/index.html /srv/site/sub/deep.txt /app/who.txt",
        socket: daemon.socket, cwd: dir)
      #expect(status == 0, "\(err)")
      #expect(out == "hi from RUN\ncopied in\ncopied in\n<h1>hi</h1>\ndeep\nworld\n", "\(err)")
      let config = try client.call(DescribeImageRequest(imageReference: "app:1")).jailImage.config?.xcExtension
      #expect(config?.envs["WHO"]?.defaultValue == "world")
      #expect(config?.entryPoints["main"]?.exec == "/bin/cat")
      // Building the same tag again is refused, as xc does.
      (status, _, err) = try xcsh("build . --name app --tag 1", socket: daemon.socket, cwd: dir)
      #expect(err.contains("the image app:1 already exists"), "\(err)")
      try waitNoContainers(client)
    }
  }

  /// A Jailfile as a Docker user writes it (issue 18): CMD alone in exec form is the command,
  /// ENV's quotes are Docker's, WORKDIR applies to `run IMAGE -- CMD`, and `build --force`
  /// replaces an existing tag (refused without it).
  @Test func dockerStyleJailfileRunsAsInDocker() throws {
    let jailfile = """
      FROM busybox:latest
      RUN mkdir -p /app && printf 'echo "hello from $GREETING in $(pwd)"\\n' > /app/hello.sh
      ENV GREETING="hi there" OTHER=x
      WORKDIR /app
      CMD ["/bin/sh","/app/hello.sh"]
      """
    let dir = try context(["Jailfile": jailfile])
    defer { try? FileManager.default.removeItem(atPath: dir) }
    try withDaemon { daemon in
      let client = try daemon.client()
      try Fixtures.importImage(client)
      var (status, out, err) = try xcsh("build . --name df --tag 1 --quiet | get image_reference", socket: daemon.socket, cwd: dir)
      #expect(status == 0, "\(err)")
      #expect(out == "df:1\n", "\(err)")
      (status, out, err) = try xcsh("run df:1; run df:1 -- pwd", socket: daemon.socket, cwd: dir)
      #expect(status == 0, "\(err)")
      #expect(out == "hello from hi there in /app\n/app\n", "\(err)")
      // The shell form of CMD runs through /bin/sh -c.
      try "FROM busybox:latest\nENV WHO=shell\nCMD echo \"from the $WHO form\" && echo second\n".write(
        toFile: dir + "/Jailfile", atomically: true, encoding: .utf8)
      (status, _, err) = try xcsh("build . --name df --tag 1 --quiet", socket: daemon.socket, cwd: dir)
      #expect(status != 0)
      #expect(err.contains("build --force"), "\(err)")
      (status, out, err) = try xcsh("build . --name df --tag 1 --quiet --force | ignore; run df:1", socket: daemon.socket, cwd: dir)
      #expect(status == 0, "\(err)")
      #expect(out == "from the shell form\nsecond\n", "\(err)")
      // ENTRYPOINT and CMD in exec form: CMD gives the entry point's arguments.
      try "FROM busybox:latest\nCMD [\"the\", \"exec form\"]\nENTRYPOINT [\"/bin/echo\", \"from\"]\n".write(
        toFile: dir + "/Jailfile", atomically: true, encoding: .utf8)
      (status, out, err) = try xcsh("build . --name df --tag 1 --quiet --force | ignore; run df:1", socket: daemon.socket, cwd: dir)
      #expect(status == 0, "\(err)")
      #expect(out == "from the exec form\n", "\(err)")
      // The staging tag is gone; only the rebuilt reference remains.
      let refs = try client.call(ListAllImagesRequest()).manifests.map(\.imageReference).sorted()
      #expect(refs == ["busybox:latest", "df:1"], "\(refs)")
      try waitNoContainers(client)
    }
  }

  /// Two stages: a file and a directory copied from the first into the second (renamed, mode
  /// kept), a heredoc script, and the configuration directives landing in the image.
  @Test func multiStageCopyAndConfiguration() throws {
    let dir = try context([
      "Jailfile": """
        FROM busybox:latest as build
        RUN sh <<EOF
        mkdir -p /out/lib
        printf '#!/bin/sh\necho tool ran\n' > /out/tool
        chmod 751 /out/tool
        echo lib > /out/lib/a.txt
        EOF
        FROM busybox:latest
        COPY --from build /out/tool /usr/local/bin/renamed
        COPY --from=build /out/lib /opt/lib
        WORKDIR /opt
        ADDENV --require -d "who to greet" WHO
        VOLUME --ro /data store
        ALLOW raw_sockets
        """
    ])
    defer { try? FileManager.default.removeItem(atPath: dir) }
    try withDaemon { daemon in
      let client = try daemon.client()
      try Fixtures.importImage(client)
      var (status, out, err) = try xcsh("build --name multi --quiet | get image_reference", socket: daemon.socket, cwd: dir)
      #expect(status == 0, "\(err)")
      #expect(out == "multi:latest\n", "\(err)")
      #expect(err.isEmpty, "quiet: \(err)")
      #expect(try client.call(ListContainersRequest()).isEmpty)
      (status, out, err) = try xcsh(
        "run multi:latest -e WHO=x -- /usr/local/bin/renamed; run multi:latest -e WHO=x -- stat -c %a /usr/local/bin/renamed; run multi:latest -e WHO=x -- cat /opt/lib/a.txt",
        socket: daemon.socket, cwd: dir)
      #expect(out == "tool ran\n751\nlib\n", "\(err)")
      let config = try client.call(DescribeImageRequest(imageReference: "multi:latest")).jailImage.config?.xcExtension
      #expect(config?.envs["WHO"] == EnvSpec(description: "who to greet", required: true))
      #expect(config?.entryPoints["main"]?.workDir == "/opt")
      #expect(config?.mounts["store"]?.destination == "/data")
      #expect(config?.mounts["store"]?.readOnly == true)
      #expect(config?.allow.contains("raw_sockets") == true)
      try waitNoContainers(client)
    }
  }

  /// `--dry-run`: the plan names each call of the build; no container or image is made.
  /// `--ephemeral`: the image built is removed when the script ends.
  @Test func dryRunAndEphemeral() throws {
    let dir = try context(["Jailfile": "FROM busybox:latest\nRUN echo hi\nCOPY Jailfile /etc/\nCMD x\n"])
    defer { try? FileManager.default.removeItem(atPath: dir) }
    try withDaemon { daemon in
      let client = try daemon.client()
      try Fixtures.importImage(client)
      let p = Process()
      p.executableURL = URL(fileURLWithPath: XCShellObjectTests.xcsh)
      p.arguments = ["--dry-run", "--socket", daemon.socket, "-c", "build --name planned | get image_reference"]
      p.currentDirectoryURL = URL(fileURLWithPath: dir)
      let out = Pipe()
      let err = Pipe()
      p.standardOutput = out
      p.standardError = err
      try p.run()
      let o = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
      let e = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
      p.waitUntilExit()
      #expect(p.terminationStatus == 0, "\(e)")
      #expect(o == "planned:latest\n", "\(e)")
      let plan = e.split(separator: "\n").filter { $0.hasPrefix("+ ") }.map { $0.split(separator: " ")[1] }
      // COPY is one `copy` line (not the `mkdir -p` and `tar -x` execs it makes for real).
      #expect(plan == ["instantiate", "exec", "copy", "commit", "kill_container"], "\(e)")
      #expect(e.contains("+ copy source=Jailfile container=dry-run-1 dest=/etc/\n"), "\(e)")
      #expect(try client.call(ListContainersRequest()).isEmpty)
      #expect(try client.call(ListAllImagesRequest()).manifests.map(\.imageReference) == ["busybox:latest"])

      // --ephemeral: the built image is there during the script and gone after it.
      let q = Process()
      q.executableURL = URL(fileURLWithPath: XCShellObjectTests.xcsh)
      q.arguments = ["--ephemeral", "--socket", daemon.socket, "-c", "build --name eph | ignore; images | get image_reference | to json"]
      q.currentDirectoryURL = URL(fileURLWithPath: dir)
      let qout = Pipe()
      q.standardOutput = qout
      q.standardError = FileHandle.nullDevice
      try q.run()
      let during = String(decoding: qout.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
      q.waitUntilExit()
      #expect(q.terminationStatus == 0)
      #expect(during == #"["busybox:latest","eph:latest"]"# + "\n" || during == #"["eph:latest","busybox:latest"]"# + "\n", "\(during)")
      #expect(try client.call(ListAllImagesRequest()).manifests.map(\.imageReference) == ["busybox:latest"])
      #expect(try client.call(ListContainersRequest()).isEmpty)
    }
  }

  /// On a terminal each step is shown as it starts, with its output; not on a pipe (the other
  /// tests read stderr from a pipe and find only errors there).
  @Test func progressOnATerminal() throws {
    let dir = try context(["Jailfile": "FROM busybox:latest\nRUN echo step-output\nCMD x\n"])
    defer { try? FileManager.default.removeItem(atPath: dir) }
    try withDaemon { daemon in
      let client = try daemon.client()
      try Fixtures.importImage(client)
      let t = try TmuxSession(home: dir, socket: daemon.socket, xcsh: XCShellObjectTests.xcsh)
      defer { t.close() }
      try t.waitForEditor("[xcd.sock up] >")
      try t.type("build --name tty | get image_reference")
      try t.press("Enter")
      let screen = try t.waitFor("the image reference") { $0.contains("\ntty:latest") }
      #expect(screen.contains("[1/3] FROM busybox:latest\n[2/3] RUN echo step-output\nstep-output\n[3/3] CMD x\ncommitting tty:latest\nbuilt tty:latest in "), "\(screen)")
      #expect(try client.call(ListContainersRequest()).isEmpty)
      let (status, out, err) = try xcsh("build --name quiet --tag 2", socket: daemon.socket, cwd: dir)
      #expect(status == 0 && err.isEmpty && out.contains("quiet:2"), "\(out)\(err)")
    }
  }

  /// What `build` sends, read from `--trace`: the requests xc's client makes for a build (spec
  /// xc-cli.md §4.4), so the same Jailfile builds against FreeBSD's xcd.
  @Test func requestsOnTheWireAreXcs() throws {
    let dir = try context(["Jailfile": "FROM busybox:latest\nRUN echo hi\n"])
    defer { try? FileManager.default.removeItem(atPath: dir) }
    try withDaemon { daemon in
      let client = try daemon.client()
      try Fixtures.importImage(client)
      let p = Process()
      p.executableURL = URL(fileURLWithPath: XCShellObjectTests.xcsh)
      p.arguments = ["--trace", "--socket", daemon.socket, "-c", "build --name traced --tag 7 | ignore"]
      p.currentDirectoryURL = URL(fileURLWithPath: dir)
      let err = Pipe()
      p.standardError = err
      p.standardOutput = FileHandle.nullDevice
      try p.run()
      let e = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
      p.waitUntilExit()
      #expect(p.terminationStatus == 0, "\(e)")
      // `trace: METHOD {request} -> ok …`: the method and the request (long ones are cut, so
      // those are matched as text).
      var calls: [(method: String, text: String, json: [String: Any])] = []
      for line in e.split(separator: "\n") where line.hasPrefix("trace: ") {
        let rest = line.dropFirst("trace: ".count)
        guard let space = rest.firstIndex(of: " "), let arrow = rest.range(of: " -> ") else { continue }
        let text = String(rest[rest.index(after: space)..<arrow.lowerBound])
        let object = (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any] ?? [:]
        calls.append((String(rest[..<space]), text, object))
      }
      let methods = calls.map(\.method)
      #expect(
        Array(methods.prefix(6)) == ["list_all_images", "instantiate", "exec", "commit", "list_all_images", "kill_container"],
        "\(e)")
      #expect(methods.count > 6 && methods.dropFirst(6).allSatisfy { $0 == "list_containers" }, "\(methods)")
      guard calls.count >= 6 else { return }
      let instantiate = calls[1].text
      #expect(instantiate.hasPrefix(#"{"image_reference":"busybox:latest","envs":{},"#), "\(instantiate)")
      #expect(instantiate.contains(#""entry_point":null,"#), "\(instantiate)")
      #expect(
        instantiate.contains(#""main_norun":true,"init_norun":true,"deinit_norun":true,"persist":true,"#), "\(instantiate)")
      #expect(instantiate.contains(#""name":"build-"#), "\(instantiate)")
      let exec = calls[2].json
      #expect(exec["arg0"] as? String == "/bin/sh")
      #expect(exec["args"] as? [String] == ["-c", "echo hi"])
      #expect(exec["use_tty"] as? Bool == false)
      let commit = calls[3].json
      #expect(commit["name"] as? String == "traced")
      #expect(commit["tag"] as? String == "7")
      #expect((commit["container_name"] as? String)?.isEmpty == false)
      #expect(calls[5].json["name"] as? String == commit["container_name"] as? String)
    }
  }

  /// `--output-inplace`: the layer lands in the current directory named by its diff id, with
  /// jail.json (the base's manifest plus the edits); no image is registered.
  @Test func outputInPlace() throws {
    let dir = try context(["Jailfile": "FROM busybox:latest\nRUN mkdir /made && echo x > /made/file\nENV WHO=world\n"])
    defer { try? FileManager.default.removeItem(atPath: dir) }
    try withDaemon { daemon in
      let client = try daemon.client()
      try Fixtures.importImage(client)
      let (status, out, err) = try xcsh(
        "let r = (build --name inplace --output-inplace); [$r.diff_id $r.layer $r.manifest] | to json", socket: daemon.socket, cwd: dir)
      #expect(status == 0, "\(err)")
      let fields = (try? JSONSerialization.jsonObject(with: Data(out.utf8))) as? [String] ?? []
      #expect(fields.count == 3, "\(out)")
      guard fields.count == 3 else { return }
      #expect(fields[0].hasPrefix("sha256:"))
      #expect(fields[1] == dir + "/" + fields[0])
      #expect(fields[2] == dir + "/jail.json")
      let listing = Process()
      listing.executableURL = URL(fileURLWithPath: "/usr/bin/tar")
      listing.arguments = ["-I", "zstd", "-tf", fields[1]]
      let names = Pipe()
      listing.standardOutput = names
      try listing.run()
      let entries = String(decoding: names.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
      listing.waitUntilExit()
      #expect(entries.split(separator: "\n").contains { $0.hasSuffix("made/file") }, "\(entries)")
      let manifest = try JSONDecoder().decode(JailImage.self, from: Data(contentsOf: URL(fileURLWithPath: fields[2])))
      #expect(manifest.config?.xcExtension?.envs["WHO"]?.defaultValue == "world")
      #expect(try client.call(ListAllImagesRequest()).manifests.map(\.imageReference) == ["busybox:latest"])
      #expect(try client.call(ListContainersRequest()).isEmpty)
      let left = try FileManager.default.contentsOfDirectory(atPath: dir).filter { $0.hasPrefix(".xcsh-layer-") }
      #expect(left.isEmpty)
    }
  }

  /// `run` containers end on their own; wait for the daemon to drop them before the leak check.
  func waitNoContainers(_ client: XCClient) throws {
    let deadline = Date().addingTimeInterval(30)
    while try !client.call(ListContainersRequest()).isEmpty {
      guard Date() < deadline else { throw TestFailure("containers left after 30 s") }
      usleep(20_000)
    }
  }
}
