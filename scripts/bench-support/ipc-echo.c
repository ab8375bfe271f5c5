// The physical floor for scripts/bench.d/ipc: a raw AF_UNIX echo of the same bytes the xc
// IPC benchmark exchanges (a 16-byte header plus a small JSON body), with the same shape as
// the Swift benchmark: a server thread per connection, one client thread per connection,
// blocking reads and writes, everything in one process.
//
// Usage: ipc-echo SOCKET_PATH MESSAGE_BYTES LATENCY_CALLS SECONDS
// Prints `key value` lines like XCIPCBench.
#define _GNU_SOURCE
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

static int msg_bytes;
static atomic_int stop_flag;
static atomic_long total_calls;

static int read_full(int fd, char *buf, int n) {
  int got = 0;
  while (got < n) {
    ssize_t r = read(fd, buf + got, n - got);
    if (r <= 0) return -1;
    got += r;
  }
  return 0;
}

static int write_full(int fd, const char *buf, int n) {
  int put = 0;
  while (put < n) {
    ssize_t w = send(fd, buf + put, n - put, MSG_NOSIGNAL);
    if (w <= 0) return -1;
    put += w;
  }
  return 0;
}

static void *serve(void *arg) {
  int fd = (int)(long)arg;
  char buf[4096];
  while (read_full(fd, buf, msg_bytes) == 0 && write_full(fd, buf, msg_bytes) == 0) {}
  close(fd);
  return NULL;
}

static void *accept_loop(void *arg) {
  int l = (int)(long)arg;
  for (;;) {
    int c = accept(l, NULL, NULL);
    if (c < 0) return NULL;
    pthread_t t;
    pthread_create(&t, NULL, serve, (void *)(long)c);
    pthread_detach(t);
  }
}

static int connect_to(const char *path) {
  int s = socket(AF_UNIX, SOCK_STREAM, 0);
  struct sockaddr_un a = {.sun_family = AF_UNIX};
  strncpy(a.sun_path, path, sizeof a.sun_path - 1);
  if (connect(s, (struct sockaddr *)&a, sizeof a) < 0) { perror("connect"); exit(1); }
  return s;
}

static double now_us(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static int cmp(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

static void *client(void *arg) {
  int s = (int)(long)arg;
  char buf[4096];
  memset(buf, 'x', sizeof buf);
  long n = 0;
  while (!atomic_load_explicit(&stop_flag, memory_order_relaxed)) {
    if (write_full(s, buf, msg_bytes) || read_full(s, buf, msg_bytes)) break;
    n++;
  }
  atomic_fetch_add(&total_calls, n);
  return NULL;
}

int main(int argc, char **argv) {
  if (argc != 5) { fprintf(stderr, "usage: %s PATH BYTES CALLS SECONDS\n", argv[0]); return 2; }
  const char *path = argv[1];
  msg_bytes = atoi(argv[2]);
  int calls = atoi(argv[3]);
  double seconds = atof(argv[4]);
  if (msg_bytes <= 0 || msg_bytes > 4096) return 2;

  unlink(path);
  int l = socket(AF_UNIX, SOCK_STREAM, 0);
  struct sockaddr_un a = {.sun_family = AF_UNIX};
  strncpy(a.sun_path, path, sizeof a.sun_path - 1);
  if (bind(l, (struct sockaddr *)&a, sizeof a) < 0 || listen(l, 512) < 0) { perror("bind"); return 1; }
  pthread_t acceptor;
  pthread_create(&acceptor, NULL, accept_loop, (void *)(long)l);

  // Latency on one connection.
  int s = connect_to(path);
  char buf[4096];
  memset(buf, 'x', sizeof buf);
  for (int i = 0; i < 2000; i++) { write_full(s, buf, msg_bytes); read_full(s, buf, msg_bytes); }
  double *samples = malloc(sizeof(double) * calls);
  for (int i = 0; i < calls; i++) {
    double t0 = now_us();
    write_full(s, buf, msg_bytes);
    read_full(s, buf, msg_bytes);
    samples[i] = now_us() - t0;
  }
  qsort(samples, calls, sizeof(double), cmp);
  printf("latency_p50_us %.2f\n", samples[calls / 2]);
  printf("latency_p99_us %.2f\n", samples[calls * 99 / 100]);
  close(s);

  // Throughput over 1, 8 and 64 connections.
  int counts[] = {1, 8, 64};
  for (int k = 0; k < 3; k++) {
    int n = counts[k];
    pthread_t threads[64];
    int socks[64];
    for (int i = 0; i < n; i++) socks[i] = connect_to(path);
    atomic_store(&stop_flag, 0);
    atomic_store(&total_calls, 0);
    double t0 = now_us();
    for (int i = 0; i < n; i++) pthread_create(&threads[i], NULL, client, (void *)(long)socks[i]);
    usleep((useconds_t)(seconds * 1e6));
    atomic_store(&stop_flag, 1);
    for (int i = 0; i < n; i++) pthread_join(threads[i], NULL);
    double secs = (now_us() - t0) / 1e6;
    printf("throughput_%d %ld\n", n, (long)(atomic_load(&total_calls) / secs));
    for (int i = 0; i < n; i++) close(socks[i]);
  }
  shutdown(l, SHUT_RDWR);
  close(l);
  unlink(path);
  return 0;
}
