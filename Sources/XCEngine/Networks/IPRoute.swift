import Foundation
import Glibc

/// The few iproute2 operations the engine needs, each one `ip` run by argv (never a shell).
/// Several steps go in one `ip -batch -` process where they can, to keep container starts
/// cheap; steps inside a container's network namespace run under `nsenter --net`.
struct IPRoute {
  var ip = "/usr/sbin/ip"
  var nsenter = "/usr/bin/nsenter"
  var unshare = "/usr/bin/unshare"

  /// True if the host (our network namespace) has an interface `name`.
  func linkExists(_ name: String) -> Bool {
    FileSystem.exists("/sys/class/net/\(name)")
  }

  /// Host interfaces whose name starts with `prefix`.
  func links(prefix: String) -> [String] {
    FileSystem.list("/sys/class/net").filter { $0.hasPrefix(prefix) }
  }

  /// Runs `lines` (iproute2 commands without the leading `ip`) in one process; in the network
  /// namespace `netns` (an nsfs path, e.g. `/proc/PID/ns/net`) when given.
  func batch(_ lines: [String], inNetns netns: String? = nil, what: String) throws {
    guard !lines.isEmpty else { return }
    var argv = [ip, "-batch", "-"]
    if let netns { argv = [nsenter, "--net=\(netns)", "--"] + argv }
    try run(argv, input: lines.joined(separator: "\n") + "\n", what: what)
  }

  /// Creates a network namespace kept by a bind mount on `path` (a file it creates): it
  /// lives until that is unmounted, with or without processes in it.
  func makeNamespace(at path: String) throws {
    let fd = try sysCall("create \(path)") { open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0o600) }
    closeQuietly(fd)
    try run([unshare, "--net=\(path)", "true"], input: "", what: "create a network namespace")
  }

  /// Creates bridge `name` and brings it up.
  func addBridge(_ name: String) throws {
    try batch(["link add \(name) type bridge", "link set \(name) up"], what: "create bridge \(name)")
  }

  func deleteLink(_ name: String) throws {
    try batch(["link del \(name)"], what: "delete interface \(name)")
  }

  func addAddress(_ cidr: String, to dev: String) throws {
    try batch(["addr add \(cidr) dev \(dev)"], what: "add address \(cidr) to \(dev)")
  }

  func deleteAddress(_ cidr: String, from dev: String) throws {
    try batch(["addr del \(cidr) dev \(dev)"], what: "remove address \(cidr) from \(dev)")
  }

  /// True if `dev` holds `address` (any prefix).
  func hasAddress(_ address: String, on dev: String) -> Bool {
    guard let out = try? Subprocess.run([ip, "-o", "-4", "addr", "show", "dev", dev]) else {
      return false
    }
    return String(decoding: out.stdout, as: UTF8.self).contains(" \(address)/")
  }

  /// Sets an IPv4 per-interface sysctl (e.g. `route_localnet`).
  func setInterfaceSysctl(_ dev: String, _ key: String, _ value: String) throws {
    try Self.writeSysctl("/proc/sys/net/ipv4/conf/\(dev)/\(key)", value)
  }

  static func writeSysctl(_ path: String, _ value: String) throws {
    let fd = try sysCall("open \(path)") { open(path, O_WRONLY | O_CLOEXEC) }
    defer { closeQuietly(fd) }
    try writeAll(fd, Array(value.utf8))
  }

  /// Runs `argv` with `input` on its stdin (an unlinked temporary file, so any size is fine);
  /// a failure carries the tool's own words.
  func run(_ argv: [String], input: String, what: String) throws {
    var template = Array("/tmp/xcd-input-XXXXXX".utf8CString)
    let fd = try sysCall("create a temporary file") { mkstemp(&template) }
    unlink(template)
    _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
    defer { closeQuietly(fd) }
    try writeAll(fd, Array(input.utf8))
    _ = lseek(fd, 0, SEEK_SET)
    let out: Subprocess.Output
    do {
      out = try Subprocess.run(argv, stdin: fd)
    } catch {
      throw EngineError(
        .network, "cannot \(what): \(argv[0]) could not be run", help: "install iproute2 and nftables",
        errno: .ioError, detail: "\(error)")
    }
    guard out.exitedNormally else {
      throw EngineError(.network, "cannot \(what)", errno: .ioError, detail: out.stderrText)
    }
  }
}
