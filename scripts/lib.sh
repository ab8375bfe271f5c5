# Shared helpers for the project's scripts. Sourced, not run.

# Installs the Debian packages the project needs when they are missing (root on Debian/Ubuntu).
ensure_packages() {
  local missing=()
  for p in "$@"; do
    dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
    echo "missing packages: ${missing[*]} (install them as root with apt-get)" >&2
    return 1
  fi
  echo "installing: ${missing[*]}" >&2
  # Refresh the package lists once if they are empty or older than a day.
  if [ -z "$(find /var/lib/apt/lists -maxdepth 1 -name '*Packages*' -mtime -1 2>/dev/null | head -1)" ]; then
    apt-get update -qq >&2
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >&2
}

# Puts the Swift toolchain on PATH where this machine keeps it.
ensure_swift() {
  command -v swift >/dev/null && return 0
  for d in /opt/swift/usr/bin /opt/swift/bin /usr/share/swift/usr/bin; do
    [ -x "$d/swift" ] && export PATH="$d:$PATH" && return 0
  done
  echo "swift not found: install Swift 6.3 (https://swift.org/install)" >&2
  return 1
}

# Packages the build and the tests need: libedit for the line editor, tmux to drive it in tests,
# runc, busybox-static (test images), zstd, skopeo and umoci for the engine's image tests; iproute2,
# nftables and util-linux (nsenter; setpriv runs clients as another user in the socket access
# tests) for networks; docker-registry and apache2-utils (htpasswd) run a loopback registry for
# the registry tests; zlib1g-dev and libcurl4 for the engine's registry client (inflate, URLSession).
# openssh-server/-client, gcc and clang: the remote-host tests run real sshd instances and build
# the relay with both compilers; sudo and opendoas run it as root (the inventory's `sudo`/`doas`).
TEST_PACKAGES=(coreutils procps libedit-dev tmux runc busybox-static zstd gzip tar skopeo umoci libc6-dev iproute2 nftables util-linux docker-registry apache2-utils zlib1g-dev libcurl4 sqlite3 openssh-server openssh-client gcc clang sudo opendoas)

# The package test (scripts/test-package): lintian, systemd-analyze (systemd), man (man-db), and
# bash, zsh and fish for the completions. Building the release package (scripts/package) also needs libcurl's link library: the
# static Swift runtime links FoundationNetworking, which calls libcurl.
PACKAGE_TEST_PACKAGES=(lintian systemd man-db bash zsh fish dpkg passwd)
PACKAGE_BUILD_PACKAGES=(libcurl4-openssl-dev binutils dpkg)
