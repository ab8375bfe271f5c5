import Foundation
import SystemPackage
import XCSystem

extension XCClient {
  /// A client whose peer is `table`, served on a thread of this process over a socketpair.
  ///
  /// Everything goes through the real framing, fd passing and dispatch, without a socket file;
  /// meant for fakes and tests. The serving thread ends when the client is closed.
  public static func inProcess(
    serving table: XCMethodTable, peer: PeerCredentials = .current, limits: FrameLimits = .default
  ) throws(IPCError) -> XCClient {
    let pair: (Socket, Socket)
    do throws(Errno) {
      pair = try Socket.pair()
    } catch {
      throw IPCError(.system, "socketpair failed: \(error)", errno: error)
    }
    let serverSide = pair.1
    let t = Thread {
      let channel = FrameChannel(socket: serverSide, limits: limits)
      XCServer.serve(channel: channel, table: table, peer: peer)
      channel.close()
    }
    t.name = "xc-ipc-in-process"
    t.start()
    return XCClient(adopting: pair.0, limits: limits)
  }
}
