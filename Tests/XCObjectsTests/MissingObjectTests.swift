import Foundation
import Glibc
import Synchronization
import Testing
import XCIPC
import XCShell
import XCSystem

@testable import XCObjects

/// One vocabulary for missing objects (`<type>.not_found`, decided from the daemon's errno or
/// typed variant), bulk commands that do nothing on an empty pipe, and a daemon that goes away
/// mid-call (issue 18).
@Suite(.serialized) struct MissingObjectTests {
  static let enoent: @Sendable (String) -> String = { _ in #"{"errno":2,"value":{"error":"gone"}}"# }

  func failure(_ code: String, replies: [String: @Sendable (String) -> String] = [:]) throws -> (ShellError?, [String]) {
    let fake = try FakeDaemon(replies: replies)
    defer { fake.stop() }
    do {
      _ = try xcsh(code, fake)
      return (nil, fake.methods)
    } catch let e as ShellError {
      return (e, fake.methods)
    }
  }

  @Test func xcsTypedImageErrorIsImageNotFound() throws {
    let typed: @Sendable (String) -> String = { _ in #"{"errno":1,"value":"ImageReferenceNotFound"}"# }
    let (e, _) = try failure("image show nosuch:1", replies: ["describe_image": typed])
    #expect(e?.code.rawValue == "image.not_found")
    #expect(e?.message == "no image `nosuch:1`")
    #expect(e?.help?.contains("images") == true)
  }

  /// xc's `remove_image` succeeds when nothing matched: an explicit missing reference must
  /// still fail, and nothing is removed.
  @Test func removingAMissingImageIsAnError() throws {
    let typed: @Sendable (String) -> String = { _ in #"{"errno":1,"value":"ImageReferenceNotFound"}"# }
    let (e, methods) = try failure("image rm nosuch:1", replies: ["describe_image": typed])
    #expect(e?.code.rawValue == "image.not_found")
    #expect(!methods.contains("remove_image"))
  }

  @Test func missingContainerNetworkVolumeShareTheVocabulary() throws {
    var (e, _) = try failure("kill nosuch", replies: ["kill_container": Self.enoent])
    #expect(e?.code.rawValue == "container.not_found")
    #expect(e?.message == "no container `nosuch`")
    (e, _) = try failure("network rm nosuch", replies: ["xcsh.remove_network": Self.enoent])
    #expect(e?.code.rawValue == "network.not_found")
    (e, _) = try failure("volume rm nosuch", replies: ["xcsh.remove_volume": Self.enoent])
    #expect(e?.code.rawValue == "volume.not_found")
  }

  /// ENOENT about something else (here: a container that is listed) is not "no container".
  @Test func enoentAboutALiveContainerStaysTheDaemonsError() throws {
    let (e, _) = try failure("kill web", replies: ["kill_container": Self.enoent])
    #expect(e?.code.rawValue == "daemon.not_found")
    #expect(e?.message.contains("gone") == true)
  }

  /// `ps | kill` racing a container that ends on its own: it was listed, then torn down before
  /// `kill_container` (ENOENT, and no longer listed). Given as an object, it is already what
  /// `kill` waits for; the same id typed by hand stays `container.not_found`.
  @Test func aListedContainerGoneBeforeKillIsAlreadyStopped() throws {
    let listed = FakeDaemon.defaultReplies["list_containers"]!
    let calls = Mutex(0)
    var replies = FakeDaemon.defaultReplies
    // The first listing (`ps`) has the container; every later one (after ENOENT) has none.
    replies["list_containers"] = { body in
      calls.withLock { $0 += 1; return $0 } == 1 ? listed(body) : FakeDaemon.ok("[]")(body)
    }
    replies["kill_container"] = Self.enoent
    let fake = try FakeDaemon(replies: replies)
    defer { fake.stop() }
    _ = try xcsh("ps | kill", fake)
    #expect(fake.methods.filter { $0 == "kill_container" }.count == 1)

    let (e, _) = try failure("kill nosuch", replies: ["kill_container": Self.enoent, "list_containers": FakeDaemon.ok("[]")])
    #expect(e?.code.rawValue == "container.not_found")
  }

  @Test func bulkCommandsOnAnEmptyPipeDoNothing() throws {
    for code in [
      "ps | where name == nope | kill", "[] | network rm", "[] | volume rm", "[] | image rm",
      "images | where image_reference == nope | image rm",
    ] {
      let (e, methods) = try failure(code)
      #expect(e == nil, "\(code): \(String(describing: e))")
      #expect(methods.allSatisfy { ["list_containers", "list_rdr_rules", "list_all_images"].contains($0) }, "\(code): \(methods)")
    }
    // Neither arguments nor a pipe: still an error.
    let (e, _) = try failure("network rm")
    #expect(e?.code.rawValue == "args.missing")
  }

  /// A daemon that closes the connection and stops listening while a call waits: the error says
  /// it went away, which call, and whether that call may have taken effect.
  @Test func aDaemonThatDiesMidCallIsNamed() throws {
    for (code, method, effect) in [
      ("ps", "list_containers", "only reads, so nothing was changed"),
      ("kill web", "kill_container", "may have taken effect"),
    ] {
      var template = Array("/tmp/xcsh-dies-XXXXXX".utf8CString)
      let dir = String(cString: mkdtemp(&template)!)
      defer { try? FileManager.default.removeItem(atPath: dir) }
      let path = dir + "/xc.sock"
      let listener = try Socket.listen(onUnixPath: path)
      let t = Thread {
        guard let s = try? listener.accept() else { return }
        let channel = FrameChannel(socket: s)
        _ = try? channel.receive()
        // The daemon dies: its socket file and its listener go with it.
        unlink(path)
        try? listener.close()
        channel.close()
      }
      t.start()
      let session = DaemonSession(socketPath: path)
      let registry = Builtins.registry()
      for c in ObjectCommands.all(session) { registry.register(c) }
      let shell = Shell(options: ShellOptions(), registry: registry)
      do {
        _ = try shell.evaluate(SourceMap.shared.add(name: "<test>", text: code))
        Issue.record("\(code) succeeded")
      } catch let e as ShellError {
        #expect(e.code.rawValue == "daemon.gone", "\(e)")
        #expect(e.message.contains("went away during `\(method)`"), "\(e.message)")
        #expect(e.message.contains(effect), "\(e.message)")
      }
      session.finish()
    }
  }
}
