/// The subset of the OCI runtime-spec `config.json` the engine writes for runc.
struct RuntimeSpec: Codable, Sendable {
  var ociVersion = "1.0.2"
  var process: Process
  var root: Root
  var hostname: String
  var mounts: [Mount]
  var linux: Linux

  struct Process: Codable, Sendable {
    var terminal = false
    var user: User
    var args: [String]
    var env: [String]
    var cwd: String
    var capabilities: Capabilities
    // nil: the process inherits runc's limits (the daemon's), which are always permitted.
    var rlimits: [Rlimit]? = nil
    var noNewPrivileges = false
  }

  struct User: Codable, Sendable {
    var uid: UInt32
    var gid: UInt32
    var additionalGids: [UInt32]?
  }

  struct Capabilities: Codable, Sendable {
    var bounding: [String]
    var effective: [String]
    var permitted: [String]
    var ambient: [String]?

    /// Docker's default set: what a root process in a container usually needs, no more.
    static let defaults: Capabilities = {
      let caps = [
        "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER", "CAP_MKNOD",
        "CAP_NET_RAW", "CAP_SETGID", "CAP_SETUID", "CAP_SETFCAP", "CAP_SETPCAP",
        "CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT", "CAP_KILL", "CAP_AUDIT_WRITE",
      ]
      return Capabilities(bounding: caps, effective: caps, permitted: caps, ambient: nil)
    }()
  }

  struct Rlimit: Codable, Sendable {
    var type: String
    var hard: UInt64
    var soft: UInt64
  }

  struct Root: Codable, Sendable {
    var path: String
    var readonly = false
  }

  struct Mount: Codable, Sendable {
    var destination: String
    var type: String
    var source: String
    var options: [String]?
  }

  struct Linux: Codable, Sendable {
    var namespaces: [Namespace]
    var maskedPaths: [String]
    var readonlyPaths: [String]
    /// The container's cgroup in every hierarchy (`ContainerCgroup.path`).
    var cgroupsPath: String? = nil
    var resources: Resources? = nil
  }

  /// The cgroup settings runc applies (OCI `linux.resources`).
  struct Resources: Codable, Sendable {
    var memory: Memory?
    var cpu: CPU?
    var pids: Pids?
    struct Memory: Codable, Sendable {
      var limit: Int64
      var swap: Int64
    }
    struct CPU: Codable, Sendable {
      var quota: Int64
      var period: UInt64
    }
    struct Pids: Codable, Sendable {
      var limit: Int64
    }
  }

  struct Namespace: Codable, Sendable {
    var type: String
    /// An existing namespace to join (nil: runc creates a new one).
    var path: String? = nil
  }

  /// Own mount, PID, UTS and IPC namespaces; the host's network (as xc's non-VNET jails
  /// share the host's stack).
  static let namespaces = ["pid", "ipc", "uts", "mount"].map { Namespace(type: $0) }

  static let standardMounts: [Mount] = [
    Mount(destination: "/proc", type: "proc", source: "proc", options: nil),
    Mount(destination: "/dev", type: "tmpfs", source: "tmpfs",
          options: ["nosuid", "strictatime", "mode=755", "size=65536k"]),
    Mount(destination: "/dev/pts", type: "devpts", source: "devpts",
          options: ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"]),
    Mount(destination: "/dev/shm", type: "tmpfs", source: "shm",
          options: ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"]),
    Mount(destination: "/dev/mqueue", type: "mqueue", source: "mqueue",
          options: ["nosuid", "noexec", "nodev"]),
    Mount(destination: "/sys", type: "sysfs", source: "sysfs",
          options: ["nosuid", "noexec", "nodev", "ro"]),
  ]

  static let maskedPaths = [
    "/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys", "/proc/latency_stats",
    "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/sys/firmware",
    "/proc/scsi",
  ]
  static let readonlyPaths = [
    "/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger",
  ]
}
