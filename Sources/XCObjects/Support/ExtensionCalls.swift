import XCIPC
import XCShell

extension DaemonSession {
  /// Calls an `xcsh.*` extension method. A daemon without the extensions (xc's own) answers an
  /// unknown method with errno 2, the same errno an extension gives for a missing object; so a
  /// not-found answer is told apart by `servesExtensions` (a probe that cannot answer errno 2
  /// when served), never by the message. A daemon without them gives `daemon.unsupported`,
  /// "not supported by this daemon", naming the xcsh feature, instead of a "not found" that
  /// would read like a missing object.
  func callExtension<R: XCRequest>(_ request: R, feature: String, at span: Span) throws -> R.Response {
    do {
      return try call(request, at: span)
    } catch let e as ShellError where e.code == .daemonNotFound {
      if try servesExtensions(at: span) { throw e }
      throw Self.unsupported(method: R.method, feature: feature, at: span)
    }
  }

  /// Whether the daemon of the thread's route serves the `xcsh.*` extensions: `xcsh.stats`
  /// with no names, which a daemon that has it answers (with every live container) and never
  /// with errno 2. Asked once per route and remembered while its connection lasts.
  func servesExtensions(at span: Span) throws -> Bool {
    try extensionSupport(at: span).served { try callExtension(StatsRequest(names: []), at: span) != nil }
  }

  /// The error for a daemon that lacks `method`.
  static func unsupported(method: String, feature: String, at span: Span) -> ShellError {
    ShellError(
      .daemonUnsupported, "\(feature) is not supported by this daemon (it has no `\(method)` method)",
      at: span, help: "the Linux xcd serves it; xc's own daemon does not")
  }
}
