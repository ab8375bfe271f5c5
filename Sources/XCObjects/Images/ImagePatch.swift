import XCIPC

/// xc's `image patch` actions (xc-cli.md §1.3) as a pure edit of an image config.
enum ImagePatch {
  struct Failure: Error, Equatable {
    var message: String
  }

  /// Applies one action (`add-env --required DB_URL`, …) to `config`.
  static func apply(_ words: [String], to config: inout JailConfig) throws {
    guard let action = words.first else {
      throw Failure(message: "needs an action: add-env, add-exec, default-entry-point, add-volume, mount-procfs, mount-fdescfs, mod-allow")
    }
    var args = Array(words.dropFirst())[...]
    func value(_ flag: String) throws -> String {
      guard let v = args.popFirst() else { throw Failure(message: "`\(action) \(flag)` needs a value") }
      return v
    }
    switch action {
    case "add-env":
      var spec = EnvSpec()
      var variable: String?
      while let w = args.popFirst() {
        switch w {
        case "--required": spec.required = true
        case "-d", "--description": spec.description = try value(w)
        default:
          guard variable == nil else { throw Failure(message: "`add-env` takes one VAR[=DEFAULT], found `\(w)` too") }
          variable = w
        }
      }
      guard let variable else { throw Failure(message: "`add-env` needs VAR[=DEFAULT]") }
      let (name, def) = split(variable)
      guard isVariable(name) else { throw Failure(message: "`\(name)` is not a variable name ([A-Za-z_][A-Za-z0-9_]*)") }
      spec.defaultValue = def
      config.envs[name] = spec
    case "default-entry-point":
      guard let name = args.popFirst(), args.isEmpty else { throw Failure(message: "`default-entry-point` takes one NAME") }
      // As xc: silently ignored when there is no such entry point.
      if config.entryPoints[name] != nil { config.defaultEntryPoint = name }
    case "add-exec":
      var name: String?
      var exec = ExecSpec(exec: "")
      var argv: [String] = []
      while let w = args.popFirst() {
        if !argv.isEmpty { argv.append(w); continue }
        switch w {
        case "-n", "--name": name = try value(w)
        case "-e", "--env":
          let (k, v) = split(try value(w))
          if let v { exec.environ[k] = v } else { exec.requiredEnvs.append(k) }
        case "--require-env": exec.requiredEnvs.append(try value(w))
        case "-u", "--user": exec.user = try value(w)
        case "-g", "--group": exec.group = try value(w)
        case "-w", "--work-dir": exec.workDir = try value(w)
        case "--": continue
        default: argv.append(w)
        }
      }
      guard let name else { throw Failure(message: "`add-exec` needs `-n NAME`") }
      guard let arg0 = argv.first else { throw Failure(message: "`add-exec` needs a program ARG0") }
      exec.exec = arg0
      exec.defaultArgs = Array(argv.dropFirst())
      config.entryPoints[name] = exec
    case "add-volume":
      var mount = MountSpec(description: "", destination: "")
      var key: String?
      var point: String?
      while let w = args.popFirst() {
        switch w {
        case "-d", "--description": mount.description = try value(w)
        case "--hint":
          let (k, v) = split(try value(w))
          mount.volumeHints[k] = .string(v ?? "")
        case "--read-only": mount.readOnly = true
        case "--required": mount.required = true
        case "--name": key = try value(w)
        default:
          guard point == nil else { throw Failure(message: "`add-volume` takes one MOUNT_POINT, found `\(w)` too") }
          point = w
        }
      }
      guard let point, point.hasPrefix("/") else { throw Failure(message: "`add-volume` needs an absolute MOUNT_POINT") }
      if config.mounts.values.contains(where: { $0.destination == point }) {
        throw Failure(message: "a volume is already declared at `\(point)`")
      }
      mount.destination = point
      config.mounts[key ?? point] = mount
    case "mount-procfs", "mount-fdescfs":
      guard args.isEmpty else { throw Failure(message: "`\(action)` takes no arguments") }
      let procfs = action == "mount-procfs"
      config.specialMounts.append(
        SpecialMount(mountPoint: procfs ? "/proc" : "/dev/fd", mountType: procfs ? "procfs" : "fdescfs"))
    case "mod-allow":
      guard !args.isEmpty else { throw Failure(message: "`mod-allow` needs PARAM… (`-PARAM` removes)") }
      for w in args {
        if w.hasPrefix("-") {
          config.allow.removeAll { $0 == String(w.dropFirst()) }
        } else if !config.allow.contains(w) {
          config.allow.append(w)
        }
      }
    default:
      throw Failure(message: "unknown action `\(action)`")
    }
  }

  static func split(_ s: String) -> (String, String?) {
    guard let eq = s.firstIndex(of: "=") else { return (s, nil) }
    return (String(s[..<eq]), String(s[s.index(after: eq)...]))
  }

  static func isVariable(_ s: String) -> Bool {
    guard let f = s.first, f == "_" || (f.isASCII && f.isLetter) else { return false }
    return s.allSatisfy { $0 == "_" || ($0.isASCII && ($0.isLetter || $0.isNumber)) }
  }
}
