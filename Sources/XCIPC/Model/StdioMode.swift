/// Where a container process's stdio goes (`xc/src/models/exec.rs`). Internally tagged on
/// `"type"`; tags are lowercase except `"Forward"` (spec trap 10).
public enum StdioMode: Codable, Sendable, Hashable {
  /// `{"type":"terminal"}`: a pty served on a UNIX socket.
  case terminal
  /// `{"type":"inherit"}`.
  case inherit
  /// `{"type":"files","stdout":path?,"stderr":path?}`.
  case files(stdout: String?, stderr: String?)
  /// `{"type":"Forward","stdin":fd?,"stdout":fd?,"stderr":fd?}` (supervisor-side fd numbers).
  case forward(stdin: Int?, stdout: Int?, stderr: Int?)

  enum CodingKeys: String, CodingKey { case type, stdin, stdout, stderr }

  public init(from decoder: any Decoder) throws {
    let c = try decoder.container(keyedBy: CodingKeys.self)
    let tag = try c.decode(String.self, forKey: .type)
    switch tag {
    case "terminal": self = .terminal
    case "inherit": self = .inherit
    case "files":
      self = .files(
        stdout: try c.decodeIfPresent(String.self, forKey: .stdout),
        stderr: try c.decodeIfPresent(String.self, forKey: .stderr))
    case "Forward":
      self = .forward(
        stdin: try c.decodeIfPresent(Int.self, forKey: .stdin),
        stdout: try c.decodeIfPresent(Int.self, forKey: .stdout),
        stderr: try c.decodeIfPresent(Int.self, forKey: .stderr))
    default:
      throw DecodingError.dataCorruptedError(
        forKey: .type, in: c, debugDescription: "unknown stdio mode \"\(tag)\"")
    }
  }

  public func encode(to encoder: any Encoder) throws {
    var c = encoder.container(keyedBy: CodingKeys.self)
    switch self {
    case .terminal: try c.encode("terminal", forKey: .type)
    case .inherit: try c.encode("inherit", forKey: .type)
    case .files(let out, let err):
      try c.encode("files", forKey: .type)
      try c.encode(out, forKey: .stdout)
      try c.encode(err, forKey: .stderr)
    case .forward(let i, let o, let e):
      try c.encode("Forward", forKey: .type)
      try c.encode(i, forKey: .stdin)
      try c.encode(o, forKey: .stdout)
      try c.encode(e, forKey: .stderr)
    }
  }
}
