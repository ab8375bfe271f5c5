import Glibc
import SystemPackage
import Testing

@testable import XCEngine

/// Which of main's streams are logged, and what `xcsh.logs` answers, without a container.
@Suite("Main logs")
struct MainLogsTests {
  @Test func onlyTheStreamsTheClientDidNotKeepAreLogged() {
    var spec = ContainerSpec(image_reference: "busybox:latest")
    let log = "/b/main.log"
    #expect(MainLogs.paths(spec, bundle: "/b", hasMain: true) == (log, log))
    #expect(MainLogs.paths(spec, bundle: "/b", hasMain: false) == (nil, nil))
    spec.stdout = FileDescriptor(rawValue: 1)
    #expect(MainLogs.paths(spec, bundle: "/b", hasMain: true) == (nil, log))
    spec.stderr = FileDescriptor(rawValue: 2)
    #expect(MainLogs.paths(spec, bundle: "/b", hasMain: true) == (nil, nil))
    spec.use_tty = true  // the pty's output is the log, whatever the client passed
    #expect(MainLogs.paths(spec, bundle: "/b", hasMain: true) == (log, log))
  }

  @Test func aRemovedContainerOrAnUnknownProcessHasNoLog() throws {
    var record = ContainerRecord(
      id: "0123456789ab", name: "web", named: true, hostname: "web", image_reference: "busybox:latest",
      image_digest: "sha256:00", root: "/r", status: .exited, pid: nil, main_proto: nil, created: 0,
      started: nil, finished_at: nil, exit_status: nil, fault: nil, persist: false, no_clean: false)
    let gone = #expect(throws: EngineError.self) {
      try MainLogs.files(of: record, dead: true, name: "web", process: "main")
    }
    #expect(gone?.code == .containerNotFound && gone?.errno == .noSuchFileOrDirectory)
    record.no_clean = true
    let unknown = #expect(throws: EngineError.self) {
      try MainLogs.files(of: record, dead: true, name: "web", process: "main")
    }
    #expect(unknown?.code == .badRequest && unknown?.help == "its main process has not been created")
    record.processes["main"] = ProcessStat(pid: 1, exec: Jexec(
      arg0: "/bin/sh", args: [], envs: [:], user: nil, group: nil, uid: 0, gid: 0, work_dir: nil))
    record.processes["main"]?.stderr_log_file = "/b/main.log"
    let files = try MainLogs.files(of: record, dead: true, name: "web", process: "main")
    #expect(files.stdout == nil && files.stderr == "/b/main.log")
  }
}
