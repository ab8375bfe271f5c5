/// Words users bring from bash, Docker and Nushell, and what xcsh calls them.
///
/// "Did you mean" by spelling alone suggests `get` for `def` and `insert` for `inspect`; this
/// table is consulted first, so the suggestion is the command the user meant.
enum Habits {
  /// A habit's xcsh counterpart: a command name, or a piece of syntax with its explanation.
  enum Counterpart {
    case command(String)
    case syntax(String)
  }

  static let table: [String: Counterpart] = [
    "def": .command("fn"),
    "function": .syntax("xcsh defines functions with `fn NAME [PARAMS] { … }`"),
    "inspect": .command("show"),
    "rmi": .command("image rm"),
    "images ls": .command("images"),
    "image ls": .command("image list"),
    "image inspect": .command("image show"),
    "network ls": .command("network list"),
    "networks ls": .command("networks"),
    "volume ls": .command("volume list"),
    "volumes ls": .command("volumes"),
    "container ls": .command("ps"),
    "container rm": .command("rm"),
    "container stop": .command("stop"),
    "container kill": .command("kill"),
    "container inspect": .command("show"),
    "container logs": .command("logs"),
    "container run": .command("run"),
    "container exec": .command("exec"),
    "export": .syntax("environment variables are set with `$env.NAME = \"value\"`"),
    "unset": .syntax("an environment variable is removed with `$env.NAME = null`"),
    "local": .syntax("variables are declared with `let NAME = …` (or `var` to change them later)"),
    "elif": .syntax("write `else if COND { … }`"),
    "then": .syntax("blocks are braces: `if COND { … } else { … }`"),
    "fi": .syntax("blocks are braces: `if COND { … } else { … }`"),
    "done": .syntax("loops are braces: `for x in LIST { … }`, `while COND { … }`"),
    "esac": .syntax("xcsh matches with `if`/`else if`"),
  ]

  /// Help for an unknown command `name` whose first argument word is `first`, if a habit explains it.
  static func help(for name: String, first: String?, second: String? = nil, isCommand: (String) -> Bool) -> String? {
    if name == "docker" || name == "podman", let first {
      // `docker network ls`, `docker image rm`, `docker ps`: the longest form xcsh knows.
      var forms = [first]
      if let second { forms.insert(first + " " + second, at: 0) }
      for form in forms {
        let mapped = table[form].flatMap { if case .command(let c) = $0 { c } else { nil } }
        if let target = mapped ?? (isCommand(form) ? form : nil) {
          return "xcsh's commands are Docker's without `\(name)`: write `\(target)`"
        }
      }
      return "xcsh's commands are Docker's without `\(name)`: `ps`, `run`, `images`, `kill`, `logs`, … (`help` lists them)"
    }
    if let first, let h = help(for: name + " " + first, isCommand: isCommand) { return h }
    return help(for: name, isCommand: isCommand)
  }

  static func help(for words: String, isCommand: (String) -> Bool) -> String? {
    switch table[words] {
    case .command(let c)? where c == "fn" || isCommand(c): return "did you mean `\(c)`? (xcsh's word for `\(words)`)"
    case .syntax(let s)?: return s
    default: return nil
    }
  }

  /// The first argument of a call when it is a literal word (`images ls`, `docker ps`).
  static func firstWord(_ args: [Argument]) -> String? { word(args, 0) }

  /// The argument at `index` when it is a literal word.
  static func word(_ args: [Argument], _ index: Int) -> String? {
    guard index < args.count, case .positional(let e) = args[index], case .literal(let v) = e.kind,
      case .string(let w) = v.kind
    else { return nil }
    return w
  }
}
