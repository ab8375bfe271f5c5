import XCIPC

/// A flag value that does not follow xc's syntax: names the flag, the value and what is wrong.
public struct FlagSyntaxError: Error, Equatable, CustomStringConvertible {
  /// The flag as written (`-p`, `--ip`).
  public var flag: String
  /// The value given to it.
  public var value: String
  /// What is wrong, and the expected form.
  public var reason: String

  public var description: String { "`\(flag) \(value)`: \(reason)" }
}

/// xc's command-line value syntaxes (xc-cli.md §3) as pure functions: text in, IPC values out.
public enum FlagSyntax {
  // MARK: -p / --publish (§3.2)

  /// `[iface,…|]target[/proto,…]` with target `[ip,…:]hostports:port` → a `PortRedirection`
  /// as xc builds it: both protocols by default, `origin` empty, `dest_addr` left to the daemon.
  public static func publish(_ text: String, flag: String = "-p") throws(FlagSyntaxError) -> PortRedirection {
    func bad(_ why: String) -> FlagSyntaxError {
      FlagSyntaxError(flag: flag, value: text, reason: why + " (expected `[IFACE,…|][ADDR,…:]HOSTPORT[-END]:PORT[/tcp,udp]`, e.g. `8080:80/tcp`)")
    }
    var rest = Substring(text)
    var ifaces: [String]? = nil
    if let bar = rest.firstIndex(of: "|") {
      let list = rest[..<bar].split(separator: ",", omittingEmptySubsequences: false).map(String.init)
      for i in list where !isInterfaceName(i) { throw bad("`\(i)` is not an interface name") }
      ifaces = list
      rest = rest[rest.index(after: bar)...]
    }
    var protos: [NetProto] = [.tcp, .udp]
    if let slash = rest.lastIndex(of: "/"), !rest[slash...].contains(":"), !rest[slash...].contains("]") {
      protos = []
      for p in rest[rest.index(after: slash)...].split(separator: ",", omittingEmptySubsequences: false) {
        switch p.lowercased() {
        case "tcp": protos.append(.tcp)
        case "udp": protos.append(.udp)
        default: throw bad("unknown protocol `\(p)`")
        }
      }
      rest = rest[..<slash]
    }
    // The last two colon-separated fields are the ports; everything before is the address list
    // (IPv6 addresses are bracketed, so their colons are inside brackets).
    guard let lastColon = rest.lastIndex(of: ":") else { throw bad("missing `:PORT`") }
    let destText = rest[rest.index(after: lastColon)...]
    guard let dest = port(destText) else { throw bad("`\(destText)` is not a port (1-65535)") }
    let front = rest[..<lastColon]
    let hostText: Substring
    var addresses: [String]? = nil
    if let colon = lastUnbracketedColon(front) {
      hostText = front[front.index(after: colon)...]
      var list: [String] = []
      for a in front[..<colon].split(separator: ",", omittingEmptySubsequences: false) {
        guard let ip = address(a) else { throw bad("`\(a)` is not an IP address (IPv6 goes in brackets)") }
        list.append(ip)
      }
      addresses = list
    } else {
      hostText = front
    }
    let source: PortNum
    if let dash = hostText.firstIndex(of: "-") {
      guard let a = port(hostText[..<dash]), let b = port(hostText[hostText.index(after: dash)...]), a <= b else {
        throw bad("`\(hostText)` is not a port range START-END")
      }
      source = .range(a, b)
    } else {
      guard let p = port(hostText) else { throw bad("`\(hostText)` is not a port (1-65535)") }
      source = .single(p)
    }
    return PortRedirection(
      ifaces: ifaces, proto: protos, origin: [], addresses: addresses, sourcePort: source, destPort: dest,
      destAddr: nil)
  }

  // MARK: -v (§3.4)

  /// A `-v` item: a registered volume's name or a host path, a destination, and `:ro`.
  public struct Bind: Equatable, Sendable {
    /// The volume name, or the host path as written.
    public var source: String
    /// An absolute path in the container, or the key of a volume slot of the image.
    public var destination: String
    public var readOnly: Bool
    /// Host paths start with `.` or `/`; anything else names a volume.
    public var isHostPath: Bool { source.hasPrefix("/") || source.hasPrefix(".") }
  }

