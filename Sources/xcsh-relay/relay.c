/*
 * xcsh-relay: carries xc's IPC protocol, descriptors included, over a byte stream.
 *
 * xcsh starts this program on a remote host with `ssh -T HOST relay SOCKET`. It speaks a small
 * multiplexed protocol on stdin/stdout (docs/remote.md, "Mux protocol") and one connection to
 * the xc daemon at SOCKET. Stream 0 carries xc frames whose descriptor slots were replaced by
 * typed descriptors; for each one the relay makes a real descriptor here (a pipe, an eventfd, a
 * spooled temp file, a path opened here, a process handle), passes it to the daemon with
 * SCM_RIGHTS, and moves its bytes over a stream of its own with per-stream flow control and
 * half-close. Streams opened on their own (SYN with a path) connect to a UNIX socket there (a
 * container's terminal) or read a file there from an offset to its end (the log a daemon named).
 *
 * Portable POSIX (poll, sendmsg/recvmsg); eventfd on Linux and FreeBSD 13+. One file, no
 * dependencies, so it can be compiled on first contact with `cc -O2 -o relay relay.c`.
 * Memory is bounded: per-stream buffers by the receive window, the output queue by OUT_HIGH,
 * one xc message by MAX_XC_BODY.
 */
/* Feature macros: Linux needs _GNU_SOURCE (struct ucred, SO_PEERCRED). FreeBSD needs none, and
 * must get none: with no _POSIX_C_SOURCE/_XOPEN_SOURCE its <sys/cdefs.h> sets __BSD_VISIBLE,
 * which CMSG_SPACE/CMSG_LEN (<sys/socket.h>) and getpeereid (<unistd.h>) are declared under. */
#if defined(__linux__)
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* eventfd: Linux, and FreeBSD from 13.0 (__FreeBSD_version 1300000). */
#if defined(__linux__)
#define HAVE_EVENTFD 1
#elif defined(__FreeBSD__)
#include <sys/param.h>
#if __FreeBSD_version >= 1300000
#define HAVE_EVENTFD 1
#endif
#endif
#ifdef HAVE_EVENTFD
#include <sys/eventfd.h>
#endif

/* A process handle for `link`: a pidfd on Linux (pidfd_open, 5.3+), a process descriptor
 * (pdfork) on FreeBSD. The FreeBSD branch was checked against FreeBSD's headers but has not
 * been compiled yet (docs/remote.md, "Portability of the relay"). */
#if defined(__linux__)
#include <sys/prctl.h>
#include <sys/syscall.h>
#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif
#define HAVE_PROCESS_HANDLE 1
#elif defined(__FreeBSD__)
#include <sys/procctl.h>
#include <sys/procdesc.h>
#define HAVE_PROCESS_HANDLE 1
#endif

#define RELAY_VERSION "2"
#define MUX_VERSION 1
#define HDR 12                       /* mux frame header size */
#define MAX_FRAME (64 * 1024)        /* largest mux payload either side sends */
#define WINDOW (1024 * 1024)         /* initial receive window of every stream */
#define OUT_HIGH (1024 * 1024)       /* stop producing while this much waits for stdout */
#define MAX_XC_BODY (64u << 20)      /* FrameLimits.default.maxBodyLength */
#define MAX_XC_FDS 64

enum { T_DATA = 0, T_WINDOW = 1, T_PING = 2, T_GOAWAY = 3, T_HELLO = 4, T_NOTICE = 5 };
enum { F_SYN = 1, F_ACK = 2, F_FIN = 4, F_RST = 8 };
enum { K_INPUT = 1, K_OUTPUT = 2, K_EVENT = 3, K_UPLOAD = 4, K_DOWNLOAD = 5, K_CONNECT = 6, K_READ = 7, K_PATH = 8, K_PROCESS = 9 };
enum { D_ONCE = 1 }; /* descriptor flag: an event stream ends after its first value */
#ifdef HAVE_PROCESS_HANDLE
#define CAP_PROCESS (1u << K_PROCESS)
#else
#define CAP_PROCESS 0u
#endif
#define CAPS \
  ((1u << K_INPUT) | (1u << K_OUTPUT) | (1u << K_EVENT) | (1u << K_UPLOAD) | (1u << K_DOWNLOAD) | (1u << K_CONNECT) | \
   (1u << K_READ) | (1u << K_PATH) | CAP_PROCESS)
#define MAX_PATH_BYTES 4096          /* the longest path a path stream may name */
#define PIPE_SIZE (1024 * 1024)      /* asked for output pipes where the system allows it */

/* A growable byte buffer; `off` is how much of the front is consumed. */
struct buf {
  unsigned char *p;
  size_t len, off, cap;
};

struct stream {
  uint32_t id;
  int kind, flags;
  int fd;           /* the relay's end; -1 once closed */
  int peer_fd;      /* the end for the daemon, until it is sent */
  uint32_t window;  /* bytes we may still send on it */
  struct buf in;    /* bytes from the client not yet written to fd (input streams) */
  int fin_in;       /* the client half-closed */
  int fin_out;      /* we half-closed (or reset) */
  int dead;         /* reset: later frames for it are dropped */
  uint32_t unacked; /* bytes received from the client and not yet given back as window */
  off_t down_off;   /* how far a download (or a read stream's file) has been sent */
  int in_call;      /* belongs to the call in progress (upload / download) */
  int rd_eof;       /* connect: the socket said EOF (FIN sent) */
  int wr_shut;      /* connect: our write side is shut (the client's FIN arrived there) */
  pid_t pid;        /* process: the waiting child whose handle fd is; 0 once reaped */
  unsigned long group; /* the call that made it: an event's outputs are of the same call */
  size_t owed;      /* output: bytes to send before a held event of its call may go */
  int held;         /* event: a value read, sent once its call's outputs are (`release`) */
  uint64_t held_value;
};

/* The call in progress: waiting for its uploads, for the daemon's answer, for its downloads. */
enum call_state { C_IDLE, C_UPLOADS, C_REPLY, C_DOWNLOADS };

static struct buf out;                /* frames waiting for stdout */
static struct buf inb;                /* bytes read from stdin, not yet parsed */
static struct buf xcin;               /* stream 0 bytes from the client */
static struct buf reply;              /* the daemon's answer being read */
static struct stream **streams;
static size_t nstreams, capstreams;
static int xcd = -1;                  /* connection to the daemon */
static const char *socket_path;
static int got_hello, in_eof;
static enum call_state call = C_IDLE;
static unsigned char *call_msg;       /* xc header + body being held until uploads finish */
static size_t call_msg_len;
static uint32_t call_ids[MAX_XC_FDS];
static size_t call_nfds;
static unsigned long calls;           /* calls taken so far: the group of their streams */

static void die(const char *what) {
  fprintf(stderr, "xcsh-relay: %s: %s\n", what, strerror(errno));
  exit(1);
}

static void reserve(struct buf *b, size_t more) {
  if (b->off > 0 && b->off == b->len) b->off = b->len = 0;
  if (b->len + more <= b->cap) return;
  if (b->off > 0) { /* slide unread bytes to the front first */
    memmove(b->p, b->p + b->off, b->len - b->off);
    b->len -= b->off;
    b->off = 0;
    if (b->len + more <= b->cap) return;
  }
  size_t cap = b->cap ? b->cap : 4096;
  while (cap < b->len + more) cap *= 2;
  unsigned char *p = realloc(b->p, cap);
  if (!p) die("out of memory");
  b->p = p;
  b->cap = cap;
}

