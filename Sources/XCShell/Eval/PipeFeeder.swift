/// Feeds a pipeline's input to a descriptor, for commands that hand a process (one the daemon
/// runs, say) the write end's reader as its standard input.
public enum PipeFeeder {
  /// Writes `input` to `fd` on a background thread, as an external command would read it
  /// (strings with a final newline, lists one item per line, bytes as they come), then closes
  /// `fd`. A reader that goes away ends the feed (SIGPIPE is ignored by the shell).
  public static func start(fd: Int32, input: Pipe) {
    External.startFeeder(fd: fd, pipe: input)
  }
}
