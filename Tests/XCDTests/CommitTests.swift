import Foundation
import Glibc
import SystemPackage
import Testing
import XCIPC

/// `commit` end to end: a container's changes become a layer of a new image that runs.
@Suite(.serialized, .enabled(if: runsAsRoot, "needs root (runc, mounts)"))
struct CommitTests {
  /// Creates, changes and deletes files (including an opaque directory: /home/user has a
  /// file "new" in the two-layer test image) in a live container.
  static let changes = """
    echo committed > /root/note && rm /bin/rmdir && rm -rf /home/user && mkdir /home/user && \
    echo fresh > /home/user/only && mkfifo /root/fifo && ln -s /root/note /root/link && \
    ln /root/note /root/hard
    """

  @Test func committedImageRunsWithTheChangeAndTheDeletions() throws {
    try withDaemon { daemon in
      let client = try daemon.client()
      try Fixtures.importImage(client, arguments: ["--two-layers"])
      let exited = try Storage.sleeper(client, name: "src")
      let made = try Storage.exec(client, "src", Self.changes)
      #expect(made.code == 0, "\(made.output)")

      let diffID = try client.call(CommitRequest(containerName: "src", name: "snap", tag: "1")).commitId
      #expect(diffID.hasPrefix("sha256:") && diffID.count == 71, "\(diffID)")
      let described = try client.call(DescribeImageRequest(imageReference: "snap:1"))
      let base = try client.call(DescribeImageRequest(imageReference: "busybox:latest"))
      #expect(described.jailImage.rootfs.diffIds == base.jailImage.rootfs.diffIds + [diffID])
      #expect(described.jailImage.history.count == base.jailImage.history.count + 1)
      try Storage.kill(client, "src", exited)

      let seen = try Storage.sh(
        client, "snap:1",
        """
        cat /root/note; cat /root/link; cat /root/hard; cat /home/user/only
        test -e /bin/rmdir && echo rmdir-present || echo rmdir-gone
        test -e /home/user/new && echo new-present || echo new-gone
        test -p /root/fifo && echo fifo
        test -e /bin/sh && echo sh-present
        """)
      #expect(seen.code == 0)
      #expect(
        seen.output
          == "committed\ncommitted\ncommitted\nfresh\nrmdir-gone\nnew-gone\nfifo\nsh-present\n",
        "\(seen.output)")
      // The base image is unchanged.
      let original = try Storage.sh(client, "busybox:latest", "test -e /bin/rmdir && test -e /home/user/new && echo intact")
      #expect(original.output == "intact\n")
    }
  }

  @Test func altOutWritesTheLayerAndRegistersNothing() throws {
    try withDaemon { daemon in
      let client = try daemon.client()
      try Fixtures.importImage(client, arguments: ["--two-layers"])
      let exited = try Storage.sleeper(client, name: "src")
      #expect(try Storage.exec(client, "src", Self.changes).code == 0)
      let (path, fd) = try Storage.tempFile(daemon.dir, "layer.tar.zst")
      let diffID = try client.call(
        CommitRequest(containerName: "src", name: "unused", tag: "1", altOut: FDRef(fd))
      ).commitId
      try fd.close()
      try Storage.kill(client, "src", exited)
      #expect(try client.call(ListAllImagesRequest()).manifests.map(\.imageReference) == ["busybox:latest"])

      let listing = try Storage.host(["/usr/bin/tar", "--zstd", "-tf", path]).output
      let names = Set(listing.split(separator: "\n").map(String.init))
      for expected in ["root/note", "bin/.wh.rmdir", "home/user/", "home/user/.wh..wh..opq", "home/user/only", "root/link", "root/hard", "root/fifo"] {
        #expect(names.contains(expected), "\(expected) missing from \(names.sorted())")
      }
      // runc's mount points are not part of the change.
      #expect(!names.contains(".xc-init") && !names.contains("proc/"), "\(names.sorted())")
      let sum = try Storage.host(["/bin/sh", "-c", "zstd -dc \"$0\" | sha256sum", path]).output
      #expect(sum.hasPrefix(String(diffID.dropFirst(7))), "\(sum) vs \(diffID)")
    }
  }

  /// An ended container kept with `no_clean` still has its changes to commit (by exact id).
  @Test func endedNoCleanContainerCommits() throws {
    try withDaemon { daemon in
      let client = try daemon.client()
      try Fixtures.importImage(client)
      var r = Storage.request("busybox:latest", ["/bin/sh", "-c", "echo kept > /root/k"])
      r.noClean = true
      let exited = try TestEventFD()
      r.mainExitedFd = exited.ref
      let id = try client.call(r).id
      #expect(try exited.exitStatus().exitCode == 0)
      let deadline = Date().addingTimeInterval(20)
      while !(try client.call(ShowContainerRequest(id: id)).containerDead) {
        guard Date() < deadline else { throw TestFailure("container \(id) not released") }
        usleep(10_000)
      }
      _ = try client.call(CommitRequest(containerName: id, name: "kept", tag: "1"))
      #expect(try Storage.sh(client, "kept:1", "cat /root/k").output == "kept\n")
    }
  }

  @Test func badCommitsAnswerClearly() throws {
    try withDaemon { daemon in
      let client = try daemon.client()
      try Fixtures.importImage(client)
      let ghost = try daemonError { try client.call(CommitRequest(containerName: "ghost", name: "a", tag: "1")) }
      #expect(ghost.errno == 2 && ghost.value.text.contains("ghost"), "\(ghost)")
      let exited = try Storage.sleeper(client, name: "src")
      let noTag = try daemonError { try client.call(CommitRequest(containerName: "src", name: "a", tag: "")) }
      #expect(noTag.errno == 22 && noTag.value.text.contains("tag"), "\(noTag)")
      let badName = try daemonError { try client.call(CommitRequest(containerName: "src", name: "A B", tag: "1")) }
      #expect(badName.errno == 22, "\(badName)")
      // alt_out that cannot be written: a clear error, nothing registered, daemon serving.
      let readOnly = try FileDescriptor.open("/dev/null", .readOnly)
      defer { try? readOnly.close() }
      let unwritable = try daemonError {
        try client.call(CommitRequest(containerName: "src", name: "a", tag: "1", altOut: FDRef(readOnly)))
      }
      #expect(unwritable.value.text.contains("cannot write the layer to alt_out"), "\(unwritable)")
      #expect(try client.call(ListAllImagesRequest()).manifests.count == 1)
      try Storage.kill(client, "src", exited)
    }
  }
}
