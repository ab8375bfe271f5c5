import Foundation
import SystemPackage
import Testing

@testable import XCIPC

/// The `xc_extension` of spec 4.6, used by several requests.
let sampleJailConfig = JailConfig(
  secureLevel: 0, ports: [:], devfsRules: [], allow: [],
  entryPoints: [
    "main": ExecSpec(exec: "/bin/sh", args: [], environ: [:], defaultArgs: [], requiredEnvs: [])
  ],
  defaultEntryPoint: "main", specialMounts: [], mounts: [:])

let samplePortRedirection = PortRedirection(
  ifaces: nil, proto: [.tcp, .udp], origin: [], addresses: nil, sourcePort: .single(8080),
  destPort: 80, destAddr: nil)

// Descriptor stand-ins: encoding only records them, nothing is sent.
let started = FileDescriptor(rawValue: 10)
let exited = FileDescriptor(rawValue: 11)

func sampleInstantiate(withMountAndPublish: Bool) -> InstantiateRequest {
  InstantiateRequest(
    imageReference: "freebsdxc/freebsd:13.2", envs: ["TERM": "xterm"], vnet: true,
    enableUsdt: false,
    ips: [IpAssign(network: nil, addresses: ["127.0.0.1/8", "::1/128"], interface: "lo0")],
    ipreq: [.any(network: "default")],
    mountReq: withMountAndPublish
      ? [MountRequest(source: "/data", dest: "/srv", evid: FDRef(FileDescriptor(rawValue: 12)))]
      : [],
    copies: [],
    entryPoint: EntryPoint(entryPoint: "/bin/sh", entryPointArgs: []),
    hostname: "web", name: "web", extraLayers: [], mainStartedNotify: FDRef(started),
    overrideProps: [:], jailDatasets: [], netgroups: [], tapInterfaces: [], tunInterfaces: [],
    mainExitedFd: FDRef(exited), stdin: FDRef(.standardInput), stdout: FDRef(.standardOutput),
    stderr: FDRef(.standardError), useTty: true,
    portRedirections: withMountAndPublish ? [samplePortRedirection] : [])
}

/// One golden case: a request, its snapshot name, and the descriptor array it must produce.
struct GoldenCase: Sendable, CustomStringConvertible {
  var name: String
  var request: any XCRequest
  var descriptors: [CInt]
  var description: String { name }
}

