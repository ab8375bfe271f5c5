/// Content digests (`sha256:<64 hex>`), the names of blobs in the store.
enum Digest {
  static func isValid(_ digest: String) -> Bool {
    guard digest.hasPrefix("sha256:") else { return false }
    let hex = digest.dropFirst(7)
    return hex.count == 64 && hex.allSatisfy { $0.isHexDigit && !$0.isUppercase }
  }

  /// The hex part of a valid digest.
  static func hex(_ digest: String) -> String { String(digest.dropFirst(7)) }

  static func of(_ bytes: [UInt8]) -> String { "sha256:" + SHA256.hex(bytes) }

  /// The OCI ChainID of a list of diff ids: the first id, then `sha256("<prev> <next>")`.
  static func chainID(_ diffIDs: [String]) -> String? {
    guard var chain = diffIDs.first else { return nil }
    for next in diffIDs.dropFirst() {
      chain = of(Array("\(chain) \(next)".utf8))
    }
    return chain
  }
}
