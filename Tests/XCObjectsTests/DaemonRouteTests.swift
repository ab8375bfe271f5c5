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

  @Test func traceAndPlanLinesNameTheRemoteHost() {
    #expect(DaemonSession.traceLine("trace: ps {} -> ok\n", host: "web1") == "trace: [web1] ps {} -> ok\n")
    #expect(DaemonSession.traceLine("trace: ps {} -> ok\n", host: nil) == "trace: ps {} -> ok\n")
    #expect(DaemonSession.planLine("+ instantiate busybox\n", host: "web1") == "+ [web1] instantiate busybox\n")
    #expect(DaemonSession.planLine("+ instantiate busybox\n", host: nil) == "+ instantiate busybox\n")
  }
}
