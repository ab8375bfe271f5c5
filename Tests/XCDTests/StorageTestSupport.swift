import Foundation
import Glibc
import SystemPackage
import Testing
import XCIPC

/// Helpers for the commit, volume and copy tests: run a command in a fresh container and
/// collect its output, run one in a live container, start a long-lived container.
enum Storage {
  /// `image` running `argv`, optionally named.
  static func request(_ image: String, _ argv: [String], name: String? = nil) -> InstantiateRequest {
    InstantiateRequest(
      imageReference: image,
      entryPoint: EntryPoint(entryPoint: argv[0], entryPointArgs: Array(argv.dropFirst())),
      name: name)
  }

  /// Runs `request` to its end; returns stdout+stderr and main's exit code.
  static func run(_ client: XCClient, _ request: InstantiateRequest) throws -> (output: String, code: Int32?) {
    var r = request
    let out = try TestPipe()
    let exited = try TestEventFD()
    r.stdout = out.writeRef
    r.stderr = out.writeRef
    r.mainExitedFd = exited.ref
    _ = try client.call(r)
    let text = try out.readAll()
    let code = try exited.exitStatus().exitCode
    try waitGone(client)
    return (text, code)
  }

  /// Main's exit is reported as soon as main exits and the container is released right
  /// after: waits (bounded) until every listed container is released (only `no_clean` ones,
  /// dead, stay listed).
  static func waitGone(_ client: XCClient, seconds: Double = 20) throws {
    let deadline = Date().addingTimeInterval(seconds)
    func live() throws -> Bool {
      try client.call(ListContainersRequest()).contains {
        (try? client.call(ShowContainerRequest(id: $0.id)).containerDead) != true
      }
    }
    while try live() {
      guard Date() < deadline else { throw TestFailure("containers still listed after \(seconds) s") }
      usleep(10_000)
    }
  }

  /// Runs a shell script in a fresh container of `image`; returns its output and exit code.
  static func sh(
    _ client: XCClient, _ image: String, _ script: String, mounts: [MountRequest] = []
  ) throws -> (output: String, code: Int32?) {
    var r = request(image, ["/bin/sh", "-c", script])
    r.mountReq = mounts
    return try run(client, r)
  }

  /// A long-lived container (`sleep`); the returned eventfd reports its end.
  static func sleeper(
    _ client: XCClient, _ image: String = "busybox:latest", name: String,
    mounts: [MountRequest] = []
  ) throws -> TestEventFD {
    let exited = try TestEventFD()
    var r = request(image, ["/bin/sleep", "1000"], name: name)
    r.mountReq = mounts
    r.mainExitedFd = exited.ref
    _ = try client.call(r)
    return exited
  }

  /// Runs a shell script in live container `name`; returns output and exit code.
  static func exec(_ client: XCClient, _ name: String, _ script: String) throws -> (output: String, code: Int32?) {
    let out = try TestPipe()
    let done = try TestEventFD()
    _ = try client.call(
      ExecRequest(
        name: name, arg0: "/bin/sh", args: ["-c", script], envs: ["PATH": "/bin"],
        stdout: out.writeRef, stderr: out.writeRef, notify: done.ref))
    let text = try out.readAll()
    return (text, try done.exitStatus().exitCode)
  }

  /// Kills container `name` and waits for its end.
  static func kill(_ client: XCClient, _ name: String, _ exited: TestEventFD) throws {
    _ = try client.call(KillContainerRequest(name: name))
    _ = try exited.exitStatus()
    try waitGone(client)
  }

  /// Runs a host program (argv, no shell); returns stdout and the exit status.
  static func host(_ argv: [String], stdin: String? = nil) throws -> (output: String, status: Int32) {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: argv[0])
    p.arguments = Array(argv.dropFirst())
    let out = Pipe()
    p.standardOutput = out
    p.standardError = FileHandle.nullDevice
    try p.run()
    let data = out.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    return (String(decoding: data, as: UTF8.self), p.terminationStatus)
  }

  /// A fresh temporary file opened read-write (removed when closed by the caller's defer).
  static func tempFile(_ dir: String, _ name: String) throws -> (String, FileDescriptor) {
    let path = dir + "/" + name
    let fd = try FileDescriptor.open(
      path, .readWrite, options: [.create, .truncate], permissions: [.ownerReadWrite])
    return (path, fd)
  }
}
