import SystemPackage

/// A file descriptor field of a request: on the wire, the index of the descriptor in the
/// packet's descriptor array (spec section 1.4).
///
/// Sending: build it from a local descriptor (`FDRef(fd)`); `WireEncoder` appends the
/// descriptor to the packet and writes its index, so indices follow field order as in the
/// reference client. The caller keeps ownership of the local descriptor.
///
/// Receiving: decoding resolves the index against the received descriptors, failing (errno 22
/// from the server) when it is out of range. The descriptor still belongs to the message's
/// `ReceivedDescriptors`; call `take(_:)` there to keep it past the handler.
public struct FDRef: Codable, Sendable, Hashable {
  /// The local descriptor to send, or the received one; nil when decoded without descriptors.
  public var descriptor: FileDescriptor?
  /// The index on the wire, when decoded (or built from an index).
  public var index: Int?

  /// A reference to a local descriptor to be sent.
  public init(_ descriptor: FileDescriptor) {
    self.descriptor = descriptor
    self.index = nil
  }

  /// A reference by raw index (tests and hand-built packets).
  public init(index: Int) {
    self.descriptor = nil
    self.index = index
  }

  public init(from decoder: any Decoder) throws {
    let c = try decoder.singleValueContainer()
    let i = try c.decode(Int.self)
    if let table = decoder.userInfo[.xcReceivedDescriptors] as? ReceivedDescriptors {
      guard let fd = table.peek(i) else {
        throw DecodingError.dataCorrupted(
          .init(
            codingPath: decoder.codingPath,
            debugDescription:
              "descriptor index \(i) out of range (the packet carries \(table.count))"))
      }
      self.descriptor = fd
    } else {
      self.descriptor = nil
    }
    self.index = i
  }

  public func encode(to encoder: any Encoder) throws {
    var c = encoder.singleValueContainer()
    if let descriptor, let wire = encoder as? WireStreamEncoder {
      try c.encode(wire.appendDescriptor(descriptor))
    } else if let index {
      try c.encode(index)
    } else {
      throw EncodingError.invalidValue(
        self,
        .init(codingPath: encoder.codingPath, debugDescription: "descriptor needs WireEncoder"))
    }
  }
}

extension CodingUserInfoKey {
  /// Where `FDRef` finds the received descriptors while decoding.
  public static let xcReceivedDescriptors = CodingUserInfoKey(rawValue: "xc.receivedDescriptors")!
}
