/// The handshake payload: `"XCMX"`, version u16, reserved u16, capabilities u32, window u32,
/// largest frame u32, then UTF-8 `key=value` lines (the relay's version, OS, and how its
/// connection to the daemon went).
public struct MuxHello: Sendable, Equatable {
  public var version: UInt16
  /// A bit per descriptor kind the sender can carry (`1 << kind.rawValue`).
  public var capabilities: UInt32
  public var window: UInt32
  public var maxFrame: UInt32
  public var info: [String: String]

  public init(version: UInt16 = UInt16(MuxHeader.version), capabilities: UInt32, info: [String: String] = [:]) {
    self.version = version
    self.capabilities = capabilities
    self.window = MuxHeader.initialWindow
    self.maxFrame = UInt32(MuxHeader.maxPayload)
    self.info = info
  }

  /// The payload bytes.
  public var bytes: [UInt8] {
    var b = Array("XCMX".utf8)
    b += [UInt8(version >> 8), UInt8(version & 0xff), 0, 0]
    b.appendBigEndian(capabilities)
    b.appendBigEndian(window)
    b.appendBigEndian(maxFrame)
    b += Array(info.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)\n" }.joined().utf8)
    return b
  }

  /// Parses a payload; nil when it is not a hello.
  public init?(payload p: [UInt8]) {
    guard p.count >= 20, Array(p[0..<4]) == Array("XCMX".utf8) else { return nil }
    version = UInt16(p[4]) << 8 | UInt16(p[5])
    capabilities = UInt32(bigEndianBytes: p[8..<12])
    window = UInt32(bigEndianBytes: p[12..<16])
    maxFrame = UInt32(bigEndianBytes: p[16..<20])
    info = Self.keyValues(Array(p[20...]))
  }

  /// `key=value` lines as a dictionary (later keys win).
  public static func keyValues(_ bytes: [UInt8]) -> [String: String] {
    var d: [String: String] = [:]
    for line in String(decoding: bytes, as: UTF8.self).split(separator: "\n") {
      guard let eq = line.firstIndex(of: "=") else { continue }
      d[String(line[..<eq])] = String(line[line.index(after: eq)...])
    }
    return d
  }
}
