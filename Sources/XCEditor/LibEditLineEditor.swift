import CEditLine
import CSupport
import Foundation
import XCShell

/// The line editor on libedit: emacs or vi bindings, history with Up/Down and Ctrl-R, and Tab
/// completion through a `Completer`.
public final class LibEditLineEditor: LineEditor {
  private let el: OpaquePointer
  private let history: OpaquePointer
  /// The prompt handed to libedit; owned here and freed when replaced.
  private var promptBuffer: UnsafeMutablePointer<CChar>
  public var completer: Completer?

  public init?(program: String = "xcsh", historySize: Int = 10_000) {
    guard let el = cel_init(program), let h = cel_history_init(Int32(historySize)) else { return nil }
    self.el = el
    self.history = h
    self.promptBuffer = strdup("> ")
    cel_set_history(el, h)
    if cs_signal_fd() >= 0 { cel_use_signal_fd(el, cs_signal_fd()) }
    cel_set_clientdata(el, Unmanaged.passUnretained(self).toOpaque())
    cel_set_prompt(el) { el in
      guard let el, let data = cel_get_clientdata(el) else { return nil }
      return UnsafePointer(Unmanaged<LibEditLineEditor>.fromOpaque(data).takeUnretainedValue().promptBuffer)
    }
    bindKeys()
  }

  /// Our bindings; setting the editor mode resets the key map, so this runs after each change.
  private func bindKeys() {
    cel_bind_function(el, "xcsh-complete", "Complete the word before the cursor", { el, _ in
      guard let el, let data = cel_get_clientdata(el) else { return UInt8(CC_ERROR) }
      return Unmanaged<LibEditLineEditor>.fromOpaque(data).takeUnretainedValue().completeWord()
    }, "^I")
    cel_bind(el, "^R", "em-inc-search-prev")
  }

  deinit {
    el_end(el)
    history_end(history)
    free(promptBuffer)
  }

  private var mode = "emacs"

  public func setMode(_ mode: String) {
    let wanted = mode == "vi" ? "vi" : "emacs"
    guard wanted != self.mode else { return }
    self.mode = wanted
    _ = cel_set_editor(el, wanted)
    bindKeys()
  }

  public func read(prompt: String) -> EditorInput {
    free(promptBuffer)
    promptBuffer = strdup(prompt)
    el_resize(el)
    var count: Int32 = 0
    guard let line = el_gets(el, &count) else {
      let sig = cs_signal_pending()
      // The terminal went away, or we were told to stop: leave like Ctrl-D.
      if sig == SIGHUP || sig == SIGTERM { return .endOfInput }
      if sig != 0 || count < 0 {
        cs_signal_clear()
        el_reset(el)
        return .interrupted
      }
      return .endOfInput
    }
    var text = String(cString: line)
    if text.hasSuffix("\n") { text.removeLast() }
    return .line(text)
  }

  public func remember(_ entry: String) { cel_history_enter(history, entry) }

  // MARK: - Completion

  /// Tab: one candidate completes the word; several complete their common prefix, and a second
  /// Tab lists them (with flag descriptions). Nothing here may fail the line.
  private func completeWord() -> UInt8 {
    guard let completer, let info = el_line(el)?.pointee, let buffer = info.buffer, let cursor = info.cursor else {
      return UInt8(CC_ERROR)
    }
    let length = cursor - buffer
    let before = String(decoding: UnsafeBufferPointer(start: UnsafeRawPointer(buffer).assumingMemoryBound(to: UInt8.self), count: length), as: UTF8.self)
    let result = completer.complete(before)
    let typed = String(Array(before)[result.start...])
    guard !result.candidates.isEmpty else { return UInt8(CC_REFRESH_BEEP) }
    if result.candidates.count == 1 {
      let c = result.candidates[0]
      replace(typed, with: c.text + c.suffix)
      return UInt8(CC_REFRESH)
    }
    let common = Completer.commonPrefix(result.candidates)
    if common.count > typed.count {
      replace(typed, with: common)
      return UInt8(CC_REFRESH)
    }
    list(result.candidates)
    return UInt8(CC_REDISPLAY)
  }

  private func replace(_ typed: String, with text: String) {
    if !typed.isEmpty { el_deletestr(el, Int32(typed.count)) }
    _ = el_insertstr(el, text)
  }

  private func list(_ candidates: [Completer.Candidate]) {
    let width = Terminal.columns()
    var out = "\n"
    if candidates.contains(where: { !$0.description.isEmpty }) {
      let w = min(32, (candidates.map(\.text.count).max() ?? 0) + 2)
      for c in candidates.prefix(200) {
        let pad = String(repeating: " ", count: max(1, w - c.text.count))
        out += String((c.text + pad + c.description).prefix(width - 1)) + "\n"
      }
    } else {
      let w = (candidates.map(\.text.count).max() ?? 0) + 2
      let perRow = max(1, width / w)
      for (i, c) in candidates.prefix(400).enumerated() {
        out += c.text + String(repeating: " ", count: w - c.text.count)
        if (i + 1) % perRow == 0 { out += "\n" }
      }
      if !out.hasSuffix("\n") { out += "\n" }
    }
    FileHandle.standardOutput.write(Data(out.utf8))
  }
}

/// The terminal's size.
public enum Terminal {
  public static func columns(fd: Int32 = 1) -> Int {
    var ws = winsize()
    if ioctl(fd, UInt(TIOCGWINSZ), &ws) == 0, ws.ws_col > 0 { return Int(ws.ws_col) }
    return Int(ProcessInfo.processInfo.environment["COLUMNS"] ?? "") ?? 80
  }
}
