/// A remote host as the user names it: `ssh://[user@]host[:port][/socket/path]`.
public struct RemoteHost: Sendable, Hashable, CustomStringConvertible {
  /// The host as ssh resolves it (a name from ssh_config works too).
  public var host: String
  public var user: String?
  public var port: Int?
  /// The daemon's socket on that host.
  public var socketPath: String
  /// More ssh `-o Key=Value` options for this host (an inventory entry's `options`).
  public var sshOptions: [String] = []
  /// Who the relay runs as there: the ssh user, or root through `sudo -n` / `doas -n` (an
  /// inventory entry's `sudo: true` / `doas: true`), for a socket only root may open.
  public var privilege: RelayPrivilege = .none
  /// A pre-built relay on that host (an inventory entry's `relay:`): run as is, never compiled
  /// there; its version is checked in the handshake.
  public var relayPath: String?

  /// xc's default socket path.
  public static let defaultSocket = "/var/run/xc.sock"

  public init(host: String, user: String? = nil, port: Int? = nil, socketPath: String = RemoteHost.defaultSocket) {
    self.host = host
    self.user = user
    self.port = port
    self.socketPath = socketPath
  }

  /// Parses `ssh://[user@]host[:port][/socket/path]`; the error says what is wrong.
  public init(parsing text: String) throws(RemoteHostSyntaxError) {
    guard text.hasPrefix("ssh://") else {
      throw RemoteHostSyntaxError(text: text, problem: "a remote host is written ssh://[user@]host[:port][/socket/path]")
    }
    var rest = Substring(text.dropFirst("ssh://".count))
    var socket = RemoteHost.defaultSocket
    if let slash = rest.firstIndex(of: "/") {
      socket = String(rest[slash...])
      rest = rest[..<slash]
    }
    var user: String?
    if let at = rest.lastIndex(of: "@") {
      user = String(rest[..<at])
      rest = rest[rest.index(after: at)...]
      if user!.isEmpty { throw RemoteHostSyntaxError(text: text, problem: "the user before `@` is empty") }
    }
    var port: Int?
    if rest.hasPrefix("[") {  // [v6 address][:port]
      guard let close = rest.firstIndex(of: "]") else {
        throw RemoteHostSyntaxError(text: text, problem: "an IPv6 address needs its closing `]`")
      }
      let after = rest[rest.index(after: close)...]
      if after.hasPrefix(":") {
        guard let p = Int(after.dropFirst()), (1...65535).contains(p) else {
          throw RemoteHostSyntaxError(text: text, problem: "the port must be a number from 1 to 65535")
        }
        port = p
      } else if !after.isEmpty {
        throw RemoteHostSyntaxError(text: text, problem: "unexpected `\(after)` after the address")
      }
      rest = rest[rest.index(after: rest.startIndex)..<close]
    } else if let colon = rest.lastIndex(of: ":") {
      guard let p = Int(rest[rest.index(after: colon)...]), (1...65535).contains(p) else {
        throw RemoteHostSyntaxError(text: text, problem: "the port must be a number from 1 to 65535")
      }
      port = p
      rest = rest[..<colon]
    }
    guard !rest.isEmpty else { throw RemoteHostSyntaxError(text: text, problem: "the host name is empty") }
    // ssh would read a leading `-` as an option.
    guard !rest.hasPrefix("-"), rest.allSatisfy({ !$0.isWhitespace }) else {
      throw RemoteHostSyntaxError(text: text, problem: "`\(rest)` is not a host name")
    }
    // The path travels inside a remote shell command: keep it to characters no shell treats
    // specially.
    guard socket.utf8.allSatisfy({ RemoteHost.pathBytes.contains($0) }) else {
      throw RemoteHostSyntaxError(text: text, problem: "the socket path `\(socket)` may only use letters, digits and `/._-`")
    }
    self.init(host: String(rest), user: user, port: port, socketPath: socket)
  }

  static let pathBytes = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789/._-".utf8)

  /// `[user@]host[:port]`, how messages name the host.
  public var description: String {
    var s = user.map { "\($0)@" } ?? ""
    s += host.contains(":") ? "[\(host)]" : host
    if let port { s += ":\(port)" }
    return s
  }
}

/// How the relay is started on a host; the raw value is the command put before it.
public enum RelayPrivilege: String, Sendable, Hashable {
  case none = ""
  case sudo
  case doas
}

/// A host that is not a valid `ssh://` address.
public struct RemoteHostSyntaxError: Error, Sendable, CustomStringConvertible {
  public var text: String
  public var problem: String
  public var description: String { "invalid host `\(text)`: \(problem)" }
}
