import Glibc

/// Every name a client gives the daemon, checked in one place before any work is done.
///
/// Each check throws `EngineError` (`.badName`, errno EINVAL) whose message names the field
/// (`instantiate: name`, `create_network: name`, …) and what is wrong, so the client's error
/// says where to look. Handlers of every feature (containers, networks, volumes, images,
/// registries) call these; keep new rules here so they stay uniform.
///
///     try Names.container(request.name, field: "instantiate: name")
///     try Names.imageReference(request.imageReference, field: "fd_import: image_reference")
public enum Names {
  /// The longest container name accepted (a hostname label and a path component).
  public static let maxLength = 64

  /// A container name: xc's rules (not an integer, no dot) plus what a hostname and a path
  /// component need (at most 64 characters of letters, digits, '-' and '_').
  public static func container(_ name: String, field: String) throws {
    if Int64(name) != nil { throw bad(field, name, "a container name cannot be an integer") }
    if name.contains(".") { throw bad(field, name, "a container name cannot contain a dot (.)") }
    try identifier(name, field: field)
  }

  /// A name or id used to look a container up (kill, exec, show, link): the identifier rule
  /// only, so 12-digit ids pass; "not found" is the lookup's business.
  public static func containerOrID(_ name: String, field: String) throws {
    try identifier(name, field: field)
  }

  /// A network name (also a network group's): short and plain, at most 15 characters of
  /// letters, digits, '-' and '_', so it can always name an interface, and no '/', '.' or
  /// space ever reaches a lease key, a hosts file or a log line.
  public static func network(_ name: String, field: String) throws {
    try identifier(name, field: field, maxLength: 15)
  }

  /// A Linux interface name (a network's bridge or alias interface, a static address's
  /// interface): 1 to 15 characters of letters, digits, '_', '-' and '.', not '.' or '..'.
  /// Checked before any name reaches `ip` or `nft`, whose inputs are line- and token-based.
  public static func interface(_ name: String, field: String) throws {
    let ok =
      (1...15).contains(name.utf8.count)
      && name.utf8.allSatisfy { c in
        (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a)
          || c == UInt8(ascii: "_") || c == UInt8(ascii: "-") || c == UInt8(ascii: ".")
      } && name != "." && name != ".."
    guard ok else {
      throw bad(field, name, "1-15 letters, digits, '_', '-' or '.'", kind: "interface name")
    }
  }

