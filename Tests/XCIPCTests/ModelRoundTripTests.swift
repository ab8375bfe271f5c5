import Foundation
import Testing

@testable import XCIPC

/// Every model type survives WireEncoder -> JSONDecoder unchanged, with non-default values in
/// every field so a dropped or misspelled key shows up.
@Suite struct ModelRoundTripTests {
  static let jexec = Jexec(
    arg0: "/bin/sh", args: ["-c", "echo"], envs: ["A": "1"], uid: 1000, gid: 1000, user: "www",
    group: "www", outputMode: .forward(stdin: 0, stdout: 1, stderr: nil), notify: 7,
    workDir: "/srv")

  static let execSpec = ExecSpec(
    exec: "/usr/sbin/nginx", args: ["-g", "daemon off;"], environ: ["X": "y"], clearEnv: true,
    defaultArgs: ["-q"], requiredEnvs: ["PORT"], workDir: "/", user: "root", group: "wheel")

  static let jailConfig = JailConfig(
    version: "1.2.3+4", secureLevel: 2, vnet: true, ports: ["80/tcp": "http"],
    devfsRules: ["path bpf unhide"], allow: ["raw_sockets"], sysvMsg: .new, sysvShm: .inherit,
    sysvSem: .disable,
    envs: ["PORT": EnvSpec(description: "port", required: true, defaultValue: "80")],
    entryPoints: ["main": execSpec], defaultEntryPoint: "main",
    specialMounts: [SpecialMount(mountPoint: "/dev/fd", mountType: "fdescfs")],
    mounts: [
      "data": MountSpec(
        description: "d", destination: "/data",
        volumeHints: ["compression": .string("lz4"), "n": .integer(3), "ok": .bool(true)],
        readOnly: true, required: true)
    ],
    datasets: ["ds": DatasetSpec(name: "zroot/x", required: true, requiredProps: ["a": "b"])],
    initSteps: [execSpec], deinitSteps: [execSpec], linux: true, linuxOsname: "Linux",
    linuxOsrelease: "5.15", linuxOssVersion: "1", labels: ["k": "v"], osrelease: "13.2",
    osreldate: 1_302_001)

  static let jailImage = JailImage(
    architecture: "amd64", os: "FreeBSD",
    config: ImageConfig(
      attachStderr: true, attachStdin: false, attachStdout: true, entrypoint: ["/bin/sh"],
      cmd: ["-c", "x"], env: ["A=1"], tty: false, workingDir: "/", volumes: ["/data": .object([:])],
      exposedPorts: ["80/tcp": .object([:])], user: "root", labels: ["l": "m"],
      stopSignal: "SIGTERM", xcExtension: jailConfig),
    rootfs: RootFS(kind: "layers", diffIds: ["sha256:aa", "sha256:bb"]),
    history: [HistoryEntry(created: "2024-01-01T00:00:00Z", createdBy: "xc", emptyLayer: true)])

  static let manifest = ContainerManifest(
    devfsRulesetId: 1001, jid: 7, name: "web", root: "/run/web", id: "5f3c9a7e21b4", vnet: true,
    mainNorun: true, initNorun: true, deinitNorun: true, persist: true, noClean: true, linux: true,
    linuxNoCreateSysDir: true, linuxNoCreateProcDir: true,
    processes: [
      "main": ProcessStat(
        started: 1, exited: 2, treeExited: 3, exec: jexec, exitCode: 256,
        spawnInfo: SpawnInfo(
          pid: 9, stdoutLogFile: "/o", stderrLogFile: "/e", terminalSocket: "/t"),
        description: "main")
    ],
    initProto: [jexec], deinitProto: [jexec], mainProto: jexec,
    ipAlloc: [IpAssign(network: "default", addresses: ["10.0.0.2/24"], interface: "xc0")],
    mountReq: [MountEntry(source: "/a", dest: "/b", fs: "nullfs", options: ["ro"])],
    zfsOrigin: "zroot/x", originImage: jailImage, allowing: ["raw_sockets"],
    imageReference: "app:1", fault: "boom", created: 1_717_171_716_912_345_678,
    started: 1_717_171_717_001_234_567, finishedAt: 1_717_171_718_000_000_000,
    mainAddress: "10.0.0.2")

