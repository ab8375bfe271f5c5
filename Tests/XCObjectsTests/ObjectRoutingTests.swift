import Foundation
import Testing
import XCIPC
import XCShell

@testable import XCObjects

/// Objects route by the daemon they came from (docs/remote.md "Objects carry their host"):
/// images, networks and volumes as containers do, and objects of this machine's daemon (no
/// `host`) go back to it from inside `on`. Two fake daemons stand for this machine and host
/// `a` (the session routes `a` to the second fake's socket instead of ssh).
@Suite(.serialized) struct ObjectRoutingTests {
  static let ok: @Sendable (String) -> String = { _ in #"{"errno":0,"value":null}"# }
  static let replies: [String: @Sendable (String) -> String] = [
    "xcsh.remove_network": ok, "xcsh.remove_volume": ok, "xcsh.tag_image": ok,
  ]

  /// The value of `code`, and the methods each daemon was called with.
  func run(_ code: String) throws -> (value: Result<Value, ShellError>, local: [String], a: [String], aBodies: [String]) {
    let local = try FakeDaemon(replies: Self.replies)
    let a = try FakeDaemon(replies: Self.replies)
    defer {
      local.stop()
      a.stop()
    }
    let session = DaemonSession(socketPath: local.path)
    session.routeForTesting("a", socketPath: a.path)
    defer { session.finish() }
    let registry = Builtins.registry()
    for c in ObjectCommands.all(session) { registry.register(c) }
    let shell = Shell(options: ShellOptions(), registry: registry)
    let value: Result<Value, ShellError>
    do {
      value = .success(try shell.evaluate(SourceMap.shared.add(name: "<test>", text: code)))
    } catch let e as ShellError {
      value = .failure(e)
    }
    return (value, local.methods, a.methods, a.requests.map(\.body))
  }

  @Test func imagesFromAHostAreRemovedThere() throws {
    let r = try run("on a { images } | image rm")
    _ = try r.value.get()
    #expect(r.a == ["list_all_images", "describe_image", "remove_image", "describe_image", "remove_image"])  // two images
    #expect(r.local.isEmpty)
  }

  @Test func networksAndVolumesFromAHostAreRemovedThere() throws {
    var r = try run("on a { networks } | network rm")
    _ = try r.value.get()
    #expect(r.a == ["list_networks", "xcsh.remove_network"])
    #expect(r.local.isEmpty)
    r = try run("on a { volume list } | volume rm")
    _ = try r.value.get()
    #expect(r.a == ["list_volumes", "xcsh.remove_volume"])
    #expect(r.local.isEmpty)
  }

  @Test func anImageObjectIsShownTaggedAndRunOnItsHost() throws {
    let r = try run(
      """
      let i = (on a { images | first })
      image show $i | get host
      image tag $i copy:1
      image get-config $i
      run -d $i -- sleep 1
      """)
    _ = try r.value.get()
    #expect(r.a.filter { $0 == "describe_image" }.count == 3)
    #expect(r.a.contains("xcsh.tag_image"))
    #expect(r.a.contains("instantiate"))
    #expect(r.local.isEmpty)
  }

  /// `run`/`create --network $n`: a network object stands for its name and the container is
  /// made on the network's host; with an image of another daemon it is `host.mixed`, nothing
  /// sent; an object of another kind is refused by name.
  @Test func aNetworkObjectIsUsedOnItsHost() throws {
    var r = try run("let n = (on a { networks | first }); run -d busybox:latest --network $n -- sleep 1")
    _ = try r.value.get()
    #expect(r.a.contains("instantiate"))
    #expect(r.aBodies.contains { $0.contains(#""ipreq":[{"Any":{"network":"default"}}]"#) }, "\(r.aBodies)")
    #expect(r.local.isEmpty)
    r = try run("let n = (on a { networks | first }); create busybox:latest --network [$n 'other|10.0.0.9']")
    _ = try r.value.get()
    #expect(r.aBodies.contains { $0.contains(#""ipreq":[{"Any":{"network":"default"}},{"Explicit":{"network":"other","ip":"10.0.0.9"}}]"#) }, "\(r.aBodies)")
    #expect(r.local.isEmpty)

    r = try run("let i = (images | first); let n = (on a { networks | first }); run -d $i --network $n -- sleep 1")
    guard case .failure(let e) = r.value else {
      Issue.record("expected host.mixed, got \(r.value)")
      return
    }
    #expect(e.code == .hostMixed)
    #expect(e.message == "`run` was given objects from two daemons: this script's own daemon and a")
    #expect(!r.local.contains("instantiate") && !r.a.contains("instantiate"))

    r = try run("let c = (ps | first); run -d busybox:latest --network $c -- sleep 1")
    guard case .failure(let wrong) = r.value else {
      Issue.record("expected an argument error, got \(r.value)")
      return
    }
    #expect(wrong.message == "`--network` takes a network or its name, not a container")
    #expect(!r.local.contains("instantiate"))
  }

  @Test func theHostOfWhatComesBackIsTheObjectsHost() throws {
    let r = try run("let i = (on a { images | first }); image show $i | get host")
    #expect(try r.value.get() == .string("a"))
  }

  /// An object without `host` came from this machine's daemon: inside `on a` it still goes there.
  @Test func localObjectsInsideOnGoToTheLocalDaemon() throws {
    var r = try run("let i = (images | first); on a { image rm $i }")
    _ = try r.value.get()
    #expect(r.local == ["list_all_images", "describe_image", "remove_image"])
    #expect(r.a.isEmpty)
    r = try run("let n = (networks | first); on a { network rm $n; networks | length }")
    _ = try r.value.get()
    #expect(r.local == ["list_networks", "xcsh.remove_network"])
    #expect(r.a == ["list_networks"])
    r = try run("let c = (ps | first); on a { kill --no-wait $c; ps | length }")
    _ = try r.value.get()
    #expect(r.local.contains("kill_container"))
    #expect(!r.a.contains("kill_container"))
    // A name (not an object) still goes to the block's host.
    r = try run("on a { image rm freebsdxc/freebsd:13.2 }")
    _ = try r.value.get()
    #expect(r.a.contains("remove_image"))
    #expect(r.local.isEmpty)
  }

  @Test func localInsideOnIsThisMachinesDaemonAndItsObjectsHaveNoHost() throws {
    let r = try run("on a { on local { images | first | columns | where $it == host | length } }")
    #expect(try r.value.get() == .int(0))
    #expect(r.local == ["list_all_images"])
    #expect(r.a.isEmpty)
    // An object of this machine names `local` to `on`.
    let again = try run("let i = (images | first); on $i { images | length }")
    _ = try again.value.get()
    #expect(again.local == ["list_all_images", "list_all_images"])
    #expect(again.a.isEmpty)
  }

  @Test func objectsOfTwoDaemonsInOneCallAreAnError() throws {
    let r = try run("let n = (on a { networks | first }); let c = (ps | first); network tag $n $c")
    guard case .failure(let e) = r.value else {
      Issue.record("expected host.mixed")
      return
    }
    #expect(e.code.rawValue == "host.mixed")
    #expect(e.message.contains("`network tag`") && e.message.contains("a and this script's own daemon"))
    #expect(!r.a.contains("add_netgroup") && !r.local.contains("add_netgroup"))
  }

  /// Completion asks the host of the `on` block being typed, and only one it has a session to.
  @Test func completionNamesComeFromTheBlocksHost() throws {
    let local = try FakeDaemon(replies: ["list_containers": FakeDaemon.ok("[]")])
    let a = try FakeDaemon()
    defer {
      local.stop()
      a.stop()
    }
    let session = DaemonSession(socketPath: local.path)
    session.routeForTesting("a", socketPath: a.path)
    defer { session.finish() }
    #expect(session.names(of: .container, on: "a") == ["web", "5f3c9a7e21b4"])
    #expect(session.names(of: .container) == [])
    #expect(session.names(of: .container, on: "local") == [])
    // A host with no open session (here: not even in the inventory) offers nothing, at once.
    #expect(session.names(of: .container, on: "nosuch") == [])
    #expect(a.methods == ["list_containers"] && local.methods == ["list_containers", "list_containers"])
  }

  /// A terminal socket (`run -t`, `attach`) is reached next to the route's daemon: through the
  /// route host's ssh session inside `on`, here otherwise (no connection is opened to ask).
  @Test func terminalSocketsFollowTheRoute() throws {
    let local = try FakeDaemon()
    defer { local.stop() }
    let session = DaemonSession(socketPath: local.path)
    session.routeForTesting("a", socketPath: local.path)
    defer { session.finish() }
    try session.checkHost("ssh://x.invalid", at: .unknown)
    #expect(session.routedRemote() == nil)
    #expect(DaemonRoute.with("ssh://x.invalid") { session.routedRemote()?.host.description } == "x.invalid")
    #expect(DaemonRoute.with("a") { session.routedRemote() } == nil)
    #expect(DaemonRoute.with("local") { session.routedRemote() } == nil)
  }

  /// `wait` polls the container object's host, not the current one, after resolving it there.
  @Test func waitPollsTheObjectsHost() throws {
    let r = try run("let c = (on a { ps | first }); try { wait $c --exit --timeout 60ms --every 10ms } catch e { $e.code }")
    #expect(try r.value.get() == .string("wait.timeout"))
    #expect(r.a.filter { $0 == "show_container" }.count >= 2, "\(r.a)")
    #expect(r.local.isEmpty)
  }

  /// `commit` describes the new image where the container was, and the image says so.
  @Test func commitOfAContainerObjectMakesTheImageOnItsHost() throws {
    let r = try run("let c = (on a { ps | first }); commit $c app:9 | get host")
    #expect(try r.value.get() == .string("a"))
    #expect(r.a.contains("commit") && r.a.contains("describe_image"))
    #expect(r.local.isEmpty)
  }

  @Test func statsOfContainersOfTwoDaemonsIsAnError() throws {
    let r = try run("let c = (on a { ps | first }); let d = (ps | first); stats $c $d")
    guard case .failure(let e) = r.value else {
      Issue.record("expected host.mixed")
      return
    }
    #expect(e.code.rawValue == "host.mixed")
    #expect(!r.a.contains("xcsh.stats") && !r.local.contains("xcsh.stats"))
  }

  @Test func startOfAContainerObjectFromAHostStaysThere() throws {
    let r = try run("let c = (on a { ps | first }); start $c | get host")
    #expect(try r.value.get() == .string("a"))
    #expect(r.local.isEmpty)
  }
}
