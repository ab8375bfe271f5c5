import Foundation
import SystemPackage
import XCIPC
import XCShell
import Yams

/// `image list|show|rm|import|patch|get-config|set-config|tag|ensure` and `purge`.
enum ImageCommands {
  static func all(_ s: DaemonSession) -> [any Command] {
    [show(s), remove(s), importImage(s), getConfig(s), setConfig(s), patch(s), tag(s), ensure(s), purge(s)]
  }

  /// `describe_image` as an image object: `image_reference`, `chain_id`, `digest`,
  /// `jail_image`, `dataset_id`.
  static func describe(_ s: DaemonSession, _ ref: String, at span: Span) throws -> Value {
    try DaemonSession.value(try describeRecord(s, ref, at: span), as: .image)
  }

  /// `describe_image`; its typed `ImageReferenceNotFound` answer is `image.not_found`.
  static func describeRecord(_ s: DaemonSession, _ ref: String, at span: Span) throws -> DescribeImageResponse {
    try ObjectArgs.about(.image, ref, at: span, exists: { false }) {
      try s.call(DescribeImageRequest(imageReference: ref), at: span)
    }
  }

  /// The image from the argument or the pipe: a reference or an image object.
  static func target(_ call: Call, _ input: XCShell.Pipe, _ param: String = "image") throws -> Value {
    try ObjectArgs.target(call, input, param, what: "an image")
  }

  static func show(_ s: DaemonSession) -> Builtin {
    Builtin(
      Signature(
        "image show", category: .objects, summary: "An image's description, as an image object (IPC `describe_image`).",
        parameters: [.optional("image", .object(.image), "A reference (`name:tag`) or an image object (or piped in).")],
        examples: [Example("The entry points of an image", "image show busybox:latest | get jail_image.config.xc_extension.entry_points")])
    ) { call, input in
      let t = try target(call, input)
      // An image object is described by the daemon it came from (docs/remote.md).
      return try DaemonRoute.pipe(of: t) { .value(try describe(s, try ObjectArgs.imageRef(t, at: call.head), at: call.head)) }
    }
  }

  static func remove(_ s: DaemonSession) -> Builtin {
    Builtin(
      Signature(
        "image rm", category: .objects,
        summary: "Remove image tags (IPC `remove_image`); `purge` reclaims the data.",
        parameters: [.rest("images", .object(.image), "References or image objects (or piped in).")],
        examples: [Example("Remove every tag of a repository", "images | where image_reference =~ '^app:' | image rm")])
    ) { call, input in
      for t in try ObjectArgs.targets(call, input, what: "an image") {
        let ref = try ObjectArgs.imageRef(t, at: call.head)
        // An image object is removed from the daemon it came from, each on its own host.
        try DaemonRoute.withHost(of: t) {
          // xc's `remove_image` answers success when nothing matched: a reference that names no
          // image is found out first, so a typo is not a silent no-op.
          _ = try describeRecord(s, ref, at: call.head)
          _ = try s.call(RemoveImageRequest(imageReference: ref), at: call.head)
        }
      }
      return .empty
    }
  }

  static func importImage(_ s: DaemonSession) -> Builtin {
    Builtin(
      Signature(
        "image import", category: .objects,
        summary: "Import a tar layer (plain, gzip or zstd) as an image (IPC `fd_import`).",
        parameters: [
          .required("path", .string, "The archive on this host."),
          .required("image", .string, "The new image's reference (`name:tag`)."),
          .named("config", .any, short: "f", "The image config: a record, or a YAML/JSON file (default: empty)."),
        ],
        examples: [Example("Import a root file system", "image import rootfs.tar.zst base:1 -f base.yaml")],
        details: "Returns the image object (`describe_image`) with `diff_id`, the layer's digest. Shows progress on a terminal.")
    ) { call, _ in
      let path = try call.require("path").asString()
      let ref = try call.require("image").asString()
      let config = try call.value("config").map { try jailConfig($0, call) } ?? JailConfig(secureLevel: 0)
      let fd: FileDescriptor
      do { fd = try FileDescriptor.open(path, .readOnly, options: .closeOnExec) } catch {
        throw ShellError(.fileOpen, "cannot open `\(path)`: \(error)", at: call.span)
      }
      defer { try? fd.close() }
      let size = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? nil
      let diff = try Progress.around("importing \(path)\(size.map { " (\(Progress.bytes($0)))" } ?? "")", call) {
        try s.call(FdImportRequest(fd: FDRef(fd), config: config, imageReference: ref), at: call.head)
      }
      var image = try describe(s, ref, at: call.head)
      if case .object(var o) = image.kind {
        o.fields["diff_id"] = .string(diff)
        image = Value(.object(o), image.span)
      }
      return .value(image)
    }
  }

