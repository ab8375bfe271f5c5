/// A request payload of one IPC method, tied to its method name and response type.
///
/// Every xc method has one conforming type (see `XCMethods.all`), so a call is typed end to
/// end:
///
///     let reply = try client.call(ShowContainerRequest(id: "web"))
///     print(reply.runningContainer.processes["main"]?.spawnInfo?.pid ?? 0)
public protocol XCRequest: Codable, Sendable {
  /// The success value of the method.
  associatedtype Response: Codable & Sendable
  /// The method name on the wire (exact, case-sensitive).
  static var method: String { get }
}

/// A request whose payload is JSON `null` (Rust `()`); `{}` is rejected (spec trap 3).
public protocol XCNullPayloadRequest: XCRequest {
  init()
}

extension XCNullPayloadRequest {
  /// Decodes only from `null`, as xcd does.
  public init(from decoder: any Decoder) throws {
    let c = try decoder.singleValueContainer()
    guard c.decodeNil() else {
      throw DecodingError.typeMismatch(
        Self.self,
        .init(codingPath: decoder.codingPath, debugDescription: "expected null (not {})"))
    }
    self.init()
  }

  /// Encodes as `null`.
  public func encode(to encoder: any Encoder) throws {
    var c = encoder.singleValueContainer()
    try c.encodeNil()
  }
}

/// A request whose payload is a bare image-reference string (spec trap 3).
public protocol XCBareStringRequest: XCRequest {
  /// The image reference, e.g. `freebsdxc/freebsd:13.2`.
  var imageReference: String { get }
  init(imageReference: String)
}

extension XCBareStringRequest {
  public init(from decoder: any Decoder) throws {
    self.init(imageReference: try decoder.singleValueContainer().decode(String.self))
  }

  public func encode(to encoder: any Encoder) throws {
    var c = encoder.singleValueContainer()
    try c.encode(imageReference)
  }
}