let goldenCases: [GoldenCase] = [
  .init(name: "info", request: InfoRequest(), descriptors: []),
  .init(
    name: "create_channel", request: CreateChannelRequest(socketPath: "/var/run/xc.2.sock"),
    descriptors: []),
  .init(
    name: "login",
    request: LoginRequest(
      username: "alice", password: "s3cret", server: "registry.example.com", insecure: false),
    descriptors: []),
  .init(
    name: "pull_image", request: PullImageRequest(imageReference: "freebsdxc/freebsd:13.2"),
    descriptors: []),
  .init(
    name: "download_stat", request: DownloadStatRequest(imageReference: "freebsdxc/freebsd:13.2"),
    descriptors: []),
  .init(
    name: "push_image",
    request: PushImageRequest(
      imageReference: "app:1", remoteReference: "localhost:5000/app:1", insecure: true),
    descriptors: []),
  .init(
    name: "upload_stat",
    request: UploadStatRequest(imageReference: "app:1", remoteReference: "localhost:5000/app:1"),
    descriptors: []),
  .init(name: "list_all_images", request: ListAllImagesRequest(), descriptors: []),
  .init(
    name: "describe_image", request: DescribeImageRequest(imageReference: "freebsdxc/freebsd:13.2"),
    descriptors: []),
  .init(
    name: "describe_images", request: DescribeImagesRequest(imageName: "freebsdxc/freebsd"),
    descriptors: []),
  .init(
    name: "remove_image",
    request: RemoveImageRequest(imageReference: "index.docker.io/freebsdxc/freebsd:13.2"),
    descriptors: []),
  .init(name: "purge", request: PurgeRequest(), descriptors: []),
  .init(
    name: "replace_meta",
    request: ReplaceMetaRequest(imageReference: "app:1", config: sampleJailConfig),
    descriptors: []),
  .init(
    name: "fd_import",
    request: FdImportRequest(
      fd: FDRef(FileDescriptor(rawValue: 20)), config: sampleJailConfig, imageReference: "base:1"),
    descriptors: [20]),
  .init(
    name: "commit", request: CommitRequest(containerName: "web", name: "web-snap", tag: "1"),
    descriptors: []),
  .init(
    name: "commit_alt_out",
    request: CommitRequest(
      containerName: "web", name: "web-snap", tag: "1", altOut: FDRef(.standardOutput)),
    descriptors: [1]),
  .init(
    name: "instantiate", request: sampleInstantiate(withMountAndPublish: false),
    descriptors: [10, 11, 0, 1, 2]),
  .init(
    name: "instantiate_mount_publish", request: sampleInstantiate(withMountAndPublish: true),
    descriptors: [12, 10, 11, 0, 1, 2]),
  .init(
    name: "continue_instantiate",
    request: ContinueInstantiateRequest(id: "5f3c9a7e21b4", clearences: ["path bpf unhide"]),
    descriptors: []),
  .init(
    name: "run_main", request: RunMainRequest(name: "web", notify: FDRef(started)),
    descriptors: [10]),
  .init(name: "list_containers", request: ListContainersRequest(), descriptors: []),
  .init(name: "show_container", request: ShowContainerRequest(id: "web"), descriptors: []),
  .init(
    name: "show_container_nocache", request: ShowContainerNocacheRequest(id: "5f3c9a7e21b4"),
    descriptors: []),
  .init(name: "kill_container", request: KillContainerRequest(name: "web"), descriptors: []),
  .init(
    name: "exec",
    request: ExecRequest(
      name: "web", arg0: "/bin/ls", args: ["-l", "/"], envs: [:], stdin: FDRef(.standardInput),
      stdout: FDRef(.standardOutput), stderr: FDRef(.standardError),
      notify: FDRef(FileDescriptor(rawValue: 13)), useTty: false),
    descriptors: [0, 1, 2, 13]),
  .init(
    name: "exec_tty",
    request: ExecRequest(
      name: "web", arg0: "/bin/sh", args: [], envs: ["TERM": "xterm"],
      notify: FDRef(FileDescriptor(rawValue: 13)), useTty: true),
    descriptors: [13]),
  .init(
    name: "link", request: LinkRequest(name: "web", fd: FDRef(FileDescriptor(rawValue: 14))),
    descriptors: [14]),
  .init(
    name: "rdr", request: RdrRequest(name: "web", redirection: samplePortRedirection),
    descriptors: []),
  .init(name: "list_rdr_rules", request: ListRdrRulesRequest(), descriptors: []),
  .init(
    name: "create_network",
    request: CreateNetworkRequest(
      name: "default", aliasIface: "xc0", bridgeIface: "xc0", subnet: "172.16.0.0/24",
      defaultRouter: "172.16.0.254"),
    descriptors: []),
  .init(name: "list_networks", request: ListNetworksRequest(), descriptors: []),
  .init(
    name: "add-netgroup",
    request: AddNetgroupRequest(
      netgroupName: "g", containerName: "web", autoCreateNetgroup: true, commitImmediately: false),
    descriptors: []),
  .init(
    name: "commit_netgroup", request: CommitNetgroupRequest(netgroupName: "g"), descriptors: []),
  .init(
    name: "create_volume",
    request: CreateVolumeRequest(name: "data", zfsProps: ["compression": "lz4"], kind: .zfs),
    descriptors: []),
  .init(
    name: "create_volume_template",
    request: CreateVolumeRequest(
      name: "db", template: VolumeTemplate(imageReference: "mariadb:10.9", mountName: "data"),
      zfsProps: [:], kind: .directory),
    descriptors: []),
  .init(name: "list_volumes", request: ListVolumesRequest(), descriptors: []),
  .init(name: "list_site_rdr", request: ListSiteRdrRequest(name: "web"), descriptors: []),
]

@Suite struct GoldenRequestTests {
  @Test(arguments: goldenCases)
  func requestMatchesTheReferenceClient(_ c: GoldenCase) throws {
    let (body, fds) = try encode(c.request)
    let expected = try Snapshot.string("requests/\(c.name).json")
    #expect(String(decoding: body, as: UTF8.self) == expected)
    #expect(fds.map(\.rawValue) == c.descriptors)
  }

