/// Media types a registry serves beyond those an image layout uses.
extension OCI {
  static let dockerManifest = "application/vnd.docker.distribution.manifest.v2+json"
  static let dockerConfig = "application/vnd.docker.container.image.v1+json"
  static let dockerSchema1 = "application/vnd.docker.distribution.manifest.v1+json"
  static let dockerSchema1Signed = "application/vnd.docker.distribution.manifest.v1+prettyjws"

  /// Just enough of any manifest to tell what it is.
  struct ManifestProbe: Decodable {
    var schemaVersion: Int?
    var mediaType: String?
    var manifests: [Descriptor]?
    var layers: [Descriptor]?
    var config: Descriptor?
  }
}
