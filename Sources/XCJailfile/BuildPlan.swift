/// A value expanded at build time against the build's variables (ARG and ENV), with the
/// location to blame when a variable is missing.
public struct BuildTemplate: Sendable, Equatable {
  public var word: JailfileWord
  public var interpolation: InterpolatedString

  /// Parses the word's text as an interpolated string.
  public init(_ word: JailfileWord, file: String) throws(JailfileError) {
    self.word = word
    do {
      interpolation = try InterpolatedString.parse(word.text)
    } catch {
      throw JailfileError(file: file, word.location(ofTextOffset: error.offset), error.message)
    }
  }

  /// The text with the variables replaced.
  public func expand(file: String, _ lookup: (String) -> String?) throws(JailfileError) -> String {
    do {
      return try interpolation.expand(lookup)
    } catch {
      throw JailfileError(file: file, word.location(ofTextOffset: error.offset), error.message)
    }
  }
}

/// A change to the image's configuration, applied after the commit in file order.
public enum ConfigEdit: Sendable, Equatable {
  case workdir(entryPoint: String, directory: String)
  /// ENTRYPOINT: the program and its fixed arguments (exec form, or `/bin/sh -c` for Docker's
  /// shell form), and the environment xc's `VAR=VALUE` words give a new entry point.
  case entryPoint(name: String, program: String, arguments: [String], environment: [String: String])
  /// CMD: the entry point's default arguments when it has a program; otherwise the command
  /// itself, as in Docker: `arguments` (exec form), or `/bin/sh -c shell` (shell form, the
  /// words as written).
  case cmd(entryPoint: String, arguments: [String], shell: String?)
  case volume(Volume)
  case addEnv(name: String, defaultValue: String?, required: Bool, description: String?)
  /// `ENV NAME=VALUE`: the image's default for NAME (an xcsh addition).
  case env(name: String, value: String)
  case allow([String], replace: Bool)
  case noInit
  case noDeinit
  case sysvipc([String])
  case mount(fsType: String, mountPoint: String)
  case device(rule: String)

  public struct Volume: Sendable, Equatable {
    public var name: String
    public var destination: String
    public var hints: [String: String]
    public var required: Bool
    public var readOnly: Bool
    public var description: String?
  }
}

/// What one directive does.
public enum Instruction: Sendable, Equatable {
  /// Start a build container from a local image (`as ALIAS` names it for COPY).
  case from(image: BuildTemplate, alias: String?)
  /// `/bin/sh -c COMMAND` with the heredoc on stdin; with only a heredoc, `/bin/sh` reads it.
  case run(command: String?, stdin: String?)
  /// Copy from the build context (or the aliased container) into the current (or `to`) one.
  case copy(source: BuildTemplate, destination: BuildTemplate, from: String?, to: String?)
  /// Build variables: `ARG NAME[=DEFAULT]`, overridden by `--build-arg NAME=VALUE`.
  case arg(name: String, defaultValue: BuildTemplate?)
  /// `ENV NAME=VALUE…`: set for later RUNs and as the image's defaults.
  case env([(name: String, value: BuildTemplate)])
  /// Everything else: a pending change to the image's configuration.
  case config(ConfigEdit)

  public static func == (a: Instruction, b: Instruction) -> Bool {
    switch (a, b) {
    case (.from(let i, let l), .from(let j, let m)): i == j && l == m
    case (.run(let c, let s), .run(let d, let t)): c == d && s == t
    case (.copy(let s, let d, let f, let t), .copy(let s2, let d2, let f2, let t2)):
      s == s2 && d == d2 && f == f2 && t == t2
    case (.arg(let n, let d), .arg(let m, let e)): n == m && d == e
    case (.env(let x), .env(let y)): x.map(\.name) == y.map(\.name) && x.map(\.value) == y.map(\.value)
    case (.config(let x), .config(let y)): x == y
    default: false
    }
  }
}

/// One step of a build: the directive as written and what it does.
public struct BuildStep: Sendable, Equatable {
  public var directive: Directive
  public var instruction: Instruction
  /// `RUN apk add …`: the step as shown in progress lines (one line, shortened).
  public var summary: String {
    let text = ([directive.name] + directive.words.map(\.raw)).joined(separator: " ")
    let line = text.split(whereSeparator: \.isNewline).first.map(String.init) ?? text
    let heredoc = directive.heredoc.map { " <<\($0.tag)" } ?? ""
    return line.count > 70 ? String(line.prefix(69)) + "…" : line + heredoc
  }
}

/// A Jailfile checked and turned into steps; every error is found before anything runs.
public struct BuildPlan: Sendable, Equatable {
  public var file: String
  public var steps: [BuildStep]

  /// The directives xcsh knows.
  public static let directives = [
    "FROM", "RUN", "COPY", "ARG", "ENV", "WORKDIR", "ENTRYPOINT", "CMD", "VOLUME", "ADDENV",
    "ALLOW", "NOINIT", "NODEINIT", "SYSVIPC", "MOUNT", "DEVICE",
  ]

  /// The ARG names, in order.
  public var arguments: [String] {
    steps.compactMap { if case .arg(let n, _) = $0.instruction { n } else { nil } }
  }

  /// Parses and checks `text`.
  public static func parse(_ text: String, file: String = "Jailfile") throws(JailfileError) -> BuildPlan {
    try BuildPlan(try Jailfile.parse(text, file: file))
  }

  /// Checks each directive's words and order.
  public init(_ jailfile: Jailfile) throws(JailfileError) {
    file = jailfile.file
    steps = []
    var checker = DirectiveChecker(file: file)
    var sawFrom = false
    var lastAlias: String?? = .none
    var aliases: Set<String> = []
    for d in jailfile.directives {
      let instruction = try checker.check(d)
      switch instruction {
      case .from(_, let alias):
        if case .some(nil) = lastAlias {
          throw JailfileError(
            file: file, d.nameSpan.start,
            "a second FROM needs the previous stage to be named: write `FROM IMAGE as NAME` there",
            help: "earlier stages are reached with `COPY --from NAME`")
        }
        if let alias {
          guard aliases.insert(alias).inserted else {
            throw JailfileError(file: file, d.words[2].span.start, "the stage name `\(alias)` is already used")
          }
        }
        lastAlias = .some(alias)
        sawFrom = true
      case .arg, .env:
        break
      case .copy(_, _, let from, let to):
        for (flag, name) in [("--from", from), ("--to", to)] {
          guard let name else { continue }
          guard aliases.contains(name) else {
            throw JailfileError(
              file: file, d.nameSpan.start, "COPY \(flag) names `\(name)`, which no earlier `FROM … as \(name)` defines")
          }
        }
        fallthrough
      default:
        guard sawFrom else {
          throw JailfileError(
            file: file, d.nameSpan.start, "\(d.name) before any FROM: expected `FROM IMAGE` first")
        }
      }
      steps.append(BuildStep(directive: d, instruction: instruction))
    }
    guard sawFrom else {
      throw JailfileError(
        file: file, JailfileLocation(line: 1, column: 1), "the Jailfile has no FROM: expected `FROM IMAGE`")
    }
  }
}
