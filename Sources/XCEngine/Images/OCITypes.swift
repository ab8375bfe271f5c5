/// The parts of the OCI image-spec (and `docker save`'s manifest.json) the engine reads.
/// Unknown keys are ignored; missing optional keys decode as nil.
enum OCI {
  static let indexMediaType = "application/vnd.oci.image.index.v1+json"
  static let manifestMediaType = "application/vnd.oci.image.manifest.v1+json"
  static let configMediaType = "application/vnd.oci.image.config.v1+json"
  static let dockerManifestList = "application/vnd.docker.distribution.manifest.list.v2+json"
  static let layerTar = "application/vnd.oci.image.layer.v1.tar"

  struct Descriptor: Codable, Sendable, Equatable {
    var mediaType: String?
    var digest: String
    var size: Int64
    var annotations: [String: String]?
    var platform: Platform?
  }

  struct Platform: Codable, Sendable, Equatable {
    var architecture: String
    var os: String
    var variant: String?
  }

  struct Index: Codable, Sendable {
    var schemaVersion: Int
    var mediaType: String?
    var manifests: [Descriptor]
  }

  struct Manifest: Codable, Sendable, Equatable {
    var schemaVersion: Int
    var mediaType: String?
    var config: Descriptor
    var layers: [Descriptor]
  }

  /// One entry of a `docker save` manifest.json.
  struct DockerSaveEntry: Codable, Sendable {
    var Config: String
    var RepoTags: [String]?
    var Layers: [String]
  }

  /// The config blob: what the engine maps to a `JailImage`.
  struct ImageConfig: Codable, Sendable {
    var architecture: String?
    var os: String?
    var config: JailImage.Config?
    var rootfs: JailImage.RootFS
    var history: [JailImage.History]?
  }
}
