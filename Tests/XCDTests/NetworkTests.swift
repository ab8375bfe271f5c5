import Foundation
import Glibc
import Synchronization
import SystemPackage
import Testing
import XCIPC
import XCSystem

/// End to end networking through the real xcd: bridges, leases, VNET containers with veths,
/// aliases, nftables port redirections. Every name (bridge, subnet) is unique to the test, and
/// every leak check is scoped to this test's own bridge, containers and nftables table. All
/// traffic stays on loopback or on the test's own bridge and namespaces.
@Suite(.serialized, .enabled(if: runsAsRoot, "needs root (runc, netns, nftables)"))
struct NetworkTests {
  /// A test network: a bridge name and a /24 under 10.<base>/16 that no one else uses (each
  /// suite its own base, as suites may run side by side).
  struct TestNet {
    let name: String
    let bridge: String
    let octet: Int
    let base: Int
    init(_ label: String, base: Int = 213) {
      self.base = base
      let tag = String(UInt32.random(in: 0..<0xffff), radix: 16)
      name = "\(label)-\(tag)"
      bridge = "xcnt\(tag)"
      octet = Int.random(in: 1...250)
    }
    var subnet: String { "10.\(base).\(octet).0/24" }
    var router: String { "10.\(base).\(octet).254" }
    func address(_ n: Int) -> String { "10.\(base).\(octet).\(n)" }

    func create(_ client: XCClient, start: Int? = nil, end: Int? = nil) throws {
      _ = try client.call(
        CreateNetworkRequest(
          name: name, bridgeIface: bridge, subnet: subnet, startAddr: start.map(address),
          endAddr: end.map(address), defaultRouter: router))
    }
  }

  func request(_ argv: [String], name: String? = nil) -> InstantiateRequest {
    InstantiateRequest(
      imageReference: "busybox:latest",
      entryPoint: EntryPoint(entryPoint: argv[0], entryPointArgs: Array(argv.dropFirst())),
      name: name)
  }

  /// An httpd serving `body` at / on port 80.
  func web(_ body: String, name: String, net: TestNet) -> InstantiateRequest {
    var r = request(
      ["/bin/sh", "-c", "mkdir -p /www && echo \(body) > /www/index.html && exec httpd -f -p 80 -h /www"],
      name: name)
    r.vnet = true
    r.ipreq = [.any(network: net.name)]
    return r
  }

  // MARK: - Tests

  @Test func twoVnetContainersTalkOverTCP() throws {
    let net = TestNet("talk")
    try withNetworkDaemon(net) { daemon, client in
      try net.create(client)
      let listed = try client.call(ListNetworksRequest()).networkInfo.first { $0.name == net.name }
      #expect(listed?.bridgeIface == net.bridge && listed?.subnet == net.subnet)
      #expect(FileManager.default.fileExists(atPath: "/sys/class/net/\(net.bridge)/bridge"))

      let webID = try client.call(web("hello-net", name: "web", net: net)).id
      let shown = try client.call(ShowContainerRequest(id: webID)).runningContainer
      let webAddress = try #require(shown.mainAddress)
      #expect(shown.vnet)
      #expect(webAddress.hasPrefix("10.213.\(net.octet)."), "\(webAddress)")
      #expect(shown.ipAlloc == [IpAssign(network: net.name, addresses: ["\(webAddress)/24"], interface: "eth0")])

      // The client polls inside its own container until httpd answers (bounded: 100 tries).
      let out = try TestPipe()
      var get = request([
        "/bin/sh", "-c",
        "for i in $(seq 100); do wget -q -O - http://\(webAddress)/ && exit 0; sleep 0.1; done; exit 1",
      ])
      get.vnet = true
      get.ipreq = [.any(network: net.name)]
      get.stdout = out.writeRef
      let exited = try TestEventFD()
      get.mainExitedFd = exited.ref
      let getID = try client.call(get).id
      #expect(try out.readAll(seconds: 60) == "hello-net\n")
      #expect(try exited.exitStatus(seconds: 60).exitCode == 0)
      #expect(try waitGone(client, getID))
      try expectNoVeth(of: getID)

      _ = try client.call(KillContainerRequest(name: webID))
      #expect(try waitGone(client, webID))
      try expectNoVeth(of: webID)
      _ = try client.call(RemoveNetworkRequest(name: net.name))
      #expect(!FileManager.default.fileExists(atPath: "/sys/class/net/\(net.bridge)"))
    }
  }

