/// What the REPL needs from a line editor; the evaluator never sees the editor itself.
public protocol LineEditor: AnyObject {
  /// Reads one line after showing `prompt`.
  func read(prompt: String) -> EditorInput
  /// Makes an entry reachable with Up and Ctrl-R.
  func remember(_ entry: String)
  /// Switches between `emacs` and `vi` key bindings.
  func setMode(_ mode: String)
}

public enum EditorInput: Equatable {
  case line(String)
  /// Ctrl-D on an empty line.
  case endOfInput
  /// Ctrl-C while typing: the line is dropped.
  case interrupted
}
