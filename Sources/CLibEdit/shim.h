// libedit (BSD editline) as a system library: Debian's libedit-dev, FreeBSD's base system.
// histedit.h is the native API; editline/readline.h (libedit's own readline, not GNU's) is
// exposed for tools that want it.
#include <histedit.h>
#include <editline/readline.h>
