import SystemPackage

/// One received message: its JSON body and the descriptors that came with it (owned by the
/// frame until taken).
public struct Frame: Sendable {
  /// The JSON body.
  public var body: [UInt8]
  /// The received descriptors, closed when the last reference goes unless taken.
  public var descriptors: ReceivedDescriptors

  /// Creates a frame.
  public init(body: [UInt8], descriptors: ReceivedDescriptors) {
    self.body = body
    self.descriptors = descriptors
  }
}