static void append(struct buf *b, const void *p, size_t n) {
  reserve(b, n);
  memcpy(b->p + b->len, p, n);
  b->len += n;
}

static void buf_free(struct buf *b) {
  free(b->p);
  memset(b, 0, sizeof *b);
}

static size_t pending(const struct buf *b) { return b->len - b->off; }

static void put32(unsigned char *p, uint32_t v) {
  p[0] = (unsigned char)(v >> 24); p[1] = (unsigned char)(v >> 16);
  p[2] = (unsigned char)(v >> 8); p[3] = (unsigned char)v;
}
static uint32_t get32(const unsigned char *p) {
  return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}
static uint64_t get64(const unsigned char *p) { return (uint64_t)get32(p) << 32 | get32(p + 4); }
static void put64(unsigned char *p, uint64_t v) { put32(p, (uint32_t)(v >> 32)); put32(p + 4, (uint32_t)v); }

/* Queues one mux frame for stdout. */
static void frame(int type, int flags, uint32_t id, uint32_t len, const void *payload, size_t n) {
  unsigned char h[HDR];
  h[0] = MUX_VERSION;
  h[1] = (unsigned char)type;
  h[2] = (unsigned char)(flags >> 8);
  h[3] = (unsigned char)flags;
  put32(h + 4, id);
  put32(h + 8, len);
  append(&out, h, HDR);
  if (n) append(&out, payload, n);
}

/* A DATA frame whose n payload bytes were read straight into `out` after room for its header:
 * writes that header in front of them and keeps both (no copy of the payload). */
static void commit_data(uint32_t id, size_t n) {
  unsigned char *h = out.p + out.len;
  h[0] = MUX_VERSION;
  h[1] = T_DATA;
  h[2] = h[3] = 0;
  put32(h + 4, id);
  put32(h + 8, (uint32_t)n);
  out.len += HDR + n;
}

static void data(uint32_t id, const void *p, size_t n) { frame(T_DATA, 0, id, (uint32_t)n, p, n); }

/* A NOTICE about the daemon connection: key=value lines (docs/remote.md). */
static void notice(const char *text) { frame(T_NOTICE, 0, 0, (uint32_t)strlen(text), text, strlen(text)); }

/* A client's GOAWAY with this code (`host disconnect`) also ends the listener that started this
 * session, and is answered with a NOTICE `listener=ended` or `listener=none`. */
#define GOAWAY_END_LISTENER 2u

/* The listener this session is a child of, as it told us (`serve_session`); a session over ssh,
 * or one whose listener is gone (the parent then differs), has none. */
static void end_listener(void) {
  const char *told = getenv("XCSH_RELAY_LISTENER");
  pid_t parent = getppid();
  if (told && parent > 1 && strtol(told, NULL, 10) == (long)parent && kill(parent, SIGTERM) == 0)
    notice("listener=ended\n");
  else
    notice("listener=none\n");
}

static void set_flags(int fd, int nonblock) {
  int fl = fcntl(fd, F_GETFD);
  if (fl >= 0) fcntl(fd, F_SETFD, fl | FD_CLOEXEC);
  if (nonblock) {
    fl = fcntl(fd, F_GETFL);
    if (fl >= 0) fcntl(fd, F_SETFL, fl | O_NONBLOCK);
  }
}

/* ---- streams ---------------------------------------------------------------------------- */

static struct stream *find(uint32_t id) {
  for (size_t i = 0; i < nstreams; i++)
    if (streams[i]->id == id) return streams[i];
  return NULL;
}

static void close_fd(int *fd) {
  if (*fd >= 0) close(*fd);
  *fd = -1;
}

/* Drops a stream whose work is over (both halves closed, nothing buffered). */
static void reap(void) {
  size_t j = 0;
  for (size_t i = 0; i < nstreams; i++) {
    struct stream *s = streams[i];
    if (s->fd < 0 && s->peer_fd < 0 && s->fin_out && s->fin_in && !s->in_call) {
      buf_free(&s->in);
      free(s);
    } else {
      streams[j++] = s;
    }
  }
  nstreams = j;
}

/* A new stream in the table; the caller makes its descriptors. */
static struct stream *new_stream(uint32_t id, int kind, int flags) {
  struct stream *s = calloc(1, sizeof *s);
  if (!s) die("out of memory");
  s->kind = kind;
  s->flags = flags;
  s->id = id;
  s->fd = s->peer_fd = -1;
  s->window = WINDOW;
  if (nstreams == capstreams) {
    capstreams = capstreams ? capstreams * 2 : 16;
    struct stream **a = realloc(streams, capstreams * sizeof *a);
    if (!a) die("out of memory");
    streams = a;
  }
  streams[nstreams++] = s;
  return s;
}

/* A process stream is over: its child is killed (if still there) and reaped, so nothing of
 * the relay outlives it; the daemon's copy of the handle then reads as ended. */
static void end_process(struct stream *s) {
  if (s->kind != K_PROCESS || s->pid <= 0) return;
#if defined(__FreeBSD__)
  /* A pdfork'd child is reaped when its last descriptor closes, not by waitpid. */
  if (s->fd >= 0) pdkill(s->fd, SIGKILL);
#else
  kill(s->pid, SIGKILL);
  while (waitpid(s->pid, NULL, 0) < 0 && errno == EINTR) {}
#endif
  s->pid = 0;
}

static void reset(struct stream *s) {
  end_process(s);
  if (!s->dead) frame(T_DATA, F_RST, s->id, 0, NULL, 0);
  s->dead = s->fin_out = s->fin_in = 1;
  close_fd(&s->fd);
  s->in.off = s->in.len = 0;
}

static void finish(struct stream *s) {
  if (!s->fin_out) frame(T_DATA, F_FIN, s->id, 0, NULL, 0);
  s->fin_out = 1;
}

#ifdef HAVE_PROCESS_HANDLE
/* Closes every descriptor of this (child) process: it must hold neither the ssh session's
 * pipes nor the daemon connection, whose close is what ends a linked container. */
static void close_all(void) {
#if defined(__FreeBSD__)
  closefrom(0);
#else
#ifdef SYS_close_range
  if (syscall(SYS_close_range, 0u, ~0u, 0u) == 0) return;
#endif
  long max = sysconf(_SC_OPEN_MAX);
  if (max < 0 || max > 65536) max = 65536;
  for (int fd = 0; fd < max; fd++) close(fd);
#endif
}

/* The child behind a process handle: it only waits to be killed (by the daemon when the
 * linked container ends, by the relay when the stream ends), and dies with the relay. */
static void hold(pid_t parent) {
  close_all();
#if defined(__linux__)
  prctl(PR_SET_PDEATHSIG, SIGKILL);
#elif defined(PROC_PDEATHSIG_CTL)
  int sig = SIGKILL;
  procctl(P_PID, 0, PROC_PDEATHSIG_CTL, &sig);
#endif
  if (getppid() != parent) _exit(0); /* the relay ended before the death signal was set */
  for (;;) pause();
}