  static func getConfig(_ s: DaemonSession) -> Builtin {
    Builtin(
      Signature(
        "image get-config", category: .objects,
        summary: "An image's xc config (`xc_extension`) as a record (IPC `describe_image`).",
        parameters: [.optional("image", .object(.image), "A reference or an image object (or piped in).")],
        examples: [Example("Edit a config and write it back", "image get-config app:1 | upsert vnet true | image set-config app:1")])
    ) { call, input in
      let t = try target(call, input)
      return try DaemonRoute.pipe(of: t) {
        let d = try describeRecord(s, try ObjectArgs.imageRef(t, at: call.head), at: call.head)
        let config = d.jailImage.config?.xcExtension ?? JailConfig(secureLevel: 0)
        return .value(try DaemonSession.value(config, as: nil))
      }
    }
  }

  static func setConfig(_ s: DaemonSession) -> Builtin {
    Builtin(
      Signature(
        "image set-config", category: .objects,
        summary: "Replace an image's xc config (IPC `replace_meta`).",
        parameters: [
          .required("image", .object(.image), "A reference or an image object."),
          .optional("config", .any, "A record, or a YAML/JSON file (or a record piped in)."),
        ],
        details: "As in xc, the OCI part of the config (`Entrypoint`, `Env`, …) is reset. Returns the image object.")
    ) { call, input in
      try DaemonRoute.pipe(of: call.value("image")) { try setConfigHere(s, call, input) }
    }
  }

  private static func setConfigHere(_ s: DaemonSession, _ call: Call, _ input: XCShell.Pipe) throws -> XCShell.Pipe {
    let ref = try ObjectArgs.imageRef(try call.require("image"), at: call.head)
    let given = try call.value("config") ?? input.collect()
    guard !given.isNull else {
      throw ShellError(.argsMissing, "`image set-config` needs a config (a record or a file)", at: call.span)
    }
    _ = try s.call(ReplaceMetaRequest(imageReference: ref, config: try jailConfig(given, call)), at: call.head)
    return .value(try describe(s, ref, at: call.head))
  }

  static func patch(_ s: DaemonSession) -> Builtin {
    Builtin(
      Signature(
        "image patch", category: .objects,
        summary: "Edit an image's config in place with xc's patch actions (IPC `describe_image` + `replace_meta`).",
        parameters: [
          .required("image", .object(.image), "A reference or an image object."),
          .rest("action", .string, "The action and its arguments, as xc's (see below)."),
        ],
        examples: [Example("Declare a required variable", "image patch app:1 add-env --required DB_URL")],
        details: """
          Actions: `add-env [--required] [-d TEXT] VAR[=DEFAULT]`, `default-entry-point NAME`, \\
          `add-exec -n NAME [-e VAR[=VAL]]… [--require-env VAR]… [-u USER] [-g GROUP] [-w DIR] ARG0 [ARGS…]`, \\
          `add-volume [-d TEXT] [--hint K=V]… [--read-only] [--name NAME] [--required] MOUNT_POINT`, \\
          `mount-procfs`, `mount-fdescfs`, `mod-allow PARAM…` (`-PARAM` removes). Returns the image object.
          """,
        acceptsAnyFlag: true)
    ) { call, _ in
      try DaemonRoute.pipe(of: call.value("image")) { try patchHere(s, call) }
    }
  }

