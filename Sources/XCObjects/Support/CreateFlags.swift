import Foundation
import Glibc
import SystemPackage
import XCIPC
import XCShell

/// The creation flags `run` and `create` share (xc's `CreateArgs`, xc-cli.md §1.2), and the
/// `instantiate` request they make, field for field as xc's client fills it (xc-ipc.md §2.3).
enum CreateFlags {
  static let parameters: [Parameter] = [
    .named("name", .string, "The container's name (also its default host name)."),
    .named("hostname", .string, "The container's host name."),
    .named("env", .any, short: "e", "Environment variables: `NAME=VALUE`, repeatable or a list."),
    .named("env-file", .any, "Read environment variables from a file (Docker's format: `NAME=VALUE` lines, `#` comments); repeatable, `-e` wins."),
    .named("volume", .any, short: "v", "Mount a volume or host path: `NAME:/DEST`, `/HOST:/DEST`, `:ro` for read-only; repeatable."),
    .named("publish", .any, short: "p", "Publish a port: `[IFACE,…|][ADDR:]HOSTPORT[-END]:PORT[/tcp,udp]`; repeatable. Without `--network` or `--ip`, the Linux xcd puts the container on its default network."),
    .switch("vnet", "Give the container its own network stack (Linux xcd: on its default network unless `--network` or `--ip` is given)."),
    .switch("no-lo0", "With `--vnet`, do not add `lo0` (127.0.0.1/8, ::1/128)."),
    .named("network", .any, "Take an address from a network: `NAME`, `NAME|ADDR` or a network object; repeatable."),
    .named("ip", .any, "An unmanaged address: `IFACE` or `IFACE|ADDR[/LEN],…`; repeatable."),
    .named("main-address", .string, "The main address: `network/NAME` or `ipaddr/ADDR`."),
    .named("copy", .any, "Copy a host file in before start: `HOSTFILE:/DEST`; repeatable."),
    .named("user", .string, short: "u", "Run main as this user (xc's client never sends it; xcsh does)."),
    .named("group", .string, short: "g", "Run main with this group."),
    .switch("persist", "Keep the container after its main process exits (until `kill`)."),
    .switch("no-clean", "Keep the container's resources when it ends."),
    .named("dns", .any, "A name server for a generated resolv.conf; repeatable."),
    .named("dns-search", .any, "A search domain for the generated resolv.conf; repeatable."),
    .switch("empty-dns", "An empty resolv.conf."),
    .switch("dns-nop", "Leave the image's resolv.conf as it is."),
    .named("jail-param", .any, short: "o", "A raw jail parameter `KEY=VALUE`; repeatable."),
    .named("extra-layer", .any, "A tar archive (plain, gzip or zstd) extracted over the root before start; repeatable."),
    .named("net-group", .any, "Join a network group (hosts-file discovery); also give it as `--network`; repeatable."),
    .named("dataset", .any, short: "z", "Jail a ZFS dataset: `[VAR:]DATASET` (VAR is set to its name); repeatable."),
    .named("tap", .any, "Create a tap interface and put its name in this variable; repeatable."),
    .named("tun", .any, "As `--tap` (xc creates a tap for it too); repeatable."),
    .switch("usdt", "Unhide /dev/dtrace for USDT probes."),
    .switch("enable-pf", "Unhide /dev/pf."),
    .named("max-children", .int, "jail `children.max` (xc's `--max.children`)."),
  ] + ResourceCommands.parameters + LifecycleFlags.parameters

