import Foundation
import Logging
import SystemPackage
import Testing
import XCSystem

@testable import XCEngine

/// The parts of `ContainerRuntime` that need no runc: making xc-init PID 1 in the spec, and
/// reading init's status lines.
@Suite("Container runtime (unit)")
struct ContainerRuntimeTests {
  static func runtime(initBinary: String?) -> ContainerRuntime {
    ContainerRuntime(
      runc: Runc(binary: "/nonexistent/runc", root: "/nonexistent"), initBinary: initBinary,
      logger: Logger(label: "test"))
  }

  static var process: RuntimeSpec.Process {
    .init(
      user: .init(uid: 0, gid: 0), args: ["/bin/sh", "-c", "echo hi"], env: [], cwd: "/",
      capabilities: .init(bounding: [], effective: [], permitted: []))
  }

  @Test func xcInitBecomesPidOneAndIsBoundReadOnly() throws {
    let runtime = Self.runtime(initBinary: "/state/bin/xc-init")
    var process = Self.process
    var mounts: [RuntimeSpec.Mount] = []
    try runtime.wrapForInit(&process, mounts: &mounts, persist: false)
    #expect(process.args == ["/.xc-init", "/bin/sh", "-c", "echo hi"])
    #expect(mounts.count == 1 && mounts[0].destination == "/.xc-init" && mounts[0].source == "/state/bin/xc-init")
    #expect(mounts[0].options == ["bind", "ro", "nosuid", "nodev"])

    var persistent = Self.process
    mounts = []
    try runtime.wrapForInit(&persistent, mounts: &mounts, persist: true)
    #expect(persistent.args.prefix(2) == ["/.xc-init", ContainerRuntime.persistFlag])
  }

  @Test func withoutXcInitMainIsPidOneAndPersistIsRefused() throws {
    let runtime = Self.runtime(initBinary: nil)
    var process = Self.process
    var mounts: [RuntimeSpec.Mount] = []
    try runtime.wrapForInit(&process, mounts: &mounts, persist: false)
    #expect(process.args == ["/bin/sh", "-c", "echo hi"] && mounts.isEmpty)
    let refused = #expect(throws: EngineError.self) {
      try runtime.wrapForInit(&process, mounts: &mounts, persist: true)
    }
    #expect(refused?.code == .unsupported && refused?.errno == .notSupported)
    #expect(refused?.message.contains("--persist") == true)
  }

  @Test func statusLinesAreReadWholeUpToEndOfFile() throws {
    let (reader, writer) = try FileDescriptor.closeOnExecPipe()
    defer { try? reader.close() }
    _ = try writer.writeAll(Array("S 0\nR\nE 3".utf8))
    try writer.close()
    #expect(ContainerRuntime.readLine(reader.rawValue) == "S 0")
    #expect(ContainerRuntime.readLine(reader.rawValue) == "R")
    #expect(ContainerRuntime.readLine(reader.rawValue) == "E 3")  // an unterminated last line
    #expect(ContainerRuntime.readLine(reader.rawValue) == nil)
  }
}
