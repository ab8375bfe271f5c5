import XCIPC
import XCShell

/// `volume create|list|rm|ensure` (`volumes`): the daemon's named volumes.
enum VolumeCommands {
  static func all(_ s: DaemonSession) -> [any Command] {
    [create(s), list(s, name: "volume list"), list(s, name: "volumes"), remove(s), ensure(s)]
  }

  static let createParameters: [Parameter] = [
    .required("name", .string, "The volume's name (used as `-v NAME:/DEST`)."),
    .optional("driver", .oneOf(["directory", "zfs"]), "The storage driver.", default: .string("directory")),
    .named("device", .string, short: "s", "An existing directory (or dataset) to register instead of making one."),
    .named("image", .string, short: "i", "With `--volume`: take hints from this image's volume declaration."),
    .named("volume", .string, "The key of the image's volume declaration to use as a template."),
    .named("zfs-option", .any, short: "o", "A ZFS property `KEY=VALUE` for a new dataset; repeatable."),
  ]

  static func request(_ call: Call) throws -> CreateVolumeRequest {
    let name = try call.require("name").asString()
    let driver = try call.string("driver") ?? "directory"
    guard let kind = VolumeDriverKind(rawValue: driver) else {
      throw ShellError(.argsValue, "unknown volume driver `\(driver)` (directory or zfs)", at: call.span)
    }
    var r = CreateVolumeRequest(name: name, device: try call.string("device"), kind: kind)
    for t in try ObjectArgs.strings(call, "zfs-option") {
      do {
        let (k, v) = try FlagSyntax.keyValue(t, flag: "-o")
        r.zfsProps[k] = v
      } catch { throw ObjectArgs.syntax(error, call) }
    }
    // As xc: the template is used only when both the image and the declaration are named.
    if let image = try call.string("image"), let key = try call.string("volume") {
      r.template = VolumeTemplate(imageReference: image, mountName: OsString(key))
    }
    return r
  }

  /// A volume record as an object; the name (the map key on the wire) comes first.
  static func object(_ name: String, _ v: Volume) throws -> Value {
    let value = try DaemonSession.value(v, as: .volume)
    guard case .object(let o) = value.kind else { return value }
    var fields = Record([("name", .string(name))])
    for (k, f) in o.fields { fields[k] = f }
    return Value(.object(ObjectValue(type: .volume, fields: fields)))
  }

  static func volumes(_ s: DaemonSession, at span: Span) throws -> [String: Volume] {
    try s.call(ListVolumesRequest(), at: span)
  }

  static func create(_ s: DaemonSession) -> Builtin {
    Builtin(
      Signature(
        "volume create", category: .objects, summary: "Create a volume (IPC `create_volume`).",
        parameters: createParameters,
        examples: [Example("A directory volume", "volume create data directory -s /srv/data")],
        details: "Returns the volume object: `name` plus the daemon's record (`device`, `driver`, …).")
    ) { call, _ in
      let r = try request(call)
      _ = try s.call(r, at: call.head)
      return .value(try volumes(s, at: call.head)[r.name].map { try object(r.name, $0) } ?? .null)
    }
  }

  static func list(_ s: DaemonSession, name: String) -> Builtin {
    Builtin(
      Signature(
        name, category: .objects, summary: "The volumes, as volume objects (IPC `list_volumes`).",
        examples: [Example("Volume names", "volumes | get name")])
    ) { call, _ in
      let all = try volumes(s, at: call.head)
      return .value(.list(try all.keys.sorted().map { try object($0, all[$0]!) }, call.head))
    }
  }

  static func remove(_ s: DaemonSession) -> Builtin {
    Builtin(
      Signature(
        "volume rm", category: .objects,
        summary: "Remove volumes no container mounts (IPC extension `xcsh.remove_volume`; xc has none).",
        parameters: [.rest("volumes", .object(.volume), "Names or volume objects (or piped in).")])
    ) { call, input in
      for t in try ObjectArgs.targets(call, input, what: "a volume") {
        let name = try ObjectArgs.name(t, "volume", at: call.head)
        // A volume object is removed from the daemon it came from, each on its own host.
        try DaemonRoute.withHost(of: t) {
          try ObjectArgs.about(.volume, name, at: call.head, exists: { try volumes(s, at: call.head)[name] != nil }) {
            _ = try s.call(RemoveVolumeRequest(name: name), at: call.head)
          }
        }
      }
      return .empty
    }
  }

  static func ensure(_ s: DaemonSession) -> Builtin {
    Builtin(
      Signature(
        "volume ensure", category: .objects,
        summary: "A volume, created only if missing: `{action: created|unchanged|replaced, object}`.",
        parameters: createParameters,
        details: "An existing volume with another driver or device is removed and created again (which fails while mounted).")
    ) { call, _ in
      let r = try request(call)
      return .value(
        try ObjectArgs.ensure(
          existing: try volumes(s, at: call.head)[r.name],
          matches: { $0.driver == r.kind && (r.device == nil || r.device == $0.device) },
          object: { try object(r.name, $0) },
          remove: { _ = try s.call(RemoveVolumeRequest(name: r.name), at: call.head) },
          create: {
            _ = try s.call(r, at: call.head)
            return try volumes(s, at: call.head)[r.name].map { try object(r.name, $0) } ?? .null
          }))
    }
  }
}
