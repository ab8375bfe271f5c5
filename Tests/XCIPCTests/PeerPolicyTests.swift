import Foundation
import Synchronization
import Testing
import XCSystem

@testable import XCIPC

/// A server's peer policy: a refused peer's request is answered with EACCES and the reason,
/// and the client reports it as permission denied naming the socket; no handler runs.
@Suite struct PeerPolicyTests {
  @Test func refusedPeersGetTheReasonAndNothingRuns() throws {
    let dir = try TempDir()
    defer { dir.remove() }
    let path = dir.path + "/s.sock"
    let ran = Atomic<Int>(0)
    var table = XCMethodTable()
    table.register(InfoRequest.self) { _, _ in
      ran.add(1, ordering: .relaxed)
      throw XCDaemonError.notFound("not reached")
    }
    let me = PeerCredentials.current
    let server = try XCServer(
      path: path, table: table,
      policy: XCPeerPolicy { peer in
        peer.uid == me.uid ? XCDaemonError(errno: 13, "uid \(peer.uid) is not in group xc") : nil
      })
    server.start()
    defer { server.stop() }
    let client = try XCClient(path: path, timeout: .seconds(10))
    do throws(IPCError) {
      _ = try client.call(InfoRequest())
      Issue.record("a refused peer was served")
    } catch {
      #expect(error.code == .permissionDenied)
      #expect(error.message.contains("the daemon at \(path) refused the connection"), "\(error)")
      #expect(error.message.contains("not in group xc"), "\(error)")
    }
    #expect(ran.load(ordering: .relaxed) == 0)
  }
}