/* A waiting child and a handle on it (xc's `link` passes a pdfork'd sleeper). */
static int open_process(struct stream *s) {
  pid_t parent = getpid();
  int fd = -1;
#if defined(__FreeBSD__)
  pid_t pid = pdfork(&fd, 0);
  if (pid < 0) return errno;
  if (pid == 0) hold(parent);
#else
  pid_t pid = fork();
  if (pid < 0) return errno;
  if (pid == 0) hold(parent);
  fd = (int)syscall(SYS_pidfd_open, pid, 0);
  if (fd < 0) {
    int e = errno;
    kill(pid, SIGKILL);
    while (waitpid(pid, NULL, 0) < 0 && errno == EINTR) {}
    return e;
  }
#endif
  s->pid = pid;
  s->fd = fd;
  set_flags(s->fd, 0);
  s->peer_fd = dup(s->fd);
  if (s->peer_fd < 0) return errno;
  set_flags(s->peer_fd, 0);
  return 0;
}
#endif

/* Makes the descriptor pair of a new stream; 0, or an errno. */
static int open_stream(struct stream *s) {
  int p[2];
  switch (s->kind) {
  case K_PATH: /* the path arrives as DATA up to FIN; it is opened when the call goes out */
    s->in_call = 1;
    s->fin_out = 1;
    return 0;
  case K_PROCESS:
#ifdef HAVE_PROCESS_HANDLE
    return open_process(s);
#else
    return ENOSYS;
#endif
  case K_INPUT: /* the daemon reads, we write */
    if (pipe(p) < 0) return errno;
    s->fd = p[1];
    s->peer_fd = p[0];
    set_flags(s->fd, 1);
    set_flags(s->peer_fd, 0);
    s->fin_out = 1; /* nothing ever flows back */
    return 0;
  case K_OUTPUT: /* the daemon writes, we read */
    if (pipe(p) < 0) return errno;
    s->fd = p[0];
    s->peer_fd = p[1];
#ifdef F_SETPIPE_SZ
    /* Linux: a bigger pipe lets the writer run ahead, so each read takes more at once. */
    fcntl(p[0], F_SETPIPE_SZ, PIPE_SIZE);
#endif
    set_flags(s->fd, 1);
    set_flags(s->peer_fd, 0);
    s->fin_in = 1;
    return 0;
  case K_EVENT:
#ifdef HAVE_EVENTFD
    s->fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (s->fd < 0) return errno;
    s->peer_fd = dup(s->fd);
    if (s->peer_fd < 0) return errno;
    set_flags(s->peer_fd, 0);
    s->fin_in = 1;
    return 0;
#else
    return ENOSYS;
#endif
  case K_UPLOAD:
  case K_DOWNLOAD: {
    /* An unlinked temp file: seekable, as fd_import and copy-in need; gone when closed. */
    const char *tmp = getenv("TMPDIR");
    char path[1024];
    snprintf(path, sizeof path, "%s/xcsh-relay.XXXXXX", tmp && *tmp ? tmp : "/tmp");
    s->fd = mkstemp(path);
    if (s->fd < 0) return errno;
    unlink(path);
    set_flags(s->fd, 0);
    s->peer_fd = dup(s->fd);
    if (s->peer_fd < 0) return errno;
    set_flags(s->peer_fd, 0);
    s->in_call = 1;
    if (s->kind == K_DOWNLOAD) s->fin_in = 1;
    else s->fin_out = 1;
    return 0;
  }
  default:
    return EINVAL;
  }
}

static void flush_out(void);

/* Writes everything queued for stdout, waiting for it if need be. */
static void flush_all(void) {
  while (pending(&out) > 0) {
    struct pollfd p = {1, POLLOUT, 0};
    if (poll(&p, 1, -1) < 0 && errno != EINTR) exit(0);
    flush_out();
  }
}

/* ---- the daemon connection ---------------------------------------------------------------- */

/* Connects to the daemon; 0, or an errno. */
static int connect_xcd(void) {
  struct sockaddr_un a;
  memset(&a, 0, sizeof a);
  a.sun_family = AF_UNIX;
  if (strlen(socket_path) >= sizeof a.sun_path) return ENAMETOOLONG;
  strcpy(a.sun_path, socket_path);
  int fd = socket(AF_UNIX, SOCK_STREAM, 0);
  if (fd < 0) return errno;
  if (connect(fd, (struct sockaddr *)&a, sizeof a) < 0) {
    int e = errno;
    close(fd);
    return e;
  }
  set_flags(fd, 0);
  xcd = fd;
  return 0;
}

/* key=value lines saying why the daemon cannot be reached, with who may use its socket. */
static void describe_connect_error_at(char *text, size_t n, int err, const char *path) {
  struct stat st;
  /* A class as well as the number: errno values differ between Linux and FreeBSD. */
  const char *cls = err == ENOENT || err == ENOTDIR ? "missing"
                    : err == ECONNREFUSED           ? "refused"
                    : err == EACCES || err == EPERM ? "denied"
                                                    : "other";
  int k = snprintf(text, n, "connect=%d\nconnect_class=%s\nerror=%s\nsocket=%s\n", err, cls, strerror(err), path);
  if (stat(path, &st) == 0 && k > 0 && (size_t)k < n) {
    struct group *g = getgrgid(st.st_gid);
    struct passwd *pw = getpwuid(getuid());
    k += snprintf(text + k, n - (size_t)k, "socket_mode=%o\nsocket_gid=%u\nsocket_group=%s\nuser=%s\n",
                  (unsigned)(st.st_mode & 07777), (unsigned)st.st_gid, g ? g->gr_name : "",
                  pw ? pw->pw_name : "");
  }
}

static void describe_connect_error(char *text, size_t n, int err) {
  describe_connect_error_at(text, n, err, socket_path);
}

/* A SYN from the client for a new stream: connect to the UNIX socket at the path in its
 * payload (a container's terminal socket). Answered with ACK, or with ACK|RST carrying
 * key=value lines saying why not. */
static void open_connect(uint32_t id, const unsigned char *p, uint32_t n) {
  struct sockaddr_un a;
  char path[sizeof a.sun_path];
  int err = 0, fd = -1;
  if (id == 0 || (id & 1) == 0 || find(id)) { notice("protocol=stream id in use\n"); exit(2); }
  memset(&a, 0, sizeof a);
  a.sun_family = AF_UNIX;
  if (n == 0 || memchr(p, 0, n)) err = EINVAL;
  else if (n >= sizeof a.sun_path) err = ENAMETOOLONG;
  if (!err) {
    memcpy(path, p, n);
    path[n] = 0;
    memcpy(a.sun_path, p, n);
    fd = socket(AF_UNIX, SOCK_STREAM, 0);
    if (fd < 0) err = errno;
    else if (connect(fd, (struct sockaddr *)&a, sizeof a) < 0) {
      err = errno;
      close_fd(&fd);
    }
  } else {
    snprintf(path, sizeof path, "%s", "(invalid path)");
  }
  if (err) {
    char text[1024];
    describe_connect_error_at(text, sizeof text, err, path);
    frame(T_DATA, F_ACK | F_RST, id, (uint32_t)strlen(text), text, strlen(text));
    return;
  }
  struct stream *s = new_stream(id, K_CONNECT, 0);
  s->fd = fd;
  set_flags(fd, 1);
  frame(T_DATA, F_ACK, id, 0, NULL, 0);
}

/* A SYN whose payload starts with K_READ: kind u8, offset u64, an absolute path. The file is
 * opened read-only (a regular file only: a FIFO or a device would never reach its end) and
 * answered with ACK carrying its identity and size as key=value lines, or with ACK|RST saying
 * why not; then its bytes from the offset to its current end are sent within the window, then
 * FIN. The relay reads with the rights it runs with, no more than the ssh login has. */
