/// A resolved process to run in a container (xc's `Jexec`).
public struct Jexec: Codable, Sendable, Equatable {
  public var arg0: String
  public var args: [String]
  public var envs: [String: String]
  public var user: String?
  public var group: String?
  public var uid: UInt32
  public var gid: UInt32
  public var work_dir: String?
}
