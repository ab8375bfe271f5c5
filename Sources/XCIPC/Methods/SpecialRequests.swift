// Requests whose payload is `null` or a bare string; the struct-shaped ones are generated in
// Generated/Payloads.swift.

/// `list_containers` request: `null`.
public struct ListContainersRequest: XCNullPayloadRequest, Equatable {
  public typealias Response = [ContainerManifest]
  public static let method = "list_containers"
  public init() {}
}

/// `purge` request: `null`. Garbage-collects untagged images synchronously.
public struct PurgeRequest: XCNullPayloadRequest, Equatable {
  public typealias Response = NullResponse
  public static let method = "purge"
  public init() {}
}

/// `list_rdr_rules` request: `null`.
public struct ListRdrRulesRequest: XCNullPayloadRequest, Equatable {
  public typealias Response = [PortRedirection]
  public static let method = "list_rdr_rules"
  public init() {}
}

/// `list_volumes` request: `null`.
public struct ListVolumesRequest: XCNullPayloadRequest, Equatable {
  public typealias Response = [String: Volume]
  public static let method = "list_volumes"
  public init() {}
}

/// `describe_image` request: the bare reference string. Not found is errno 1 with the bare
/// string `"ImageReferenceNotFound"`.
public struct DescribeImageRequest: XCBareStringRequest, Equatable {
  public typealias Response = DescribeImageResponse
  public static let method = "describe_image"
  public var imageReference: String
  public init(imageReference: String) { self.imageReference = imageReference }
}

/// `remove_image` request: the bare reference string. Succeeds even if nothing matched.
public struct RemoveImageRequest: XCBareStringRequest, Equatable {
  public typealias Response = NullResponse
  public static let method = "remove_image"
  public var imageReference: String
  public init(imageReference: String) { self.imageReference = imageReference }
}
