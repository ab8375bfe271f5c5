/// A transport protocol of a port redirection.
public enum NetProto: String, Codable, Sendable, Hashable, CaseIterable {
  case tcp = "Tcp"
  case udp = "Udp"
  case sctp = "Sctp"
}