  /// Descriptors opened for a request (`-v` evidence, `--copy` sources), closed after the call.
  final class Opened {
    var fds: [CInt] = []
    func open(_ path: String, flag: String, _ call: Call) throws -> FDRef {
      let fd = Glibc.open(path, O_RDONLY | O_CLOEXEC)
      guard fd >= 0 else {
        throw ShellError(
          .argsValue, "`\(flag)`: cannot open `\(path)`: \(String(cString: strerror(errno)))", at: call.span)
      }
      fds.append(fd)
      return FDRef(FileDescriptor(rawValue: fd))
    }
    /// Holds the slot of a descriptor the relay opens on a remote host (a host path's
    /// evidence): the request must carry a descriptor there, but nothing of this machine is
    /// opened for it (docs/remote.md, "What each descriptor becomes").
    func remoteSlot(_ call: Call) throws -> FDRef {
      let fd = Glibc.open("/dev/null", O_RDONLY | O_CLOEXEC)
      guard fd >= 0 else {
        throw ShellError(.systemSlot, "cannot open /dev/null for a descriptor slot: \(String(cString: strerror(errno)))", at: call.span)
      }
      fds.append(fd)
      return FDRef(FileDescriptor(rawValue: fd))
    }

    /// The mount of host path `source` at `destination`: on this machine xc's way (the path
    /// canonicalized, opened here as evidence of access); on a remote host (`remote`, its
    /// name) the path is that host's, opened there by the relay, so it must be absolute and is
    /// neither resolved nor opened here. `fail` makes the error for a path that cannot be used.
    func hostMount(
      _ source: String, at destination: String, readOnly: Bool, remote: String?, flag: String, _ call: Call,
      fail: (String) -> ShellError
    ) throws -> MountRequest {
      if let remote {
        guard source.hasPrefix("/") else {
          throw fail("`\(source)` is relative to this machine's directory, but the container runs on host \(remote): give an absolute path of that host")
        }
        return MountRequest(source: OsString(source), dest: OsString(destination), evid: try remoteSlot(call), readOnly: readOnly)
      }
      // xc canonicalizes the path and sends an open descriptor as evidence of access.
      guard let real = realpath(source, nil) else { throw fail("no such host path `\(source)`") }
      let path = String(cString: real)
      free(real)
      let evid = try open(path, flag: flag, call)
      return MountRequest(source: OsString(path), dest: OsString(destination), evid: evid, readOnly: readOnly)
    }

    func close() {
      for fd in fds { _ = Glibc.close(fd) }
      fds = []
    }
    deinit { close() }
  }