  static let redirection = PortRedirection(
    ifaces: ["em0"], proto: [.tcp, .sctp], origin: ["o"], addresses: ["192.168.1.1/32"],
    sourcePort: .range(8000, 8080), destPort: 80, destAddr: "10.0.0.2/32")

  @Test func containerTypes() throws {
    try expectRoundTrip(Self.manifest)
    try expectRoundTrip(Self.jexec)
    try expectRoundTrip(ShowContainerResponse(runningContainer: Self.manifest, containerDead: true))
    for mode in [
      StdioMode.terminal, .inherit, .files(stdout: "/o", stderr: nil),
      .forward(stdin: nil, stdout: 1, stderr: 2),
    ] {
      try expectRoundTrip(mode)
    }
    #expect(
      try wire(StdioMode.forward(stdin: nil, stdout: 1, stderr: 2))
        == #"{"type":"Forward","stdin":null,"stdout":1,"stderr":2}"#)
    #expect(
      try wire(StdioMode.files(stdout: "/o", stderr: nil))
        == #"{"type":"files","stdout":"/o","stderr":null}"#)
  }

  @Test func imageTypes() throws {
    try expectRoundTrip(Self.jailImage)
    try expectRoundTrip(Self.jailConfig)
    try expectRoundTrip(
      ImageRecord(imageReference: "a:1", digest: "sha256:x", manifest: Self.jailImage))
    try expectRoundTrip(
      DescribeImageResponse(
        imageReference: "a:1", chainId: "sha256:c", digest: "sha256:d", jailImage: Self.jailImage,
        datasetId: "sha256:c"))
    try expectRoundTrip(
      ImportImageStatus(
        state: .done,
        manifest: OCIManifest(
          schemaVersion: 2, mediaType: "m",
          config: OCIDescriptor(mediaType: "c", size: 1, digest: "sha256:1"),
          layers: [OCIDescriptor(mediaType: "l", size: 2, digest: "sha256:2")]),
        config: .object(["a": .array([.integer(1), .double(1.5), .null, .bool(false)])]),
        layers: [LayerDownload(digest: "sha256:2", downloaded: 1, total: nil)], fault: nil))
    try expectRoundTrip(
      PushImageStatus(
        layers: ["sha256:1"], currentUploadIdx: 0, pushConfig: true, pushManifest: true, done: true,
        fault: "f", bytes: 10, durationMs: 20, currentLayerSize: 30))
    for s in DownloadState.allCases { try expectRoundTrip(s) }
  }

