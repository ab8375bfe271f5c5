import CSupport
import Foundation
import SystemPackage
import XCIPC
import XCJailfile
import XCShell

#if canImport(Glibc)
  import Glibc
#endif

/// Runs a checked Jailfile through the daemon (spec xc-cli.md §4.4): FROM instantiates a build
/// container, RUN and COPY exec in it, the other directives collect configuration edits; the
/// last container is committed as the target image and the edits applied with `replace_meta`.
///
/// Unlike xc, a failing RUN (or COPY) stops the build with the directive's location, its exit
/// status and its output. Every build container is removed however the build ends.
final class JailfileBuilder {
  struct Target {
    var name: String
    var tag: String
    var reference: String { "\(name):\(tag)" }
  }

  let session: DaemonSession
  let call: Call
  let plan: BuildPlan
  /// The directory relative COPY sources are read from.
  let context: String
  let target: Target
  /// Progress lines and step output on stderr.
  let verbose: Bool
  /// `--output-inplace`: write the layer and `jail.json` into this directory instead of
  /// registering an image (spec xc-cli.md §4.5).
  var outputDirectory: String?
  /// `--force`: an existing image of the target reference is replaced (the tag moves).
  var force = false
  /// The target exists and `force` replaces it: the build commits under a staging tag and
  /// moves the target tag only once the image is complete.
  private var replacing = false
  /// The reference `commit` registered, removed again if the build fails after it.
  private var committedReference: String?

  /// Build variables: ARG values (defaults, then `--build-arg`), then ENV.
  private var variables: [String: String] = [:]
  private var buildArgs: [String: String]
  /// Build containers by id, in creation order; all are removed at the end.
  private var containers: [String] = []
  private var current: String?
  /// The image the current container was made from.
  private var currentImage = ""
  private var aliases: [String: String] = [:]
  private var edits: [ConfigEdit] = []

  init(
    session: DaemonSession, call: Call, plan: BuildPlan, context: String, target: Target,
    buildArgs: [String: String], verbose: Bool
  ) {
    self.session = session
    self.call = call
    self.plan = plan
    self.context = context
    self.target = target
    self.buildArgs = buildArgs
    self.verbose = verbose
  }

  /// Builds the image and returns it as an image object.
  func build() throws -> Value {
    let declared = Set(plan.arguments)
    for name in buildArgs.keys.sorted() where !declared.contains(name) {
      throw ShellError(
        .buildArgument, "--build-arg \(name) is not declared by an ARG in \(plan.file)", at: call.head,
        help: declared.isEmpty ? "add `ARG \(name)` to the Jailfile" : "declared: \(declared.sorted().joined(separator: ", "))")
    }
    let existing = outputDirectory != nil ? [] : try session.call(ListAllImagesRequest(), at: call.head).manifests
    if existing.contains(where: { $0.imageReference == target.reference }) {
      guard force else {
        throw ShellError(
          .buildExists, "the image \(target.reference) already exists", at: call.head,
          help: "`build --force` replaces it (the tag moves to the new image), or choose another --tag")
      }
      replacing = true
    }
    let started = DispatchTime.now().uptimeNanoseconds
    do {
      for (i, step) in plan.steps.enumerated() {
        try call.evaluator.checkInterrupt()
        progress("[\(i + 1)/\(plan.steps.count)] \(step.summary)")
        try execute(step)
      }
      try call.evaluator.checkInterrupt()
      progress("committing \(target.reference)")
      let image = try outputDirectory.map { try writeInPlace(to: $0) } ?? commit()
      try removeContainers()
      let seconds = Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9
      progress("built \(target.reference) in \((seconds * 10).rounded() / 10) s")
      return image
    } catch is BuildProcess.Interrupted {
      try? removeContainers()
      removeHalfBuiltImage()
      try call.evaluator.checkInterrupt()
      throw ShellError(.interrupted, "interrupted", at: call.head, exitCode: 130)
    } catch {
      try? removeContainers()
      removeHalfBuiltImage()
      throw error
    }
  }

  /// Set once `commit` made the image: a later failure (configuration, clean-up) removes it,
  /// so a failed build leaves no image either.
  private var committed = false

  private func removeHalfBuiltImage() {
    guard committed, !session.modes.dryRun, let reference = committedReference else { return }
    committed = false
    _ = try? session.call(RemoveImageRequest(imageReference: reference), at: call.head)
  }

  private func progress(_ line: String) {
    guard verbose else { return }
    call.evaluator.output.flush()
    FileHandle.standardError.write(Data((line + "\n").utf8))
  }

  private func location(_ d: Directive) -> String { "\(plan.file):\(d.nameSpan.start)" }

  private func expand(_ t: BuildTemplate) throws -> String {
    do {
      return try t.expand(file: plan.file) { variables[$0] }
    } catch {
      throw Self.shellError(error, at: call.head)
    }
  }