  /// `SRC:DEST[:ro|:rw]`, split at the first unescaped colon (`\:` escapes one; as in xc the
  /// backslash stays in the text).
  public static func bind(_ text: String, flag: String = "-v") throws(FlagSyntaxError) -> Bind {
    func bad(_ why: String) -> FlagSyntaxError {
      FlagSyntaxError(flag: flag, value: text, reason: why + " (expected `VOLUME:DEST` or `/HOST/PATH:DEST`, optionally `:ro`)")
    }
    var split: String.Index? = nil
    var i = text.startIndex
    while i < text.endIndex {
      if text[i] == "\\" {
        i = text.index(after: i)
        if i < text.endIndex { i = text.index(after: i) }
        continue
      }
      if text[i] == ":" {
        split = i
        break
      }
      i = text.index(after: i)
    }
    guard let split else { throw bad("missing `:DEST`") }
    let source = String(text[..<split])
    var dest = String(text[text.index(after: split)...])
    var readOnly = false
    if dest.hasSuffix(":ro") {
      readOnly = true
      dest.removeLast(3)
    } else if dest.hasSuffix(":rw") {
      dest.removeLast(3)
    }
    guard !source.isEmpty else { throw bad("the source is empty") }
    guard !dest.isEmpty else { throw bad("the destination is empty") }
    return Bind(source: source, destination: dest, readOnly: readOnly)
  }

  // MARK: --ip (§3.3)

  /// `IFACE` or `IFACE|CIDR[,CIDR…]` → an unmanaged address assignment.
  public static func ip(_ text: String, flag: String = "--ip") throws(FlagSyntaxError) -> IpAssign {
    func bad(_ why: String) -> FlagSyntaxError {
      FlagSyntaxError(flag: flag, value: text, reason: why + " (expected `IFACE` or `IFACE|ADDR[/LEN][,…]`, e.g. `bridge|10.0.0.5/24`)")
    }
    let parts = text.split(separator: "|", maxSplits: 1, omittingEmptySubsequences: false)
    let iface = String(parts[0])
    guard isInterfaceName(iface) else { throw bad("`\(iface)` is not an interface name") }
    var addresses: [String] = []
    if parts.count == 2 {
      for c in parts[1].split(separator: ",", omittingEmptySubsequences: false) {
        guard let cidr = cidr(c) else { throw bad("`\(c)` is not an address with an optional /LEN") }
        addresses.append(cidr)
      }
    }
    return IpAssign(network: nil, addresses: addresses, interface: iface)
  }

  // MARK: --network (§3.5)

  /// `NAME` (the next free address) or `NAME|ADDR[/LEN]` (that address).
  public static func network(_ text: String, flag: String = "--network") throws(FlagSyntaxError) -> NetworkAllocRequest {
    let parts = text.split(separator: "|", maxSplits: 1, omittingEmptySubsequences: false)
    let name = String(parts[0])
    guard !name.isEmpty else {
      throw FlagSyntaxError(flag: flag, value: text, reason: "the network name is empty (expected `NAME` or `NAME|ADDR`)")
    }
    guard parts.count == 2 else { return .any(network: name) }
    guard let c = cidr(parts[1]) else {
      throw FlagSyntaxError(flag: flag, value: text, reason: "`\(parts[1])` is not an address (expected `NAME|ADDR[/LEN]`)")
    }
    return .explicit(network: name, ip: c)
  }

  // MARK: --main-address, -e, --copy

  /// `network/NAME` or `ipaddr/ADDR` (`ipadd/` accepted, as xc prints it).
  public static func mainAddress(_ text: String, flag: String = "--main-address") throws(FlagSyntaxError) -> MainAddressSelector {
    if text.hasPrefix("network/"), text.count > 8 { return .network(String(text.dropFirst(8))) }
    for prefix in ["ipaddr/", "ipadd/"] where text.hasPrefix(prefix) {
      if let a = address(text.dropFirst(prefix.count)) { return .ipAddress(a) }
    }
    throw FlagSyntaxError(flag: flag, value: text, reason: "expected `network/NAME` or `ipaddr/ADDRESS`")
  }

  /// `KEY=VALUE`, split at the first `=`; the key must not be empty.
  public static func keyValue(_ text: String, flag: String) throws(FlagSyntaxError) -> (String, String) {
    guard let eq = text.firstIndex(of: "="), eq != text.startIndex else {
      throw FlagSyntaxError(flag: flag, value: text, reason: "expected `KEY=VALUE`")
    }
    return (String(text[..<eq]), String(text[text.index(after: eq)...]))
  }