static void open_read(uint32_t id, const unsigned char *p, uint32_t n) {
  char path[4096], text[1024];
  int err = 0, fd = -1, irregular = 0;
  struct stat st;
  uint64_t offset = 0;
  if (id == 0 || (id & 1) == 0 || find(id)) { notice("protocol=stream id in use\n"); exit(2); }
  if (n < 10 || p[9] != '/' || memchr(p + 9, 0, n - 9)) err = EINVAL;
  else if (n - 9 >= sizeof path) err = ENAMETOOLONG;
  if (!err) {
    offset = get64(p + 1);
    memcpy(path, p + 9, n - 9);
    path[n - 9] = 0;
    /* O_NONBLOCK: opening a FIFO must not wait for a writer (it is refused just after). */
    fd = open(path, O_RDONLY | O_NOCTTY | O_NONBLOCK);
    if (fd < 0) err = errno;
    else if (fstat(fd, &st) < 0) err = errno;
    else if (!S_ISREG(st.st_mode)) {
      err = EINVAL;
      irregular = 1;
    }
    else if (offset > (uint64_t)INT64_MAX) err = EINVAL;
    if (err) close_fd(&fd);
  }
  if (err) {
    const char *cls = err == ENOENT || err == ENOTDIR ? "missing" : err == EACCES || err == EPERM ? "denied" : "other";
    /* The path is the client's own: not echoed. */
    snprintf(text, sizeof text, "read=%d\nread_class=%s\nerror=%s\n", err, cls,
             irregular ? "not a regular file" : strerror(err));
    frame(T_DATA, F_ACK | F_RST, id, (uint32_t)strlen(text), text, strlen(text));
    return;
  }
  struct stream *s = new_stream(id, K_READ, 0);
  s->fd = fd;
  set_flags(fd, 0);
  s->down_off = (off_t)offset;
  s->fin_in = 1; /* nothing comes from the client but WINDOW (or RST) */
  snprintf(text, sizeof text, "dev=%ju\nino=%ju\nsize=%jd\n", (uintmax_t)st.st_dev, (uintmax_t)st.st_ino,
           (intmax_t)st.st_size);
  frame(T_DATA, F_ACK, id, (uint32_t)strlen(text), text, strlen(text));
}

static void hello(void) {
  unsigned char h[20];
  char text[1024];
  struct utsname u;
  memcpy(h, "XCMX", 4);
  h[4] = 0; h[5] = MUX_VERSION; h[6] = 0; h[7] = 0;
  put32(h + 8, CAPS);
  put32(h + 12, WINDOW);
  put32(h + 16, MAX_FRAME);
  int err = connect_xcd();
  if (uname(&u) < 0) memset(&u, 0, sizeof u);
  int k = snprintf(text, sizeof text, "relay=%s\nos=%s %s\npid=%ld\nuid=%ld\n", RELAY_VERSION, u.sysname,
                   u.release, (long)getpid(), (long)getuid());
  if (err) describe_connect_error(text + k, sizeof text - (size_t)k, err);
  else snprintf(text + k, sizeof text - (size_t)k, "connect=0\nsocket=%s\n", socket_path);
  unsigned char payload[20 + sizeof text];
  memcpy(payload, h, 20);
  memcpy(payload + 20, text, strlen(text));
  frame(T_HELLO, 0, 0, (uint32_t)(20 + strlen(text)), payload, 20 + strlen(text));
}

/* Ends the call in progress: forgets its streams' call binding. */
static void end_call(void) {
  for (size_t i = 0; i < call_nfds; i++) {
    struct stream *s = find(call_ids[i]);
    if (!s) continue;
    close_fd(&s->peer_fd);
    if (s->kind == K_UPLOAD) close_fd(&s->fd);
    if (s->kind == K_DOWNLOAD && !s->fin_out) reset(s);
    s->in_call = 0;
  }
  free(call_msg);
  call_msg = NULL;
  call_nfds = 0;
  call = C_IDLE;
}

/* The call could not reach the daemon: tell the client (key=value lines), and drop it. */
static void call_failed(const char *text) {
  notice(text);
  for (size_t i = 0; i < call_nfds; i++) {
    struct stream *s = find(call_ids[i]);
    if (s) reset(s);
  }
  end_call();
}

/* Sends the held message to the daemon with the real descriptors. */
static void connect_failed(int err) {
  char text[1024];
  describe_connect_error(text, sizeof text, err);
  call_failed(text);
}

/* Opens the paths of the call's path streams here, with the flags xcsh uses for a local
 * host-path mount's evidence (O_RDONLY, close-on-exec); 0, or -1 after failing the call with
 * key=value lines naming the path. */
static int open_paths(void) {
  for (size_t i = 0; i < call_nfds; i++) {
    struct stream *s = find(call_ids[i]);
    if (!s || s->kind != K_PATH) continue;
    char path[MAX_PATH_BYTES + 1];
    size_t n = pending(&s->in);
    int err = 0;
    if (n == 0 || n > MAX_PATH_BYTES || memchr(s->in.p + s->in.off, 0, n) || s->in.p[s->in.off] != '/') err = EINVAL;
    if (n <= MAX_PATH_BYTES) memcpy(path, s->in.p + s->in.off, n);
    path[n <= MAX_PATH_BYTES ? n : 0] = 0;
    if (!err) {
      s->peer_fd = open(path, O_RDONLY | O_CLOEXEC);
      if (s->peer_fd < 0) err = errno;
    }
    if (err) {
      char text[MAX_PATH_BYTES + 256];
      const char *cls = err == ENOENT || err == ENOTDIR ? "missing" : err == EACCES || err == EPERM ? "denied" : "other";
      snprintf(text, sizeof text, "relay=%d\npath_class=%s\nerror=%s\npath=%s\n", err, cls, strerror(err), path);
      call_failed(text);
      return -1;
    }
    s->in.off = s->in.len = 0;
  }
  return 0;
}

static void forward_call(void) {
  if (open_paths() < 0) return;
  if (xcd >= 0) { /* an idle connection the daemon closed meanwhile: start a new one */
    struct pollfd p = {xcd, POLLIN, 0};
    if (poll(&p, 1, 0) > 0) close_fd(&xcd);
  }
  if (xcd < 0) {
    int err = connect_xcd();
    if (err) { connect_failed(err); return; }
  }
  int fds[MAX_XC_FDS];
  for (size_t i = 0; i < call_nfds; i++) {
    struct stream *s = find(call_ids[i]);
    fds[i] = s ? s->peer_fd : -1;
    if (s && s->kind == K_UPLOAD) lseek(s->peer_fd, 0, SEEK_SET);
  }
  /* "Reached the daemon", sent before the request and flushed: if the relay dies after
   * handing it over, the client must know the call may have taken effect. */
  frame(T_DATA, F_ACK, 0, 0, NULL, 0);
  flush_all();
  /* The header alone first, then the body with every descriptor, as xc's client does. */
  size_t sent = 0;
  while (sent < 16) {
    ssize_t n = send(xcd, call_msg + sent, 16 - sent, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) { close_fd(&xcd); notice("xc=closed\n"); end_call(); return; }
    sent += (size_t)n;
  }
  size_t body = call_msg_len - 16;
  const unsigned char *p = call_msg + 16;
  size_t off = 0;
  int first = 1;
  while (off < body || first) {
    struct msghdr m;
    struct iovec iov;
    union { struct cmsghdr h; char space[CMSG_SPACE(sizeof(int) * MAX_XC_FDS)]; } cbuf;
    memset(&m, 0, sizeof m);
    iov.iov_base = (void *)(p + off);
    iov.iov_len = body - off;
    m.msg_iov = &iov;
    m.msg_iovlen = 1;
    if (first && call_nfds > 0) {
      memset(&cbuf, 0, sizeof cbuf);
      m.msg_control = cbuf.space;
      m.msg_controllen = CMSG_SPACE(sizeof(int) * call_nfds);
      struct cmsghdr *c = CMSG_FIRSTHDR(&m);
      c->cmsg_level = SOL_SOCKET;
      c->cmsg_type = SCM_RIGHTS;
      c->cmsg_len = CMSG_LEN(sizeof(int) * call_nfds);
      memcpy(CMSG_DATA(c), fds, sizeof(int) * call_nfds);
    }
    ssize_t n = sendmsg(xcd, &m, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) { close_fd(&xcd); notice("xc=closed\n"); end_call(); return; }
    first = 0;
    off += (size_t)n;
  }
  /* The daemon holds its copies now; ours go. */
  for (size_t i = 0; i < call_nfds; i++) {
    struct stream *s = find(call_ids[i]);
    if (!s) continue;
    close_fd(&s->peer_fd);
    if (s->kind == K_UPLOAD) close_fd(&s->fd);
  }
  reply.off = reply.len = 0;
  call = C_REPLY;
}