  /// A Jailfile error as a shell error located at the command, naming the file position.
  static func shellError(_ e: JailfileError, at span: Span) -> ShellError {
    var s = ShellError(.jailfileInvalid, e.description, at: span, help: e.help)
    s.payload["file"] = e.file
    s.payload["line"] = String(e.location.line)
    s.payload["column"] = String(e.location.column)
    return s
  }

  // MARK: - Steps

  private func execute(_ step: BuildStep) throws {
    let d = step.directive
    switch step.instruction {
    case .from(let image, let alias):
      let reference = try expand(image)
      var request = InstantiateRequest(
        imageReference: reference, mainNorun: true, initNorun: true, deinitNorun: true, persist: true,
        name: "build-" + Self.randomID())
      request.envs = [:]
      let id: String
      do {
        // ENOENT from instantiate also means a missing required variable: `describe_image`
        // decides whether the image is what is missing.
        id = try ObjectArgs.about(
          .image, reference, at: call.head, exists: { (try? ImageCommands.describeRecord(session, reference, at: call.head)) != nil }
        ) { try session.call(request, at: call.head).id }
      } catch var e as ShellError {
        e.message = "FROM at \(location(d)): \(e.message)"
        throw e
      }
      containers.append(id)
      current = id
      currentImage = reference
      if let alias { aliases[alias] = id }
    case .run(let command, let stdin):
      let argv = command.map { ["/bin/sh", "-c", $0] } ?? ["/bin/sh"]
      let feeder = try stdin.map { body in
        try StdinFeeder { fd in
          do { try StdinFeeder.writeAll(fd, Array(body.utf8)) } catch is StdinFeeder.BrokenPipe {}
        }
      }
      defer { feeder?.closeReadEnd() }
      let process = try BuildProcess(
        session, container: current!, argv: argv, env: variables, stdin: feeder?.readEnd, at: call.head)
      feeder?.closeReadEnd()
      let status = try process.wait(echo: verbose ? 2 : nil)
      try feeder?.finish()
      try check(status, of: process, d, what: "RUN")
    case .copy(let source, let destination, let from, let to):
      let src = try expand(source)
      let dest = try expand(destination)
      guard dest.hasPrefix("/") else {
        throw ShellError(
          .jailfileInvalid, "\(location(d)): COPY's destination must be an absolute path, found `\(dest)`",
          at: call.head)
      }
      let into = to.map { aliases[$0]! } ?? current!
      if session.modes.dryRun {
        // The copy's execs would be planned as `mkdir -p`, `tar -x`: the plan shows the copy.
        let origin = from.map { "stage=\(DryRunCaller.quoted($0)) " } ?? ""
        StandardError.write(
          "+ copy \(origin)source=\(DryRunCaller.quoted(src)) container=\(into) dest=\(DryRunCaller.quoted(dest))\n")
        return
      }
      if let from {
        try copyBetween(aliases[from]!, src, into, dest, d)
      } else {
        try copyFromHost(src, into, dest, d)
      }
    case .arg(let name, let defaultValue):
      if let v = buildArgs[name] {
        variables[name] = v
      } else if let defaultValue {
        variables[name] = try expand(defaultValue)
      } else if variables[name] == nil {
        throw ShellError(
          .buildArgument, "\(location(d)): ARG \(name) has no default and no --build-arg \(name)=VALUE was given",
          at: call.head)
      }
    case .env(let pairs):
      for (name, template) in pairs {
        let value = try expand(template)
        variables[name] = value
        edits.append(.env(name: name, value: value))
      }
    case .config(let edit):
      edits.append(edit)
    }
  }

  /// A non-zero status stops the build with the directive's location and output.
  private func check(_ status: WaitStatus, of process: BuildProcess, _ d: Directive, what: String) throws {
    guard status.exitCode != 0 else { return }
    let how = status.exitCode.map { "exited with status \($0)" } ?? "was killed by signal \(status.terminationSignal ?? 0)"
    let output = process.outputTail
    var e = ShellError(
      .buildStepFailed, "\(what) at \(location(d)) \(how)", at: call.head,
      help: verbose || output.isEmpty ? nil : "its output (last lines):\n" + output.trimmingTrailingNewline(),
      exitCode: status.shellExitCode, command: call.name)
    e.payload["file"] = plan.file
    e.payload["line"] = String(d.nameSpan.start.line)
    e.payload["column"] = String(d.nameSpan.start.column)
    e.payload["output"] = output
    throw e
  }

  /// Runs `argv` in `container` to completion (output kept, not shown); fails like a RUN.
  @discardableResult
  private func run(_ argv: [String], in container: String, _ d: Directive, stdin: FileDescriptor? = nil) throws -> String {
    let process = try BuildProcess(session, container: container, argv: argv, env: [:], stdin: stdin, at: call.head)
    try check(try process.wait(echo: nil), of: process, d, what: "COPY (\(argv[0]))")
    return process.outputTail
  }

