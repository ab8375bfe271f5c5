/// Caps the receiver applies before trusting a frame header.
public struct FrameLimits: Sendable, Hashable {
  /// The largest body accepted, in bytes; larger headers close the connection.
  public var maxBodyLength: Int
  /// The most descriptors per frame (xc's `max_supported_fds` is 64).
  public var maxDescriptors: Int

  /// Creates limits.
  public init(maxBodyLength: Int = 64 << 20, maxDescriptors: Int = 64) {
    self.maxBodyLength = maxBodyLength
    self.maxDescriptors = maxDescriptors
  }

  /// 64 MiB bodies, 64 descriptors.
  public static let `default` = FrameLimits()
}