  /// The request for `image` with the creation flags of `call`.
  /// `remote` is the host the request goes to (`DaemonSession.remoteHost`), nil for this
  /// machine's daemon: it decides whose path a `-v /host/path` is.
  static func request(_ call: Call, image: String, opened: Opened, remote: String?) throws -> InstantiateRequest {
    func syntax(_ body: () throws -> Void) throws {
      do { try body() } catch let e as FlagSyntaxError { throw ObjectArgs.syntax(e, call) }
    }
    let name = try call.string("name")
    var r = InstantiateRequest(
      imageReference: image, name: name, tapInterfaces: [], tunInterfaces: [])
    r.hostname = try call.string("hostname") ?? name
    r.envs = try envFiles(call).merging(try RunCommand.environment(call)) { _, flag in flag }
    r.vnet = call.has("vnet")
    r.persist = call.has("persist")
    r.noClean = call.has("no-clean")
    r.user = try call.string("user")
    r.group = try call.string("group")
    if r.vnet && !call.has("no-lo0") {
      r.ips.append(IpAssign(network: nil, addresses: ["127.0.0.1/8", "::1/128"], interface: "lo0"))
    }
    try syntax {
      for t in try ObjectArgs.strings(call, "ip") { r.ips.append(try FlagSyntax.ip(t)) }
      for t in try ObjectArgs.networks(call) { r.ipreq.append(try FlagSyntax.network(t)) }
      for t in try ObjectArgs.strings(call, "publish") { r.portRedirections.append(try FlagSyntax.publish(t)) }
      if let m = try call.string("main-address") { r.mainIpSelector = try FlagSyntax.mainAddress(m) }
      for t in try ObjectArgs.strings(call, "jail-param") {
        let (k, v) = try FlagSyntax.keyValue(t, flag: "-o")
        r.overrideProps[k] = v
      }
    }
    for t in try ObjectArgs.strings(call, "volume") {
      let b: FlagSyntax.Bind
      do { b = try FlagSyntax.bind(t) } catch { throw ObjectArgs.syntax(error, call) }
      if b.isHostPath {
        r.mountReq.append(
          try opened.hostMount(b.source, at: b.destination, readOnly: b.readOnly, remote: remote, flag: "-v", call) {
            ShellError(.argsValue, "`-v \(t)`: \($0)", at: call.span)
          })
      } else {
        r.mountReq.append(MountRequest(source: OsString(b.source), dest: OsString(b.destination), readOnly: b.readOnly))
      }
    }
    for t in try ObjectArgs.strings(call, "copy") {
      let c: (host: String, destination: String)
      do { c = try FlagSyntax.copy(t) } catch { throw ObjectArgs.syntax(error, call) }
      r.copies.append(CopyFile(source: try opened.open(c.host, flag: "--copy", call), destination: OsString(c.destination)))
    }
    for t in try ObjectArgs.strings(call, "extra-layer") { r.extraLayers.append(try opened.open(t, flag: "--extra-layer", call)) }
    r.netgroups = try ObjectArgs.strings(call, "net-group")
    for g in r.netgroups where !r.ipreq.contains(where: { $0.networkName == g }) {
      throw ShellError(.argsValue, "`--net-group \(g)`: also give `--network \(g)` (a group is a network's)", at: call.span)
    }
    for t in try ObjectArgs.strings(call, "dataset") {
      let parts = t.split(separator: ":", maxSplits: 1).map(String.init)
      let dataset = parts.count == 2 ? parts[1] : parts[0]
      guard !dataset.isEmpty, !dataset.hasPrefix("/") else {
        throw ShellError(.argsValue, "`-z \(t)`: expected `[VAR:]DATASET`, the dataset not starting with `/`", at: call.span)
      }
      if parts.count == 2 { r.envs[parts[0]] = dataset }
      r.jailDatasets.append(dataset)
    }
    r.tapInterfaces = try ObjectArgs.strings(call, "tap")
    r.tunInterfaces = try ObjectArgs.strings(call, "tun")
    r.enableUsdt = call.has("usdt")
    r.enablePf = call.has("enable-pf")
    if let n = try call.int("max-children") {
      guard n >= 0, n <= Int64(UInt32.max) else {
        throw ShellError(.argsValue, "`--max-children \(n)`: expected 0 to \(UInt32.max)", at: call.span)
      }
      r.childrenMax = Int(n)
    }
    r.dns = try dns(call)
    return r
  }

  /// The variables of every `--env-file`, in order (a later file wins).
  static func envFiles(_ call: Call) throws -> [String: String] {
    var envs: [String: String] = [:]
    for path in try ObjectArgs.strings(call, "env-file") {
      guard let bytes = FileManager.default.contents(atPath: path) else {
        throw ShellError(.fileRead, "`--env-file`: cannot read `\(path)`", at: call.span)
      }
      guard let text = String(data: bytes, encoding: .utf8) else {
        throw ShellError(.argsValue, "`--env-file`: `\(path)` is not UTF-8 text", at: call.span)
      }
      do {
        for (k, v) in try EnvFile.parse(text, file: path, environment: call.evaluator.environment) { envs[k] = v }
      } catch let e as EnvFile.Failure {
        throw ShellError(.argsValue, "`--env-file`: \(e)", at: call.span)
      }
    }
    return envs
  }

  /// xc's `DnsArgs`: `Inherit` unless told otherwise.
  static func dns(_ call: Call) throws -> DnsSetting {
    let servers = try ObjectArgs.strings(call, "dns")
    let search = try ObjectArgs.strings(call, "dns-search")
    if call.has("dns-nop") {
      guard !call.has("empty-dns"), servers.isEmpty, search.isEmpty else {
        throw ShellError(.argsConflict, "`--dns-nop` cannot be combined with other DNS flags", at: call.span)
      }
      return .nop
    }
    if call.has("empty-dns") { return .specified(servers: [], searchDomains: []) }
    if servers.isEmpty && search.isEmpty { return .inherit }
    return .specified(servers: servers, searchDomains: search)
  }
}

extension NetworkAllocRequest {
  /// The network an allocation is from.
  var networkName: String {
    switch self {
    case .any(let n): n
    case .explicit(let n, _): n
    }
  }
}