  // MARK: - COPY

  /// COPY SRC DEST from the build context: a directory's contents (or `SRC/`, `.`) go into
  /// DEST; a file becomes DEST, or DEST/NAME when DEST ends in `/`.
  private func copyFromHost(_ src: String, _ container: String, _ dest: String, _ d: Directive) throws {
    let path = src.hasPrefix("/") ? src : context + "/" + src
    var st = stat()
    guard stat(path, &st) == 0 else {
      throw ShellError(
        .buildCopy, "COPY at \(location(d)): cannot read \(path): \(String(cString: strerror(errno)))",
        at: call.head)
    }
    let isDir = st.st_mode & S_IFMT == S_IFDIR
    let (dir, name) = isDir ? (dest, "") : try placement(of: src, at: dest, in: container)
    try run(["mkdir", "-p", dir], in: container, d)
    let feeder = try StdinFeeder { fd in
      do { try TarStream(fd: fd).write(path, as: name) } catch is StdinFeeder.BrokenPipe {}
    }
    defer { feeder.closeReadEnd() }
    let process = try BuildProcess(
      session, container: container, argv: ["tar", "-x", "-f", "-", "-C", dir], env: [:], stdin: feeder.readEnd,
      at: call.head)
    feeder.closeReadEnd()
    let status = try process.wait(echo: nil)
    do { try feeder.finish() } catch let e as TarStream.Failure {
      throw ShellError(.buildCopy, "COPY at \(location(d)): \(e.description)", at: call.head)
    }
    try check(status, of: process, d, what: "COPY (tar)")
  }

  /// Where a copied file goes: (directory, file name). Into DEST when it ends in `/` or is a
  /// directory in the container (as `cp`), else DEST is the file.
  private func placement(of src: String, at dest: String, in container: String) throws -> (String, String) {
    let base = src.split(separator: "/").last.map(String.init) ?? src
    if dest.hasSuffix("/") { return (dest, base) }
    let probe = try BuildProcess(session, container: container, argv: ["test", "-d", dest], env: [:], stdin: nil, at: call.head)
    if try probe.wait(echo: nil).exitCode == 0 { return (dest, base) }
    let parts = dest.split(separator: "/")
    let dir = "/" + parts.dropLast().joined(separator: "/")
    return (dir, String(parts.last ?? Substring(base)))
  }

  /// COPY --from STAGE: a directory's contents stream through tar from one container to the
  /// other; a file through cat and tee, its mode copied after.
  private func copyBetween(_ source: String, _ src: String, _ container: String, _ dest: String, _ d: Directive) throws {
    let isDir = try BuildProcess(session, container: source, argv: ["test", "-d", src], env: [:], stdin: nil, at: call.head)
      .wait(echo: nil).exitCode == 0
    let fds = try makePipe()
    let (readEnd, writeEnd) = (FileDescriptor(rawValue: fds[0]), FileDescriptor(rawValue: fds[1]))
    // Each end is closed once: as soon as the process holding it has started, or at the end.
    var endOpen = [true, true]
    func closeEnd(_ i: Int) {
      guard endOpen[i] else { return }
      endOpen[i] = false
      try? (i == 0 ? readEnd : writeEnd).close()
    }
    defer {
      closeEnd(0)
      closeEnd(1)
    }
    let sink = open("/dev/null", O_WRONLY | O_CLOEXEC)
    defer { close(sink) }
    let (dir, name) = isDir ? (dest, "") : try placement(of: src, at: dest, in: container)
    try run(["mkdir", "-p", dir], in: container, d)
    let target = name.isEmpty ? dir : (dir == "/" ? "" : dir) + "/" + name
    let producer = try BuildProcess(
      session, container: source, argv: isDir ? ["tar", "-c", "-f", "-", "-C", src, "."] : ["cat", src], env: [:],
      stdin: nil, stdout: writeEnd, at: call.head)
    closeEnd(1)
    let consumer = try BuildProcess(
      session, container: container, argv: isDir ? ["tar", "-x", "-f", "-", "-C", dir] : ["tee", target], env: [:],
      stdin: readEnd, stdout: isDir ? nil : FileDescriptor(rawValue: sink), at: call.head)
    closeEnd(0)
    try check(try producer.wait(echo: nil), of: producer, d, what: "COPY --from (reading \(src))")
    try check(try consumer.wait(echo: nil), of: consumer, d, what: "COPY --from (writing \(target))")
    if !isDir {
      let mode = try run(["stat", "-c", "%a", src], in: source, d).trimmingCharacters(in: .whitespacesAndNewlines)
      try run(["chmod", mode, target], in: container, d)
    }
  }

