import SystemPackage
import XCEngine
import XCIPC

// MARK: - Volumes

extension Handlers {
  func registerVolumes(_ table: inout XCMethodTable) {
    // xc's `create_volume`. Directory volumes without `device` are made under
    // `default_volume_directory` (else <state>/volumes); xc itself always fails there.
    serve(&table, CreateVolumeRequest.self) { request, _ in
      try Names.volume(request.name, field: "create_volume: name")
      let template = request.template.map {
        (image: $0.imageReference, slot: $0.mountName.description)
      }
      try self.engine.createVolume(
        name: request.name, driver: request.kind == .zfs ? .zfs : .directory,
        device: request.device, template: template, directory: self.config.defaultVolumeDirectory)
      return NullResponse()
    }

    serve(&table, ListVolumesRequest.self) { _, _ in
      var out: [String: Volume] = [:]
      for v in try self.engine.volumes() {
        out[v.name] = Volume(
          rwUsers: v.rw_users, device: v.device, authorizedUsers: v.authorized_users,
          driver: v.driver == .zfs ? .zfs : .directory, mountOptions: v.mount_options,
          driverOptions: v.driver_options)
      }
      return out
    }

    serve(&table, RemoveVolumeRequest.self) { request, _ in
      try Names.volume(request.name, field: "xcsh.remove_volume: name")
      try self.engine.removeVolume(request.name)
      return NullResponse()
    }
  }

  /// `instantiate`'s `mount_req` for the engine. Evidence descriptors are borrowed (the
  /// engine only fstat(2)s them).
  func mountRequests(_ requests: [MountRequest]) throws -> [ContainerSpec.MountRequest] {
    try requests.enumerated().map { i, m in
      func text(_ s: OsString, _ field: String) throws -> String {
        guard let string = String(validating: s.bytes, as: UTF8.self), !string.contains("\0") else {
          throw XCDaemonError.invalid("instantiate: mount_req[\(i)].\(field) is not a valid path")
        }
        return string
      }
      if m.evid != nil && m.evid?.descriptor == nil {
        throw XCDaemonError.invalid("instantiate: mount_req[\(i)].evid carries no descriptor")
      }
      return ContainerSpec.MountRequest(
        source: try text(m.source, "source"), destination: try text(m.dest, "dest"),
        evidence: m.evid?.descriptor, read_only: m.readOnly)
    }
  }
}