  @Test func networkAndVolumeTypes() throws {
    try expectRoundTrip(Self.redirection)
    try expectRoundTrip(
      NetworkInfo(
        name: "n", subnet: "10.0.0.0/24", startAddr: "10.0.0.1", endAddr: "10.0.0.9",
        lastAddr: "10.0.0.2", aliasIface: "a", bridgeIface: "b"))
    try expectRoundTrip(
      Volume(
        rwUsers: ["0"], device: "/v", authorizedUsers: ["www"], driver: .directory,
        mountOptions: ["ro"], driverOptions: ["k": "v"]))
    try expectRoundTrip(
      XcConfig(
        extIfs: ["em0"], imageDataset: "i", containerDataset: "c", defaultVolumeDriver: "zfs",
        defaultVolumeDataset: "v", defaultVolumeDirectory: "/v", imageDatabaseStore: "/db",
        layersDir: "/l", logsDir: "/log", devfsIdOffset: 1000, databaseStore: "/s",
        socketPath: "/var/run/xc.sock", registries: "/r", forceDevfsRuleset: 5, inventory: "/inv",
        warnOnly: true))
    for d in [DnsSetting.inherit, .nop, .specified(servers: ["1.1.1.1"], searchDomains: ["lan"])] {
      try expectRoundTrip(d)
    }
    #expect(
      try wire(DnsSetting.specified(servers: ["1.1.1.1"], searchDomains: []))
        == #"{"Specified":{"servers":["1.1.1.1"],"search_domains":[]}}"#)
    for n in [NetworkAllocRequest.any(network: "d"), .explicit(network: "d", ip: "10.0.0.3/24")] {
      try expectRoundTrip(n)
    }
    #expect(
      try wire(NetworkAllocRequest.explicit(network: "d", ip: "10.0.0.3/24"))
        == #"{"Explicit":{"network":"d","ip":"10.0.0.3/24"}}"#)
    #expect(try wire(PortNum.range(8000, 8080)) == #"{"Range":[8000,8080]}"#)
    try expectRoundTrip(OsString(bytes: [0xff, 0, 47]))
    #expect(try wire(OsString("/a")) == #"{"Unix":[47,97]}"#)
    #expect(throws: DecodingError.self) {
      try JSONDecoder().decode(OsString.self, from: Data(#""/a""#.utf8))
    }
  }

  @Test func payloadTypes() throws {
    try expectRoundTrip(
      InfoResponse(
        config: XcConfig(
          extIfs: [], imageDataset: "", containerDataset: "", imageDatabaseStore: "", layersDir: "",
          logsDir: "", devfsIdOffset: 0, databaseStore: "", socketPath: "", registries: "",
          inventory: "", warnOnly: false)))
    try expectRoundTrip(ListNetworksResponse(networkInfo: []))
    try expectRoundTrip(ListAllImagesResponse(manifests: []))
    try expectRoundTrip(CommitResponse(commitId: "sha256:x"))
    try expectRoundTrip(ContainerIDResponse(id: "abc"))
    try expectRoundTrip(RdrRequest(name: "w", redirection: Self.redirection))
    try expectRoundTrip(LogsResponse(stdoutLogFile: "/a", stderrLogFile: nil))
    try expectRoundTrip(XCErrorValue.message("m"))
    try expectRoundTrip(XCErrorValue.typed("T"))
    try expectRoundTrip(XCErrorValue.other(.array([.integer(1)])))
  }

  @Test func emptyObjectPayloadsRejectNullAndNullPayloadsRejectObjects() throws {
    #expect(throws: DecodingError.self) {
      try Envelope.decodeRequest(
        InfoRequest.self, from: Array(#"{"method":"info","value":null}"#.utf8))
    }
    #expect(throws: DecodingError.self) {
      try Envelope.decodeRequest(
        ListContainersRequest.self, from: Array(#"{"method":"list_containers","value":{}}"#.utf8))
    }
    #expect(throws: DecodingError.self) {
      try Envelope.decodeRequest(
        DescribeImageRequest.self,
        from: Array(#"{"method":"describe_image","value":{"image_reference":"a:1"}}"#.utf8))
    }
    _ = try Envelope.decodeRequest(
      InfoRequest.self, from: Array(#"{"method":"info","value":{"extra":1}}"#.utf8))
  }

  @Test func exitStatusEncoding() throws {
    #expect(ProcessNotification.encodeExit(.exited(1)) == 0x1000_0000_0000_0100)
    #expect(ProcessNotification.decodeExit(0x1000_0000_0000_0100)?.exitCode == 1)
    #expect(ProcessNotification.decodeExit(0x1000_0000_0000_0000)?.exitCode == 0)
    #expect(ProcessNotification.decodeExit(1) == nil)
    let killed = try #require(
      ProcessNotification.decodeExit(ProcessNotification.encodeExit(.signaled(9))))
    #expect(killed.exitCode == nil)
    #expect(killed.terminationSignal == 9)
    #expect(killed.shellExitCode == 1)
    #expect(WaitStatus(rawValue: 256).exitCode == 1)
  }
}
