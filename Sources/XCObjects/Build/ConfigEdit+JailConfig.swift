import XCIPC
import XCJailfile

extension [ConfigEdit] {
  /// Applies a build's edits to an image's configuration in file order, as xc's Jailfile
  /// directives do (spec xc-cli.md §4.2), with Docker's rules for CMD and ENTRYPOINT: CMD is
  /// the default arguments of an entry point that has a program, else the command itself (and
  /// becomes the arguments when a later ENTRYPOINT sets the program). Setting `main`'s command
  /// makes `main` the default entry point (a base image's `oci_entry_point` is not run).
  func apply(to c: inout JailConfig) {
    var commandFromCmd: [String: [String]] = [:]
    for edit in self { edit.apply(to: &c, commandFromCmd: &commandFromCmd) }
  }
}

extension ConfigEdit {
  fileprivate func apply(to c: inout JailConfig, commandFromCmd: inout [String: [String]]) {
    switch self {
    case .workdir(let ep, let dir):
      c.entryPoints[ep, default: ExecSpec(exec: "")].workDir = dir
    case .entryPoint(let name, let program, let arguments, let environment):
      if c.entryPoints[name] != nil {
        c.entryPoints[name]!.exec = program
        c.entryPoints[name]!.args = arguments
      } else {
        c.entryPoints[name] = ExecSpec(exec: program, args: arguments, environ: environment)
      }
      if let earlier = commandFromCmd.removeValue(forKey: name) { c.entryPoints[name]!.defaultArgs = earlier }
      if name == "main" { c.defaultEntryPoint = name }
    case .cmd(let ep, let arguments, let shell):
      if let program = c.entryPoints[ep]?.exec, !program.isEmpty, commandFromCmd[ep] == nil {
        c.entryPoints[ep]!.defaultArgs = arguments
      } else {
        let argv = shell.map { ["/bin/sh", "-c", $0] } ?? arguments
        c.entryPoints[ep, default: ExecSpec(exec: "")].exec = argv[0]
        c.entryPoints[ep]!.args = []
        c.entryPoints[ep]!.defaultArgs = Array(argv.dropFirst())
        commandFromCmd[ep] = argv
      }
      if ep == "main" { c.defaultEntryPoint = ep }
    case .volume(let v):
      c.mounts[v.name] = MountSpec(
        description: v.description ?? "", destination: v.destination,
        volumeHints: v.hints.mapValues { .string($0) }, readOnly: v.readOnly, required: v.required)
    case .addEnv(let name, let value, let required, let description):
      c.envs[name] = EnvSpec(description: description, required: required, defaultValue: value)
    case .env(let name, let value):
      c.envs[name, default: EnvSpec()].defaultValue = value
    case .allow(let names, let replace):
      for n in names {
        if n.hasPrefix("-") {
          if !replace { c.allow.removeAll { $0 == String(n.dropFirst()) } }
        } else if !c.allow.contains(n) {
          c.allow.append(n)
        }
      }
    case .noInit:
      c.initSteps = []
    case .noDeinit:
      c.deinitSteps = []
    case .sysvipc(let words):
      for w in words {
        let value: SystemVPropValue = w.hasPrefix("-") ? .disable : .new
        switch String(w.drop(while: { $0 == "-" })) {
        case "shm": c.sysvShm = value
        case "msg": c.sysvMsg = value
        case "sem": c.sysvSem = value
        default: break
        }
      }
    case .mount(let fsType, let mountPoint):
      let m = SpecialMount(mountPoint: mountPoint, mountType: fsType)
      if !c.specialMounts.contains(m) { c.specialMounts.append(m) }
    case .device(let rule):
      c.devfsRules.append(rule)
    }
  }
}
