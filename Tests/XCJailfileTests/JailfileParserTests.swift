import Testing

@testable import XCJailfile

/// The syntax level: directives, values, quotes, continuations, heredocs, comments, spans.
@Suite struct JailfileParserTests {
  func parse(_ text: String) throws -> [Directive] { try Jailfile.parse(text).directives }

  func error(_ text: String) -> JailfileError? {
    do {
      _ = try Jailfile.parse(text, file: "J")
      return nil
    } catch {
      return error
    }
  }

  @Test func directivesWordsAndSpans() throws {
    let d = try parse("FROM busybox:latest\n  RUN echo  hi\n")
    #expect(d.map(\.name) == ["FROM", "RUN"])
    #expect(d[0].words.map(\.text) == ["busybox:latest"])
    #expect(d[0].nameSpan == JailfileSpan(.init(line: 1, column: 1), .init(line: 1, column: 5)))
    #expect(d[0].words[0].span.start == JailfileLocation(line: 1, column: 6))
    #expect(d[1].words.map(\.text) == ["echo", "hi"])
    #expect(d[1].nameSpan.start == JailfileLocation(line: 2, column: 3))
    #expect(d[1].words[1].span == JailfileSpan(.init(line: 2, column: 13), .init(line: 2, column: 15)))
  }

  @Test func commentsOnlyAtTheStartOfALine() throws {
    let d = try parse("# a comment\n   # indented\nRUN echo a#b # not a comment\n\n\n")
    #expect(d.count == 1)
    #expect(d[0].words.map(\.text) == ["echo", "a#b", "#", "not", "a", "comment"])
  }

  @Test func continuationLines() throws {
    let d = try parse("RUN apk add \\\n    curl \\\n  git\nCMD x")
    #expect(d.count == 2)
    #expect(d[0].words.map(\.text) == ["apk", "add", "curl", "git"])
    #expect(d[0].words[3].span.start == JailfileLocation(line: 3, column: 3))
    #expect(d[0].span.end == JailfileLocation(line: 3, column: 6))
    #expect(d[1].nameSpan.start.line == 4)
    // A backslash glued to a word still continues the line.
    #expect(try parse("RUN a\\\nb")[0].words.map(\.text) == ["a", "b"])
  }

  @Test func quotesRemovedOnlyWhenTheValueStartsWithOne() throws {
    let d = try parse(#"CMD "a b" 'c d' A="b c" "x"y "e\"f""#)
    #expect(d[0].words.map(\.text) == ["a b", "c d", #"A="b c""#, "xy", #"e\"f"#])
    #expect(d[0].words.map(\.raw) == [#""a b""#, "'c d'", #"A="b c""#, #""x"y"#, #""e\"f""#])
  }

  @Test func quotedStringsMaySpanLines() throws {
    let d = try parse("RUN echo \"one\ntwo\"\nCMD z")
    #expect(d[0].words[1].text == "one\ntwo")
    #expect(d[1].nameSpan.start.line == 3)
  }

  @Test func heredocs() throws {
    let d = try parse("RUN sh <<EOF\necho 1\necho 2\nEOF\nRUN x <<-END\n  y\n  END\n")
    #expect(d[0].heredoc?.tag == "EOF")
    #expect(d[0].heredoc?.body == "\necho 1\necho 2\n")
    #expect(d[0].words.map(\.text) == ["sh"])
    #expect(d[1].heredoc?.body == "\n  y\n  ")
    #expect(d[1].nameSpan.start.line == 5)
    // `<<` followed by something else is an ordinary value.
    #expect(try parse("RUN cat <<eof")[0].words.map(\.text) == ["cat", "<<eof"])
  }

  @Test func directiveArguments() throws {
    let d = try parse("WORKDIR[entry_point:web] /srv\nALLOW[ replace : true , ] a b\n")
    #expect(d[0].arguments.map(\.key) == ["entry_point"])
    #expect(d[0].arguments[0].value.text == "web")
    #expect(d[0].words.map(\.text) == ["/srv"])
    #expect(d[1].argument("replace")?.value.text == "true")
    #expect(d[1].words.count == 2)
  }

  @Test func crlfLineEnds() throws {
    let d = try parse("FROM a\r\nRUN b\r\n")
    #expect(d.map(\.name) == ["FROM", "RUN"])
    #expect(d[1].nameSpan.start == JailfileLocation(line: 2, column: 1))
  }

  @Test func errorsNameFileLineColumnAndWhatWasExpected() throws {
    var e = error("FROM a\n  run echo\n")
    #expect(e?.description == "J:2:3: expected a directive name (upper-case, like `RUN`), found `run`")
    #expect(e?.help == "directive names are upper-case: write `RUN`")
    e = error("FROM a\nRun x")
    #expect(e?.location == JailfileLocation(line: 2, column: 1))
    #expect(e?.message.contains("found `Run`") == true)
    e = error("RUN echo \"abc\n")
    #expect(e?.location == JailfileLocation(line: 1, column: 10))
    #expect(e?.message.contains("expected a closing `\"`") == true)
    e = error("RUN sh <<EOF\necho\n")
    #expect(e?.location == JailfileLocation(line: 1, column: 8))
    #expect(e?.message == "the heredoc `<<EOF` is not closed: expected `EOF` before the end of the file")
    e = error("RUN sh <<EOF\nx\nEOF trailing\n")
    #expect(e?.location == JailfileLocation(line: 3, column: 5))
    e = error("CMD[entry_point web] x")
    #expect(e?.location == JailfileLocation(line: 1, column: 17))
    #expect(e?.message == "expected `:` after the argument name `entry_point`, found `w`")
    e = error("CMD[a:b x")
    #expect(e?.message.hasPrefix("expected `,` or `]` after the argument `a`") == true)
    e = error("123 x")
    #expect(e?.location == JailfileLocation(line: 1, column: 1))
  }

  @Test func emptyAndBlankFiles() throws {
    #expect(try parse("").isEmpty)
    #expect(try parse("\n \t\n# only\n").isEmpty)
  }
}
