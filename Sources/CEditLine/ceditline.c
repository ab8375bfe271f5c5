#include "ceditline.h"
#include <stdio.h>

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
