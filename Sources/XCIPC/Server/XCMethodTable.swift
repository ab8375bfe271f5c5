/// The dispatch table of a server: method name to typed handler.
///
///     var table = XCMethodTable()
///     table.register(ShowContainerRequest.self) { request, context in
///       guard let c = engine.find(request.id) else {
///         throw XCDaemonError.notFound("container with such identifier not found")
///       }
///       return ShowContainerResponse(runningContainer: c, containerDead: false)
///     }
///
/// A handler throws `XCDaemonError` to answer with an errno; any other error is answered with
/// errno 128 (xc's generic failure) and its description.
public struct XCMethodTable: Sendable {
  /// Turns a request frame into a response body, or nil to close the connection without
  /// answering (only for bodies that are not request envelopes at all).
  typealias Handler = @Sendable (Frame, XCRequestContext) -> [UInt8]?

  private(set) var handlers: [String: Handler] = [:]

  /// An empty table.
  public init() {}

  /// The registered method names, sorted.
  public var methods: [String] { handlers.keys.sorted() }

  /// Registers `handler` for `R.method`, replacing any earlier one.
  public mutating func register<R: XCRequest>(
    _ type: R.Type,
    _ handler: @escaping @Sendable (R, XCRequestContext) throws -> R.Response
  ) {
    handlers[R.method] = { frame, context in
      let request: R
      do {
        request = try Envelope.decodeRequest(
          R.self, from: frame.body, descriptors: frame.descriptors)
      } catch {
        if XCMethodTable.isEnvelopeError(error) { return nil }
        return Envelope.encodeFailure(
          .invalid("\(R.method): invalid payload: \(Envelope.describe(error))"))
      }
      do {
        return try Envelope.encodeSuccess(try handler(request, context))
      } catch let e as XCDaemonError {
        return Envelope.encodeFailure(e)
      } catch {
        return Envelope.encodeFailure(XCDaemonError(errno: 128, "\(R.method): \(error)"))
      }
    }
  }

  /// Errors about the envelope itself (not JSON, no `method`/`value`), which xcd answers by
  /// closing the connection; everything else is about the payload and gets errno 22.
  static func isEnvelopeError(_ error: any Error) -> Bool {
    guard let e = error as? DecodingError else { return true }
    switch e {
    case .dataCorrupted(let ctx): return ctx.codingPath.isEmpty
    case .keyNotFound(_, let ctx): return ctx.codingPath.isEmpty
    case .typeMismatch(_, let ctx), .valueNotFound(_, let ctx):
      return ctx.codingPath.isEmpty || ctx.codingPath.first?.stringValue == "method"
    @unknown default: return true
    }
  }
}
