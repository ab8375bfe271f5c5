import Foundation
import Glibc
import SystemPackage
import Testing
import XCIPC

/// Volumes end to end: create/list/remove, `mount_req` with volumes and host paths.
@Suite(.serialized, .enabled(if: runsAsRoot, "needs root (runc, mounts)"))
struct VolumeTests {
  func mount(_ source: String, _ dest: String, readOnly: Bool = false, evid: FileDescriptor? = nil) -> MountRequest {
    MountRequest(source: OsString(source), dest: OsString(dest), evid: evid.map { FDRef($0) }, readOnly: readOnly)
  }

  @Test func volumeDataOutlivesItsContainer() throws {
    try withDaemon { daemon in
      let client = try daemon.client()
      try Fixtures.importImage(client)
      _ = try client.call(CreateVolumeRequest(name: "data", kind: .directory))
      let listed = try client.call(ListVolumesRequest())
      let device = try #require(listed["data"]?.device)
      #expect(device == daemon.stateDir + "/volumes/data")
      #expect(listed["data"]?.driver == .directory)

      let wrote = try Storage.sh(client, "busybox:latest", "echo kept > /data/f && echo ok", mounts: [mount("data", "/data")])
      #expect(wrote.output == "ok\n" && wrote.code == 0)
      // The first container is gone (run waits for its end); a second one reads the data.
      #expect(try client.call(ListContainersRequest()).isEmpty)
      let read = try Storage.sh(client, "busybox:latest", "cat /srv/v/f", mounts: [mount("data", "/srv/v")])
      #expect(read.output == "kept\n", "\(read.output)")
      #expect(try String(contentsOfFile: device + "/f", encoding: .utf8) == "kept\n")

      // The volume and its data outlive the daemon too.
      try daemon.stop()
      try daemon.start()
      let again = try daemon.client()
      #expect(try again.call(ListVolumesRequest())["data"]?.device == device)
      let reread = try Storage.sh(again, "busybox:latest", "cat /data/f", mounts: [mount("data", "/data")])
      #expect(reread.output == "kept\n", "\(reread.output)")

      _ = try again.call(RemoveVolumeRequest(name: "data"))
      #expect(try again.call(ListVolumesRequest()).isEmpty)
      #expect(!FileManager.default.fileExists(atPath: device))
      let gone = try daemonError {
        try Storage.sh(again, "busybox:latest", "true", mounts: [mount("data", "/data")])
      }
      #expect(gone.errno == 2 && gone.value.text.contains("no such volume data"), "\(gone)")
    }
  }

  @Test func readOnlyMountRefusesWrites() throws {
    try withDaemon { daemon in
      let client = try daemon.client()
      try Fixtures.importImage(client)
      _ = try client.call(CreateVolumeRequest(name: "ro", kind: .directory))
      let r = try Storage.sh(
        client, "busybox:latest", "ls /data && echo x > /data/f", mounts: [mount("ro", "/data", readOnly: true)])
      #expect(r.code != 0)
      #expect(r.output.contains("Read-only file system"), "\(r.output)")
      let shown = try client.call(ListVolumesRequest())["ro"]?.device ?? ""
      #expect(try FileManager.default.contentsOfDirectory(atPath: shown).isEmpty)
      _ = try client.call(RemoveVolumeRequest(name: "ro"))
    }
  }

  @Test func volumeInUseRefusesRemoval() throws {
    try withDaemon { daemon in
      let client = try daemon.client()
      try Fixtures.importImage(client)
      _ = try client.call(CreateVolumeRequest(name: "busy", kind: .directory))
      let exited = try Storage.sleeper(client, name: "holder", mounts: [mount("busy", "/busy")])
      let shown = try client.call(ShowContainerRequest(id: "holder")).runningContainer
      #expect(shown.mountReq.map(\.dest) == ["/busy"], "\(shown.mountReq)")
      let refused = try daemonError { try client.call(RemoveVolumeRequest(name: "busy")) }
      #expect(refused.errno == 16 && refused.value.text.contains("holder"), "\(refused)")
      #expect(try client.call(ListVolumesRequest())["busy"] != nil)
      try Storage.kill(client, "holder", exited)
      _ = try client.call(RemoveVolumeRequest(name: "busy"))
      let missing = try daemonError { try client.call(RemoveVolumeRequest(name: "busy")) }
      #expect(missing.errno == 2 && missing.value.text.contains("no such volume busy"), "\(missing)")
    }
  }

