import Glibc
import SystemPackage

/// A failure of an engine operation: a stable code, a message a user can act on, and the
/// errno that xc's wire protocol would carry for it.
///
/// Errors are values, never printed by the engine; the daemon maps them to IPC errors.
public struct EngineError: Error, Sendable, Equatable, CustomStringConvertible {
  /// A stable, dotted error code such as `image.not_found`: the catalogue of every code the
  /// engine throws (the daemon appends it to its answers, so the strings never change).
  /// Callers decide by these (or by `errno`), never by the message.
  public struct Code: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
    public var description: String { rawValue }

    public static let imageNotFound = Code(rawValue: "image.not_found")
    public static let badReference = Code(rawValue: "image.bad_reference")
    public static let badArchive = Code(rawValue: "image.bad_archive")
    public static let digestMismatch = Code(rawValue: "image.digest_mismatch")
    public static let unsafePath = Code(rawValue: "image.unsafe_path")
    public static let containerNotFound = Code(rawValue: "container.not_found")
    public static let badName = Code(rawValue: "container.bad_name")
    public static let nameInUse = Code(rawValue: "container.name_in_use")
    public static let missingEnv = Code(rawValue: "container.missing_env")
    public static let badRequest = Code(rawValue: "container.bad_request")
    public static let notRunning = Code(rawValue: "container.not_running")
    public static let noSuchUser = Code(rawValue: "container.no_such_user")
    public static let runtimeFailed = Code(rawValue: "runtime.failed")
    public static let system = Code(rawValue: "system.failed")
    public static let state = Code(rawValue: "state.failed")
    public static let shutDown = Code(rawValue: "engine.shut_down")
    public static let network = Code(rawValue: "network.failed")
    public static let networkNotFound = Code(rawValue: "network.not_found")
    public static let networkExists = Code(rawValue: "network.exists")
    public static let networkInUse = Code(rawValue: "network.in_use")
    public static let noAddress = Code(rawValue: "network.no_address")
    public static let volumeNotFound = Code(rawValue: "volume.not_found")
    public static let volumeExists = Code(rawValue: "volume.exists")
    public static let volumeInUse = Code(rawValue: "volume.in_use")
    public static let unsupported = Code(rawValue: "engine.unsupported")
    /// The registry has no such repository, tag or blob.
    public static let registryNotFound = Code(rawValue: "registry.not_found")
    /// The registry (or its token service) refused the credentials, or wants some.
    public static let registryAuth = Code(rawValue: "registry.auth")
    /// The registry could not be reached (connection refused, DNS, TLS, timeout).
    public static let registryUnreachable = Code(rawValue: "registry.unreachable")
    /// The registry answered with an error or something that is not the distribution API.
    public static let registryFailed = Code(rawValue: "registry.failed")
  }

  public var code: Code
  /// One line, lowercase, no trailing period.
  public var message: String
  /// What the user can do about it, when there is something to say.
  public var help: String?
  /// The errno an xc-compatible daemon replies with (ENOENT, EINVAL, EIO, …).
  public var errno: Errno
  /// Raw diagnostic text from a tool the engine ran (runc's stderr, a decompressor's).
  public var detail: String?

  public init(
    _ code: Code, _ message: String, help: String? = nil, errno: Errno = .ioError,
    detail: String? = nil
  ) {
    self.code = code
    self.message = message
    self.help = help
    self.errno = errno
    self.detail = detail
  }

  public var description: String {
    var s = "\(code): \(message)"
    if let detail, !detail.isEmpty { s += ": \(detail)" }
    if let help { s += " (help: \(help))" }
    return s
  }
}

extension EngineError {
  static func imageNotFound(_ ref: String) -> EngineError {
    EngineError(
      .imageNotFound, "image not found: \(ref)",
      help: "list images with `images`, or import one first", errno: .noSuchFileOrDirectory)
  }

  static func containerNotFound(_ name: String) -> EngineError {
    EngineError(.containerNotFound, "no such container: \(name)", errno: .noSuchFileOrDirectory)
  }

  static func badArchive(_ message: String) -> EngineError {
    EngineError(
      .badArchive, message,
      help: "pass a tar of an OCI image layout (umoci, skopeo) or a `docker save` tar",
      errno: .invalidArgument)
  }

  static func system(_ what: String, _ errno: Errno) -> EngineError {
    EngineError(.system, "\(what): \(String(cString: strerror(errno.rawValue)))", errno: errno)
  }

  /// The failure of a libc call the engine made itself, from the calling thread's `errno`.
  static func system(_ what: String) -> EngineError {
    Self.system(what, Errno(rawValue: Glibc.errno))
  }
}