  @Test func publishedPortAnswersOnLoopbackAndRdrRulesAreListed() throws {
    let net = TestNet("pub")
    try withNetworkDaemon(net) { daemon, client in
      try net.create(client)
      let port = try freePort()
      var r = web("published", name: "pub", net: net)
      r.portRedirections = [
        PortRedirection(ifaces: [], proto: [.tcp], sourcePort: .single(port), destPort: 80)
      ]
      let id = try client.call(r).id
      let main = try #require(client.call(ShowContainerRequest(id: id)).runningContainer.mainAddress)
      let rules = try client.call(ListRdrRulesRequest())
      #expect(rules.count == 1)
      #expect(rules.first?.destAddr == main && rules.first?.sourcePort == .single(port))
      #expect(rules.first?.destPort == 80 && rules.first?.proto == [.tcp])
      #expect(try nftTables().contains(daemon.nftTable))
      #expect(try httpGet(port: port).contains("published"))

      // A second port added later with `rdr` answers too, and is listed.
      let port2 = try freePort()
      let rdr = RdrRequest(
        name: "pub",
        redirection: PortRedirection(ifaces: [], proto: [.tcp], sourcePort: .single(port2), destPort: 80))
      #expect(try client.call(rdr) == rdr)
      #expect(try client.call(ListRdrRulesRequest()).count == 2)
      #expect(try httpGet(port: port2).contains("published"))

      // Bad redirections are refused with the field named.
      let bad = try daemonError {
        try client.call(
          RdrRequest(
            name: "pub",
            redirection: PortRedirection(proto: [.tcp], sourcePort: .single(70000), destPort: 80)))
      }
      #expect(bad.errno == 22 && bad.value.text.contains("bad ports"), "\(bad)")

      _ = try client.call(KillContainerRequest(name: id))
      #expect(try waitGone(client, id))
      #expect(try client.call(ListRdrRulesRequest()).isEmpty)
      // The table stays while the daemon runs (see docs/engine.md); its rules are gone.
      #expect(try !run(["/usr/sbin/nft", "list", "table", "ip", daemon.nftTable]).contains("dnat to"))
      #expect(throws: (any Error).self) { try httpGet(port: port, seconds: 1) }
      _ = try client.call(RemoveNetworkRequest(name: net.name))
    }
  }

  @Test func nonVnetContainerIsPublishedThroughItsAlias() throws {
    let net = TestNet("alias")
    try withNetworkDaemon(net) { daemon, client in
      try net.create(client)
      let (hostPort, serverPort) = (try freePort(), try freePort())
      // In the host's namespace: httpd listens on the container's alias address only.
      var r = request(
        [
          "/bin/sh", "-c",
          "mkdir -p /www && echo alias > /www/index.html && exec httpd -f -p \(net.address(30)):\(serverPort) -h /www",
        ], name: "alias")
      r.ipreq = [.explicit(network: net.name, ip: net.address(30))]
      r.portRedirections = [
        PortRedirection(ifaces: [], proto: [.tcp], sourcePort: .single(hostPort), destPort: serverPort)
      ]
      let id = try client.call(r).id
      #expect(try addresses(of: net.bridge).contains("inet \(net.address(30))/32"))
      #expect(try httpGet(port: hostPort).contains("alias"))
      _ = try client.call(KillContainerRequest(name: id))
      #expect(try waitGone(client, id))
      #expect(try !addresses(of: net.bridge).contains(net.address(30)))
      _ = try client.call(RemoveNetworkRequest(name: net.name))
    }
  }