  // MARK: - Release

  private func commit() throws -> Value {
    guard let current else { throw ShellError(.buildInternal, "no build container to commit", at: call.head) }
    // Replacing: the old image keeps its tag until the new one is complete.
    let staged = replacing ? Target(name: target.name, tag: "xcsh-build-" + Self.randomID()) : target
    _ = try session.call(CommitRequest(containerName: current, name: staged.name, tag: staged.tag), at: call.head)
    committed = true
    committedReference = staged.reference
    if session.modes.dryRun {
      // Nothing was committed: the image cannot be described; a placeholder lets the script go on.
      return try DaemonSession.value(DryRunImage(image_reference: target.reference), as: .image)
    }
    if !edits.isEmpty {
      let described = try session.call(DescribeImageRequest(imageReference: staged.reference), at: call.head)
      var config = described.jailImage.config?.xcExtension ?? JailConfig(secureLevel: 0)
      edits.apply(to: &config)
      _ = try session.call(ReplaceMetaRequest(imageReference: staged.reference, config: config), at: call.head)
    }
    if replacing {
      _ = try session.call(TagImageRequest(imageReference: staged.reference, newReference: target.reference), at: call.head)
      committedReference = target.reference
      _ = try session.call(RemoveImageRequest(imageReference: staged.reference), at: call.head)
    }
    let images = try session.call(ListAllImagesRequest(), at: call.head).manifests
    guard let record = images.first(where: { $0.imageReference == target.reference }) else {
      throw ShellError(.buildMissing, "the daemon committed \(target.reference) but does not list it", at: call.head)
    }
    return try DaemonSession.value(record, as: .image)
  }

  /// `--output-inplace`: the layer goes to a new file in `dir`, renamed to its diff id, and
  /// `jail.json` is the base image's manifest with the configuration edits. Returns
  /// `{diff_id, layer, manifest}` (paths).
  private func writeInPlace(to dir: String) throws -> Value {
    guard let current else { throw ShellError(.buildInternal, "no build container to commit", at: call.head) }
    let temporary = dir + "/.xcsh-layer-" + Self.randomID()
    let fd = open(temporary, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0o644)
    guard fd >= 0 else {
      throw ShellError(.buildOutput, "cannot create \(temporary): \(String(cString: strerror(errno)))", at: call.head)
    }
    var keep = false
    defer {
      close(fd)
      if !keep { unlink(temporary) }
    }
    let request = CommitRequest(containerName: current, name: target.name, tag: target.tag, altOut: FDRef(FileDescriptor(rawValue: fd)))
    let diffID = try session.call(request, at: call.head).commitId
    var manifest = try session.call(DescribeImageRequest(imageReference: currentImage), at: call.head).jailImage
    var config = manifest.config ?? ImageConfig()
    var jail = config.xcExtension ?? JailConfig(secureLevel: 0)
    edits.apply(to: &jail)
    config.xcExtension = jail
    manifest.config = config
    var fds: [FileDescriptor] = []
    let json = try WireEncoder().encode(manifest, descriptors: &fds)
    let layer = dir + "/" + diffID
    let manifestPath = dir + "/jail.json"
    guard FileManager.default.createFile(atPath: manifestPath, contents: Data(json)) else {
      throw ShellError(.buildOutput, "cannot write \(manifestPath)", at: call.head)
    }
    guard rename(temporary, layer) == 0 else {
      throw ShellError(.buildOutput, "cannot rename the layer to \(layer): \(String(cString: strerror(errno)))", at: call.head)
    }
    keep = true
    var r = Record()
    r["diff_id"] = .string(diffID, call.head)
    r["layer"] = .string(layer, call.head)
    r["manifest"] = .string(manifestPath, call.head)
    return .record(r, call.head)
  }

  /// Stops every build container and waits until the daemon no longer lists them.
  private func removeContainers() throws {
    let ids = containers
    containers = []
    guard !ids.isEmpty else { return }
    for id in ids { _ = try? session.call(KillContainerRequest(name: id), at: call.head) }
    let deadline = DispatchTime.now().uptimeNanoseconds + 30_000_000_000
    while true {
      let live = try session.call(ListContainersRequest(), at: call.head).map(\.id)
      let left = ids.filter(live.contains)
      if left.isEmpty { return }
      guard DispatchTime.now().uptimeNanoseconds < deadline else {
        throw ShellError(
          .buildCleanup, "build container\(left.count == 1 ? "" : "s") \(left.joined(separator: ", ")) still running after 30 s",
          at: call.head)
      }
      usleep(50_000)
    }
  }

  static func randomID() -> String {
    (0..<12).map { _ in String("0123456789abcdef".randomElement()!) }.joined()
  }
}

/// The image `build` returns in a dry run.
private struct DryRunImage: Encodable {
  var image_reference: String
}
