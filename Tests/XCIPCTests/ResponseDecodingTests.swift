import Foundation
import Testing

@testable import XCIPC

/// The daemon's example answers of spec section 4 decode into the typed responses.
@Suite struct ResponseDecodingTests {
  func success<R: XCRequest>(_: R.Type, _ name: String) throws -> R.Response {
    let reply = try Envelope.decodeResponse(
      R.Response.self, from: Snapshot.bytes("responses/\(name).json"))
    guard case .success(let v) = reply else {
      Issue.record("\(name): expected success, got \(reply)")
      throw CancellationError()
    }
    return v
  }

  func failure<R: XCRequest>(_: R.Type, _ name: String) throws -> XCDaemonError {
    let reply = try Envelope.decodeResponse(
      R.Response.self, from: Snapshot.bytes("responses/\(name).json"))
    guard case .failure(let e) = reply else {
      Issue.record("\(name): expected an error")
      throw CancellationError()
    }
    return e
  }

  @Test func showContainer() throws {
    let r = try success(ShowContainerRequest.self, "show_container")
    let c = r.runningContainer
    #expect(r.containerDead == false)
    #expect(c.id == "5f3c9a7e21b4")
    #expect(c.jid == 7)
    #expect(c.devfsRulesetId == 1001)
    #expect(c.vnet)
    #expect(c.created == 1_717_171_716_912_345_678)  // nanoseconds
    #expect(c.finishedAt == nil)
    #expect(c.mainAddress == "172.16.0.2")
    let main = try #require(c.processes["main"])
    #expect(main.started == 1_717_171_717)  // seconds
    #expect(main.exec.outputMode == .terminal)
    #expect(main.exec.notify == 23)
    #expect(main.spawnInfo?.terminalSocket == "/var/run/xc.5f3c9a7e21b4.main")
    #expect(c.ipAlloc.count == 2)
    #expect(
      c.ipAlloc[1] == IpAssign(network: "default", addresses: ["172.16.0.2/24"], interface: "xc0"))
    let image = try #require(c.originImage)
    #expect(image.config?.xcExtension?.entryPoints["main"]?.exec == "/bin/sh")
    #expect(image.rootfs.diffIds.count == 1)
    #expect(c.mainProto?.envs["XC_DEVFS_RULESET"] == "1001")
  }

  @Test func listContainers() throws {
    let list = try success(ListContainersRequest.self, "list_containers")
    let shown = try success(ShowContainerRequest.self, "show_container")
    #expect(list == [shown.runningContainer])
  }

  @Test func errorsOfTheGenericShape() throws {
    let e = try failure(ShowContainerRequest.self, "show_container_notfound")
    #expect(e == .notFound("container with such identifier not found"))
    #expect(
      try failure(InstantiateRequest.self, "instantiate_enoent") == .notFound("image not found"))
    #expect(
      try failure(InstantiateRequest.self, "instantiate_einval")
        == .invalid("container name cannot be integer literal"))
    #expect(try failure(KillContainerRequest.self, "kill_container_enoent").errno == 2)
    #expect(
      try failure(CreateNetworkRequest.self, "create_network_exists").value
        == .message("Network with such name already exists"))
    #expect(
      try failure(ListSiteRdrRequest.self, "list_site_rdr")
        == .notFound("ipc method list_site_rdr not found"))
  }

  @Test func typedErrorsAreBareStrings() throws {
    let e = try failure(DescribeImageRequest.self, "describe_image_notfound")
    #expect(e.errno == 1)
    #expect(e.value == .typed("ImageReferenceNotFound"))
    #expect(
      try failure(PushImageRequest.self, "push_image_noregistry") == .typed("RegistryNotFound"))
  }

  @Test func instantiateAndExec() throws {
    #expect(
      try success(InstantiateRequest.self, "instantiate")
        == InstantiateResponse(id: "5f3c9a7e21b4", requireClearence: []))
    #expect(try success(KillContainerRequest.self, "kill_container") == EmptyResponse())
    #expect(
      try success(ExecRequest.self, "exec")
        == SpawnInfo(pid: 41301, stdoutLogFile: nil, stderrLogFile: nil, terminalSocket: nil))
    let tty = try success(ExecRequest.self, "exec_tty")
    #expect(tty.pid == 41320)
    #expect(tty.terminalSocket == "/var/run/xc.5f3c9a7e21b4.9d2e4b6a1c3f")
  }

  @Test func images() throws {
    let d = try success(DescribeImageRequest.self, "describe_image")
    #expect(d.chainId == d.datasetId)
    #expect(d.jailImage.os == "FreeBSD")
    #expect(d.jailImage.config?.xcExtension?.sysvMsg == .disable)
    #expect(d.jailImage.config?.entrypoint == nil)
    let all = try success(ListAllImagesRequest.self, "list_all_images")
    #expect(
      all.manifests.map(\.imageReference) == [
        "freebsdxc/freebsd:13.2", "index.docker.io/freebsdxc/freebsd:13.2",
      ])
    #expect(all.manifests[0].manifest == d.jailImage)
    #expect(try success(PullImageRequest.self, "pull_image") == PullImageResponse(existed: false))
    let s = try success(DownloadStatRequest.self, "download_stat")
    #expect(s.state == .downloadLayers)
    #expect(s.manifest?.schemaVersion == 2)
    #expect(s.manifest?.layers.first?.size == 98_765_432)
    #expect(
      s.layers == [
        LayerDownload(
          digest: "sha256:18ac3e7343f016890c510e93f935261169d9e3f565436429830faf0934f4f8e4",
          downloaded: 52_428_800, total: 98_765_432)
      ])
    #expect(s.fault == "cannot find usable config")
    guard case .object(let config)? = s.config else {
      Issue.record("config is raw JSON")
      return
    }
    #expect(config["os"] == .string("FreeBSD"))
    _ = try success(RemoveImageRequest.self, "remove_image")
  }

  @Test func networksAndVolumes() throws {
    _ = try success(CreateNetworkRequest.self, "create_network")
    let n = try success(ListNetworksRequest.self, "list_networks")
    #expect(
      n.networkInfo == [
        NetworkInfo(
          name: "default", subnet: "172.16.0.0/24", startAddr: "172.16.0.0",
          endAddr: "172.16.0.255", lastAddr: "172.16.0.2", aliasIface: "xc0", bridgeIface: "xc0")
      ])
    _ = try success(CreateVolumeRequest.self, "create_volume")
    let v = try success(ListVolumesRequest.self, "list_volumes")
    #expect(
      v == [
        "data": Volume(
          rwUsers: nil, device: "zroot/xc/volumes/data", authorizedUsers: nil, driver: .zfs,
          mountOptions: [], driverOptions: ["compression": "lz4"])
      ])
  }

  @Test func everyResponseSnapshotIsExercised() throws {
    // Keep this list in step with the tests above so a new snapshot cannot go unchecked.
    let used: Set<String> = [
      "show_container", "show_container_notfound", "list_containers", "instantiate",
      "instantiate_enoent", "instantiate_einval", "kill_container", "kill_container_enoent",
      "exec", "exec_tty", "describe_image", "describe_image_notfound", "push_image_noregistry",
      "pull_image", "download_stat", "list_all_images", "remove_image", "create_network",
      "create_network_exists", "list_networks", "create_volume", "list_volumes", "list_site_rdr",
    ]
    #expect(Set(try Snapshot.names("responses")) == used)
  }

  @Test func unknownKeysAreIgnoredAndSerdeDefaultsApply() throws {
    // A JailConfig with only the required keys, plus keys a newer daemon might add.
    let json = #"""
      {"secure_level":1,"ports":{"80/tcp":"http"},"devfs_rules":[],"allow":["raw_sockets"],
       "entry_points":{},"special_mounts":[],"mounts":{},"future_key":{"x":[1,2]}}
      """#
    let c = try JSONDecoder().decode(JailConfig.self, from: Data(json.utf8))
    #expect(c.version == "0.0.0+0")
    #expect(c.vnet == false)
    #expect(c.sysvShm == .disable)
    #expect(c.initSteps.isEmpty && c.datasets.isEmpty && c.labels.isEmpty)
    #expect(c.ports == ["80/tcp": "http"])
  }

  @Test func missingRequiredFieldIsAnErrorNamingIt() throws {
    let json = #"{"pid":1,"stdout_log_file":null}"#
    #expect(throws: DecodingError.self) {
      _ = try JSONDecoder().decode(ShowContainerResponse.self, from: Data(json.utf8))
    }
    do {
      _ = try JSONDecoder().decode(ProcessStat.self, from: Data(#"{"started":1}"#.utf8))
      Issue.record("expected failure")
    } catch {
      #expect(Envelope.describe(error).contains("exec"))
    }
  }
}