  @Test func leasesAreReleasedAndReused() throws {
    let net = TestNet("lease")
    try withNetworkDaemon(net) { daemon, client in
      // One address in the range: the second container cannot have one until the first ends.
      try net.create(client, start: 10, end: 10)
      var sleeper = request(["/bin/sleep", "60"])
      sleeper.ipreq = [.any(network: net.name)]  // non-VNET: an alias on the bridge
      let first = try client.call(sleeper).id
      let shown = try client.call(ShowContainerRequest(id: first)).runningContainer
      #expect(shown.mainAddress == net.address(10) && !shown.vnet)
      #expect(try addresses(of: net.bridge).contains(net.address(10)))
      #expect(try client.call(ListNetworksRequest()).networkInfo.first { $0.name == net.name }?.lastAddr == net.address(10))

      let full = try daemonError { try client.call(sleeper) }
      #expect(full.value.text.contains("cannot allocate address from network \(net.name)"), "\(full)")

      _ = try client.call(KillContainerRequest(name: first))
      #expect(try waitGone(client, first))
      #expect(try !addresses(of: net.bridge).contains(net.address(10)))

      let again = try client.call(sleeper).id
      #expect(try client.call(ShowContainerRequest(id: again)).runningContainer.mainAddress == net.address(10))
      _ = try client.call(KillContainerRequest(name: again))
      #expect(try waitGone(client, again))
      _ = try client.call(RemoveNetworkRequest(name: net.name))
    }
  }

  @Test func staticAndExplicitAddressesAndMainSelector() throws {
    let net = TestNet("static")
    try withNetworkDaemon(net) { daemon, client in
      try net.create(client)
      let out = try TestPipe()
      let exited = try TestEventFD()
      var r = request(["/bin/sh", "-c", "ip -4 -o addr show; echo main=$XC_MAIN_IP/$XC_MAIN_IFACE"])
      r.vnet = true
      r.ipreq = [.explicit(network: net.name, ip: net.address(50))]
      r.ips = [
        IpAssign(addresses: ["127.0.0.1/8", "::1/128"], interface: "lo0"),
        IpAssign(addresses: ["\(net.address(77))/24"], interface: "eth0"),
      ]
      r.mainIpSelector = .ipAddress(net.address(77))
      r.createOnly = true
      r.stdout = out.writeRef
      r.mainExitedFd = exited.ref
      let id = try client.call(r).id
      let shown = try client.call(ShowContainerRequest(id: id)).runningContainer
      #expect(shown.mainAddress == net.address(77))
      #expect(shown.ipAlloc.map(\.addresses) == [["\(net.address(50))/24"], ["\(net.address(77))/24"]])

      // The same explicit address again is refused while it is leased.
      var twice = request(["/bin/true"])
      twice.ipreq = [.explicit(network: net.name, ip: net.address(50))]
      let taken = try daemonError { try client.call(twice) }
      #expect(taken.value.text.contains("already consumed"), "\(taken)")
      var outside = twice
      outside.ipreq = [.explicit(network: net.name, ip: "10.214.0.1")]
      let notIn = try daemonError { try client.call(outside) }
      #expect(notIn.errno == 22 && notIn.value.text.contains("not in the subnet"), "\(notIn)")

      _ = try client.call(RunMainRequest(name: id))
      let text = try out.readAll()
      #expect(text.contains("inet \(net.address(50))/24"), "\(text)")
      #expect(text.contains("inet \(net.address(77))/24"), "\(text)")
      #expect(text.contains("inet 127.0.0.1/8"), "\(text)")
      #expect(text.contains("main=\(net.address(77))/eth0\n"), "\(text)")
      #expect(try exited.exitStatus().exitCode == 0)
      #expect(try waitGone(client, id))
      _ = try client.call(RemoveNetworkRequest(name: net.name))
    }
  }

  @Test func networkInUseRefusesRemovalAndBadInputIsNamed() throws {
    let net = TestNet("busy")
    try withNetworkDaemon(net) { daemon, client in
      try net.create(client)
      let dup = try daemonError { try net.create(client) }
      #expect(dup.errno == 22 && dup.value.text.contains("already exists"), "\(dup)")
      let badSubnet = try daemonError {
        try client.call(CreateNetworkRequest(name: net.name + "x", subnet: "10.213.999.0/24"))
      }
      #expect(badSubnet.errno == 22 && badSubnet.value.text.contains("subnet"), "\(badSubnet)")
      let badBridge = try daemonError {
        try client.call(CreateNetworkRequest(name: net.name + "y", bridgeIface: "a b\nlink del eth0"))
      }
      #expect(badBridge.errno == 22 && badBridge.value.text.contains("bridge_iface"), "\(badBridge)")
      var ghost = request(["/bin/true"])
      ghost.ipreq = [.any(network: "no-such-net")]
      let missing = try daemonError { try client.call(ghost) }
      #expect(missing.errno == 2 && missing.value.text.contains("no such network: no-such-net"), "\(missing)")
      // A port published with no address takes the default network (DefaultNetworkTests,
      // which also checks the error when the daemon has none).

      var sleeper = request(["/bin/sleep", "60"], name: "holder")
      sleeper.vnet = true
      sleeper.ipreq = [.any(network: net.name)]
      let id = try client.call(sleeper).id
      let busy = try daemonError { try client.call(RemoveNetworkRequest(name: net.name)) }
      #expect(busy.errno == 16, "\(busy)")
      #expect(busy.value.text.contains("in use by containers: \(id) (holder)"), "\(busy)")
      #expect(FileManager.default.fileExists(atPath: "/sys/class/net/\(net.bridge)"))

      _ = try client.call(KillContainerRequest(name: id))
      #expect(try waitGone(client, id))
      _ = try client.call(RemoveNetworkRequest(name: net.name))
      #expect(try !client.call(ListNetworksRequest()).networkInfo.contains { $0.name == net.name })
      let gone = try daemonError { try client.call(RemoveNetworkRequest(name: net.name)) }
      #expect(gone.errno == 2)
    }
  }

