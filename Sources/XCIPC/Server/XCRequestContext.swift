import XCSystem

/// What a handler knows about the request besides its payload.
public struct XCRequestContext: Sendable {
  /// The method name as received.
  public var method: String
  /// Who connected, as the kernel recorded it (`SO_PEERCRED`); for authorisation.
  public var peer: PeerCredentials
  /// The descriptors that came with the request. They are closed after the handler returns
  /// unless the handler `take`s them.
  public var descriptors: ReceivedDescriptors
  /// Identifies the connection (stable for its lifetime), e.g. for `link`'s "kill when the
  /// connection closes".
  public var connectionID: UInt64

  /// Creates a context (tests call handlers directly with one).
  public init(
    method: String, peer: PeerCredentials, descriptors: ReceivedDescriptors, connectionID: UInt64
  ) {
    self.method = method
    self.peer = peer
    self.descriptors = descriptors
    self.connectionID = connectionID
  }
}