/* Takes one complete xc message from stream 0 if there is one, and starts its call. */
static void take_message(void) {
  size_t have = pending(&xcin);
  if (call != C_IDLE || have < 16) return;
  const unsigned char *p = xcin.p + xcin.off;
  uint64_t len = get64(p), n = get64(p + 8);
  if (len > MAX_XC_BODY || n > MAX_XC_FDS) {
    notice("protocol=frame over the limits\n");
    exit(2);
  }
  size_t total = 16 + (size_t)n * 8 + (size_t)len;
  if (have < total) return;
  call_msg_len = 16 + (size_t)len;
  call_msg = malloc(call_msg_len ? call_msg_len : 1);
  if (!call_msg) die("out of memory");
  memcpy(call_msg, p, 16);
  memcpy(call_msg + 16, p + 16 + n * 8, (size_t)len);
  put64(call_msg + 8, n);
  call_nfds = (size_t)n;
  int err = 0;
  for (size_t i = 0; i < call_nfds; i++) {
    const unsigned char *d = p + 16 + i * 8;
    uint32_t id = get32(d + 4);
    if (id == 0 || find(id) || d[0] == K_CONNECT) { notice("protocol=stream id in use\n"); exit(2); }
    struct stream *s = new_stream(id, d[0], d[1]);
    s->group = calls + 1;
    call_ids[i] = id;
    if (!err) err = open_stream(s);
  }
  calls++;
  xcin.off += total;
  if (err) {
    char text[256];
    snprintf(text, sizeof text, "relay=%d\nerror=cannot make a descriptor: %s\n", err, strerror(err));
    call_failed(text);
    return;
  }
  call = C_UPLOADS;
}

/* Reads the daemon's answer; forwards it once complete (after any downloads). */
static void read_reply(void) {
  reserve(&reply, 65536);
  struct msghdr m;
  struct iovec iov;
  union { struct cmsghdr h; char space[CMSG_SPACE(sizeof(int) * MAX_XC_FDS)]; } cbuf;
  memset(&m, 0, sizeof m);
  iov.iov_base = reply.p + reply.len;
  iov.iov_len = reply.cap - reply.len;
  m.msg_iov = &iov;
  m.msg_iovlen = 1;
  m.msg_control = cbuf.space;
  m.msg_controllen = sizeof cbuf.space;
  ssize_t n = recvmsg(xcd, &m, 0);
  if (n < 0 && (errno == EINTR || errno == EAGAIN)) return;
  /* The daemon never sends descriptors; close any so none leak. */
  for (struct cmsghdr *c = CMSG_FIRSTHDR(&m); n > 0 && c; c = CMSG_NXTHDR(&m, c)) {
    if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
    size_t k = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
    int *fd = (int *)(void *)CMSG_DATA(c);
    for (size_t i = 0; i < k; i++) close(fd[i]);
  }
  if (n <= 0) { /* the daemon closed the connection without answering */
    close_fd(&xcd);
    notice("xc=closed\n");
    end_call();
    return;
  }
  reply.len += (size_t)n;
  if (reply.len >= 16) {
    uint64_t len = get64(reply.p);
    if (len > MAX_XC_BODY) { close_fd(&xcd); notice("xc=closed\n"); end_call(); return; }
    if (reply.len >= 16 + len) call = C_DOWNLOADS;
  }
}

/* Sends the answer when every download of the call is through. */
static void finish_call(void) {
  for (size_t i = 0; i < call_nfds; i++) {
    struct stream *s = find(call_ids[i]);
    if (s && s->kind == K_DOWNLOAD && !s->fin_out) return;
  }
  size_t total = 16 + (size_t)get64(reply.p);
  put64(reply.p + 8, 0); /* no descriptors in answers */
  for (size_t off = 0; off < total; off += MAX_FRAME) {
    size_t n = total - off < MAX_FRAME ? total - off : MAX_FRAME;
    data(0, reply.p + off, n);
  }
  /* Bytes after the answer would be a second answer: the daemon never sends one. */
  reply.off = reply.len = 0;
  end_call();
}

/* ---- client frames ------------------------------------------------------------------------ */

static void on_data(struct stream *s, int flags, const unsigned char *p, uint32_t n) {
  if (s->dead) return;
  if (flags & F_RST) { s->dead = 1; reset(s); return; }
  if (n) {
    if (s->fin_in || s->unacked + n > WINDOW) { notice("protocol=data past the window or after FIN\n"); exit(2); }
    if (s->kind == K_INPUT || s->kind == K_CONNECT) {
      s->unacked += n;
      append(&s->in, p, n);
    } else if (s->kind == K_PATH) {
      if (pending(&s->in) + n > MAX_PATH_BYTES) { notice("protocol=path too long\n"); exit(2); }
      append(&s->in, p, n);
    } else if (s->kind == K_UPLOAD) {
      size_t off = 0;
      while (off < n) {
        ssize_t w = write(s->fd, p + off, n - off);
        if (w < 0 && errno == EINTR) continue;
        if (w < 0) { reset(s); return; }
        off += (size_t)w;
      }
      frame(T_WINDOW, 0, s->id, n, NULL, 0);
    }
  }
  if (flags & F_FIN) {
    s->fin_in = 1;
    /* The client's handle ended: so does the child here (the daemon's copy reads as ended). */
    if (s->kind == K_PROCESS) {
      end_process(s);
      close_fd(&s->fd);
      finish(s);
    }
  }
}

