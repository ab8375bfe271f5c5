import Testing
import XCIPC

@testable import XCObjects

@Suite struct FlagSyntaxTests {
  @Test func publishForms() throws {
    let plain = try FlagSyntax.publish("8080:80")
    #expect(plain == PortRedirection(ifaces: nil, proto: [.tcp, .udp], origin: [], addresses: nil, sourcePort: .single(8080), destPort: 80, destAddr: nil))
    #expect(try FlagSyntax.publish("8080:80/tcp").proto == [.tcp])
    let addr = try FlagSyntax.publish("192.168.1.1:443:80")
    #expect(addr.addresses == ["192.168.1.1"])
    #expect(addr.sourcePort == .single(443))
    #expect(try FlagSyntax.publish("[dead:beef::]:443:80/tcp").addresses == ["dead:beef::"])
    let full = try FlagSyntax.publish("igb0,ixl3|192.168.2.1,[dead:beef::]:443-643:443/udp,tcp")
    #expect(full.ifaces == ["igb0", "ixl3"])
    #expect(full.addresses == ["192.168.2.1", "dead:beef::"])
    #expect(full.sourcePort == .range(443, 643))
    #expect(full.destPort == 443)
    #expect(full.proto == [.udp, .tcp])
  }

  @Test(arguments: [
    ("80", "missing `:PORT`"), ("8080:0", "`0` is not a port"), ("8080:80/icmp", "unknown protocol `icmp`"),
    ("x:80", "`x` is not a port"), ("300.1.1.1:80:80", "`300.1.1.1` is not an IP address"),
    ("8-1:80", "not a port range"), ("1eth|80:80", "`1eth` is not an interface name"),
  ])
  func publishErrorsNameFlagAndValue(_ text: String, _ why: String) {
    #expect {
      try FlagSyntax.publish(text)
    } throws: { e in
      let e = e as! FlagSyntaxError
      return e.flag == "-p" && e.value == text && e.description.hasPrefix("`-p \(text)`: ") && e.description.contains(why)
    }
  }

  @Test func bindForms() throws {
    let vol = try FlagSyntax.bind("data:/srv")
    #expect(vol == FlagSyntax.Bind(source: "data", destination: "/srv", readOnly: false))
    #expect(!vol.isHostPath)
    let host = try FlagSyntax.bind("/host/dir:/srv:ro")
    #expect(host == FlagSyntax.Bind(source: "/host/dir", destination: "/srv", readOnly: true))
    #expect(host.isHostPath)
    #expect(try FlagSyntax.bind("./rel:/x:rw") == FlagSyntax.Bind(source: "./rel", destination: "/x", readOnly: false))
    // `\:` escapes a colon; as in xc the backslash stays.
    #expect(try FlagSyntax.bind(#"a\:b:/x"#).source == #"a\:b"#)
    // A slot key of the image instead of a path.
    #expect(try FlagSyntax.bind("db:data").destination == "data")
  }

  @Test(arguments: ["nodest", ":/x", "src:", "src::ro"])
  func bindErrors(_ text: String) {
    #expect {
      try FlagSyntax.bind(text)
    } throws: { e in
      let e = e as! FlagSyntaxError
      return e.flag == "-v" && e.value == text
    }
  }

  @Test func ipForms() throws {
    #expect(try FlagSyntax.ip("bridge") == IpAssign(network: nil, addresses: [], interface: "bridge"))
    #expect(try FlagSyntax.ip("bridge|10.0.0.5/24") == IpAssign(network: nil, addresses: ["10.0.0.5/24"], interface: "bridge"))
    #expect(try FlagSyntax.ip("eth0|10.0.0.1,[::1]/128").addresses == ["10.0.0.1", "::1/128"])
  }

  @Test(arguments: ["1abc", "br|300.1.1.1", "br|10.0.0.1/33", "br|", "|10.0.0.1"])
  func ipErrors(_ text: String) {
    #expect {
      try FlagSyntax.ip(text)
    } throws: { e in
      let e = e as! FlagSyntaxError
      return e.flag == "--ip" && e.value == text && e.description.contains("expected `IFACE`")
    }
  }

  @Test func networkAndMainAddress() throws {
    #expect(try FlagSyntax.network("backend") == .any(network: "backend"))
    #expect(try FlagSyntax.network("backend|10.1.0.7") == .explicit(network: "backend", ip: "10.1.0.7"))
    #expect(throws: FlagSyntaxError.self) { try FlagSyntax.network("|10.0.0.1") }
    #expect(throws: FlagSyntaxError.self) { try FlagSyntax.network("n|nope") }
    #expect(try FlagSyntax.mainAddress("network/backend") == .network("backend"))
    #expect(try FlagSyntax.mainAddress("ipaddr/10.0.0.2") == .ipAddress("10.0.0.2"))
    #expect(try FlagSyntax.mainAddress("ipadd/::1") == .ipAddress("::1"))
    #expect(throws: FlagSyntaxError.self) { try FlagSyntax.mainAddress("ip/10.0.0.2") }
  }

  @Test func keyValueCopyAndNameTag() throws {
    #expect(try FlagSyntax.keyValue("A=b=c", flag: "-e") == ("A", "b=c"))
    #expect(throws: FlagSyntaxError(flag: "-o", value: "=x", reason: "expected `KEY=VALUE`")) {
      try FlagSyntax.keyValue("=x", flag: "-o")
    }
    #expect(try FlagSyntax.copy("/etc/hosts:/etc/hosts") == ("/etc/hosts", "/etc/hosts"))
    #expect(throws: FlagSyntaxError.self) { try FlagSyntax.copy("/etc/hosts:rel") }
    #expect(try FlagSyntax.nameAndTag("localhost:5000/app:1", flag: "commit") == ("localhost:5000/app", "1"))
    #expect(throws: FlagSyntaxError.self) { try FlagSyntax.nameAndTag("localhost:5000/app", flag: "commit") }
  }
}

