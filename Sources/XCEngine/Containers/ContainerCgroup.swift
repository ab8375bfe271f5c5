import Foundation

/// Which cgroup hierarchy the container figures are read from, found once from the mount table.
///
/// runc (the cgroupfs driver, `cgroupsPath` `/xcd/<id>`) puts a container's cgroup at
/// `<root>/<controller>/xcd/<id>` on a v1 (or hybrid) host and at `<root>/xcd/<id>` on a
/// unified (v2) host; the files differ too (`cpuacct.usage` against `cpu.stat`'s `usage_usec`).
enum CgroupLayout: Equatable {
  /// One hierarchy per controller below `root` (hybrid hosts too: their v2 mount at
  /// `root/unified` carries no controllers).
  case v1(root: String)
  /// The unified hierarchy mounted at `root`.
  case unified(root: String)

  static let mountPoint = "/sys/fs/cgroup"

  /// The layout of this host, from `/proc/self/mountinfo` (v1 when it cannot be read).
  static let host: CgroupLayout = detect(
    mountInfo: (try? String(contentsOfFile: "/proc/self/mountinfo", encoding: .utf8)) ?? "")

  /// The layout a mount table describes: unified when a `cgroup2` file system is mounted at
  /// `/sys/fs/cgroup` itself, else v1.
  static func detect(mountInfo: String, mountPoint: String = mountPoint) -> CgroupLayout {
    for line in mountInfo.split(separator: "\n") {
      // mountinfo: ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTIONS [OPTIONAL…] - FSTYPE SOURCE SUPER
      let fields = line.split(separator: " ")
      guard fields.count > 4, let dash = fields.firstIndex(of: "-"), dash + 1 < fields.count else { continue }
      if fields[4] == mountPoint, fields[dash + 1] == "cgroup2" { return .unified(root: mountPoint) }
    }
    return .v1(root: mountPoint)
  }
}

/// The cgroup files of one container, in either layout.
struct ContainerCgroup {
  /// The OCI `cgroupsPath` of container `id`.
  static func path(_ id: String) -> String { "/xcd/" + id }

  let id: String
  var layout: CgroupLayout = .host

  /// A v1 controller's file, or the unified hierarchy's file of the same figure.
  private func read(v1 controller: String, _ v1File: String, v2 v2File: String) -> String? {
    let path =
      switch layout {
      case .v1(let root): "\(root)/\(controller)\(Self.path(id))/\(v1File)"
      case .unified(let root): "\(root)\(Self.path(id))/\(v2File)"
      }
    return try? String(contentsOfFile: path, encoding: .utf8)
  }

  private var isUnified: Bool { if case .unified = layout { true } else { false } }

  /// CPU time used, in nanoseconds (v2 counts microseconds).
  var cpuNanos: Int64? {
    let text = read(v1: "cpuacct", "cpuacct.usage", v2: "cpu.stat")
    if isUnified { return text.flatMap { Self.key("usage_usec", in: $0) }.map { $0 * 1000 } }
    return text.flatMap(Self.number)
  }

  var memoryBytes: Int64? {
    read(v1: "memory", "memory.usage_in_bytes", v2: "memory.current").flatMap(Self.number)
  }

  /// The memory limit in bytes; nil when there is none (`max` in v2, v1's page-rounded
  /// LONG_MAX) or it cannot be read.
  var memoryLimit: Int64? {
    guard let text = read(v1: "memory", "memory.limit_in_bytes", v2: "memory.max") else { return nil }
    guard let n = Self.number(text) else { return nil }
    return n >= Int64(1) << 62 ? nil : n
  }

  var pids: Int64? { read(v1: "pids", "pids.current", v2: "pids.current").flatMap(Self.number) }

  /// How many times the kernel's OOM killer killed a task of this cgroup (`oom_kill` in v1's
  /// `memory.oom_control`, Linux 4.13 and later, or v2's `memory.events`); nil when unreadable.
  var oomKills: Int64? {
    read(v1: "memory", "memory.oom_control", v2: "memory.events").flatMap { Self.key("oom_kill", in: $0) }
  }

  /// A file holding one number.
  static func number(_ text: String) -> Int64? {
    Int64(text.trimmingCharacters(in: .whitespacesAndNewlines))
  }

  /// The value of `key` in a flat-keyed file (`KEY VALUE` lines).
  static func key(_ key: String, in text: String) -> Int64? {
    for line in text.split(separator: "\n") {
      let parts = line.split(separator: " ")
      if parts.count == 2, parts[0] == key { return Int64(parts[1]) }
    }
    return nil
  }
}