  /// A volume name: a directory below the state dir, so 1-128 of letters, digits, '_', '-'
  /// and '.', not starting with '.' or '-' (the engine's own rule, checked first here).
  public static func volume(_ name: String, field: String) throws {
    if name.isEmpty { throw bad(field, name, "it is empty", kind: "volume name") }
    if name.utf8.count > 128 { throw bad(field, name, "at most 128 characters", kind: "volume name") }
    guard name.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "_-.".contains($0)) })
    else { throw bad(field, name, "use only letters, digits, '_', '-' and '.'", kind: "volume name") }
    if name.hasPrefix(".") || name.hasPrefix("-") {
      throw bad(field, name, "it cannot start with '.' or '-'", kind: "volume name")
    }
  }

  /// An image reference (`[host/]name:tag` or `name@sha256:…`), parsed as the store will.
  public static func imageReference(_ text: String, field: String) throws {
    guard !text.isEmpty else { throw bad(field, text, "it is empty") }
    guard text.utf8.count <= 512 else { throw bad(field, text, "longer than 512 bytes") }
    let ref: ImageReference
    do {
      ref = try ImageReference(parsing: text)
    } catch let e as EngineError {
      throw EngineError(.badName, "\(field): \(e.message)", help: e.help, errno: .invalidArgument)
    }
    // The OCI distribution grammar: lowercase alphanumeric components joined by '.', '_',
    // '__' or '-', so no component is '.' or '..' and none can act as a path.
    for component in ref.name.split(separator: "/", omittingEmptySubsequences: false) {
      guard isRepositoryComponent(component) else {
        throw bad(
          field, text,
          "repository path components are lowercase letters and digits joined by '.', '_' or '-'")
      }
    }
    if let host = ref.hostname {
      let parts = host.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
      do {
        try hostname(String(parts[0]), field: field)
      } catch {
        throw bad(field, text, "the registry host is not a valid host name")
      }
      if parts.count == 2, (UInt16(parts[1]) ?? 0) == 0 {
        throw bad(field, text, "the registry port must be 1-65535")
      }
    }
  }

  static func isRepositoryComponent<S: StringProtocol>(_ c: S) -> Bool {
    let bytes = Array(c.utf8)
    func alnum(_ b: UInt8) -> Bool { (b >= 0x61 && b <= 0x7a) || (b >= 0x30 && b <= 0x39) }
    guard let first = bytes.first, let last = bytes.last, alnum(first), alnum(last) else {
      return false
    }
    var i = 0
    while i < bytes.count {
      if alnum(bytes[i]) {
        i += 1
        continue
      }
      // A separator: '.', '-' runs, '_' or '__', always between alphanumerics.
      var j = i
      while j < bytes.count && !alnum(bytes[j]) { j += 1 }
      let sep = String(decoding: bytes[i..<j], as: UTF8.self)
      guard sep == "." || sep == "_" || sep == "__" || sep.allSatisfy({ $0 == "-" }) else {
        return false
      }
      i = j
    }
    return true
  }

  /// A tag on its own: 1–128 of letters, digits, '_', '.', '-', not starting with '.' or '-'.
  public static func tag(_ tag: String, field: String) throws {
    guard !tag.isEmpty, tag.count <= 128 else { throw bad(field, tag, "1 to 128 characters") }
    guard tag.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "_.-".contains($0)) })
    else { throw bad(field, tag, "a tag may hold letters, digits, '_', '.' and '-'") }
    if tag.hasPrefix(".") || tag.hasPrefix("-") {
      throw bad(field, tag, "a tag cannot start with '.' or '-'")
    }
  }

  /// A hostname: RFC 1123 labels, at most 253 characters.
  public static func hostname(_ name: String, field: String) throws {
    guard !name.isEmpty, name.utf8.count <= 253 else {
      throw bad(field, name, "a hostname has 1 to 253 characters")
    }
    for label in name.split(separator: ".", omittingEmptySubsequences: false) {
      guard !label.isEmpty, label.count <= 63,
        label.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-") }),
        label.first != "-", label.last != "-"
      else {
        throw bad(field, name, "hostname labels are 1-63 letters, digits or inner '-'")
      }
    }
  }

  /// Letters, digits, '-' and '_' (plus `extra`), starting with a letter or digit.
  static func identifier(
    _ name: String, field: String, maxLength: Int = Names.maxLength, extra: String = ""
  ) throws {
    if name.isEmpty { throw bad(field, name, "it is empty") }
    if name.count > maxLength { throw bad(field, name, "at most \(maxLength) characters") }
    guard
      name.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "-_".contains($0) || extra.contains($0)) })
    else {
      throw bad(field, name, "use only letters, digits, '-' and '_'")
    }
    guard let first = name.first, first.isLetter || first.isNumber else {
      throw bad(field, name, "it must start with a letter or digit")
    }
  }

  static func bad(_ field: String, _ value: String, _ why: String, kind: String = "name")
    -> EngineError
  {
    EngineError(.badName, "\(field): bad \(kind) \(quoted(value)): \(why)", errno: .invalidArgument)
  }

  /// The value as it can be shown in one line of an error (control characters escaped,
  /// long values cut).
  static func quoted(_ value: String) -> String {
    var s = ""
    for u in value.unicodeScalars.prefix(80) {
      s += u.value < 0x20 || u.value == 0x7f ? u.escaped(asASCII: true) : String(u)
    }
    if value.unicodeScalars.count > 80 { s += "…" }
    return "\"\(s)\""
  }
}