@Suite struct ImagePatchTests {
  @Test func actionsEditTheConfig() throws {
    var c = JailConfig(secureLevel: 0, entryPoints: ["web": ExecSpec(exec: "/bin/httpd")])
    try ImagePatch.apply(["add-env", "--required", "-d", "the database", "DB_URL"], to: &c)
    #expect(c.envs["DB_URL"] == EnvSpec(description: "the database", required: true))
    try ImagePatch.apply(["add-env", "PORT=80"], to: &c)
    #expect(c.envs["PORT"]?.defaultValue == "80")
    try ImagePatch.apply(["default-entry-point", "web"], to: &c)
    #expect(c.defaultEntryPoint == "web")
    try ImagePatch.apply(["default-entry-point", "nope"], to: &c)
    #expect(c.defaultEntryPoint == "web")
    try ImagePatch.apply(["add-exec", "-n", "hello", "-e", "A=1", "-e", "B", "/bin/echo", "hi", "-x"], to: &c)
    #expect(c.entryPoints["hello"] == ExecSpec(exec: "/bin/echo", environ: ["A": "1"], defaultArgs: ["hi", "-x"], requiredEnvs: ["B"]))
    try ImagePatch.apply(["mod-allow", "mount", "raw_sockets"], to: &c)
    try ImagePatch.apply(["mod-allow", "-mount"], to: &c)
    #expect(c.allow == ["raw_sockets"])
    try ImagePatch.apply(["mount-procfs"], to: &c)
    #expect(c.specialMounts == [SpecialMount(mountPoint: "/proc", mountType: "procfs")])
    try ImagePatch.apply(["add-volume", "--name", "data", "--required", "/var/db"], to: &c)
    #expect(c.mounts["data"]?.destination == "/var/db")
    #expect(c.mounts["data"]?.required == true)
  }

  @Test(arguments: [
    (["frobnicate"], "unknown action `frobnicate`"), (["add-env", "1X"], "`1X` is not a variable name"),
    (["add-exec", "/bin/true"], "needs `-n NAME`"), (["add-volume", "rel"], "absolute MOUNT_POINT"),
    ([String](), "needs an action"),
  ])
  func badActionsSayWhy(_ words: [String], _ why: String) {
    var c = JailConfig(secureLevel: 0)
    #expect {
      try ImagePatch.apply(words, to: &c)
    } throws: { e in
      (e as? ImagePatch.Failure)?.message.contains(why) == true
    }
  }
}

@Suite struct ProgressTests {
  @Test func sizesAndBars() {
    #expect(Progress.bytes(512) == "512 B")
    #expect(Progress.bytes(1536) == "1.50 KB")
    #expect(Progress.bytes(5 * 1024 * 1024 + 10 * 1024) == "5.01 MB")
    #expect(Progress.bar(1, of: 4, width: 8) == "[##······] 25%")
    #expect(Progress.bar(5, of: 0) == "")
  }
}

@Suite struct ProgressLineTests {
  @Test func pullLines() {
    var st = ImportImageStatus(state: .downloadLayers)
    st.layers = [LayerDownload(digest: "sha256:a", downloaded: 512, total: 1024)]
    #expect(Progress.pullLine("app:1", st) == "app:1: 0/1 layers [############············] 50% 512 B/1.00 KB")
    #expect(Progress.pullLine("app:1", ImportImageStatus(state: .extractLayers)) == "app:1: extracting layers")
    #expect(Progress.pullLine("app:1", ImportImageStatus(state: .done)) == "app:1: done")
  }

  @Test func pushLines() {
    #expect(Progress.pushLine("r/app:1", PushImageStatus()) == "r/app:1: initializing")
    let st = PushImageStatus(layers: ["a", "b"], currentUploadIdx: 1, bytes: 256, currentLayerSize: 1024)
    #expect(Progress.pushLine("r/app:1", st) == "r/app:1: layer 2/2 [######··················] 25% 256 B/1.00 KB")
    #expect(Progress.pushLine("r/app:1", PushImageStatus(done: true)) == "r/app:1: pushed")
  }
}
