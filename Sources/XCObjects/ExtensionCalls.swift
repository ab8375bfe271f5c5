import XCIPC
import XCShell

extension DaemonSession {
  /// Calls an `xcsh.*` extension method. xc's daemon answers a method it does not have with
  /// errno 2 and exactly `ipc method <name> not found` (xc-ipc.md §1, "Unknown method name");
  /// that answer becomes `daemon.unsupported`, "not supported by this daemon", naming the
  /// xcsh feature, instead of a "not found" that would read like a missing object.
  func callExtension<R: XCRequest>(_ request: R, feature: String, at span: Span) throws -> R.Response {
    do {
      return try call(request, at: span)
    } catch let e as ShellError {
      throw Self.unsupported(e, method: R.method, feature: feature, at: span) ?? e
    }
  }

  /// The error for a daemon that lacks `method`, or nil when `e` is another failure.
  static func unsupported(_ e: ShellError, method: String, feature: String, at span: Span) -> ShellError? {
    guard e.message.hasSuffix("ipc method \(method) not found") else { return nil }
    return ShellError(
      "daemon.unsupported", "\(feature) is not supported by this daemon (it has no `\(method)` method)",
      at: span, help: "the Linux xcd serves it; xc's own daemon does not")
  }
}
