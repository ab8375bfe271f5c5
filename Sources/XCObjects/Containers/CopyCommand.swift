import Foundation
import Glibc
import SystemPackage
import XCIPC
import XCShell

/// `cp SRC DEST`: files between this host and a live container, one side written
/// `CONTAINER:/PATH`. The tar streams go through a descriptor (IPC extensions `xcsh.copy_in`
/// and `xcsh.copy_out`); the host side is packed and unpacked by the host's `tar`.
enum CopyCommand {
  static func make(_ s: DaemonSession) -> Builtin {
    Builtin(
      Signature(
        "cp", category: .objects,
        summary: "Copy files between the host and a container (IPC extensions `xcsh.copy_in`, `xcsh.copy_out`).",
        parameters: [
          .required("source", .string, "A host path, or `CONTAINER:/PATH`."),
          .required("destination", .string, "A host path, or `CONTAINER:/PATH`: an existing directory receives the source under its own name; any other path is the copy's new name (its parent must exist)."),
        ],
        examples: [
          Example("A config file into a container", "cp ./nginx.conf web:/etc/nginx"),
          Example("A log directory out of a container", "cp web:/var/log/nginx ./logs"),
          Example("A file out of a container under a new name", "cp web:/etc/hosts ./hosts.copy"),
        ],
        details: "As Docker's `cp`: when the destination is an existing directory, the source (file, link or tree) keeps its name inside it; otherwise the destination is the copy's new name, replacing a file there, and its parent must exist. A container destination ending in `/` is a directory, created if missing. CONTAINER is a name, an id or a unique id prefix. xc has no such command (only `--copy` at creation).")
    ) { call, _ in
      let src = try call.require("source").asString()
      let dst = try call.require("destination").asString()
      switch (containerSide(src), containerSide(dst)) {
      case (nil, let (ref, path)?):
        try copyIn(host: src, ref: ref, path: path, s, call)
      case (let (ref, path)?, nil):
        try copyOut(ref: ref, path: path, host: dst, s, call)
      case (nil, nil):
        throw ShellError(.argsValue, "`cp`: one side must be `CONTAINER:/PATH`", at: call.span)
      default:
        throw ShellError(.argsValue, "`cp`: copy between two containers through the host, one side at a time", at: call.span)
      }
      return .empty
    }
  }

  /// `REF:/path` → (REF, /path); nil for a host path.
  static func containerSide(_ text: String) -> (String, String)? {
    guard let colon = text.firstIndex(of: ":"), colon != text.startIndex else { return nil }
    let ref = text[..<colon]
    let path = text[text.index(after: colon)...]
    guard !ref.contains("/"), path.hasPrefix("/") else { return nil }
    return (String(ref), String(path))
  }

  static func copyIn(host: String, ref: String, path: String, _ s: DaemonSession, _ call: Call) throws {
    guard access(host, F_OK) == 0 else {
      throw ShellError(.fileMissing, "`cp`: no such host path `\(host)`", at: call.span)
    }
    let (dir, base) = split(host)
    let archive = try temporary(call)
    defer { close(archive) }
    try tar(["-C", dir, "-cf", "-", base], stdin: nil, stdout: archive, call)
    lseek(archive, 0, SEEK_SET)
    try ObjectArgs.withContainer(s, .string(ref), at: call.head) { name in
      // A path not ending in "/" may be the copy's new name; the daemon decides, since only
      // it knows whether the path is an existing directory.
      let rename = path.hasSuffix("/") ? nil : true
      _ = try s.call(
        CopyInRequest(name: name, path: path, fd: FDRef(FileDescriptor(rawValue: archive)), rename: rename), at: call.head)
    }
  }

  static func copyOut(ref: String, path: String, host: String, _ s: DaemonSession, _ call: Call) throws {
    var st = stat()
    let intoDirectory = stat(host, &st) == 0 && (st.st_mode & S_IFMT) == S_IFDIR
    let (parent, newName) = split(host)
    if !intoDirectory {
      var p = stat()
      guard stat(parent, &p) == 0, (p.st_mode & S_IFMT) == S_IFDIR else {
        throw ShellError(.fileMissing, "`cp`: `\(parent)`, the parent of the destination `\(host)`, is not a directory on this host", at: call.span)
      }
    }
    let archive = try temporary(call)
    defer { close(archive) }
    try ObjectArgs.withContainer(s, .string(ref), at: call.head) { name in
      _ = try s.call(CopyOutRequest(name: name, path: path, fd: FDRef(FileDescriptor(rawValue: archive))), at: call.head)
    }
    lseek(archive, 0, SEEK_SET)
    if intoDirectory {
      try tar(["-C", host, "-xf", "-"], stdin: archive, stdout: nil, call)
      return
    }
    // A new name: unpack beside the destination, then rename the one member into place.
    var template = Array((parent + "/.xcsh-cp-XXXXXX").utf8CString)
    guard mkdtemp(&template) != nil else {
      throw ShellError(.systemTmp, "`cp`: cannot create a temporary directory in `\(parent)`: \(String(cString: strerror(errno)))", at: call.head)
    }
    let staging = String(decoding: template.dropLast().map { UInt8(bitPattern: $0) }, as: UTF8.self)
    defer { try? FileManager.default.removeItem(atPath: staging) }
    try tar(["-C", staging, "-xf", "-"], stdin: archive, stdout: nil, call)
    let members = (try? FileManager.default.contentsOfDirectory(atPath: staging)) ?? []
    guard members.count == 1, let member = members.first else {
      throw ShellError(.cpArchive, "`cp`: expected one member from `\(ref):\(path)`, got \(members.count)", at: call.head)
    }
    guard rename(staging + "/" + member, host) == 0 else {
      throw ShellError(.cpRename, "`cp`: cannot write `\(host)` (as `\(newName)`): \(String(cString: strerror(errno)))", at: call.span)
    }
  }

  /// `dir/name` → (`dir`, `name`), with `.` for a bare name and trailing slashes ignored.
  static func split(_ path: String) -> (String, String) {
    var p = path
    while p.count > 1, p.hasSuffix("/") { p.removeLast() }
    guard let slash = p.lastIndex(of: "/") else { return (".", p) }
    let dir = slash == p.startIndex ? "/" : String(p[..<slash])
    return (dir, String(p[p.index(after: slash)...]))
  }

  /// An unlinked temporary file for the archive.
  static func temporary(_ call: Call) throws -> CInt {
    var template = Array("/tmp/xcsh-cp-XXXXXX".utf8CString)
    let fd = mkstemp(&template)
    guard fd >= 0 else { throw ShellError(.systemTmp, "`cp`: cannot create a temporary file", at: call.head) }
    template.withUnsafeBufferPointer { _ = unlink($0.baseAddress!) }
    _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
    return fd
  }

  /// Runs the host's `tar` with `args` (argv, no shell) and the given stdin/stdout.
  static func tar(_ args: [String], stdin: CInt?, stdout: CInt?, _ call: Call) throws {
    let spawned = HostProcess.spawn(
      "tar", args, stdin: stdin.map { .fd($0) } ?? .inherit, stdout: stdout.map { .fd($0) } ?? .inherit)
    let pid: pid_t
    switch spawned {
    case .success(let p): pid = p
    case .failure(let e): throw ShellError(.systemSpawn, "`cp`: cannot run `tar`: \(e)", at: call.head)
    }
    var status: Int32 = 0
    while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
    let w = WaitStatus(rawValue: status)
    guard w.exitCode == 0 else {
      throw ShellError(.cpTar, "`cp`: `tar \(args.joined(separator: " "))` failed (\(w))", at: call.head)
    }
  }
}
