import Foundation
import XCBuildInfo
import XCIPC

extension EngineInfo {
  /// This daemon, as `info` reports it: name, release, commit and the kernel it runs on.
  static let current: EngineInfo = {
    var u = utsname()
    uname(&u)
    func text<T>(_ field: T) -> String {
      withUnsafeBytes(of: field) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
    }
    return EngineInfo(
      name: "xcd", version: BuildInfo.version, commit: BuildInfo.commit,
      os: "\(text(u.sysname)) \(text(u.release))")
  }()
}
