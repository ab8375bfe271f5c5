/// A System V IPC jail parameter value (`sysv_msg`, `sysv_shm`, `sysv_sem`).
public enum SystemVPropValue: String, Codable, Sendable, Hashable, CaseIterable {
  case new
  case inherit
  case disable
}
