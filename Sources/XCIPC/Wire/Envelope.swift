import SystemPackage

/// The JSON envelopes (spec 1.3): requests `{"method":…,"value":…}`, responses
/// `{"errno":…,"value":…}`, both keys always present, in that order.
///
/// Encoding uses `WireEncoder` (serde's key order and escaping), decoding `WireDecoder`
/// (strict JSON, unknown keys ignored as serde does).
public enum Envelope {
  /// A decoded response: the success value, or the daemon's error.
  public enum Reply<Value: Sendable>: Sendable {
    case success(Value)
    case failure(XCDaemonError)
  }

  // MARK: - Requests

  /// Encodes a request; `FDRef` fields append to the returned descriptor array.
  public static func encodeRequest<R: XCRequest>(
    _ request: R
  ) throws(IPCError) -> (body: [UInt8], descriptors: [FileDescriptor]) {
    try encodeRequest(method: R.method, value: request)
  }

  /// Encodes a request for an arbitrary method name and payload.
  public static func encodeRequest<V: Encodable>(
    method: String, value: V
  ) throws(IPCError) -> (body: [UInt8], descriptors: [FileDescriptor]) {
    var fds: [FileDescriptor] = []
    do {
      // Written by hand rather than through a wrapper struct: same bytes, less work.
      var body: [UInt8] = []
      body.reserveCapacity(128)
      body.append(contentsOf: #"{"method":"#.utf8)
      WireSink.writeString(method, to: &body)
      body.append(contentsOf: #","value":"#.utf8)
      try WireEncoder().encode(value, into: &body, descriptors: &fds)
      body.append(UInt8(ascii: "}"))
      return (body, fds)
    } catch {
      throw IPCError(.encoding, method: method, "cannot encode the request: \(error)")
    }
  }

  /// The method name of a request body, or nil when the body is not a request envelope.
  ///
  /// Fast path for what serde writes (`{"method":"name",…`); anything else is parsed fully.
  public static func method(of body: [UInt8]) -> String? {
    let prefix: [UInt8] = Array(#"{"method":""#.utf8)
    if body.count > prefix.count && body.starts(with: prefix) {
      var i = prefix.count
      while i < body.count {
        let b = body[i]
        if b == UInt8(ascii: "\"") {
          return String(decoding: body[prefix.count..<i], as: UTF8.self)
        }
        if b == UInt8(ascii: "\\") || b < 0x20 { break }
        i += 1
      }
    }
    return try? WireDecoder().decode(MethodOnly.self, from: body).method
  }

  /// Whether `body` is a well-formed request envelope (a JSON object with a string `method` and
  /// a `value` key) regardless of the payload's shape.
  public static func isWellFormedRequest(_ body: [UInt8]) -> Bool {
    (try? WireDecoder().decode(Shape.self, from: body)) != nil
  }

  /// Decodes the payload of a request body as `R`, resolving `FDRef` indices against
  /// `descriptors`. Errors are `DecodingError`s naming the offending field.
  public static func decodeRequest<R: Decodable>(
    _ type: R.Type, from body: [UInt8], descriptors: ReceivedDescriptors? = nil
  ) throws -> R {
    var decoder = WireDecoder()
    if let descriptors { decoder.userInfo[.xcReceivedDescriptors] = descriptors }
    // Fast path for serde's exact shape `{"method":"m","value":V}`: decode V alone. If the
    // slice is not one JSON value (extra keys, odd spacing), parse the whole envelope.
    if let range = valueRange(body, after: methodPrefixLength(body)) {
      do {
        return try decoder.decode(R.self, from: body[range])
      } catch let DecodingError.dataCorrupted(ctx) where ctx.codingPath.isEmpty {
        // fall through to the full parse, which reports errors with the right paths
      } catch let e as DecodingError {
        throw prefixed(e)
      }
    }
    return try decoder.decode(RequestIn<R>.self, from: body).value
  }

  /// The length of `{"method":"<name>",` when the body starts that way, else nil.
  private static func methodPrefixLength(_ body: [UInt8]) -> Int? {
    let prefix = #"{"method":""#.utf8
    guard body.count > prefix.count, body.starts(with: prefix) else { return nil }
    var i = prefix.count
    while i < body.count {
      let b = body[i]
      if b == UInt8(ascii: "\\") || b < 0x20 { return nil }
      if b == UInt8(ascii: "\"") {
        return i + 2 <= body.count && body[i + 1] == UInt8(ascii: ",") ? i + 2 : nil
      }
      i += 1
    }
    return nil
  }

  /// The range of V in `<prefix>"value":V}` (or `"errno":0,"value":V}` for responses).
  private static func valueRange(_ body: [UInt8], after start: Int?) -> Range<Int>? {
    guard let start else { return nil }
    let key = #""value":"#.utf8
    guard body.count > start + key.count + 1, body[start...].starts(with: key),
      body.last == UInt8(ascii: "}")
    else { return nil }
    return (start + key.count)..<(body.count - 1)
  }

  /// Re-roots a payload decoding error under `value`, as if the envelope had been decoded.
  private static func prefixed(_ e: DecodingError) -> DecodingError {
    let root = AnyCodingKey("value")
    switch e {
    case .keyNotFound(let k, let c):
      return .keyNotFound(
        k, .init(codingPath: [root] + c.codingPath, debugDescription: c.debugDescription))
    case .valueNotFound(let t, let c):
      return .valueNotFound(
        t, .init(codingPath: [root] + c.codingPath, debugDescription: c.debugDescription))
    case .typeMismatch(let t, let c):
      return .typeMismatch(
        t, .init(codingPath: [root] + c.codingPath, debugDescription: c.debugDescription))
    case .dataCorrupted(let c):
      return .dataCorrupted(
        .init(codingPath: [root] + c.codingPath, debugDescription: c.debugDescription))
    @unknown default:
      return e
    }
  }

  // MARK: - Responses

  /// Encodes a success response `{"errno":0,"value":…}`.
  public static func encodeSuccess<V: Encodable>(_ value: V) throws(IPCError) -> [UInt8] {
    do {
      var body: [UInt8] = []
      body.reserveCapacity(64)
      body.append(contentsOf: #"{"errno":0,"value":"#.utf8)
      var none: [FileDescriptor] = []
      try WireEncoder().encode(value, into: &body, descriptors: &none)
      body.append(UInt8(ascii: "}"))
      return body
    } catch {
      throw IPCError(.encoding, "cannot encode the response: \(error)")
    }
  }

  /// Encodes an error response `{"errno":N,"value":<error value>}`.
  public static func encodeFailure(_ error: XCDaemonError) -> [UInt8] {
    // An XCErrorValue always encodes; fall back to a fixed text rather than trap.
    (try? WireEncoder().encode(ResponseOut(errno: error.errno, value: error.value)))
      ?? Array(#"{"errno":5,"value":{"error":"unencodable error"}}"#.utf8)
  }

  /// Decodes a response body: errno 0 decodes `value` as `V`, anything else as an error value.
  public static func decodeResponse<V: Decodable & Sendable>(
    _ type: V.Type, from body: [UInt8]
  ) throws -> Reply<V> {
    // Fast path for serde's exact success shape `{"errno":0,"value":V}`.
    let prefix = #"{"errno":0,"#.utf8
    if body.starts(with: prefix), let range = valueRange(body, after: prefix.count) {
      if let v = try? WireDecoder().decode(V.self, from: body[range]) { return .success(v) }
    }
    return try WireDecoder().decode(ResponseIn<V>.self, from: body).reply
  }

  // MARK: - Shapes

  struct RequestIn<V: Decodable>: Decodable {
    var method: String
    var value: V
  }

  struct MethodOnly: Decodable { var method: String }

  struct Shape: Decodable {
    var method: String
    var value: JSONValue
  }

  struct ResponseOut<V: Encodable>: Encodable {
    var errno: Int
    var value: V
  }

  struct ResponseIn<V: Decodable & Sendable>: Decodable {
    var reply: Reply<V>
    enum CodingKeys: String, CodingKey { case errno, value }
    init(from decoder: any Decoder) throws {
      let c = try decoder.container(keyedBy: CodingKeys.self)
      let errno = try c.decode(Int.self, forKey: .errno)
      if errno == 0 {
        reply = .success(try c.decode(V.self, forKey: .value))
      } else {
        let value = try c.decodeIfPresent(XCErrorValue.self, forKey: .value) ?? .other(.null)
        reply = .failure(XCDaemonError(errno: errno, value: value))
      }
    }
  }

  /// Renders a decoding error as `field `a.b[2]`: what was wrong`, with the envelope's
  /// `value` prefix removed so paths are relative to the payload.
  public static func describe(_ error: any Error) -> String {
    guard let e = error as? DecodingError else { return "\(error)" }
    func path(_ keys: [any CodingKey], _ last: (any CodingKey)? = nil) -> String {
      var ks = keys
      if let last { ks.append(last) }
      if ks.first?.stringValue == "value" { ks.removeFirst() }
      if ks.isEmpty { return "the payload" }
      var s = ""
      for k in ks {
        if let i = k.intValue {
          s += "[\(i)]"
        } else {
          s += s.isEmpty ? k.stringValue : ".\(k.stringValue)"
        }
      }
      return "field `\(s)`"
    }
    switch e {
    case .keyNotFound(let key, let ctx):
      return "\(path(ctx.codingPath, key)): missing required key"
    case .valueNotFound(let type, let ctx):
      return "\(path(ctx.codingPath)): expected \(typeName(type)), found null"
    case .typeMismatch(let type, let ctx):
      return "\(path(ctx.codingPath)): expected \(typeName(type)) (\(ctx.debugDescription))"
    case .dataCorrupted(let ctx):
      return "\(path(ctx.codingPath)): \(ctx.debugDescription)"
    @unknown default:
      return "\(error)"
    }
  }

  private static func typeName(_ t: Any.Type) -> String {
    switch t {
    case is String.Type: "a string"
    case is Int.Type, is Int64.Type, is UInt8.Type: "an integer"
    case is Bool.Type: "a boolean"
    default:
      String(describing: t).hasPrefix("Array") ? "an array" : "\(t)"
    }
  }
}
