import Foundation
import SystemPackage
import Testing
import XCSystem

@testable import XCIPC

@Suite struct ClientErrorTests {
  @Test func noDaemonAtPathNamesThePath() throws {
    let dir = try TempDir()
    defer { dir.remove() }
    let path = dir.path + "/absent.sock"
    do throws(IPCError) {
      _ = try XCClient(path: path)
      Issue.record("connected to nothing")
    } catch {
      #expect(error.code == .noDaemon)
      #expect(error.message.contains(path))
    }
  }

  @Test func staleSocketFileIsNoDaemonToo() throws {
    let dir = try TempDir()
    defer { dir.remove() }
    let path = dir.path + "/stale.sock"
    let l = try Socket.listen(onUnixPath: path)
    try l.close()  // the file stays, nobody listens: ECONNREFUSED
    #expect(throws: IPCError.self) { _ = try XCClient(path: path) }
    do throws(IPCError) { _ = try XCClient(path: path) } catch { #expect(error.code == .noDaemon) }
  }

  @Test func permissionErrorsAreNamed() {
    // Tests run as root here, so the mapping is checked directly.
    #expect(XCClient.connectError(.permissionDenied, path: "/p").code == .permissionDenied)
    #expect(XCClient.connectError(.notPermitted, path: "/p").code == .permissionDenied)
    #expect(XCClient.connectError(.connectionRefused, path: "/p").code == .noDaemon)
  }

  @Test func daemonErrorsCarryErrnoAndText() throws {
    try withServer(echoTable()) { path, _ in
      let client = try XCClient(path: path)
      defer { client.close() }
      do throws(IPCError) {
        _ = try client.call(KillContainerRequest(name: "db"))
        Issue.record("expected an error")
      } catch {
        #expect(error.code == .daemon)
        #expect(error.method == "kill_container")
        #expect(error.daemonError == .notFound("no such container: db"))
        #expect(error.description == "kill_container: ENOENT: no such container: db")
      }
      // The connection is still good after an error answer.
      _ = try client.call(KillContainerRequest(name: "web"))
    }
  }

  @Test func unknownMethodIsADaemonError() throws {
    try withServer(echoTable()) { path, _ in
      let client = try XCClient(path: path)
      defer { client.close() }
      do throws(IPCError) {
        _ = try client.call(ListSiteRdrRequest(name: "web"))
        Issue.record("expected an error")
      } catch {
        #expect(error.daemonError == .notFound("ipc method list_site_rdr not found"))
      }
      #expect(client.isOpen)
    }
  }

  /// A fake daemon that reads one request and then behaves as `reaction` says.
  func withFakeDaemon(
    _ reaction: @escaping @Sendable (Socket) -> Void, _ body: (String) throws -> Void
  ) throws {
    let dir = try TempDir()
    defer { dir.remove() }
    let path = dir.path + "/fake.sock"
    let listener = try Socket.listen(onUnixPath: path)
    defer { try? listener.close() }
    let done = DispatchSemaphore(value: 0)
    Thread {
      defer { done.signal() }
      guard let s = try? listener.accept() else { return }
      let ch = FrameChannel(socket: s)
      _ = try? ch.receive()
      reaction(s)
      ch.close()
    }.start()
    try body(path)
    done.wait()
  }

  @Test func daemonClosingWithoutAnswerIsReportedAsXcdDoesForBadPayloads() throws {
    try withFakeDaemon({ _ in }) { path in
      let client = try XCClient(path: path)
      do throws(IPCError) {
        _ = try client.call(ListContainersRequest())
        Issue.record("expected an error")
      } catch {
        #expect(error.code == .connectionClosed)
        #expect(error.method == "list_containers")
        #expect(error.description.contains("closed the connection without answering"))
      }
      #expect(!client.isOpen)
      do throws(IPCError) {
        _ = try client.call(ListContainersRequest())
        Issue.record("expected an error")
      } catch {
        #expect(error.code == .connectionClosed)
      }
    }
  }

  @Test func timeoutClosesTheConnection() throws {
    let release = DispatchSemaphore(value: 0)
    try withFakeDaemon({ _ in release.wait() }) { path in
      let client = try XCClient(path: path)
      do throws(IPCError) {
        _ = try client.call(ListContainersRequest(), timeout: .milliseconds(50))
        Issue.record("expected a timeout")
      } catch {
        #expect(error.code == .timeout)
        #expect(error.method == "list_containers")
      }
      #expect(!client.isOpen)
      release.signal()
    }
  }

  @Test func malformedAnswerIsADecodingError() throws {
    try withFakeDaemon({ s in
      try? sendRaw(s, frameBytes(Array(#"{"errno":0,"value":{"id":5}}"#.utf8)))
    }) { path in
      let client = try XCClient(path: path)
      defer { client.close() }
      do throws(IPCError) {
        _ = try client.call(ShowContainerRequest(id: "web"))
        Issue.record("expected an error")
      } catch {
        #expect(error.code == .decoding)
        #expect(error.message.contains("running_container"))
      }
    }
  }

  @Test func tooManyDescriptorsFailBeforeSendingAndKeepTheConnection() throws {
    try withServer(echoTable()) { path, _ in
      let client = try XCClient(path: path)
      defer { client.close() }
      let efd = try EventFD.create()
      defer { try? efd.close() }
      do throws(IPCError) {
        _ = try client.call(
          EchoRequest(text: "x", files: Array(repeating: FDRef(efd.fileDescriptor), count: 65)))
        Issue.record("expected an error")
      } catch {
        #expect(error.code == .encoding)
      }
      #expect(try client.call(EchoRequest(text: "still")).text == "still")
    }
  }

  @Test func environmentSocketPathDefault() {
    // Only checks the fallback; XC_SOCKET is not modified (tests run in parallel).
    if getenv("XC_SOCKET") == nil {
      #expect(XCClient.environmentSocketPath == "/var/run/xc.sock")
    }
    #expect(XCClient.defaultSocketPath == "/var/run/xc.sock")
  }
}

@Suite struct InProcessTests {
  @Test func inProcessClientUsesTheRealProtocol() throws {
    let client = try XCClient.inProcess(serving: echoTable())
    defer { client.close() }
    let caller: any XCCaller = client
    #expect(try caller.call(EchoRequest(text: "loop")).text == "loop")
    do throws(IPCError) {
      _ = try caller.call(KillContainerRequest(name: "nope"))
      Issue.record("expected an error")
    } catch {
      #expect(error.daemonError?.errno == 2)
    }
  }
}
