/// Renders errors as `error: MESSAGE`, `--> FILE:LINE:COL`, the source line and carets.
///
///     error: cannot compare int with string
///       --> deploy.xcs:4:18
///        |
///      4 | ps | where cpu > "5"
///        |                  ^^^ string
public struct DiagnosticRenderer: Sendable {
  public var color: Bool
  /// Where spans are looked up (the session's sources); `SourceMap.shared` is tried after.
  public var sources: SourceMap?
  public init(color: Bool = false, sources: SourceMap? = nil) {
    self.color = color
    self.sources = sources
  }

  private func source(_ id: SourceID) -> Source? {
    sources?.source(id) ?? SourceMap.shared.source(id)
  }

  private func paint(_ s: String, _ code: String) -> String {
    color ? "\u{1B}[\(code)m\(s)\u{1B}[0m" : s
  }

  public func render(_ error: ShellError) -> String {
    var out = paint("error", "1;31") + paint(": \(error.message)", "1") + "\n"
    let located = error.labels.filter { $0.span.isKnown && source($0.span.source) != nil }
    if let primary = located.first, let src = source(primary.span.source) {
      let (line, col) = src.location(of: Int(primary.span.start))
      let sameFile = located.filter { $0.span.source == primary.span.source }
      let lines = Set(sameFile.map { src.location(of: Int($0.span.start)).line }).sorted()
      let gutter = String(lines.last ?? line).count
      let pad = String(repeating: " ", count: gutter)
      out += "\(pad)\(paint("-->", "34")) \(src.name):\(line):\(col)\n"
      out += "\(pad) \(paint("|", "34"))\n"
      for l in lines {
        let text = src.line(l).replacingTabs()
        let num = String(l)
        out += paint(String(repeating: " ", count: gutter - num.count) + num + " |", "34") + " \(text)\n"
        // Carets for every label on this line, primary first.
        var marks: [(col: Int, width: Int, primary: Bool, note: String)] = []
        for (i, label) in sameFile.enumerated() {
          let (ll, lc) = src.location(of: Int(label.span.start))
          guard ll == l else { continue }
          let (el, ec) = src.location(of: Int(label.span.end))
          let width = el == ll ? max(1, ec - lc) : max(1, text.count - lc + 1)
          marks.append((lc, width, i == 0, label.note))
        }
        marks.sort { $0.col < $1.col }
        var caretLine = ""
        for m in marks {
          let start = m.col - 1
          if caretLine.count < start {
            caretLine += String(repeating: " ", count: start - caretLine.count)
          }
          if caretLine.count > start { continue }
          caretLine += String(repeating: m.primary ? "^" : "-", count: m.width)
        }
        // The note of the last mark on the line goes after the carets; others get a line each.
        if let last = marks.last, !last.note.isEmpty { caretLine += " " + last.note }
        out += "\(pad) \(paint("|", "34")) " + paint(caretLine, "1;31") + "\n"
        for m in marks.dropLast() where !m.note.isEmpty {
          out += "\(pad) \(paint("|", "34")) " + String(repeating: " ", count: m.col - 1)
            + paint("\(m.primary ? "^" : "-") \(m.note)", "1;31") + "\n"
        }
      }
    }
    if let help = error.help {
      let pad = located.isEmpty ? "" : " "
      out += "\(pad) \(paint("=", "34")) help: \(help)\n"
    }
    return out
  }
}

extension String {
  fileprivate func replacingTabs() -> String {
    // A tab would misalign the carets; one space keeps columns honest.
    String(self.map { $0 == "\t" ? " " : $0 })
  }
}
