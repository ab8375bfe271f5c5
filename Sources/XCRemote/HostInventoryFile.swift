import Foundation
import Yams

#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#endif

/// Reading and writing `hosts.yaml`: every key is checked (an unknown or not yet supported key
/// is an error naming file:line, never ignored), and a write replaces the file atomically.
extension HostInventory {
  /// Keys a host entry may have.
  static let hostKeys: Set<String> = ["address", "labels", "options", "sudo", "doas", "relay"]

  /// Parses the text of an inventory file (`path` only names it in errors).
  public init(parsing text: String, path: String) throws(InventoryError) {
    self.init(path: path)
    let root: Node?
    do {
      root = try Yams.compose(yaml: text)
    } catch let e as YamlError {
      throw Self.yamlError(e, path: path)
    } catch {
      throw InventoryError(path: path, line: nil, "not valid YAML: \(error)")
    }
    guard let root else { return }  // empty file
    guard case .mapping(let top) = root else {
      throw InventoryError(path: path, line: root.mark?.line, "the file must be a mapping with `hosts:` and `groups:`")
    }
    var groupsNode: Node.Mapping?
    for (k, v) in top {
      let key = try Self.string(k, path: path, what: "a top-level key")
      switch key {
      case "hosts":
        guard case .mapping(let m) = v else {
          if v.null != nil { continue }
          throw InventoryError(path: path, line: v.mark?.line, "`hosts` must map host names to entries")
        }
        for (hk, hv) in m { try hosts.append(Self.host(hk, hv, path: path, known: hosts)) }
      case "groups":
        guard case .mapping(let m) = v else {
          if v.null != nil { continue }
          throw InventoryError(path: path, line: v.mark?.line, "`groups` must map group names to lists of host names")
        }
        groupsNode = m
      default:
        throw InventoryError(path: path, line: k.mark?.line, "unknown key `\(key)` (an inventory has `hosts` and `groups`)")
      }
    }
    // Groups after hosts, so members may name hosts defined below the groups.
    for (gk, gv) in groupsNode ?? [:] {
      let name = try Self.string(gk, path: path, what: "a group name")
      try Self.checkName(name, what: "group", path: path, line: gk.mark?.line)
      if host(named: name) != nil || groups.contains(where: { $0.name == name }) {
        throw InventoryError(path: path, line: gk.mark?.line, "`\(name)` is defined twice (host and group names share one namespace)")
      }
      guard case .sequence(let seq) = gv else {
        throw InventoryError(path: path, line: gv.mark?.line, "group `\(name)` must be a list of host names")
      }
      var members: [String] = []
      for m in seq {
        let member = try Self.string(m, path: path, what: "a host name in group `\(name)`")
        guard host(named: member) != nil else {
          throw InventoryError(path: path, line: m.mark?.line, "group `\(name)` names `\(member)`, which is not a host in `hosts`")
        }
        if !members.contains(member) { members.append(member) }
      }
      groups.append((name, members))
    }
  }

  private static func host(_ k: Node, _ v: Node, path: String, known: [InventoryHost]) throws(InventoryError) -> InventoryHost {
    let name = try string(k, path: path, what: "a host name")
    let line = k.mark?.line
    try checkName(name, what: "host", path: path, line: line)
    guard !known.contains(where: { $0.name == name }) else {
      throw InventoryError(path: path, line: line, "host `\(name)` is defined twice")
    }
    guard case .mapping(let m) = v else {
      throw InventoryError(path: path, line: v.mark?.line ?? line, "host `\(name)` must be a mapping with `address: ssh://…`")
    }
    var h = InventoryHost(name: name, address: "")
    for (fk, fv) in m {
      let field = try string(fk, path: path, what: "a key of host `\(name)`")
      let fline = fk.mark?.line
      guard hostKeys.contains(field) else {
        throw InventoryError(
          path: path, line: fline,
          "host `\(name)`: unknown key `\(field)` (a host has `address`, `labels`, `options`, `sudo`, `doas`, `relay`)")
      }
      switch field {
      case "address":
        h.address = try string(fv, path: path, what: "the address of host `\(name)`")
        do throws(RemoteHostSyntaxError) {
          _ = try RemoteHost(parsing: h.address)
        } catch {
          throw InventoryError(path: path, line: fv.mark?.line, "host `\(name)`: \(error)")
        }
      case "labels":
        guard case .mapping(let lm) = fv else {
          throw InventoryError(path: path, line: fv.mark?.line, "host `\(name)`: `labels` must be a mapping of key: value")
        }
        for (lk, lv) in lm {
          let key = try string(lk, path: path, what: "a label key of host `\(name)`")
          try checkLabel(key, path: path, line: lk.mark?.line)
          h.labels[key] = try string(lv, path: path, what: "the value of label `\(key)` of host `\(name)`")
        }
      case "sudo", "doas":
        let text = try string(fv, path: path, what: "`\(field)` of host `\(name)`")
        guard let on = ["true": true, "false": false][text] else {
          throw InventoryError(path: path, line: fv.mark?.line, "host `\(name)`: `\(field)` must be true or false, not `\(text)`")
        }
        guard on else { continue }
        if h.privilege != .none {
          throw InventoryError(path: path, line: fline, "host `\(name)`: `sudo` and `doas` exclude each other")
        }
        h.privilege = field == "sudo" ? .sudo : .doas
      case "relay":
        let relay = try string(fv, path: path, what: "the relay path of host `\(name)`")
        try checkRelayPath(relay, host: name, path: path, line: fv.mark?.line)
        h.relayPath = relay
      default:  // options
        guard case .sequence(let seq) = fv else {
          throw InventoryError(path: path, line: fv.mark?.line, "host `\(name)`: `options` must be a list of Key=Value ssh options")
        }
        for o in seq {
          let option = try string(o, path: path, what: "an ssh option of host `\(name)`")
          try checkOption(option, path: path, line: o.mark?.line)
          h.options.append(option)
        }
      }
    }
    guard !h.address.isEmpty else {
      throw InventoryError(path: path, line: line, "host `\(name)` has no `address: ssh://…`")
    }
    return h
  }

