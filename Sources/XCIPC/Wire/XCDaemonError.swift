/// The error value of a response (spec 1.6).
public enum XCErrorValue: Codable, Sendable, Hashable {
  /// `{"error": "<message>"}`, used by all methods but two.
  case message(String)
  /// A bare string naming a Rust enum variant (`describe_image`, `push_image`, errno 1),
  /// e.g. `"ImageReferenceNotFound"`.
  case typed(String)
  /// Any other shape (kept so nothing is lost).
  case other(JSONValue)

  enum CodingKeys: String, CodingKey { case error }

  public init(from decoder: any Decoder) throws {
    if let s = try? decoder.singleValueContainer().decode(String.self) {
      self = .typed(s)
    } else if let c = try? decoder.container(keyedBy: CodingKeys.self),
      let m = try? c.decode(String.self, forKey: .error)
    {
      self = .message(m)
    } else {
      self = .other(try JSONValue(from: decoder))
    }
  }

  public func encode(to encoder: any Encoder) throws {
    switch self {
    case .message(let m):
      var c = encoder.container(keyedBy: CodingKeys.self)
      try c.encode(m, forKey: .error)
    case .typed(let s):
      var c = encoder.singleValueContainer()
      try c.encode(s)
    case .other(let v):
      try v.encode(to: encoder)
    }
  }

  /// The human-readable text.
  public var text: String {
    switch self {
    case .message(let m): m
    case .typed(let s): s
    case .other(let v):
      (try? String(decoding: WireEncoder().encode(v), as: UTF8.self)) ?? "\(v)"
    }
  }
}

/// A daemon's error answer: a non-zero errno (FreeBSD numbering) and an error value.
/// Handlers throw it to answer with an error; the client reports it inside `IPCError`.
public struct XCDaemonError: Error, Sendable, Hashable, CustomStringConvertible {
  /// FreeBSD errno: EPERM=1, ENOENT=2, EIO=5, EEXIST=17, ENOTDIR=20, EINVAL=22,
  /// ETIMEDOUT=60; 1 is also the typed-error marker, 128 a generic failure.
  public var errno: Int
  /// The error value.
  public var value: XCErrorValue

  /// Creates an error answer.
  public init(errno: Int, value: XCErrorValue) {
    self.errno = errno
    self.value = value
  }

  /// `{"error": message}` with `errno`.
  public init(errno: Int, _ message: String) {
    self.init(errno: errno, value: .message(message))
  }

  /// ENOENT (2) with a message.
  public static func notFound(_ message: String) -> XCDaemonError { .init(errno: 2, message) }
  /// EINVAL (22) with a message.
  public static func invalid(_ message: String) -> XCDaemonError { .init(errno: 22, message) }
  /// EPERM (1) with a message.
  public static func notPermitted(_ message: String) -> XCDaemonError { .init(errno: 1, message) }
  /// EIO (5) with a message.
  public static func io(_ message: String) -> XCDaemonError { .init(errno: 5, message) }
  /// errno 1 with a bare string, the shape of `describe_image` and `push_image` errors.
  public static func typed(_ variant: String) -> XCDaemonError {
    .init(errno: 1, value: .typed(variant))
  }

  /// `errno N: text`.
  public var description: String { "errno \(errno): \(value.text)" }

  /// xc's typed error variants that say the addressed thing does not exist (`describe_image`'s
  /// `ImageReferenceNotFound`, `push_image`'s `NoSuchLocalReference`).
  public static let notFoundVariants: Set<String> = ["ImageReferenceNotFound", "NoSuchLocalReference"]

  /// Whether the answer says that something the request names does not exist: errno ENOENT,
  /// or a typed not-found variant. Decided from the errno and the variant, never from message
  /// text; ENOENT is also xc's answer for other missing things (a file in a container, a
  /// required variable), so callers confirm which object is missing.
  public var isNotFound: Bool {
    if errno == 2 { return true }
    if case .typed(let variant) = value { return Self.notFoundVariants.contains(variant) }
    return false
  }
}
