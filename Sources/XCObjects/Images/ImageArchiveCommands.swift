import Glibc
import SystemPackage
import XCIPC
import XCShell

/// `image save` and `image load`: images in and out of the daemon as OCI archives
/// (IPC extension `xcsh.save_image`; loading is xc's `fd_import` of a whole archive).
enum ImageArchiveCommands {
  static func all(_ s: DaemonSession) -> [any Command] { [save(s), load(s)] }

  static func save(_ s: DaemonSession) -> Builtin {
    Builtin(
      Signature(
        "image save", category: .objects,
        summary: "Write an image to a file as an OCI image layout tar (IPC extension `xcsh.save_image`).",
        parameters: [
          .required("image", .object(.image), "A reference (`name:tag`) or an image object."),
          .required("path", .string, "The archive to write on this host (replaced if it exists)."),
        ],
        examples: [Example("Save an image as an OCI archive (`image load`, skopeo and umoci read it)", "image save app:1 app.tar")],
        details: "The archive holds `oci-layout`, `index.json` (the image named by `org.opencontainers.image.ref.name`) and the blobs exactly as stored, so digests are unchanged; skopeo, umoci and `image load` read it. The file is removed when saving fails.")
    ) { call, _ in
      // An image object is saved from the daemon it came from (the archive is written here).
      try DaemonRoute.pipe(of: call.value("image")) { try saveHere(s, call) }
    }
  }

  private static func saveHere(_ s: DaemonSession, _ call: Call) throws -> XCShell.Pipe {
    let ref = try ObjectArgs.imageRef(try call.require("image"), at: call.head)
    let path = try call.require("path").asString()
    let fd: FileDescriptor
    do {
      fd = try FileDescriptor.open(
        path, .writeOnly, options: [.create, .truncate, .closeOnExec], permissions: [.ownerReadWrite, .groupRead, .otherRead])
    } catch {
      throw ShellError(.fileOpen, "`image save`: cannot write `\(path)`: \(error)", at: call.span)
    }
    defer { try? fd.close() }
    do {
      _ = try Progress.around("saving \(ref) to \(path)", call) {
        try s.call(SaveImageRequest(imageReference: ref, fd: FDRef(fd)), at: call.head)
      }
    } catch {
      unlink(path)  // never leave a half-written archive behind
      throw error
    }
    return .empty
  }

  static func load(_ s: DaemonSession) -> Builtin {
    Builtin(
      Signature(
        "image load", category: .objects,
        summary: "Load images from an OCI archive or a `docker save` tar (IPC `fd_import`).",
        parameters: [
          .required("path", .string, "The archive on this host."),
          .optional("image", .string, "Tag the (first) image with this reference instead of the archive's own name."),
        ],
        examples: [Example("Load an archive `image save` wrote", "image load app.tar")],
        details: "Returns the loaded image objects: those whose top layer is the one the daemon reports.")
    ) { call, _ in
      let path = try call.require("path").asString()
      let ref = try call.value("image")?.asString() ?? ""
      let fd: FileDescriptor
      do { fd = try FileDescriptor.open(path, .readOnly, options: .closeOnExec) } catch {
        throw ShellError(.fileOpen, "`image load`: cannot open `\(path)`: \(error)", at: call.span)
      }
      defer { try? fd.close() }
      let diff = try Progress.around("loading \(path)", call) {
        try s.call(FdImportRequest(fd: FDRef(fd), config: JailConfig(secureLevel: 0), imageReference: ref), at: call.head)
      }
      if !ref.isEmpty { return .value(try ImageCommands.describe(s, ref, at: call.head)) }
      let listed = try s.call(ListAllImagesRequest(), at: call.head).manifests
      let loaded = listed.filter { $0.manifest.rootfs.diffIds.last == diff }.map(\.imageReference).sorted()
      return .value(Value(.list(try loaded.map { try ImageCommands.describe(s, $0, at: call.head) }), call.span))
    }
  }
}