  /// Opens the existential so the generic encoder sees the concrete type.
  private func encode<R: XCRequest>(_ r: R) throws -> ([UInt8], [FileDescriptor]) {
    let (b, f) = try Envelope.encodeRequest(r)
    return (b, f)
  }

  @Test func everyMethodHasAGoldenRequest() throws {
    let covered = Set(goldenCases.map { type(of: $0.request).method })
    let all = Set((XCMethods.all + XCMethods.unregistered).map { $0.method })
    #expect(all.count == 33)
    #expect(XCMethods.all.count == 32)
    #expect(all.subtracting(covered).isEmpty, "missing: \(all.subtracting(covered).sorted())")
    // Every snapshot file is used by a case.
    #expect(Set(try Snapshot.names("requests")) == Set(goldenCases.map(\.name)))
  }

  @Test func goldenRequestsDecodeBackToTheSameBytes() throws {
    for c in goldenCases {
      try reencode(c.request, c.name)
    }
  }

  private func reencode<R: XCRequest>(_ sample: R, _ name: String) throws {
    let golden = try Snapshot.bytes("requests/\(name).json")
    let decoded = try Envelope.decodeRequest(R.self, from: golden)
    #expect(try Envelope.encodeRequest(decoded).body == golden, "\(name)")
  }

  @Test func listContainersFrameIsByteExact() throws {
    let (body, _) = try Envelope.encodeRequest(ListContainersRequest())
    #expect(body.count == 41)
    #expect(
      FrameHeader(bodyLength: UInt64(body.count), descriptorCount: 0).bytes
        == [0, 0, 0, 0, 0, 0, 0, 0x29, 0, 0, 0, 0, 0, 0, 0, 0])
  }

  @Test func methodNamesAreUniqueAndExtensionsArePrefixed() {
    let names = (XCMethods.all + XCMethods.unregistered + XCMethods.extensions).map { $0.method }
    #expect(Set(names).count == names.count)
    for m in XCMethods.all { #expect(!m.method.contains(".")) }
    for m in XCMethods.extensions { #expect(m.method.hasPrefix(XCMethods.extensionPrefix)) }
  }

  @Test func stringsAreEscapedLikeSerde() throws {
    let r = ExecRequest(
      name: "a/b\"c\\d", arg0: "\u{1}\n\t\u{8}\u{c}\r", args: ["é", "日本"], envs: [:], useTty: false)
    let json = try wire(r)
    #expect(json.hasPrefix(#"{"name":"a/b\"c\\d","arg0":"\u0001\n\t\b\f\r","args":["é","日本"]"#))
  }

  @Test func mapKeysAreSortedForDeterministicOutput() throws {
    let r = ExecRequest(
      name: "w", arg0: "x", args: [], envs: ["B": "2", "A": "1", "C": "3"], useTty: false)
    #expect(try wire(r).contains(#""envs":{"A":"1","B":"2","C":"3"}"#))
  }

  @Test func mainAddressSelectorWritesIpaddrAndReadsBothSpellings() throws {
    #expect(try wire(MainAddressSelector.ipAddress("10.0.0.2")) == #""ipaddr/10.0.0.2""#)
    #expect(try wire(MainAddressSelector.network("default")) == #""network/default""#)
    let typo = try JSONDecoder().decode(MainAddressSelector.self, from: Data(#""ipadd/::1""#.utf8))
    #expect(typo == .ipAddress("::1"))
    #expect(throws: DecodingError.self) {
      try JSONDecoder().decode(MainAddressSelector.self, from: Data(#""ip/1.2.3.4""#.utf8))
    }
  }
}

@Suite struct FrameHeaderTests {
  @Test func stackBytesMatchTheArrayForm() {
    for h in [
      FrameHeader(bodyLength: 0x29, descriptorCount: 0),
      FrameHeader(bodyLength: .max, descriptorCount: 0x0102_0304_0506_0708),
    ] {
      #expect(h.withBytes { Array($0) } == h.bytes)
      #expect(FrameHeader(decoding: h.bytes) == h)
    }
  }
}
