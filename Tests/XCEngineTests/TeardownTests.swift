import Foundation
import Glibc
import Testing

@testable import XCEngine

/// The container rollback stack and the one policy for an undo that fails.
@Suite("Teardown")
struct TeardownTests {
  @Test func theStackUnwindsNewestFirstAndOnce() {
    let stack = Rollback()
    for step in TeardownStep.allCases { stack.push(step) }
    #expect(stack.pending == TeardownStep.allCases)
    #expect(stack.take() == TeardownStep.allCases.reversed())
    #expect(stack.take().isEmpty)
    #expect(stack.pending.isEmpty)
  }

  /// A container's directory that cannot be removed (something is still mounted in it) is
  /// not silently left: the failed step is kept, and the next start finishes the teardown.
  @Test(.enabled(if: runsAsRoot, "needs root (mounts, the engine's state)"))
  func aFailingUndoIsKeptAndFinishedByTheNextStart() throws {
    let state = try TempState()
    defer { state.remove() }
    let layout = StateLayout(root: state.path)
    let id = "0123456789ab"
    let bundle = layout.container(id)
    do {
      let engine = try Engine(stateDir: state.path)
      defer { engine.shutdown() }
      try FileSystem.makeDirectories(bundle + "/rootfs", mode: 0o755)
      let mount = try Fixtures.run(["/bin/mount", "-t", "tmpfs", "tmpfs", bundle + "/rootfs"])
      #expect(mount.status == 0, "\(mount.stderr)")
      let record = ContainerRecord(
        id: id, name: "xc-\(id)", named: false, hostname: "h", image_reference: "busybox:latest",
        image_digest: "sha256:00", root: bundle + "/rootfs", status: .running, pid: nil, main_proto: nil,
        created: 0, started: nil, finished_at: nil, exit_status: nil, fault: nil, persist: false,
        no_clean: false)
      try engine.state.saveContainer(record)
      let failed = engine.teardown(Engine.TeardownTarget(record: record, bundle: bundle), steps: [.state])
      #expect(failed == [.state])
      let pending = try StateStore.decode(
        PendingTeardown.self, try FileSystem.readString(layout.pendingTeardown(id)))
      #expect(pending.record.id == id && pending.steps == [.state])
      #expect(pending.errors.first?.contains("still mounted") == true)
      #expect(FileSystem.isDirectory(bundle))
    }
    // The next start: the kept teardown is done again (mounts first), and nothing is left.
    let engine = try Engine(stateDir: state.path)
    engine.shutdown()
    #expect(!FileSystem.exists(layout.pendingTeardown(id)))
    #expect(!FileSystem.exists(bundle))
    #expect(try engine.state.containers().isEmpty)
    state.expectClean()
  }
}