  /// A scalar's text; a mapping or list where text belongs is an error.
  private static func string(_ n: Node, path: String, what: String) throws(InventoryError) -> String {
    guard case .scalar(let s) = n else {
      throw InventoryError(path: path, line: n.mark?.line, "expected \(what), found a \(n.mapping != nil ? "mapping" : "list")")
    }
    return s.string
  }

  private static func yamlError(_ e: YamlError, path: String) -> InventoryError {
    switch e {
    case .scanner(_, let problem, let mark, _), .parser(_, let problem, let mark, _), .composer(_, let problem, let mark, _):
      return InventoryError(path: path, line: mark.line, "not valid YAML: \(problem) (column \(mark.column))")
    default:
      return InventoryError(path: path, line: nil, "not valid YAML: \(e)")
    }
  }

  // MARK: - Writing

  /// The file's text: hosts then groups, in order, every string double-quoted (YAML's
  /// double-quoted form accepts JSON's escapes). Comments of the file read are not kept.
  public var text: String {
    var s = "# xcsh host inventory (docs/remote.md); written by `host add` / `host rm`.\nhosts:\n"
    if hosts.isEmpty { s = s.replacingOccurrences(of: "hosts:\n", with: "hosts: {}\n") }
    for h in hosts {
      s += "  \(h.name):\n    address: \(Self.quoted(h.address))\n"
      if !h.labels.isEmpty {
        s += "    labels:\n"
        for k in h.labels.keys.sorted() { s += "      \(Self.quoted(k)): \(Self.quoted(h.labels[k]!))\n" }
      }
      if !h.options.isEmpty {
        s += "    options:\n"
        for o in h.options { s += "      - \(Self.quoted(o))\n" }
      }
      if h.privilege != .none { s += "    \(h.privilege.rawValue): true\n" }
      if let r = h.relayPath { s += "    relay: \(Self.quoted(r))\n" }
    }
    if !groups.isEmpty {
      s += "groups:\n"
      for g in groups { s += "  \(g.name): [\(g.members.joined(separator: ", "))]\n" }
    }
    return s
  }

  static func quoted(_ s: String) -> String {
    let data = (try? JSONEncoder().encode(s)) ?? Data("\"\"".utf8)
    return String(decoding: data, as: UTF8.self).replacingOccurrences(of: "\\/", with: "/")
  }

  /// Writes the file atomically (a temporary file in the same directory, fsync, rename); the
  /// directory is made (0700) when missing. The previous file stays as `PATH.bak`.
  public func save() throws(InventoryError) {
    let dir = (path as NSString).deletingLastPathComponent
    do {
      try FileManager.default.createDirectory(atPath: dir.isEmpty ? "." : dir, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
    } catch {
      throw InventoryError(path: path, line: nil, "cannot make the directory: \(error.localizedDescription)")
    }
    let tmp = "\(path).tmp.\(getpid())"
    let fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
    guard fd >= 0 else { throw InventoryError(path: path, line: nil, "cannot write \(tmp): \(String(cString: strerror(errno)))") }
    let bytes = Array(text.utf8)
    var off = 0
    while off < bytes.count {
      let n = bytes.withUnsafeBytes { write(fd, $0.baseAddress! + off, $0.count - off) }
      if n < 0, errno == EINTR { continue }
      if n <= 0 {
        let err = String(cString: strerror(errno))
        close(fd)
        unlink(tmp)
        throw InventoryError(path: path, line: nil, "cannot write \(tmp): \(err)")
      }
      off += n
    }
    let synced = fsync(fd) == 0
    close(fd)
    guard synced else {
      unlink(tmp)
      throw InventoryError(path: path, line: nil, "cannot write \(tmp): \(String(cString: strerror(errno)))")
    }
    if FileManager.default.fileExists(atPath: path) {
      unlink(path + ".bak")
      _ = link(path, path + ".bak")
    }
    guard rename(tmp, path) == 0 else {
      let err = String(cString: strerror(errno))
      unlink(tmp)
      throw InventoryError(path: path, line: nil, "cannot replace the file: \(err)")
    }
  }
}