  /// `HOSTFILE:DEST` for `--copy`: split at the last colon; the destination must be absolute.
  public static func copy(_ text: String, flag: String = "--copy") throws(FlagSyntaxError) -> (host: String, destination: String) {
    guard let colon = text.lastIndex(of: ":"), colon != text.startIndex else {
      throw FlagSyntaxError(flag: flag, value: text, reason: "expected `HOSTFILE:/DEST`")
    }
    let dest = String(text[text.index(after: colon)...])
    guard dest.hasPrefix("/") else {
      throw FlagSyntaxError(flag: flag, value: text, reason: "the destination `\(dest)` must be an absolute path")
    }
    return (String(text[..<colon]), dest)
  }

  /// `NAME:TAG` or `[host/]name:tag` split for `commit`: the name and the tag.
  public static func nameAndTag(_ text: String, flag: String) throws(FlagSyntaxError) -> (name: String, tag: String) {
    guard let colon = text.lastIndex(of: ":"), !text[colon...].contains("/"), colon != text.startIndex,
      text.index(after: colon) != text.endIndex
    else {
      throw FlagSyntaxError(flag: flag, value: text, reason: "expected `NAME:TAG` (a tag is mandatory in xc)")
    }
    return (String(text[..<colon]), String(text[text.index(after: colon)...]))
  }

  // MARK: - Pieces

  static func port(_ s: Substring) -> Int? {
    guard !s.isEmpty, s.allSatisfy(\.isASCII), let n = Int(s), (1...65535).contains(n) else { return nil }
    return n
  }

  static func isInterfaceName(_ s: String) -> Bool {
    guard let first = s.first, first.isASCII, first.isLetter else { return false }
    return s.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "." || $0 == "_" || $0 == "-") }
  }

  /// The colon that ends an address list, skipping colons inside `[…]`.
  static func lastUnbracketedColon(_ s: Substring) -> Substring.Index? {
    var depth = 0
    var found: Substring.Index? = nil
    var i = s.startIndex
    while i < s.endIndex {
      switch s[i] {
      case "[": depth += 1
      case "]": depth -= 1
      case ":" where depth == 0: found = i
      default: break
      }
      i = s.index(after: i)
    }
    return found
  }

  /// An IPv4 address, or a bracketed IPv6 one (brackets removed).
  static func address(_ s: Substring) -> String? {
    if s.hasPrefix("[") && s.hasSuffix("]") {
      let inner = s.dropFirst().dropLast()
      return isIPv6(inner) ? String(inner) : nil
    }
    if isIPv4(s) { return String(s) }
    return isIPv6(s) ? String(s) : nil
  }

  /// `ADDR[/LEN]`, IPv6 bracketed or bare.
  static func cidr(_ s: Substring) -> String? {
    var addr = s
    var len: Substring? = nil
    if let slash = s.lastIndex(of: "/") {
      addr = s[..<slash]
      len = s[s.index(after: slash)...]
    }
    guard let a = address(addr) else { return nil }
    guard let len else { return a }
    let max = a.contains(":") ? 128 : 32
    guard let n = Int(len), (0...max).contains(n), len.allSatisfy(\.isASCII) else { return nil }
    return "\(a)/\(n)"
  }

  static func isIPv4(_ s: Substring) -> Bool {
    let parts = s.split(separator: ".", omittingEmptySubsequences: false)
    return parts.count == 4
      && parts.allSatisfy { p in !p.isEmpty && p.count <= 3 && p.allSatisfy { $0.isASCII && $0.isNumber } && Int(p)! <= 255 }
  }

  static func isIPv6(_ s: Substring) -> Bool {
    guard s.contains(":"), s.count <= 45 else { return false }
    let groups = s.split(separator: ":", omittingEmptySubsequences: false)
    guard groups.count >= 3 || s == "::" else { return false }
    var doubles = 0
    var prev: Character = " "
    for c in s {
      if c == ":", prev == ":" { doubles += 1 }
      prev = c
    }
    guard doubles <= 1, !s.contains(":::") else { return false }
    for (i, g) in groups.enumerated() {
      if g.isEmpty { continue }
      if i == groups.count - 1, g.contains(".") { if !isIPv4(g) { return false } else { continue } }
      guard g.count <= 4, g.allSatisfy(\.isHexDigit) else { return false }
    }
    return true
  }
}
