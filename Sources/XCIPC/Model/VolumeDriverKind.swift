/// How a volume is stored.
public enum VolumeDriverKind: String, Codable, Sendable, Hashable, CaseIterable {
  case directory
  case zfs
}