  private static func patchHere(_ s: DaemonSession, _ call: Call) throws -> XCShell.Pipe {
    let ref = try ObjectArgs.imageRef(try call.require("image"), at: call.head)
    let words = try call.restValues().map { try $0.asString() }
    let d = try describeRecord(s, ref, at: call.head)
    var config = d.jailImage.config?.xcExtension ?? JailConfig(secureLevel: 0)
    do { try ImagePatch.apply(words, to: &config) } catch let e as ImagePatch.Failure {
      throw ShellError(.argsValue, "`image patch`: \(e.message)", at: call.span, help: "see `help image patch`")
    }
    _ = try s.call(ReplaceMetaRequest(imageReference: ref, config: config), at: call.head)
    return .value(try describe(s, ref, at: call.head))
  }

  static func tag(_ s: DaemonSession) -> Builtin {
    Builtin(
      Signature(
        "image tag", category: .objects,
        summary: "Give an image another reference (IPC extension `xcsh.tag_image`; xc has no tag command).",
        parameters: [
          .required("image", .object(.image), "A reference or an image object."),
          .required("reference", .string, "The new reference (`name:tag`)."),
        ],
        details: "Returns the image object under its new reference.")
    ) { call, _ in
      try DaemonRoute.pipe(of: call.value("image")) {
        let ref = try ObjectArgs.imageRef(try call.require("image"), at: call.head)
        let new = try call.require("reference").asString()
        _ = try s.call(TagImageRequest(imageReference: ref, newReference: new), at: call.head)
        return .value(try describe(s, new, at: call.head))
      }
    }
  }

  static func ensure(_ s: DaemonSession) -> Builtin {
    Builtin(
      Signature(
        "image ensure", category: .objects,
        summary: "An image, pulled only if it is not there yet: `{action: created|unchanged, object}`.",
        parameters: [.required("image", .string, "The reference (`name:tag`).")])
    ) { call, _ in
      let ref = try call.require("image").asString()
      do {
        return .value(ObjectArgs.ensured("unchanged", try describe(s, ref, at: call.head)))
      } catch let e as ShellError where ObjectArgs.isNotFound(e) {
        try RegistryCommands.pullAndWait(s, ref, rename: nil, call)
        return .value(ObjectArgs.ensured("created", try describe(s, ref, at: call.head)))
      }
    }
  }

  static func purge(_ s: DaemonSession) -> Builtin {
    Builtin(
      Signature(
        "purge", category: .objects,
        summary: "Delete untagged images and unreferenced layers (IPC `purge`).")
    ) { call, _ in
      _ = try s.call(PurgeRequest(), at: call.head)
      return .empty
    }
  }

  /// A `JailConfig` from a record, or from a YAML or JSON file named by a string.
  static func jailConfig(_ v: Value, _ call: Call) throws -> JailConfig {
    let json: String
    switch v.kind {
    case .record, .object:
      json = v.toJSON()
    case .string(let path):
      guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
        throw ShellError(.fileRead, "cannot read the config file `\(path)`", at: call.span)
      }
      do {
        let loaded = try Yams.load(yaml: text) ?? [String: Any]()
        json = String(decoding: try JSONSerialization.data(withJSONObject: loaded), as: UTF8.self)
      } catch {
        throw ShellError(.configParse, "`\(path)` is not YAML or JSON: \(error)", at: call.span)
      }
    default:
      throw ShellError.typeMismatch(expected: "record or file path", found: v, at: call.span)
    }
    do {
      return try WireDecoder().decode(JailConfig.self, from: Array(json.utf8))
    } catch {
      throw ShellError(.configInvalid, "not an xc image config: \(Envelope.describe(error))", at: call.span)
    }
  }
}