/* Handles every complete frame in `inb`. */
static void parse_input(void) {
  while (pending(&inb) >= HDR) {
    const unsigned char *h = inb.p + inb.off;
    uint32_t len = get32(h + 8);
    int type = h[1], flags = h[2] << 8 | h[3];
    uint32_t id = get32(h + 4);
    if (h[0] != MUX_VERSION) { frame(T_GOAWAY, 0, 0, 1, NULL, 0); in_eof = 1; return; }
    uint32_t body = (type == T_DATA || type == T_HELLO || type == T_NOTICE) ? len : 0;
    if (body > MAX_FRAME + 0u) { notice("protocol=frame too large\n"); exit(2); }
    if (pending(&inb) < HDR + body) return;
    const unsigned char *p = h + HDR;
    inb.off += HDR + body;
    if (!got_hello) {
      if (type != T_HELLO || body < 20 || memcmp(p, "XCMX", 4) != 0 || p[5] != MUX_VERSION) {
        frame(T_GOAWAY, 0, 0, 1, NULL, 0);
        in_eof = 1;
        return;
      }
      got_hello = 1;
      continue;
    }
    switch (type) {
    case T_DATA:
      if (id == 0) {
        if (pending(&xcin) + body > MAX_XC_BODY + 16u * 1024) { notice("protocol=stream 0 overflow\n"); exit(2); }
        append(&xcin, p, body);
        /* Start the call now: frames of its streams may follow in this same read. */
        take_message();
      } else {
        struct stream *s = find(id);
        /* A SYN opens a stream of its own: a read stream's payload starts with its kind, a
         * connect stream's is a bare socket path (which never starts with that byte). */
        if (!s && (flags & F_SYN) && body > 0 && p[0] == K_READ) open_read(id, p, body);
        else if (!s && (flags & F_SYN)) open_connect(id, p, body);
        else if (s) on_data(s, flags, p, body);
        else if (!(flags & F_RST)) frame(T_DATA, F_RST, id, 0, NULL, 0);
      }
      break;
    case T_WINDOW: {
      struct stream *s = find(id);
      if (s) s->window += len;
      break;
    }
    case T_PING:
      if (!(flags & F_ACK)) frame(T_PING, F_ACK, 0, len, NULL, 0);
      break;
    case T_GOAWAY:
      if (len == GOAWAY_END_LISTENER) end_listener();
      in_eof = 1;
      return;
    default:
      break; /* unknown types are ignored: later versions announce them in HELLO */
    }
  }
}

/* ---- pumping ------------------------------------------------------------------------------ */

/* The client's FIN has been written through: EOF for the reader. A pipe closes; a connected
 * socket shuts its write side and stays open for reading until its own EOF. */
static void end_writes(struct stream *s) {
  if (s->kind != K_CONNECT) { close_fd(&s->fd); return; }
  if (!s->wr_shut && s->fd >= 0) shutdown(s->fd, SHUT_WR);
  s->wr_shut = 1;
  if (s->rd_eof) close_fd(&s->fd);
}

static void pump_input(struct stream *s) {
  while (pending(&s->in) > 0) {
    ssize_t n = write(s->fd, s->in.p + s->in.off, pending(&s->in));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) return;
    if (n < 0) { reset(s); return; } /* EPIPE: nobody reads any more */
    s->in.off += (size_t)n;
    s->unacked -= (uint32_t)n;
    frame(T_WINDOW, 0, s->id, (uint32_t)n, NULL, 0);
  }
  if (s->fin_in) end_writes(s); /* EOF for the reader, only after every byte */
}

/* Reads straight into the stdout queue (a header's room first), several frames per wakeup
 * while the descriptor has more, the window allows and the queue has room. EOF becomes FIN. */
static void pump_output(struct stream *s) {
  for (int i = 0; i < 16 && s->window > 0 && pending(&out) < OUT_HIGH; i++) {
    size_t want = s->window < MAX_FRAME ? s->window : MAX_FRAME;
    reserve(&out, HDR + want);
    ssize_t n = read(s->fd, out.p + out.len + HDR, want);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) return;
    if (n <= 0) {
      if (s->kind == K_CONNECT) {
        s->rd_eof = 1;
        if (s->wr_shut) close_fd(&s->fd);
      } else {
        close_fd(&s->fd);
      }
      s->owed = 0;
      finish(s);
      return;
    }
    commit_data(s->id, (size_t)n);
    s->window -= (uint32_t)n;
    s->owed = s->owed > (size_t)n ? s->owed - (size_t)n : 0;
    if ((size_t)n < want) return; /* drained for now */
  }
}

/* Sends a held event's value once every output of its call has sent what it owes (what its
 * pipe held when the value was read); returns whether it went. */
static int release(struct stream *s) {
  if (!s->held) return 1;
  for (size_t i = 0; i < nstreams; i++) {
    struct stream *o = streams[i];
    if (o->kind == K_OUTPUT && o->group == s->group && o->fd >= 0 && o->owed > 0) return 0;
  }
  unsigned char b[8];
  put64(b, s->held_value);
  data(s->id, b, 8);
  s->held = 0;
  if (s->flags & D_ONCE) { close_fd(&s->fd); finish(s); }
  return 1;
}

/* A process writes its output before the daemon tells its exit, so what the pipes of its call
 * hold when the value is read goes first: the client writes the value only after the bytes
 * that came before it, so the exit is never told with output still to come (lost when the
 * shell then ends, or printed after what the shell printed next). */
static void pump_event(struct stream *s) {
#ifdef HAVE_EVENTFD
  eventfd_t v;
  if (s->held || eventfd_read(s->fd, &v) < 0) return;
  s->held = 1;
  s->held_value = v;
  for (size_t i = 0; i < nstreams; i++) {
    struct stream *o = streams[i];
    int queued = 0;
    if (o->kind != K_OUTPUT || o->group != s->group || o->fd < 0) continue;
    if (ioctl(o->fd, FIONREAD, &queued) == 0 && queued > 0 && (size_t)queued > o->owed) o->owed = (size_t)queued;
    if (o->window > 0) pump_output(o);
  }
  release(s);
#else
  (void)s;
#endif
}

/* The child behind a process handle ended (the daemon killed it: the linked container is
 * gone): reap it and say so with FIN; the stream is over both ways. */
static void pump_process(struct stream *s) {
#if !defined(__FreeBSD__)
  if (s->pid > 0) {
    while (waitpid(s->pid, NULL, 0) < 0 && errno == EINTR) {}
  }
#endif
  s->pid = 0;
  close_fd(&s->fd);
  s->fin_in = 1;
  finish(s);
}

/* Streams a download from its temp file; FIN at its end. Returns whether more remains. */
static int pump_download(struct stream *s) {
  unsigned char chunk[MAX_FRAME];
  size_t want = s->window < MAX_FRAME ? s->window : MAX_FRAME;
  if (want == 0 || s->fin_out) return 0;
  ssize_t n = pread(s->fd, chunk, want, s->down_off);
  if (n < 0 && errno == EINTR) return 1;
  if (n <= 0) { close_fd(&s->fd); finish(s); return 0; }
  s->down_off += n;
  s->window -= (uint32_t)n;
  data(s->id, chunk, (size_t)n);
  return 1;
}

/* Sends a read stream's file from its offset within the window; FIN at its end, RST with
 * key=value lines on a read error. Returns whether more may remain. */
static int pump_read(struct stream *s) {
  size_t want = s->window < MAX_FRAME ? s->window : MAX_FRAME;
  if (want == 0 || s->fd < 0) return 0;
  reserve(&out, HDR + want);
  ssize_t n = pread(s->fd, out.p + out.len + HDR, want, s->down_off);
  if (n < 0 && errno == EINTR) return 1;
  if (n < 0) {
    char text[256];
    int err = errno;
    snprintf(text, sizeof text, "read=%d\nread_class=other\nerror=%s\n", err, strerror(err));
    frame(T_DATA, F_RST, s->id, (uint32_t)strlen(text), text, strlen(text));
    s->dead = s->fin_out = 1;
    close_fd(&s->fd);
    return 0;
  }
  if (n == 0) { close_fd(&s->fd); finish(s); return 0; }
  commit_data(s->id, (size_t)n);
  s->down_off += n;
  s->window -= (uint32_t)n;
  return 1;
}

