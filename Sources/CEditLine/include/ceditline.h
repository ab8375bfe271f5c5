#ifndef XCSH_CEDITLINE_H
#define XCSH_CEDITLINE_H
// libedit (BSD editline, Debian's libedit-dev, FreeBSD's base system) for Swift.
// Its el_set/el_get/history calls are variadic, which Swift cannot call: each shim here makes one
// such call with fixed arguments. The rest of the API (el_gets, el_line, el_insertstr, ...) is
// used directly.
#include <histedit.h>

typedef const char *(*cel_prompt_fn)(EditLine *);
typedef unsigned char (*cel_command_fn)(EditLine *, int);

/// el_init on the process's stdin/stdout/stderr.
EditLine *cel_init(const char *prog);
/// EL_PROMPT_ESC with \1 as the marker around non-printing (colour) sequences.
void cel_set_prompt(EditLine *el, cel_prompt_fn fn);
/// EL_EDITOR: "emacs" or "vi".
int cel_set_editor(EditLine *el, const char *mode);
/// EL_HIST: use this history for Up/Down and Ctrl-R.
void cel_set_history(EditLine *el, History *h);
/// EL_ADDFN then EL_BIND: run `fn` when `key` (e.g. "^I") is typed.
void cel_bind_function(EditLine *el, const char *name, const char *help, cel_command_fn fn, const char *key);
/// EL_BIND: bind a key to a built-in editor command (e.g. "^R" "em-inc-search-prev").
void cel_bind(EditLine *el, const char *key, const char *command);
/// EL_CLIENTDATA set and get.
void cel_set_clientdata(EditLine *el, void *data);
void *cel_get_clientdata(EditLine *el);
/// EL_REFRESH: redraw the line.
void cel_refresh(EditLine *el);
/// Makes libedit read keys through a function that also watches `signal_fd` (the shell's
/// signal self-pipe): when it becomes readable, el_gets returns NULL at once. libedit's own read
/// retries after EINTR, so a SIGINT/SIGHUP would otherwise not end the wait.
void cel_use_signal_fd(EditLine *el, int signal_fd);
/// history_init with H_SETSIZE and H_SETUNIQUE (adjacent duplicates dropped).
History *cel_history_init(int size);
/// H_ENTER.
void cel_history_enter(History *h, const char *line);
/// H_CLEAR.
void cel_history_clear(History *h);

#endif