  @Test func dnsSettingAndNetgroupHosts() throws {
    let net = TestNet("dns")
    try withNetworkDaemon(net) { daemon, client in
      try net.create(client)
      var a = request(["/bin/sleep", "60"], name: "alpha")
      a.vnet = true
      a.ipreq = [.any(network: net.name)]
      a.netgroups = [net.name]
      let alpha = try client.call(a).id
      let alphaIP = try #require(client.call(ShowContainerRequest(id: alpha)).runningContainer.mainAddress)

      let out = try TestPipe()
      var b = request(["/bin/sh", "-c", "cat /etc/resolv.conf /etc/hosts"], name: "beta")
      b.vnet = true
      b.ipreq = [.any(network: net.name)]
      b.dns = .specified(servers: ["10.213.0.53"], searchDomains: ["test.internal"])
      b.createOnly = true
      b.stdout = out.writeRef
      let beta = try client.call(b).id
      _ = try client.call(
        AddNetgroupRequest(netgroupName: net.name, containerName: "beta", autoCreateNetgroup: false, commitImmediately: true))
      _ = try client.call(RunMainRequest(name: beta))
      let text = try out.readAll()
      #expect(text.contains("nameserver 10.213.0.53\nsearch test.internal\n"), "\(text)")
      #expect(text.contains("\(alphaIP) alpha\n"), "\(text)")
      #expect(text.contains(" beta\n"), "\(text)")
      #expect(try waitGone(client, beta))

      let unknown = try daemonError {
        try client.call(AddNetgroupRequest(netgroupName: "nogroup", containerName: "alpha"))
      }
      #expect(unknown.errno == 2 && unknown.value.text.contains("netgroup not found"), "\(unknown)")
      _ = try client.call(KillContainerRequest(name: alpha))
      #expect(try waitGone(client, alpha))
      _ = try client.call(RemoveNetworkRequest(name: net.name))
    }
  }

  @Test func restartAfterCrashReleasesEverything() throws {
    let net = TestNet("crash")
    let daemon = try DaemonHarness()
    defer {
      daemon.remove()
      forceRemoveLink(net.bridge)
    }
    try daemon.start()
    var client = try daemon.client()
    try Fixtures.importImage(client)
    try net.create(client)
    let port = try freePort()
    var r = web("crash", name: "crash", net: net)
    r.portRedirections = [PortRedirection(ifaces: [], proto: [.tcp], sourcePort: .single(port), destPort: 80)]
    let id = try client.call(r).id
    #expect(try httpGet(port: port).contains("crash"))
    #expect(try nftTables().contains(daemon.nftTable))

    // SIGKILL: nothing is torn down; the next daemon on the same state must clean up.
    try daemon.crash()
    try daemon.start()
    client = try daemon.client()
    #expect(try !nftTables().contains(daemon.nftTable))
    #expect(try client.call(ListRdrRulesRequest()).isEmpty)
    try expectNoVeth(of: id)
    // The lease is gone too: the network can be removed, and its bridge with it.
    #expect(FileManager.default.fileExists(atPath: "/sys/class/net/\(net.bridge)"))
    _ = try client.call(RemoveNetworkRequest(name: net.name))
    #expect(!FileManager.default.fileExists(atPath: "/sys/class/net/\(net.bridge)"))
    try daemon.stop()
    daemon.expectClean()
  }

