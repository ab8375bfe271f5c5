import Foundation
import Testing
import XCIPC
import XCShell

@testable import XCObjects

/// The route of object commands (`on`, `fleet`, objects' `host`): a per-thread value that
/// nests and is restored however a block ends, and objects made under a route carry its host.
struct DaemonRouteTests {
  struct Boom: Error {}
  final class Seen: @unchecked Sendable { var value: String? = "unset" }

  @Test func routesNestAndAreRestoredAfterAnError() {
    #expect(DaemonRoute.current == nil)
    DaemonRoute.with("a") {
      #expect(DaemonRoute.current == "a")
      DaemonRoute.with("b") { #expect(DaemonRoute.current == "b") }
      #expect(DaemonRoute.current == "a")
      #expect(throws: Boom.self) { try DaemonRoute.with("c") { throw Boom() } }
      #expect(DaemonRoute.current == "a")
      DaemonRoute.with(nil) { #expect(DaemonRoute.current == nil) }
      #expect(DaemonRoute.current == "a")
    }
    #expect(DaemonRoute.current == nil)
  }

  @Test func eachThreadHasItsOwnRoute() {
    DaemonRoute.with("main") {
      let seen = Seen()
      let done = DispatchSemaphore(value: 0)
      Thread.detachNewThread {
        seen.value = DaemonRoute.current
        done.signal()
      }
      done.wait()  // the semaphore orders the write before the read
      #expect(seen.value == nil)
      #expect(DaemonRoute.current == "main")
    }
  }

  @Test func objectsMadeUnderARouteCarryItsHostAndRouteByIt() throws {
    let local = try DaemonSession.value(["name": "web"], as: .container)
    #expect(DaemonRoute.host(of: local) == nil)
    let remote = try DaemonRoute.with("web1") { try DaemonSession.value(["name": "web"], as: .container) }
    #expect(DaemonRoute.host(of: remote) == "web1")
    // Plain records are not objects: no host, no routing.
    let plain = try DaemonRoute.with("web1") { try DaemonSession.value(["name": "web"], as: nil) }
    #expect(DaemonRoute.host(of: plain) == nil)
    #expect(DaemonRoute.withHost(of: remote) { DaemonRoute.current } == "web1")
    #expect(DaemonRoute.withHost(of: local) { DaemonRoute.current } == nil)
  }

  /// An object goes to the daemon it came from; one without `host` to the script's own (this
  /// machine's), even inside `on a`; a name goes where the block goes.
  @Test func objectsRouteToTheirOriginNamesToTheCurrentRoute() throws {
    let local = try DaemonSession.value(["name": "web"], as: .image)
    let remote = try DaemonRoute.with("a") { try DaemonSession.value(["name": "web"], as: .network) }
    DaemonRoute.with("b") {
      #expect(DaemonRoute.withHost(of: local) { DaemonRoute.current } == nil)
      #expect(DaemonRoute.withHost(of: remote) { DaemonRoute.current } == "a")
      #expect(DaemonRoute.withHost(of: .string("web")) { DaemonRoute.current } == "b")
    }
    let at = Span.unknown
    #expect(try DaemonRoute.withHost(ofAll: [remote, .string("x"), remote], command: "t", at: at) { DaemonRoute.current } == "a")
    #expect(try DaemonRoute.with("b") { try DaemonRoute.withHost(ofAll: [.string("x")], command: "t", at: at) { DaemonRoute.current } } == "b")
    #expect(throws: ShellError.self) { try DaemonRoute.withHost(ofAll: [remote, local], command: "t", at: at) {} }
  }

  /// `local` is the script's own route unless the script runs on another host (`--host`).
  @Test func localIsThisMachinesDaemon() {
    #expect(DaemonRoute.route(ambient: "local", own: nil) == nil)
    #expect(DaemonRoute.route(ambient: "local", own: "web1") == "local")
    #expect(DaemonRoute.route(ambient: nil, own: "web1") == "web1")
    #expect(DaemonRoute.route(ambient: "a", own: nil) == "a")
  }

  @Test func traceAndPlanLinesNameTheRemoteHost() {
    #expect(DaemonSession.traceLine("trace: ps {} -> ok\n", host: "web1") == "trace: [web1] ps {} -> ok\n")
    #expect(DaemonSession.traceLine("trace: ps {} -> ok\n", host: nil) == "trace: ps {} -> ok\n")
    #expect(DaemonSession.planLine("+ instantiate busybox\n", host: "web1") == "+ [web1] instantiate busybox\n")
    #expect(DaemonSession.planLine("+ instantiate busybox\n", host: nil) == "+ instantiate busybox\n")
  }
}
