/// Something that can make typed xc calls: `XCClient`, or a fake in tests and `--dry-run`.
///
/// The shell's object commands depend on this rather than on `XCClient`, so the transport can be
/// swapped without touching them.
public protocol XCCaller: Sendable {
  /// Calls `R.method` with `request` and returns the typed answer.
  func call<R: XCRequest>(_ request: R, timeout: Duration?) throws(IPCError) -> R.Response
}

extension XCCaller {
  /// Calls with no timeout beyond the caller's default.
  public func call<R: XCRequest>(_ request: R) throws(IPCError) -> R.Response {
    try call(request, timeout: nil)
  }
}

extension XCClient: XCCaller {}
