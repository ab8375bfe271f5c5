import Foundation
import XCIPC
import XCJailfile
import XCShell

#if canImport(Glibc)
  import Glibc
#endif

/// `build [PATH] --name NAME [--tag TAG] [-f FILE] [--build-arg K=V]…`: builds an image from
/// a Jailfile through the daemon and returns the image object.
enum BuildCommand {
  static func make(_ s: DaemonSession) -> Builtin {
    Builtin(
      Signature(
        "build", category: .objects,
        summary: "Build an image from a Jailfile (IPC `instantiate`, `exec`, `commit`, `replace_meta`).",
        parameters: [
          .optional("path", .string, "The build context: COPY sources are read from here.", default: .string(".", .unknown)),
          .named("name", .string, "The image's name (required)."),
          .named("tag", .string, "The image's tag.", default: .string("latest", .unknown)),
          .named("file", .string, short: "f", "The Jailfile (default: PATH/Jailfile)."),
          .named("build-arg", .any, "A build variable `NAME=VALUE` for an ARG (repeatable, or a list)."),
          .switch("force", "Replace an existing image of this reference: the tag moves to the new image (the old one stays, untagged, until `purge`)."),
          .switch("output-inplace", "Write the layer (named by its diff id) and jail.json here instead of registering an image."),
          .switch("quiet", short: "q", "No progress lines or step output, even on a terminal."),
          .switch("verbose", "Progress lines and step output even when stderr is not a terminal."),
        ],
        examples: [
          Example("Build an image and keep its reference", "let ref = (build examples/jailfile-build --name hello --tag 1 | get image_reference)"),
          Example("Set an ARG", "build . --name app --build-arg VERSION=1.2"),
        ],
        details: """
          The Jailfile language is xc's (docs/jailfile.md): FROM, RUN, COPY, ENV, ARG, WORKDIR,
          ENTRYPOINT, CMD, VOLUME, ADDENV, ALLOW, NOINIT, NODEINIT, SYSVIPC, MOUNT, DEVICE.
          The whole file is checked before anything runs. A failing RUN stops the build with
          its location (file:line:column), exit status and output. The build container is
          removed however the build ends. Progress shows on stderr when it is a terminal.
          """)
    ) { call, _ in
      try build(call, s)
    }
  }

  static func build(_ call: Call, _ s: DaemonSession) throws -> XCShell.Pipe {
    guard let name = try call.string("name"), !name.isEmpty else {
      throw ShellError(.argsMissing, "`build` needs the image's name: --name NAME", at: call.head)
    }
    let tag = try call.string("tag") ?? "latest"
    let contextArg = try call.string("path") ?? "."
    let cwd = FileManager.default.currentDirectoryPath
    let context = URL(fileURLWithPath: contextArg.hasPrefix("/") ? contextArg : cwd + "/" + contextArg).standardized.path
    var isDir: ObjCBool = false
    guard FileManager.default.fileExists(atPath: context, isDirectory: &isDir), isDir.boolValue else {
      throw ShellError(.buildContext, "the build context \(contextArg) is not a directory", at: call.head)
    }
    let fileArg = try call.string("file")
    let shown = fileArg ?? (contextArg == "." ? "Jailfile" : contextArg + "/Jailfile")
    let path = fileArg.map { $0.hasPrefix("/") ? $0 : cwd + "/" + $0 } ?? context + "/Jailfile"
    guard let data = FileManager.default.contents(atPath: path) else {
      throw ShellError(.buildJailfile, "cannot read the Jailfile \(shown)", at: call.head)
    }
    let plan: BuildPlan
    do {
      plan = try BuildPlan.parse(String(decoding: data, as: UTF8.self), file: shown)
    } catch {
      throw JailfileBuilder.shellError(error, at: call.head)
    }
    var buildArgs: [String: String] = [:]
    for item in call.value("build-arg")?.listOrSelf() ?? [] {
      let text = try item.asString()
      guard let eq = text.firstIndex(of: "="), eq != text.startIndex else {
        throw ShellError(.argsValue, "`--build-arg` takes NAME=VALUE, found `\(text)`", at: call.head)
      }
      buildArgs[String(text[..<eq])] = String(text[text.index(after: eq)...])
    }
    let verbose = !call.has("quiet") && (call.has("verbose") || isatty(2) == 1)
    let builder = JailfileBuilder(
      session: s, call: call, plan: plan, context: context,
      target: .init(name: name, tag: tag), buildArgs: buildArgs, verbose: verbose)
    if call.has("output-inplace") { builder.outputDirectory = cwd }
    builder.force = call.has("force")
    return .value(try builder.build())
  }
}
