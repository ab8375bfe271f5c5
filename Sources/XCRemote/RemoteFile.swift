/// What a `read` stream brought back from a file on the remote host (`MuxSession.readFile`):
/// which file it was and its bytes from the offset asked for to the end it had then.
public struct RemoteFile: Sendable, Equatable {
  /// Tells files apart: the same identity after a rename is the same file; a new identity at a
  /// path is another file put there (a trimmed log's new file).
  public struct Identity: Sendable, Hashable {
    public var device: UInt64
    public var inode: UInt64

    public init(device: UInt64, inode: UInt64) {
      self.device = device
      self.inode = inode
    }
  }

  public var identity: Identity
  /// The file's size when it was opened.
  public var size: UInt64
  /// Its bytes from the offset asked for to its end (more than `size - offset` when it grew
  /// while being read).
  public var bytes: [UInt8]

  public init(identity: Identity, size: UInt64, bytes: [UInt8]) {
    self.identity = identity
    self.size = size
    self.bytes = bytes
  }
}