  @Test func concurrentCreatesGetDistinctLeasesAndShutdownReleasesThem() throws {
    let net = TestNet("conc")
    let daemon = try DaemonHarness()
    defer {
      daemon.remove()
      forceRemoveLink(net.bridge)
    }
    try daemon.start()
    let client = try daemon.client()
    try Fixtures.importImage(client)
    try net.create(client, start: 20, end: 25)  // exactly six addresses for six containers
    let results = Mutex<[Result<String, any Error>]>([])
    let group = DispatchGroup()
    let socket = daemon.socket
    for _ in 0..<6 {
      group.enter()
      Thread {
        defer { group.leave() }
        let r = Result<String, any Error> {
          let c = try XCClient(path: socket, timeout: .seconds(60))
          var sleeper = self.request(["/bin/sleep", "60"])
          sleeper.vnet = true
          sleeper.ipreq = [.any(network: net.name)]
          let id = try c.call(sleeper).id
          return try #require(c.call(ShowContainerRequest(id: id)).runningContainer.mainAddress)
        }
        results.withLock { $0.append(r) }
      }.start()
    }
    group.wait()
    let addresses = try results.withLock { $0 }.map { try $0.get() }
    #expect(Set(addresses) == Set((20...25).map(net.address)), "\(addresses)")
    // A seventh finds the range full.
    var seventh = request(["/bin/true"])
    seventh.ipreq = [.any(network: net.name)]
    let full = try daemonError { try client.call(seventh) }
    #expect(full.value.text.contains("cannot allocate address"), "\(full)")

    // Stopping the daemon with the six running tears all of it down.
    let prefix = daemon.vethPrefix
    try daemon.stop()
    daemon.expectClean()
    #expect(links(prefix: prefix).isEmpty, "veths left: \(links(prefix: prefix))")
    #expect(try !nftTables().contains(daemon.nftTable))
    try daemon.start()
    _ = try daemon.client().call(RemoveNetworkRequest(name: net.name))
    #expect(!FileManager.default.fileExists(atPath: "/sys/class/net/\(net.bridge)"))
    try daemon.stop()
    daemon.expectClean()
  }

  // MARK: - Helpers

