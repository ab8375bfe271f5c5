import Foundation
import Glibc
import Testing
import XCIPC

/// `create_channel`: another socket serving the whole method table, removed with the daemon.
@Suite(.serialized, .enabled(if: runsAsRoot, "needs root (runc, mounts)"))
struct ChannelTests {
  @Test func aChannelServesTheSameDaemonAndGoesWithIt() throws {
    var channel = ""
    try withDaemon { daemon in
      channel = daemon.dir + "/second.sock"
      let client = try daemon.client()
      _ = try client.call(CreateChannelRequest(socketPath: channel))
      // Asking again for the same path is not an error.
      _ = try client.call(CreateChannelRequest(socketPath: channel))

      var st = stat()
      #expect(stat(channel, &st) == 0 && st.st_mode & S_IFMT == S_IFSOCK)
      #expect(st.st_mode & 0o777 == 0o660, "mode \(String(st.st_mode & 0o777, radix: 8))")

      // The same state through either socket.
      try Fixtures.importImage(client)
      let other = try XCClient(path: channel, timeout: .seconds(30))
      let viaChannel = try other.call(ListAllImagesRequest()).manifests.map(\.imageReference)
      #expect(viaChannel == (try client.call(ListAllImagesRequest()).manifests.map(\.imageReference)))
      #expect(viaChannel.contains("busybox:latest"))
    }
    #expect(!FileManager.default.fileExists(atPath: channel), "the channel's socket was left behind")
  }

  @Test func badPathsAreNamedAndNothingIsReplaced() throws {
    try withDaemon { daemon in
      let client = try daemon.client()
      let relative = try daemonError { try client.call(CreateChannelRequest(socketPath: "relative.sock")) }
      #expect(relative.errno == 22)
      #expect(relative.value.text.contains("socket_path must be absolute"), "\(relative)")

      let noDir = try daemonError { try client.call(CreateChannelRequest(socketPath: daemon.dir + "/nope/x.sock")) }
      #expect(noDir.value.text.contains("does not exist"), "\(noDir)")

      // A regular file is never replaced, and the main socket (a live daemon) is refused.
      let file = daemon.dir + "/data"
      try "keep".write(toFile: file, atomically: true, encoding: .utf8)
      let notSocket = try daemonError { try client.call(CreateChannelRequest(socketPath: file)) }
      #expect(notSocket.value.text.contains("not a socket"), "\(notSocket)")
      #expect(try String(contentsOfFile: file, encoding: .utf8) == "keep")
      let live = try daemonError { try client.call(CreateChannelRequest(socketPath: daemon.socket)) }
      #expect(live.value.text.contains("already serving"), "\(live)")
      // The daemon still answers.
      _ = try client.call(InfoRequest())
    }
  }
}