static void flush_out(void) {
  while (pending(&out) > 0) {
    ssize_t n = write(1, out.p + out.off, pending(&out));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) return;
    if (n < 0) exit(0); /* the client is gone */
    out.off += (size_t)n;
  }
}

static void cleanup(void) {
  for (size_t i = 0; i < nstreams; i++) {
    end_process(streams[i]);
    close_fd(&streams[i]->fd);
    close_fd(&streams[i]->peer_fd);
    buf_free(&streams[i]->in);
    free(streams[i]);
  }
  free(streams);
  free(call_msg);
  buf_free(&out);
  buf_free(&inb);
  buf_free(&xcin);
  buf_free(&reply);
  close_fd(&xcd);
}

/* ---- persistent listener (`relay --serve`) ----------------------------------------------- */

/*
 * `relay --serve PATH UID IDLE SOCKET` keeps the relay available between xcsh processes: it
 * binds a UNIX socket at PATH (in a 0700 directory owned by UID), goes to the background and
 * serves each connection as one relay session, exactly as over ssh's stdin/stdout: a forked
 * child checks the peer's uid, puts the connection on its stdin/stdout and execs this program
 * with SOCKET. xcsh reaches PATH through the ssh control master (a direct-streamlocal channel:
 * no session, no shell). The listener exits IDLE seconds after its last session ended, on
 * SIGTERM/SIGINT/SIGHUP, or when PATH is no longer its socket. Exit status of the starting
 * process: 0 listening (just started), 75 another listener already serves PATH, else failed.
 */

#define SERVE_RUNNING 75

static volatile sig_atomic_t serve_stop;
static int serve_wake[2] = {-1, -1};

static void serve_signal(int sig) {
  int e = errno;
  if (sig != SIGCHLD) serve_stop = 1;
  if (serve_wake[1] >= 0) (void)!write(serve_wake[1], "x", 1);
  errno = e;
}

/* The uid of the process at the other end of a UNIX socket; -1 if unknown. */
static int serve_peer_uid(int fd, uid_t *uid) {
#if defined(__linux__)
  struct ucred c;
  socklen_t n = sizeof c;
  if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &c, &n) < 0) return -1;
  *uid = c.uid;
  return 0;
#else
  gid_t gid;
  return getpeereid(fd, uid, &gid);
#endif
}

/* PATH's directory: made 0700 (and given to UID when we run as root for it), then it must be
 * a real directory of UID's that nobody else may enter. 0, or an errno. */
static int serve_directory(const char *path, uid_t uid) {
  char dir[sizeof ((struct sockaddr_un *)0)->sun_path];
  const char *slash = strrchr(path, '/');
  struct stat st;
  if (!slash || slash == path || (size_t)(slash - path) >= sizeof dir) return EINVAL;
  memcpy(dir, path, (size_t)(slash - path));
  dir[slash - path] = 0;
  if (mkdir(dir, 0700) == 0 && geteuid() == 0 && uid != 0 && chown(dir, uid, (gid_t)-1) < 0) return errno;
  if (lstat(dir, &st) < 0) return errno;
  if (!S_ISDIR(st.st_mode) || st.st_uid != uid || (st.st_mode & 077)) return EPERM;
  return 0;
}

/* Whether a listener answers at PATH. */
static int serve_alive(const struct sockaddr_un *a) {
  int fd = socket(AF_UNIX, SOCK_STREAM, 0);
  if (fd < 0) return 0;
  int ok = connect(fd, (const struct sockaddr *)a, sizeof *a) == 0;
  close(fd);
  return ok;
}

/* One accepted connection: a relay session on it, in a child that execs this program.
 * Whether a child was started (a peer of another uid is refused: it sees EOF). */
static int serve_session(int c, int lfd, char *self, char *xc_socket, uid_t uid) {
  uid_t peer;
  if (serve_peer_uid(c, &peer) < 0 || peer != uid) { close(c); return 0; }
  pid_t pid = fork();
  if (pid != 0) { close(c); return pid > 0; } /* the listener (or a failed fork: EOF) */
  close(lfd);
  close(serve_wake[0]);
  close(serve_wake[1]);
  signal(SIGCHLD, SIG_DFL);
  signal(SIGTERM, SIG_DFL);
  signal(SIGINT, SIG_DFL);
  signal(SIGHUP, SIG_DFL);
  if (dup2(c, 0) < 0 || dup2(c, 1) < 0) _exit(1);
  if (c > 1) close(c);
  /* The session may be asked to end its listener (`end_listener`): its parent, by pid. */
  char listener[24];
  snprintf(listener, sizeof listener, "%ld", (long)getppid());
  if (setenv("XCSH_RELAY_LISTENER", listener, 1) < 0) _exit(1);
  char *args[3] = {self, xc_socket, NULL};
  execv(self, args);
  _exit(127);
}

static int serve_listener(char **argv) {
  char *path = argv[2], *xc_socket = argv[5], *uid_end, *idle_end;
  uid_t uid = (uid_t)strtoul(argv[3], &uid_end, 10);
  long idle = strtol(argv[4], &idle_end, 10);
  struct sockaddr_un a;
  struct stat mine;
  if (*uid_end || uid_end == argv[3] || idle <= 0 || *idle_end) return 64;
  if (strlen(path) >= sizeof a.sun_path || argv[0][0] != '/') return 64;
  memset(&a, 0, sizeof a);
  a.sun_family = AF_UNIX;
  strcpy(a.sun_path, path);
  if (serve_directory(path, uid)) return 1;
  /* One starter at a time: the check for a live listener and the bind are one step. */
  char lock[sizeof a.sun_path + 8];
  snprintf(lock, sizeof lock, "%s.lock", path);
  int lk = open(lock, O_RDWR | O_CREAT | O_NOFOLLOW, 0600);
  struct flock fl;
  memset(&fl, 0, sizeof fl);
  fl.l_type = F_WRLCK;
  fl.l_whence = SEEK_SET;
  if (lk < 0) return 1;
  while (fcntl(lk, F_SETLKW, &fl) < 0)
    if (errno != EINTR) return 1;
  if (serve_alive(&a)) return SERVE_RUNNING;
  unlink(path); /* a stale socket of a listener that died */
  int lfd = socket(AF_UNIX, SOCK_STREAM, 0);
  mode_t old = umask(077);
  int bound = lfd >= 0 && bind(lfd, (struct sockaddr *)&a, sizeof a) == 0;
  umask(old);
  if (!bound || listen(lfd, 64) < 0 || stat(path, &mine) < 0) return 1;
  if (geteuid() == 0 && uid != 0 && chown(path, uid, (gid_t)-1) < 0) { unlink(path); return 1; }
  set_flags(lfd, 1);
  pid_t pid = fork();
  if (pid < 0) { unlink(path); return 1; }
  if (pid > 0) return 0; /* listening: the lock goes with this process */
  setsid();
  int null = open("/dev/null", O_RDWR);
  if (null >= 0) { dup2(null, 0); dup2(null, 1); dup2(null, 2); if (null > 2) close(null); }
  if (chdir("/") < 0) _exit(1);
  /* Nothing of the session that started us may stay open here: sshd would wait for it. */
  long maxfd = sysconf(_SC_OPEN_MAX);
  for (int fd = 3; fd < (maxfd > 0 && maxfd < 4096 ? maxfd : 4096); fd++)
    if (fd != lfd) close(fd);
  if (pipe(serve_wake) < 0) _exit(1);
  set_flags(serve_wake[0], 1);
  set_flags(serve_wake[1], 1);
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = serve_signal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGCHLD, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGHUP, &sa, NULL);
  signal(SIGPIPE, SIG_IGN);
  /* Whoever started us may have blocked them (the mask is inherited): they end us. */
  sigset_t mask;
  sigemptyset(&mask);
  sigaddset(&mask, SIGCHLD);
  sigaddset(&mask, SIGTERM);
  sigaddset(&mask, SIGINT);
  sigaddset(&mask, SIGHUP);
  sigprocmask(SIG_UNBLOCK, &mask, NULL);
  long active = 0;
  time_t last = time(NULL);
  while (!serve_stop) {
    while (waitpid(-1, NULL, WNOHANG) > 0)
      if (--active == 0) last = time(NULL);
    struct stat now;
    /* Replaced or removed (a new listener after a crash, the cache cleaned): not ours. */
    if (stat(path, &now) < 0 || now.st_ino != mine.st_ino || now.st_dev != mine.st_dev) _exit(0);
    long left = idle - (long)(time(NULL) - last);
    if (active == 0 && left <= 0) break;
    struct pollfd p[2] = {{lfd, POLLIN, 0}, {serve_wake[0], POLLIN, 0}};
    /* Wake at least once a minute to notice the socket replaced. */
    int ms = active > 0 || left > 60 ? 60000 : (int)left * 1000;
    if (poll(p, 2, ms) < 0 && errno != EINTR) break;
    if (p[1].revents) {
      char b[64];
      while (read(serve_wake[0], b, sizeof b) > 0) {}
    }
    if (p[0].revents & POLLIN) {
      int c = accept(lfd, NULL, NULL);
      if (c < 0) continue;
      set_flags(c, 0);
      int fl2 = fcntl(c, F_GETFL);
      if (fl2 >= 0) fcntl(c, F_SETFL, fl2 & ~O_NONBLOCK);
      if (serve_session(c, lfd, argv[0], xc_socket, uid)) active++;
    }
  }
  struct stat now;
  if (stat(path, &now) == 0 && now.st_ino == mine.st_ino && now.st_dev == mine.st_dev) unlink(path);
  _exit(0);
}