  /// A daemon with the test image; afterwards (even on failure) nothing of `net` may be left:
  /// bridge, veths of the daemon, its nftables table.
  func withNetworkDaemon(
    _ net: TestNet, sourceLocation: SourceLocation = #_sourceLocation,
    _ body: (DaemonHarness, XCClient) throws -> Void
  ) throws {
    var table = ""
    var prefix = ""
    defer {
      let bridgeLeft = FileManager.default.fileExists(atPath: "/sys/class/net/\(net.bridge)")
      #expect(!bridgeLeft, "bridge \(net.bridge) left behind", sourceLocation: sourceLocation)
      if bridgeLeft { forceRemoveLink(net.bridge) }
      let veths = links(prefix: prefix)
      #expect(prefix.isEmpty || veths.isEmpty, "veths left: \(veths)", sourceLocation: sourceLocation)
      #expect(
        table.isEmpty || !((try? nftTables()) ?? []).contains(table), "nftables table \(table) left",
        sourceLocation: sourceLocation)
    }
    try withDaemon(sourceLocation: sourceLocation) { daemon in
      table = daemon.nftTable
      prefix = daemon.vethPrefix
      let client = try daemon.client()
      try Fixtures.importImage(client)
      do { try body(daemon, client) } catch {
        // Leave nothing for the checks above to trip over twice: containers first, then the
        // network.
        for c in (try? client.call(ListContainersRequest())) ?? [] {
          _ = try? client.call(KillContainerRequest(name: c.id))
          _ = try? waitGone(client, c.id)
        }
        _ = try? client.call(RemoveNetworkRequest(name: net.name))
        throw error
      }
    }
  }

  /// Polls until the container has ended (show_container says dead), up to `seconds`.
  func waitGone(_ client: XCClient, _ id: String, seconds: Double = 30) throws -> Bool {
    let deadline = Date().addingTimeInterval(seconds)
    while Date() < deadline {
      if try client.call(ShowContainerRequest(id: id)).containerDead { return true }
      usleep(20_000)  // polling a condition, bounded by the deadline
    }
    return false
  }

  func expectNoVeth(of id: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
    let left = links(prefix: "xv").filter { $0.dropFirst(7).hasPrefix(id.prefix(7)) }
    #expect(left.isEmpty, "veths of \(id) left: \(left)", sourceLocation: sourceLocation)
  }

  func links(prefix: String) -> [String] {
    guard !prefix.isEmpty else { return [] }
    return ((try? FileManager.default.contentsOfDirectory(atPath: "/sys/class/net")) ?? [])
      .filter { $0.hasPrefix(prefix) }
  }

  func forceRemoveLink(_ name: String) {
    _ = try? run(["/usr/sbin/ip", "link", "del", name])
  }

  func addresses(of dev: String) throws -> String {
    try run(["/usr/sbin/ip", "-4", "-o", "addr", "show", "dev", dev])
  }

  /// Names of the ip-family nftables tables.
  func nftTables() throws -> [String] {
    try run(["/usr/sbin/nft", "list", "tables", "ip"]).split(separator: "\n")
      .compactMap { $0.split(separator: " ").last.map(String.init) }
  }

  func run(_ argv: [String]) throws -> String {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: argv[0])
    p.arguments = Array(argv.dropFirst())
    let pipe = Pipe()
    p.standardOutput = pipe
    p.standardError = FileHandle.nullDevice
    try p.run()
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    guard p.terminationStatus == 0 else { throw TestFailure("\(argv) exited \(p.terminationStatus)") }
    return String(decoding: data, as: UTF8.self)
  }

  /// A TCP port on 127.0.0.1 that is free now (the kernel picks it).
  func freePort() throws -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { throw TestFailure("socket failed") }
    defer { close(fd) }
    var addr = sockaddr_in()
    addr.sin_family = sa_family_t(AF_INET)
    addr.sin_addr.s_addr = inet_addr("127.0.0.1")
    var len = socklen_t(MemoryLayout<sockaddr_in>.size)
    let ok = withUnsafeMutablePointer(to: &addr) {
      $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
        bind(fd, $0, len) == 0 && getsockname(fd, $0, &len) == 0
      }
    }
    guard ok else { throw TestFailure("bind failed") }
    return Int(UInt16(bigEndian: addr.sin_port))
  }

  /// GET / from 127.0.0.1:`port`, retried until it answers or `seconds` pass.
  func httpGet(port: Int, seconds: Double = 30) throws -> String {
    let deadline = Date().addingTimeInterval(seconds)
    var last = "no attempt"
    while Date() < deadline {
      do { return try httpGetOnce(port: port) } catch { last = "\(error)" }
      usleep(50_000)  // retrying until the server answers, bounded by the deadline
    }
    throw TestFailure("127.0.0.1:\(port) did not answer within \(seconds) s: \(last)")
  }

  private func httpGetOnce(port: Int) throws -> String {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { throw TestFailure("socket failed") }
    defer { close(fd) }
    var tv = timeval(tv_sec: 2, tv_usec: 0)
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
    var addr = sockaddr_in()
    addr.sin_family = sa_family_t(AF_INET)
    addr.sin_port = in_port_t(UInt16(port).bigEndian)
    addr.sin_addr.s_addr = inet_addr("127.0.0.1")
    let rc = withUnsafePointer(to: &addr) {
      $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
        connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
      }
    }
    guard rc == 0 else { throw TestFailure("connect: \(String(cString: strerror(errno)))") }
    let request = Array("GET / HTTP/1.0\r\nHost: localhost\r\n\r\n".utf8)
    guard write(fd, request, request.count) == request.count else { throw TestFailure("write failed") }
    var out: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 4096)
    while true {
      let n = read(fd, &buffer, buffer.count)
      if n < 0 { throw TestFailure("read: \(String(cString: strerror(errno)))") }
      if n == 0 { break }
      out += buffer[0..<n]
    }
    let text = String(decoding: out, as: UTF8.self)
    guard text.hasPrefix("HTTP/1") else { throw TestFailure("not an HTTP answer: \(text)") }
    return text
  }
}

extension DaemonHarness {
  /// The daemon's own nftables table (`xcd_` + 8 hex of the SHA-256 of its state directory).
  var nftTable: String { "xcd_" + stateHash.prefix(8) }
  /// The prefix of the daemon's host-side veth names.
  var vethPrefix: String { "xv" + stateHash.prefix(5) }

