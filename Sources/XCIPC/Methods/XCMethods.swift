// Binds every payload type to its method name and response type (spec section 2).

extension InfoRequest: XCRequest {
  public typealias Response = InfoResponse
  public static let method = "info"
}
extension CreateChannelRequest: XCRequest {
  public typealias Response = EmptyResponse
  public static let method = "create_channel"
}
extension LoginRequest: XCRequest {
  public typealias Response = NullResponse
  public static let method = "login"
}
extension PullImageRequest: XCRequest {
  public typealias Response = PullImageResponse
  public static let method = "pull_image"
}
extension DownloadStatRequest: XCRequest {
  public typealias Response = ImportImageStatus
  public static let method = "download_stat"
}
extension PushImageRequest: XCRequest {
  public typealias Response = EmptyResponse
  public static let method = "push_image"
}
extension UploadStatRequest: XCRequest {
  public typealias Response = PushImageStatus
  public static let method = "upload_stat"
}
extension ListAllImagesRequest: XCRequest {
  public typealias Response = ListAllImagesResponse
  public static let method = "list_all_images"
}
extension DescribeImagesRequest: XCRequest {
  public typealias Response = [DescribeImageResponse]
  public static let method = "describe_images"
}
extension ReplaceMetaRequest: XCRequest {
  public typealias Response = JailImage
  public static let method = "replace_meta"
}
extension FdImportRequest: XCRequest {
  /// The diff id of the imported layer, as a bare string.
  public typealias Response = String
  public static let method = "fd_import"
}
extension CommitRequest: XCRequest {
  public typealias Response = CommitResponse
  public static let method = "commit"
}
extension InstantiateRequest: XCRequest {
  public typealias Response = InstantiateResponse
  public static let method = "instantiate"
}
extension ContinueInstantiateRequest: XCRequest {
  public typealias Response = ContainerIDResponse
  public static let method = "continue_instantiate"
}
extension RunMainRequest: XCRequest {
  public typealias Response = ContainerIDResponse
  public static let method = "run_main"
}
extension ShowContainerRequest: XCRequest {
  public typealias Response = ShowContainerResponse
  public static let method = "show_container"
}
extension ShowContainerNocacheRequest: XCRequest {
  public typealias Response = ShowContainerResponse
  public static let method = "show_container_nocache"
}
extension KillContainerRequest: XCRequest {
  public typealias Response = EmptyResponse
  public static let method = "kill_container"
}
extension ExecRequest: XCRequest {
  public typealias Response = SpawnInfo
  public static let method = "exec"
}
extension LinkRequest: XCRequest {
  public typealias Response = EmptyResponse
  public static let method = "link"
}
extension RdrRequest: XCRequest {
  /// xcd echoes the request.
  public typealias Response = RdrRequest
  public static let method = "rdr"
}
extension ListSiteRdrRequest: XCRequest {
  public typealias Response = [PortRedirection]
  public static let method = "list_site_rdr"
}
extension CreateNetworkRequest: XCRequest {
  public typealias Response = NullResponse
  public static let method = "create_network"
}
extension ListNetworksRequest: XCRequest {
  public typealias Response = ListNetworksResponse
  public static let method = "list_networks"
}
extension AddNetgroupRequest: XCRequest {
  public typealias Response = NullResponse
  public static let method = "add-netgroup"
}
extension CommitNetgroupRequest: XCRequest {
  public typealias Response = NullResponse
  public static let method = "commit_netgroup"
}
extension CreateVolumeRequest: XCRequest {
  public typealias Response = NullResponse
  public static let method = "create_volume"
}

/// The method table of the protocol.
public enum XCMethods {
  /// The 32 methods xcd registers, in the order of `xcd/src/ipc.rs`'s table.
  public static let all: [any XCRequest.Type] = [
    InfoRequest.self, CreateChannelRequest.self, LoginRequest.self, PullImageRequest.self,
    DownloadStatRequest.self, PushImageRequest.self, UploadStatRequest.self,
    ListAllImagesRequest.self, DescribeImageRequest.self, DescribeImagesRequest.self,
    RemoveImageRequest.self, PurgeRequest.self, ReplaceMetaRequest.self, FdImportRequest.self,
    CommitRequest.self, InstantiateRequest.self, ContinueInstantiateRequest.self,
    RunMainRequest.self, ListContainersRequest.self, ShowContainerRequest.self,
    ShowContainerNocacheRequest.self, KillContainerRequest.self, ExecRequest.self,
    LinkRequest.self, RdrRequest.self, ListRdrRulesRequest.self, CreateNetworkRequest.self,
    ListNetworksRequest.self, AddNetgroupRequest.self, CommitNetgroupRequest.self,
    CreateVolumeRequest.self, ListVolumesRequest.self,
  ]

  /// `list_site_rdr`: defined in xc and called by `xc rdr list`, but never registered, so
  /// xcd answers errno 2. Kept so a Linux daemon can implement it.
  public static let unregistered: [any XCRequest.Type] = [ListSiteRdrRequest.self]

  /// The prefix of methods the Linux daemon adds. xc's names are snake_case (plus
  /// `add-netgroup`) and never contain a dot, so `xcsh.` cannot collide with them.
  public static let extensionPrefix = "xcsh."
}
