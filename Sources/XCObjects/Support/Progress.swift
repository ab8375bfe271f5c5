import Glibc
import XCIPC
import XCShell

/// Progress on stderr for long operations (pull, push, import): one line redrawn in place when
/// stderr is a terminal, nothing otherwise (scripts and logs stay quiet).
final class Progress {
  let enabled: Bool
  private var shown = false

  init(_ call: Call) {
    enabled = isatty(2) == 1
    if enabled { call.evaluator.output.flush() }
  }

  /// Redraws the line.
  func update(_ text: String) {
    guard enabled else { return }
    shown = true
    TerminalRelay.writeAll(2, Array("\r\u{1B}[K\(text)".utf8)[...])
  }

  /// Ends the line with `text` (or clears it when nil).
  func finish(_ text: String?) {
    guard enabled, shown || text != nil else { return }
    TerminalRelay.writeAll(2, Array("\r\u{1B}[K\(text.map { $0 + "\n" } ?? "")".utf8)[...])
    shown = false
  }

  /// `label…` while `body` runs, then `label: done` (on a terminal).
  static func around<T>(_ label: String, _ call: Call, _ body: () throws -> T) throws -> T {
    let p = Progress(call)
    p.update(label + "…")
    do {
      let v = try body()
      p.finish(label + ": done")
      return v
    } catch {
      p.finish(nil)
      throw error
    }
  }

  /// `12.34 MB`: binary units with two decimals, as xc prints sizes.
  static func bytes(_ n: Int) -> String {
    let units = ["B", "KB", "MB", "GB", "TB"]
    var v = Double(n)
    var i = 0
    while v >= 1024, i < units.count - 1 {
      v /= 1024
      i += 1
    }
    if i == 0 { return "\(n) B" }
    let hundredths = Int((v * 100).rounded())
    let frac = hundredths % 100
    return "\(hundredths / 100).\(frac < 10 ? "0" : "")\(frac) \(units[i])"
  }

  /// `[#####·····]  52%`.
  static func bar(_ done: Int, of total: Int, width: Int = 24) -> String {
    guard total > 0 else { return "" }
    let f = min(1, max(0, Double(done) / Double(total)))
    let filled = Int((f * Double(width)).rounded(.down))
    let pct = Int((f * 100).rounded(.down))
    return "[" + String(repeating: "#", count: filled) + String(repeating: "·", count: width - filled) + "] \(pct)%"
  }

  /// The pull line for a `download_stat` answer.
  static func pullLine(_ ref: String, _ st: ImportImageStatus) -> String {
    switch st.state {
    case .downloadManifest: return "\(ref): downloading manifest"
    case .downloadConfig: return "\(ref): downloading config"
    case .downloadLayers:
      let layers = st.layers ?? []
      let done = layers.reduce(0) { $0 + ($1.downloaded) }
      let total = layers.reduce(0) { $0 + ($1.total ?? 0) }
      let all = st.manifest?.layers.count ?? layers.count
      return "\(ref): \(all - layers.count)/\(all) layers \(bar(done, of: total)) \(bytes(done))/\(bytes(total))"
    case .extractLayers: return "\(ref): extracting layers"
    case .done: return "\(ref): done"
    case .unavailable: return "\(ref): unavailable"
    case .faulted: return "\(ref): error"
    }
  }

  /// The push line for an `upload_stat` answer.
  static func pushLine(_ remote: String, _ st: PushImageStatus) -> String {
    if st.done { return "\(remote): pushed" }
    if st.pushManifest { return "\(remote): image manifest" }
    if st.pushConfig { return "\(remote): image config" }
    guard let idx = st.currentUploadIdx, !st.layers.isEmpty else { return "\(remote): initializing" }
    var line = "\(remote): layer \(min(idx + 1, st.layers.count))/\(st.layers.count)"
    if let size = st.currentLayerSize, let sent = st.bytes {
      line += " \(bar(sent, of: size)) \(bytes(sent))/\(bytes(size))"
    }
    return line
  }
}
