// The only file in XCSystem that calls libc or the CSupport shims, so every syscall can be
// traced or audited in one place. Each wrapper returns the raw result; `valueOrErrno` turns
// -1 into an `Errno` and retries EINTR.

import CSupport
import SystemPackage

#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#elseif canImport(Darwin)
  import Darwin
#endif

/// The calling thread's current `errno`.
@inline(__always)
internal func currentErrno() -> Errno { Errno(rawValue: errno) }

/// Runs `body` until it returns something other than -1/EINTR; -1 becomes `Errno`. Public for
/// the one-off libc calls other modules make themselves (the engine's `mount`, `openat2`, …),
/// so every module shares one EINTR and errno discipline.
@inline(__always)
public func valueOrErrno<I: FixedWidthInteger>(
  retryOnInterrupt: Bool = true, _ body: () -> I
) throws(Errno) -> I {
  while true {
    let r = body()
    if r != -1 { return r }
    let e = currentErrno()
    if retryOnInterrupt && e == .interrupted { continue }
    throw e
  }
}

// MARK: - Constants

internal enum SysConst {
  static let msgCmsgCloexec = cs_msg_cmsg_cloexec()
  static let msgNoSignal = cs_msg_nosignal()
  static let sockCloexec = cs_sock_cloexec()
  static let efdCloexec = cs_efd_cloexec()
  static let efdNonblock = cs_efd_nonblock()
  static let efdSemaphore = cs_efd_semaphore()
  #if canImport(Glibc) || canImport(Musl)
    static let sockStream = CInt(SOCK_STREAM.rawValue)
  #else
    static let sockStream = SOCK_STREAM
  #endif
  static let afUnix = AF_UNIX
  static let shutRD = CInt(SHUT_RD)
  static let shutWR = CInt(SHUT_WR)
  static let shutRDWR = CInt(SHUT_RDWR)
  static let pollIn = Int16(POLLIN)
}

// MARK: - Descriptors

internal func system_close(_ fd: CInt) -> CInt { close(fd) }
internal func system_read(_ fd: CInt, _ buf: UnsafeMutableRawPointer?, _ n: Int) -> Int {
  read(fd, buf, n)
}
internal func system_write(_ fd: CInt, _ buf: UnsafeRawPointer?, _ n: Int) -> Int {
  write(fd, buf, n)
}
internal func system_pipe(_ fds: UnsafeMutablePointer<CInt>) -> CInt {
  cs_ipc_pipe_cloexec(fds)
}
internal func system_fcntl_getfd(_ fd: CInt) -> CInt { fcntl(fd, F_GETFD) }
internal func system_fcntl_getfl(_ fd: CInt) -> CInt { fcntl(fd, F_GETFL) }
internal func system_fcntl_setfl(_ fd: CInt, _ flags: CInt) -> CInt { fcntl(fd, F_SETFL, flags) }
internal func system_o_nonblock() -> CInt { O_NONBLOCK }
internal func system_dup_cloexec(_ fd: CInt, _ minimum: CInt) -> CInt {
  fcntl(fd, F_DUPFD_CLOEXEC, minimum)
}
internal func system_fd_cloexec_flag() -> CInt { FD_CLOEXEC }
internal func system_fstat_ino(_ fd: CInt) -> (CInt, UInt64, UInt64) {
  var st = stat()
  let r = fstat(fd, &st)
  return (r, UInt64(st.st_dev), UInt64(st.st_ino))
}
internal func system_poll_in(_ fd: CInt, _ timeoutMillis: CInt) -> CInt {
  var p = pollfd(fd: fd, events: SysConst.pollIn, revents: 0)
  return poll(&p, 1, timeoutMillis)
}

// MARK: - Sockets

internal func system_socket_unix_stream() -> CInt {
  socket(SysConst.afUnix, SysConst.sockStream | SysConst.sockCloexec, 0)
}
internal func system_socketpair_unix_stream(_ fds: UnsafeMutablePointer<CInt>) -> CInt {
  socketpair(SysConst.afUnix, SysConst.sockStream | SysConst.sockCloexec, 0, fds)
}
internal func system_bind_unix(_ fd: CInt, _ path: UnsafePointer<CChar>) -> CInt {
  cs_bind_unix(fd, path)
}
internal func system_connect_unix(_ fd: CInt, _ path: UnsafePointer<CChar>) -> CInt {
  cs_connect_unix(fd, path)
}
internal func system_listen(_ fd: CInt, _ backlog: CInt) -> CInt { listen(fd, backlog) }
internal func system_accept(_ fd: CInt) -> CInt {
  cs_accept_cloexec(fd)
}
internal func system_shutdown(_ fd: CInt, _ how: CInt) -> CInt { shutdown(fd, how) }
internal func system_unlink(_ path: UnsafePointer<CChar>) -> CInt { unlink(path) }
internal func system_send(_ fd: CInt, _ buf: UnsafeRawPointer?, _ n: Int, _ flags: CInt) -> Int {
  send(fd, buf, n, flags)
}
internal func system_send_two(
  _ fd: CInt, _ a: UnsafeRawPointer?, _ alen: Int, _ b: UnsafeRawPointer?, _ blen: Int,
  _ flags: CInt
) -> Int {
  cs_send_two(fd, a, alen, b, blen, flags)
}
internal func system_send_with_fds(
  _ fd: CInt, _ buf: UnsafeRawPointer?, _ n: Int, _ fds: UnsafePointer<CInt>?, _ nfds: Int,
  _ flags: CInt
) -> Int {
  cs_send_with_fds(fd, buf, n, fds, nfds, flags)
}
internal func system_recv_with_fds(
  _ fd: CInt, _ buf: UnsafeMutableRawPointer?, _ n: Int, _ fds: UnsafeMutablePointer<CInt>?,
  _ maxfds: Int, _ nfds: UnsafeMutablePointer<Int>, _ ctrunc: UnsafeMutablePointer<CInt>,
  _ flags: CInt
) -> Int {
  cs_recv_with_fds(fd, buf, n, fds, maxfds, nfds, ctrunc, flags)
}
internal func system_peer_credentials(
  _ fd: CInt, _ pid: UnsafeMutablePointer<Int32>, _ uid: UnsafeMutablePointer<UInt32>,
  _ gid: UnsafeMutablePointer<UInt32>
) -> CInt {
  cs_peer_credentials(fd, pid, uid, gid)
}
internal func system_set_io_timeout(_ fd: CInt, _ millis: Int64) -> CInt {
  cs_set_io_timeout(fd, millis)
}

// MARK: - eventfd

internal func system_eventfd(_ initval: CUnsignedInt, _ flags: CInt) -> CInt {
  cs_ipc_eventfd(initval, flags)
}

// MARK: - Process identity (for tests and credentials checks)

internal func system_getuid() -> UInt32 { UInt32(getuid()) }
internal func system_getgid() -> UInt32 { UInt32(getgid()) }
internal func system_getpid() -> Int32 { Int32(getpid()) }
