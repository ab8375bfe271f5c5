import Glibc

/// Overlay mounts and unmounts, and reading the mount table. The corresponding C functions
/// are `mount(2)` and `umount2(2)`.
enum Mount {
  /// Mounts an overlayfs at `target` with one read-only `lower` tree and a writable
  /// `upper`/`work` pair on the same filesystem.
  static func overlay(lower: String, upper: String, work: String, at target: String) throws {
    for path in [lower, upper, work] where path.contains(",") || path.contains(":") {
      // overlayfs splits its options on these characters; such a path cannot be expressed.
      throw EngineError(.system, "path cannot be used in an overlay mount: \(path)", errno: .invalidArgument)
    }
    let options = "lowerdir=\(lower),upperdir=\(upper),workdir=\(work)"
    try sysCall("mount overlay at \(target)") {
      Glibc.mount("overlay", target, "overlay", 0, options)
    }
  }

  /// Unmounts `target`; with `detach`, lazily (MNT_DETACH) when it is busy.
  static func unmount(_ target: String, detach: Bool = false) throws {
    try sysCall("unmount \(target)") { umount2(target, detach ? CInt(MNT_DETACH) : 0) }
  }

  /// Unmounts `target`, falling back to a lazy unmount if the filesystem is busy.
  static func unmountForcing(_ target: String) throws {
    do {
      try unmount(target)
    } catch let error as EngineError where error.errno == .resourceBusy {
      try unmount(target, detach: true)
    }
  }

  /// The mount points of this process's mount namespace at or below `directory`, deepest
  /// first (the order to unmount them in), read from `/proc/self/mountinfo`.
  static func mountPoints(under directory: String) -> [String] {
    guard let text = try? FileSystem.readString("/proc/self/mountinfo") else { return [] }
    let prefix = directory.hasSuffix("/") ? directory : directory + "/"
    var points: [String] = []
    for line in text.split(separator: "\n") {
      let fields = line.split(separator: " ", omittingEmptySubsequences: false)
      guard fields.count > 4 else { continue }
      let point = unescape(String(fields[4]))
      if point == directory || point.hasPrefix(prefix) { points.append(point) }
    }
    return points.sorted { $0.count > $1.count }
  }

  /// mountinfo escapes space, tab, newline and backslash as `\ooo` octal.
  private static func unescape(_ field: String) -> String {
    guard field.contains("\\") else { return field }
    var bytes: [UInt8] = []
    let raw = Array(field.utf8)
    var i = 0
    while i < raw.count {
      if raw[i] == UInt8(ascii: "\\"), i + 3 < raw.count,
        let value = UInt8(String(decoding: raw[(i + 1)...(i + 3)], as: UTF8.self), radix: 8)
      {
        bytes.append(value)
        i += 4
      } else {
        bytes.append(raw[i])
        i += 1
      }
    }
    return String(decoding: bytes, as: UTF8.self)
  }
}