  @Test func hostPathMountNeedsItsEvidence() throws {
    try withDaemon { daemon in
      let client = try daemon.client()
      try Fixtures.importImage(client)
      let host = daemon.dir + "/hostdir"
      let other = daemon.dir + "/other"
      try FileManager.default.createDirectory(atPath: host, withIntermediateDirectories: true)
      try FileManager.default.createDirectory(atPath: other, withIntermediateDirectories: true)
      try "from host\n".write(toFile: host + "/in", atomically: false, encoding: .utf8)
      let evid = try FileDescriptor.open(host, .readOnly)
      defer { try? evid.close() }
      let wrong = try FileDescriptor.open(other, .readOnly)
      defer { try? wrong.close() }

      let r = try Storage.sh(
        client, "busybox:latest", "cat /h/in && echo back > /h/out", mounts: [mount(host, "/h", evid: evid)])
      #expect(r.output == "from host\n" && r.code == 0, "\(r.output)")
      #expect(try String(contentsOfFile: host + "/out", encoding: .utf8) == "back\n")

      let noEvidence = try daemonError {
        try Storage.sh(client, "busybox:latest", "true", mounts: [mount(host, "/h")])
      }
      #expect(noEvidence.errno == 2 && noEvidence.value.text.contains("mount_req[0]: missing evidence"), "\(noEvidence)")
      let mismatch = try daemonError {
        try Storage.sh(client, "busybox:latest", "true", mounts: [mount(host, "/h", evid: wrong)])
      }
      #expect(mismatch.errno == 2 && mismatch.value.text.contains("evidence inode mismatch"), "\(mismatch)")
      // Refused requests leave no container behind.
      #expect(try client.call(ListContainersRequest()).isEmpty)
    }
  }

  @Test func badVolumeRequestsAnswerClearly() throws {
    try withDaemon { daemon in
      let client = try daemon.client()
      try Fixtures.importImage(client)
      let zfs = try daemonError { try client.call(CreateVolumeRequest(name: "z", kind: .zfs)) }
      #expect(zfs.errno == 45 && zfs.value.text.contains("unsupported on Linux"), "\(zfs)")
      let badName = try daemonError { try client.call(CreateVolumeRequest(name: "../x", kind: .directory)) }
      #expect(badName.errno == 22 && badName.value.text.contains("bad volume name"), "\(badName)")
      let noDevice = try daemonError {
        try client.call(CreateVolumeRequest(name: "d", device: daemon.dir + "/nope", kind: .directory))
      }
      #expect(noDevice.errno == 2 && noDevice.value.text.contains("No such directory"), "\(noDevice)")

      // A registered directory is kept when its volume is removed.
      let existing = daemon.dir + "/existing"
      try FileManager.default.createDirectory(atPath: existing, withIntermediateDirectories: true)
      _ = try client.call(CreateVolumeRequest(name: "reg", device: existing, kind: .directory))
      let twice = try daemonError { try client.call(CreateVolumeRequest(name: "reg", kind: .directory)) }
      #expect(twice.errno == 17, "\(twice)")
      _ = try client.call(RemoveVolumeRequest(name: "reg"))
      #expect(FileManager.default.fileExists(atPath: existing))

      let badDest = try daemonError {
        try Storage.sh(client, "busybox:latest", "true", mounts: [mount(existing, "slot", evid: nil)])
      }
      #expect(badDest.errno == 22 && badDest.value.text.contains("mount_req[0]: dest \"slot\""), "\(badDest)")
      let rootDest = try daemonError {
        try Storage.sh(client, "busybox:latest", "true", mounts: [mount("x", "/")])
      }
      #expect(rootDest.errno == 22 && rootDest.value.text.contains("mount_req[0]: dest \"/\""), "\(rootDest)")
      #expect(try client.call(InfoRequest()).config.socketPath == daemon.socket)
    }
  }

  /// An image declaring a required volume slot: refused without it, mounted by key with it,
  /// and usable as a `create_volume` template.
  @Test func imageVolumeSlots() throws {
    try withDaemon { daemon in
      let client = try daemon.client()
      try Fixtures.importImage(client)
      var meta = JailConfig(secureLevel: 0)
      meta.mounts["db"] = MountSpec(description: "the data", destination: "/var/db", required: true)
      _ = try client.call(ReplaceMetaRequest(imageReference: "busybox:latest", config: meta))

      let missing = try daemonError { try Storage.sh(client, "busybox:latest", "true") }
      #expect(missing.errno == 2 && missing.value.text.contains("Required volume \"db\" is not mounted"), "\(missing)")
      let badTemplate = try daemonError {
        try client.call(
          CreateVolumeRequest(
            name: "v", template: VolumeTemplate(imageReference: "busybox:latest", mountName: "nope"),
            kind: .directory))
      }
      #expect(badTemplate.errno == 2 && badTemplate.value.text.contains("nope"), "\(badTemplate)")
      _ = try client.call(
        CreateVolumeRequest(
          name: "v", template: VolumeTemplate(imageReference: "busybox:latest", mountName: "db"),
          kind: .directory))
      let r = try Storage.sh(client, "busybox:latest", "echo in > /var/db/x && cat /var/db/x", mounts: [mount("v", "db")])
      #expect(r.output == "in\n", "\(r.output)")
      _ = try client.call(RemoveVolumeRequest(name: "v"))
    }
  }
}