  private var stateHash: String {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/usr/bin/sha256sum")
    let input = Pipe()
    let output = Pipe()
    p.standardInput = input
    p.standardOutput = output
    try? p.run()
    input.fileHandleForWriting.write(Data(stateDir.utf8))
    try? input.fileHandleForWriting.close()
    let data = output.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    return String(decoding: data, as: UTF8.self)
  }
}

/// A published port on an `ext_ifs` address: the "outside" is a network namespace of the
/// test's own, joined to the host by a veth pair that the daemon's config names in `ext_ifs`.
@Suite(.serialized, .enabled(if: runsAsRoot, "needs root (runc, netns, nftables)"))
struct ExternalInterfaceTests {
  @Test func publishedPortAnswersOnAnExtIfAddress() throws {
    let t = NetworkTests()
    let net = NetworkTests.TestNet("ext", base: 215)
    let tag = String(UInt32.random(in: 0..<0xffff), radix: 16)
    let namespace = "xcnt-ext-\(tag)"
    let extIf = "xcex\(tag)"
    let outside = Int.random(in: 1...250)
    let hostAddress = "10.211.\(outside).1"
    // The daemon turns forwarding on for rules with interfaces (and leaves it on, as
    // documented); the test puts the machine back as it found it.
    let forwarding = "/proc/sys/net/ipv4/ip_forward"
    let forwardingBefore = try String(contentsOfFile: forwarding, encoding: .utf8)
    defer {
      try? forwardingBefore.write(toFile: forwarding, atomically: false, encoding: .utf8)
      _ = try? t.run(["/usr/sbin/ip", "netns", "del", namespace])
      t.forceRemoveLink(extIf)
      #expect(!FileManager.default.fileExists(atPath: "/run/netns/\(namespace)"), "netns left")
      #expect(!FileManager.default.fileExists(atPath: "/sys/class/net/\(extIf)"), "veth left")
    }
    _ = try t.run(["/usr/sbin/ip", "netns", "add", namespace])
    _ = try t.run(["/usr/sbin/ip", "link", "add", extIf, "type", "veth", "peer", "name", "eth0", "netns", namespace])
    _ = try t.run(["/usr/sbin/ip", "addr", "add", "\(hostAddress)/24", "dev", extIf])
    _ = try t.run(["/usr/sbin/ip", "link", "set", extIf, "up"])
    for argv in [
      ["addr", "add", "10.211.\(outside).2/24", "dev", "eth0"], ["link", "set", "eth0", "up"],
      ["link", "set", "lo", "up"],
    ] {
      _ = try t.run(["/usr/sbin/ip", "-n", namespace] + argv)
    }

    let daemon = try DaemonHarness()
    defer { daemon.remove() }
    let config = daemon.dir + "/xc.conf"
    try "ext_ifs: [\(extIf)]\n".write(toFile: config, atomically: true, encoding: .utf8)
    try daemon.start(extraArguments: ["--config", config])
    do {
      let client = try daemon.client()
      try Fixtures.importImage(client)
      try net.create(client)
      let port = try t.freePort()
      var r = t.web("outside", name: "ext", net: net)
      // ifaces null: the daemon's ext_ifs, as the xc CLI sends it.
      r.portRedirections = [PortRedirection(proto: [.tcp], sourcePort: .single(port), destPort: 80)]
      let id = try client.call(r).id
      #expect(try client.call(ListRdrRulesRequest()).first?.ifaces == [extIf])

      // From inside the outside namespace, polled until it answers (bounded).
      let text = try t.run([
        "/usr/sbin/ip", "netns", "exec", namespace, "/bin/busybox", "sh", "-c",
        "for i in $(seq 100); do busybox wget -q -O - http://\(hostAddress):\(port)/ && exit 0; sleep 0.1; done; exit 1",
      ])
      #expect(text == "outside\n")
      _ = try client.call(KillContainerRequest(name: id))
      #expect(try t.waitGone(client, id))
      _ = try client.call(RemoveNetworkRequest(name: net.name))
    } catch {
      try? daemon.stop()
      t.forceRemoveLink(net.bridge)
      throw error
    }
    try daemon.stop()
    daemon.expectClean()
    #expect(!FileManager.default.fileExists(atPath: "/sys/class/net/\(net.bridge)"))
    #expect(try !t.nftTables().contains(daemon.nftTable))
  }
}
