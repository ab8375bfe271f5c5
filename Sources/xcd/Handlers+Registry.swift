import Foundation
import XCEngine
import XCIPC

// MARK: - Registry methods: login, pull_image/download_stat, push_image/upload_stat

extension Handlers {
  func registerRegistry(_ table: inout XCMethodTable) {
    // Credentials are stored, never logged (the engine logs the server and user only).
    serve(&table, LoginRequest.self) { request, _ in
      try self.registries.login(
        server: request.server, username: request.username, password: request.password,
        insecure: request.insecure)
      return NullResponse()
    }

    // Manifest and config are fetched before answering (their errors are the answer); the
    // layers follow in the background, polled with download_stat.
    serve(&table, PullImageRequest.self) { request, _ in
      try self.registries.pull(request.imageReference, rename: request.renameReference)
      return PullImageResponse(existed: false)
    }

    serve(&table, DownloadStatRequest.self) { request, _ in
      guard let status = self.registries.pullStatus(request.imageReference) else {
        return ImportImageStatus(state: .unavailable)
      }
      return Self.importStatus(status)
    }

    serve(&table, PushImageRequest.self) { request, _ in
      do {
        try self.registries.push(
          request.imageReference, to: request.remoteReference, insecure: request.insecure)
      } catch let e as EngineError where e.code == .imageNotFound {
        throw XCDaemonError.typed("NoSuchLocalReference")  // xc's exact answer
      }
      return EmptyResponse()
    }

    serve(&table, UploadStatRequest.self) { request, _ in
      guard
        let s = self.registries.pushStatus(
          local: request.imageReference, remote: request.remoteReference)
      else { return PushImageStatus() }  // unknown push: xc's all-default answer
      return PushImageStatus(
        layers: s.layers, currentUploadIdx: s.currentUploadIndex, pushConfig: s.configPushed,
        pushManifest: s.manifestPushed, done: s.done, fault: s.fault, bytes: s.bytes.map(Int.init),
        durationMs: s.durationMs.map(Int.init), currentLayerSize: s.currentLayerSize.map(Int.init))
    }
  }

  /// A pull's progress in xc's shape. `layers` lists every layer (complete ones with
  /// `downloaded == total`), also once done; `fault` is set only on failure.
  static func importStatus(_ s: PullStatus) -> ImportImageStatus {
    let state = DownloadState(rawValue: s.state.rawValue) ?? .faulted
    let manifest = s.manifest.flatMap { try? WireDecoder().decode(OCIManifest.self, from: $0) }
    let config = s.config.flatMap { try? WireDecoder().decode(JSONValue.self, from: $0) }
    let layers = s.layers.isEmpty
      ? nil
      : s.layers.map { LayerDownload(digest: $0.digest, downloaded: Int($0.downloaded), total: Int($0.total)) }
    return ImportImageStatus(state: state, manifest: manifest, config: config, layers: layers, fault: s.fault)
  }
}
