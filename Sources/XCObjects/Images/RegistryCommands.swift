import Glibc
import XCIPC
import XCShell

/// `pull`, `push`, `login`: images to and from registries.
enum RegistryCommands {
  static func all(_ s: DaemonSession) -> [any Command] { [pull(s), push(s), login(s)] }

  /// xc's in-progress quirk: this `fault` text is set during a normal pull (xc-ipc.md §5.12).
  static let inProgressFault = "cannot find usable config"

  static func pull(_ s: DaemonSession) -> Builtin {
    Builtin(
      Signature(
        "pull", category: .objects,
        summary: "Pull an image from a registry (IPC `pull_image`, then `download_stat` every 500 ms).",
        parameters: [
          .required("image", .string, "`[registry/]name:tag` or `name@sha256:…` (a tag is mandatory)."),
          .optional("local", .string, "An extra local reference to tag the image with."),
        ],
        examples: [Example("Pull and inspect", "pull freebsdxc/freebsd:13.2 | get jail_image.os")],
        details: "Shows progress on a terminal. Returns the image object once the pull is done.")
    ) { call, _ in
      let ref = try call.require("image").asString()
      let local = try call.string("local")
      try pullAndWait(s, ref, rename: local, call)
      return .value(try ImageCommands.describe(s, ref, at: call.head))
    }
  }

  /// Starts a pull and polls until it is done; a fault other than the in-progress quirk, or a
  /// task the daemon does not know, fails.
  static func pullAndWait(_ s: DaemonSession, _ ref: String, rename: String?, _ call: Call) throws {
    _ = try s.call(PullImageRequest(imageReference: ref, renameReference: rename), at: call.head)
    let progress = Progress(call)
    var unavailable = 0
    while true {
      let st = try s.call(DownloadStatRequest(imageReference: ref), at: call.head)
      if st.state == .done {
        progress.finish(Progress.pullLine(ref, st))
        return
      }
      if st.state == .faulted || (st.fault.map { $0 != inProgressFault } ?? false) {
        progress.finish(nil)
        throw ShellError(.pullFailed, "pull of `\(ref)` failed: \(st.fault ?? "the daemon reports a fault")", at: call.head)
      }
      if st.state == .unavailable {
        unavailable += 1
        if unavailable > 20 {
          progress.finish(nil)
          throw ShellError(.pullFailed, "the daemon has no pull task for `\(ref)`", at: call.head)
        }
      }
      progress.update(Progress.pullLine(ref, st))
      do { try Clock.sleep(milliseconds: 500, call) } catch {
        progress.finish(nil)
        throw error
      }
    }
  }

  static func push(_ s: DaemonSession) -> Builtin {
    Builtin(
      Signature(
        "push", category: .objects,
        summary: "Push a local image to a registry (IPC `push_image`, then `upload_stat` every 500 ms).",
        parameters: [
          .required("image", .object(.image), "The local reference or image object."),
          .required("remote", .string, "The remote reference (`registry/name:tag`)."),
          .switch("insecure", "Use http for a registry not configured by `login`."),
        ],
        details: "Shows progress on a terminal. Returns nothing; a failure is an error with the daemon's fault.")
    ) { call, _ in
      // An image object is pushed by the daemon it came from.
      try DaemonRoute.pipe(of: call.value("image")) { try pushHere(s, call) }
    }
  }

  private static func pushHere(_ s: DaemonSession, _ call: Call) throws -> XCShell.Pipe {
    let ref = try ObjectArgs.imageRef(try call.require("image"), at: call.head)
    let remote = try call.require("remote").asString()
    _ = try s.call(PushImageRequest(imageReference: ref, remoteReference: remote, insecure: call.has("insecure")), at: call.head)
    let progress = Progress(call)
    while true {
      let st = try s.call(UploadStatRequest(imageReference: ref, remoteReference: remote), at: call.head)
      if let fault = st.fault {
        progress.finish(nil)
        throw ShellError(.pushFailed, "push of `\(ref)` to `\(remote)` failed: \(fault)", at: call.head)
      }
      if st.done {
        progress.finish(Progress.pushLine(remote, st))
        return .empty
      }
      progress.update(Progress.pushLine(remote, st))
      do { try Clock.sleep(milliseconds: 500, call) } catch {
        progress.finish(nil)
        throw error
      }
    }
  }

  static func login(_ s: DaemonSession) -> Builtin {
    Builtin(
      Signature(
        "login", category: .objects,
        summary: "Store registry credentials in the daemon (IPC `login`; nothing is verified).",
        parameters: [
          .required("server", .string, "The registry host (`registry.example.com`, `localhost:5000`)."),
          .named("username", .string, short: "u", "The user name."),
          .named("password", .string, short: "p", "The password."),
          .switch("password-stdin", "Read the password from standard input (no echo on a terminal)."),
          .switch("insecure", "Reach the registry over http."),
        ])
    ) { call, _ in
      let server = try call.require("server").asString()
      guard let user = try call.string("username") else {
        throw ShellError(.argsMissing, "`login` needs `-u USER`", at: call.span)
      }
      var password = try call.string("password")
      if call.has("password-stdin") {
        guard password == nil else {
          throw ShellError(.argsConflict, "`login` takes `--password` or `--password-stdin`, not both", at: call.span)
        }
        password = try readPassword(call)
      }
      guard let password else {
        throw ShellError(.argsMissing, "`login` needs `--password PASS` or `--password-stdin`", at: call.span)
      }
      _ = try s.call(LoginRequest(username: user, password: password, server: server, insecure: call.has("insecure")), at: call.head)
      return .empty
    }
  }

  /// One line from stdin; on a terminal with a prompt and without echo.
  static func readPassword(_ call: Call) throws -> String {
    var saved = termios()
    let tty = isatty(0) == 1 && tcgetattr(0, &saved) == 0
    if tty {
      TerminalRelay.writeAll(2, Array("Enter password: ".utf8)[...])
      var t = saved
      t.c_lflag &= ~tcflag_t(ECHO)
      _ = tcsetattr(0, TCSANOW, &t)
    }
    defer {
      if tty {
        _ = tcsetattr(0, TCSANOW, &saved)
        TerminalRelay.writeAll(2, Array("\n".utf8)[...])
      }
    }
    var bytes: [UInt8] = []
    var b: UInt8 = 0
    while read(0, &b, 1) == 1, b != UInt8(ascii: "\n") { bytes.append(b) }
    if bytes.last == UInt8(ascii: "\r") { bytes.removeLast() }
    return String(decoding: bytes, as: UTF8.self)
  }
}
