import Foundation

#if canImport(Glibc)
  import Glibc
#endif

/// `> file`, `>> file`, `2> file`, `&> file`, `2>&1` and `< file`, as in bash.
///
/// Output redirections point this process's standard output or error at the file while the
/// command runs, so everything the command writes goes there: an external program's output (it
/// inherits the descriptor), `print`, a foreground `run`, and the command's value, written in
/// its plain form (one item per line, what a program reading a pipe sees). `< file` makes the
/// file's bytes the command's input.
extension Evaluator {
  /// Runs `body` (the command) with its redirections. `external` says the command is a program,
  /// which applies `2>&1` itself after its standard output is set (so `cmd 2>&1 | grep` pipes both).
  ///
  /// `direct`, given for a program, runs it with its output files handed to it rather than by
  /// pointing this process's standard output at them; a parallel worker must use it, because
  /// the process has one standard output that the other workers print to meanwhile.
  func withRedirections(
    _ redirections: [Redirection], in frame: Frame, input: Pipe, sink: Bool, external: Bool,
    direct: ((Pipe, RedirectedFiles) throws -> Pipe)? = nil,
    _ body: (Pipe, Bool) throws -> Pipe
  ) throws -> Pipe {
    guard allowsRedirections || redirections.isEmpty else {
      throw ShellError(.ioRedirect, "redirections are turned off in this shell", at: redirections[0].span)
    }
    var input = input
    var opened: [Int32] = []
    defer { for fd in opened { close(fd) } }
    var stdoutFD: Int32? = nil
    var stderrFD: Int32? = nil
    // Read left to right, as bash does: `> f 2>&1` sends both to f; `2>&1 > f` sends standard
    // error where standard output went before (the terminal, or the pipe or capture), and only
    // standard output to f.
    var stderrToStdout = false
    var stderrToOldStdout = false
    for r in redirections {
      if r.kind == .stderrToStdout {
        if let fd = stdoutFD {
          stderrFD = fd
        } else {
          stderrFD = nil
          stderrToStdout = true
        }
        continue
      }
      guard let target = r.target else { continue }
      let path = resolveUserPath(try eval(target, in: frame).asString())
      let flags = r.kind == .stdin ? O_RDONLY : O_WRONLY | O_CREAT | (r.kind.appends ? O_APPEND : O_TRUNC)
      let fd = open(path, flags | O_CLOEXEC, 0o644)
      guard fd >= 0 else {
        throw ShellError(
          .ioRedirect, "cannot open `\(path)` for `\(r.kind.rawValue)`: \(String(cString: strerror(errno)))",
          at: target.span)
      }
      opened.append(fd)
      if r.kind == .stdin {
        guard input.isEmpty else {
          throw ShellError(
            .ioRedirect, "the command gets input both from the pipe and from `<`", at: r.span,
            help: "use one: `open FILE | CMD` or `CMD < FILE`")
        }
        input = .bytes(Self.fileStream(fd: dup(fd), span: target.span))
      }
      if r.kind.writesStdout {
        stdoutFD = fd
        if stderrToStdout, !r.kind.writesStderr {
          stderrToStdout = false
          stderrToOldStdout = true
        }
      }
      if r.kind.writesStderr {
        stderrFD = fd
        stderrToStdout = false
        stderrToOldStdout = false
      }
    }
    if external && stdoutFD == nil && stderrFD == nil { return try body(input, sink) }
    if stdoutFD == nil && stderrFD == nil && !stderrToStdout { return try body(input, sink) }
    if isWorker {
      guard let direct, !stderrToOldStdout else {
        throw ShellError(
          .ioRedirect,
          "inside a parallel worker (`par-each`, `fleet`) only a program called with `^` can be redirected: the shell has one standard output, and this would also catch what the other workers print",
          at: redirections[0].span,
          help: "redirect the whole `par-each` (`… | par-each {…} > FILE`), `save` the values, or redirect a program (`^cmd > FILE` is per worker)")
      }
      return try direct(input, RedirectedFiles(stdout: stdoutFD, stderr: stderrFD))
    }

    // `2>&1 > f` where the output is piped or captured: standard error becomes the command's
    // output. It goes to an unlinked file while the command runs (nothing to deadlock on), and is
    // read from there after.
    var captured: Int32? = nil
    if stderrToOldStdout, !sink {
      let fd = try Self.anonymousFile(at: redirections[0].span)
      opened.append(fd)
      captured = fd
    }
    output.flush()
    var savedOut: Int32? = nil
    if let fd = stdoutFD {
      savedOut = dup(1)
      dup2(fd, 1)
    }
    let savedErr: Int32? = stderrFD != nil || stderrToStdout || stderrToOldStdout ? dup(2) : nil
    if let fd = stderrFD {
      dup2(fd, 2)
    } else if stderrToStdout {
      dup2(1, 2)  // `2>&1` with standard output not redirected: where it goes
    } else if let fd = captured {
      dup2(fd, 2)
    } else if stderrToOldStdout, let s = savedOut {
      dup2(s, 2)
    }
    defer {
      output.flush()
      if let s = savedOut { dup2(s, 1); close(s) }
      if let s = savedErr { dup2(s, 2); close(s) }
    }
    let out = try body(input, stdoutFD != nil ? true : sink)
    if stdoutFD != nil {
      try write(out)
      if let fd = captured {
        lseek(fd, 0, SEEK_SET)
        return .bytes(Self.fileStream(fd: dup(fd), span: redirections[0].span))
      }
      return .empty
    }
    // Only standard error was redirected: a program already spawned keeps the file; anything
    // else runs to the end while the redirection holds.
    if case .bytes = out { return out }
    return out.isEmpty ? .empty : .value(try out.collect())
  }

  /// Writes a command's result to standard output as a program reading a pipe would see it.
  private func write(_ pipe: Pipe) throws {
    switch pipe {
    case .empty: return
    case .bytes(let b): while let c = try b.nextChunk() { output.write(c) }
    case .value(let v): output.write(Value.textForPipe(v))
    case .stream(let s):
      while let v = try s.next() {
        try checkInterrupt()
        output.write(Value.textForPipe(v))
      }
    }
  }

  /// A file no name leads to, for output read back once the command is done.
  static func anonymousFile(at span: Span) throws -> Int32 {
    var template = Array((NSTemporaryDirectory() + "xcsh-stderr-XXXXXX").utf8CString)
    let fd = mkstemp(&template)
    guard fd >= 0 else {
      throw ShellError(.ioRedirect, "cannot make a file for `2>&1`: \(String(cString: strerror(errno)))", at: span)
    }
    template.withUnsafeBufferPointer { _ = unlink($0.baseAddress!) }
    _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
    return fd
  }

  /// A file's bytes as a command's input, read as the command pulls them.
  static func fileStream(fd: Int32, span: Span) -> ByteStream {
    ByteStream(
      span: span,
      reader: {
        var buf = [UInt8](repeating: 0, count: 65536)
        while true {
          let n = read(fd, &buf, buf.count)
          if n > 0 { return Array(buf[0..<n]) }
          if n < 0 && errno == EINTR { continue }
          return nil
        }
      },
      finisher: { close(fd) })
  }
}

/// Files a program's standard output and error go to, handed to it when it is spawned.
struct RedirectedFiles {
  var stdout: Int32? = nil
  var stderr: Int32? = nil
}
