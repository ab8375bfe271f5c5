// Methods the Linux daemon adds. Their names start with `XCMethods.extensionPrefix`; the real
// xcd answers them with errno 2 ("ipc method … not found"). Listed in docs/ipc.md.

/// `xcsh.remove_network`: delete a network that no container uses.
public struct RemoveNetworkRequest: XCRequest, Equatable {
  public typealias Response = NullResponse
  public static let method = "xcsh.remove_network"
  /// The network's name.
  public var name: String
  /// Creates the request.
  public init(name: String) { self.name = name }
}

/// `xcsh.remove_volume`: delete a volume that no container mounts.
public struct RemoveVolumeRequest: XCRequest, Equatable {
  public typealias Response = NullResponse
  public static let method = "xcsh.remove_volume"
  /// The volume's name.
  public var name: String
  /// Creates the request.
  public init(name: String) { self.name = name }
}

extension LogsRequest: XCRequest {
  public typealias Response = LogsResponse
  public static let method = "xcsh.logs"
}

extension XCMethods {
  /// The extension methods of the Linux daemon.
  public static let extensions: [any XCRequest.Type] = [
    RemoveNetworkRequest.self, RemoveVolumeRequest.self, LogsRequest.self,
    TagImageRequest.self,
  ]
}
