#include "ceditline.h"
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <unistd.h>
#include <wchar.h>

EditLine *cel_init(const char *prog) {
  EditLine *el = el_init(prog, stdin, stdout, stderr);
  if (el) {
    el_set(el, EL_EDITOR, "emacs");
    el_set(el, EL_SIGNAL, 0);  // the shell handles signals itself
  }
  return el;
}

void cel_set_prompt(EditLine *el, cel_prompt_fn fn) { el_set(el, EL_PROMPT_ESC, fn, '\1'); }

int cel_set_editor(EditLine *el, const char *mode) { return el_set(el, EL_EDITOR, mode); }

void cel_set_history(EditLine *el, History *h) { el_set(el, EL_HIST, history, h); }

void cel_bind_function(EditLine *el, const char *name, const char *help, cel_command_fn fn, const char *key) {
  el_set(el, EL_ADDFN, name, help, fn);
  el_set(el, EL_BIND, key, name, NULL);
}

void cel_bind(EditLine *el, const char *key, const char *command) { el_set(el, EL_BIND, key, command, NULL); }

void cel_set_clientdata(EditLine *el, void *data) { el_set(el, EL_CLIENTDATA, data); }

void *cel_get_clientdata(EditLine *el) {
  void *data = NULL;
  el_get(el, EL_CLIENTDATA, &data);
  return data;
}

void cel_refresh(EditLine *el) { el_set(el, EL_REFRESH); }

History *cel_history_init(int size) {
  History *h = history_init();
  if (h) {
    HistEvent ev;
    history(h, &ev, H_SETSIZE, size);
    history(h, &ev, H_SETUNIQUE, 1);
  }
  return h;
}

void cel_history_enter(History *h, const char *line) {
  HistEvent ev;
  history(h, &ev, H_ENTER, line);
}

void cel_history_clear(History *h) {
  HistEvent ev;
  history(h, &ev, H_CLEAR);
}

static int watched_signal_fd = -1;

/// Reads one character (UTF-8 decoded) from the terminal, or fails with EINTR when the signal
/// pipe becomes readable first. Returns 1, 0 at end of input, -1 on error (libedit's el_rfunc_t).
static int read_char_or_signal(EditLine *el, wchar_t *wc) {
  (void)el;
  unsigned char buf[4];
  int len = 0, need = 1;
  for (;;) {
    struct pollfd p[2] = {{0, POLLIN, 0}, {watched_signal_fd, POLLIN, 0}};
    int n = poll(p, watched_signal_fd >= 0 ? 2 : 1, -1);
    if (n < 0) {
      if (errno == EINTR) continue;
      return -1;
    }
    if (watched_signal_fd >= 0 && (p[1].revents & POLLIN)) {
      errno = EINTR;
      return -1;
    }
    if (!(p[0].revents & (POLLIN | POLLHUP | POLLERR))) continue;
    ssize_t r = read(0, buf + len, 1);
    if (r == 0) return 0;
    if (r < 0) {
      if (errno == EINTR || errno == EAGAIN) continue;
      return -1;
    }
    if (len == 0) need = buf[0] < 0x80 ? 1 : buf[0] < 0xE0 ? 2 : buf[0] < 0xF0 ? 3 : 4;
    if (++len < need) continue;
    unsigned int c;
    switch (need) {
      case 1: c = buf[0]; break;
      case 2: c = ((buf[0] & 0x1Fu) << 6) | (buf[1] & 0x3Fu); break;
      case 3: c = ((buf[0] & 0x0Fu) << 12) | ((buf[1] & 0x3Fu) << 6) | (buf[2] & 0x3Fu); break;
      default: c = ((buf[0] & 0x07u) << 18) | ((buf[1] & 0x3Fu) << 12) | ((buf[2] & 0x3Fu) << 6) | (buf[3] & 0x3Fu);
    }
    *wc = (wchar_t)c;
    return 1;
  }
}

void cel_use_signal_fd(EditLine *el, int signal_fd) {
  watched_signal_fd = signal_fd;
  el_set(el, EL_GETCFN, read_char_or_signal);
}