int main(int argc, char **argv) {
  if (argc == 6 && strcmp(argv[1], "--serve") == 0) return serve_listener(argv);
  if (argc != 2) {
    fprintf(stderr, "usage: %s SOCKET\n  relays xc's protocol on stdin/stdout to the daemon at SOCKET\n", argv[0]);
    return 64;
  }
  socket_path = argv[1];
  signal(SIGPIPE, SIG_IGN);
  set_flags(0, 1);
  set_flags(1, 1);
  atexit(cleanup);
  hello();
  struct pollfd *pfd = NULL;
  struct stream **who = NULL;
  size_t cap = 0;
  while (!(in_eof && pending(&out) == 0)) {
    /* Work that needs no waiting: parse, start calls, feed downloads. */
    parse_input();
    if (call == C_IDLE) take_message();
    if (call == C_UPLOADS) {
      int ready = 1;
      for (size_t i = 0; i < call_nfds; i++) {
        struct stream *s = find(call_ids[i]);
        if (s && (s->kind == K_UPLOAD || s->kind == K_PATH) && !s->fin_in) ready = 0;
      }
      if (ready) forward_call();
    }
    int busy = 0;
    if (call == C_DOWNLOADS) {
      for (size_t i = 0; i < call_nfds && pending(&out) < OUT_HIGH; i++) {
        struct stream *s = find(call_ids[i]);
        if (s && s->kind == K_DOWNLOAD) busy |= pump_download(s);
      }
      finish_call();
    }
    /* Read streams: a regular file is always readable, so they are fed here, not by poll,
     * while their window and the stdout queue have room (poll then waits without a timeout). */
    for (size_t i = 0; i < nstreams && pending(&out) < OUT_HIGH; i++) {
      if (streams[i]->kind == K_READ) busy |= pump_read(streams[i]);
    }
    reap();
    if (cap < nstreams + 3) {
      cap = nstreams + 16;
      pfd = realloc(pfd, cap * sizeof *pfd);
      who = realloc(who, cap * sizeof *who);
      if (!pfd || !who) die("out of memory");
    }
    size_t np = 0;
    int room = pending(&out) < OUT_HIGH;
    if (!in_eof && room) { pfd[np] = (struct pollfd){0, POLLIN, 0}; who[np++] = NULL; }
    if (pending(&out)) { pfd[np] = (struct pollfd){1, POLLOUT, 0}; who[np++] = NULL; }
    if (call == C_REPLY && xcd >= 0) { pfd[np] = (struct pollfd){xcd, POLLIN, 0}; who[np++] = NULL; }
    for (size_t i = 0; i < nstreams; i++) {
      struct stream *s = streams[i];
      if (s->fd < 0) continue;
      short ev = 0;
      int writes = s->kind == K_INPUT || (s->kind == K_CONNECT && !s->wr_shut);
      int reads = s->kind == K_OUTPUT || (s->kind == K_CONNECT && !s->rd_eof);
      if (writes && (pending(&s->in) > 0 || s->fin_in)) ev |= POLLOUT;
      if ((reads && s->window > 0 && room) || (((s->kind == K_EVENT && !s->held) || s->kind == K_PROCESS) && room)) ev |= POLLIN;
      if (!ev) continue;
      pfd[np] = (struct pollfd){s->fd, ev, 0};
      who[np++] = s;
    }
    if (in_eof && pending(&out) == 0) break;
    int r = poll(pfd, (nfds_t)np, busy && room ? 0 : -1);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) die("poll");
    for (size_t i = 0; i < np; i++) {
      if (!pfd[i].revents) continue;
      struct stream *s = who[i];
      if (s) {
        if (s->fd != pfd[i].fd) continue;
        short want = pfd[i].events, got = pfd[i].revents;
        /* An error or hang-up goes to whichever direction was asked for: read or write says it. */
        if ((want & POLLOUT) && (got & (POLLOUT | POLLERR | POLLHUP))) pump_input(s);
        if (s->fd != pfd[i].fd) continue;
        if ((want & POLLIN) && (got & (POLLIN | POLLERR | POLLHUP))) {
          if (s->kind == K_EVENT) pump_event(s);
          else if (s->kind == K_PROCESS) pump_process(s);
          else pump_output(s);
        }
      } else if (pfd[i].fd == 0) {
        reserve(&inb, MAX_FRAME + HDR);
        ssize_t n = read(0, inb.p + inb.len, inb.cap - inb.len);
        if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
        if (n <= 0) in_eof = 1; /* ssh went away: end, closing every descriptor */
        else inb.len += (size_t)n;
      } else if (pfd[i].fd == 1) {
        flush_out();
      } else if (pfd[i].fd == xcd) {
        read_reply();
      }
    }
    /* An input stream whose client half-closed with nothing left to write ends here too. */
    for (size_t i = 0; i < nstreams; i++) {
      struct stream *s = streams[i];
      if ((s->kind == K_INPUT || (s->kind == K_CONNECT && !s->wr_shut)) && s->fd >= 0 && s->fin_in && pending(&s->in) == 0)
        end_writes(s);
    }
    /* Events held behind their call's output go once it is sent. */
    for (size_t i = 0; i < nstreams; i++)
      if (streams[i]->held) release(streams[i]);
    /* Write what the descriptors just produced without another trip through poll. */
    if (pending(&out)) flush_out();
  }
  free(pfd);
  free(who);
  return 0;
}
