#ifndef XCSH_CSUPPORT_H
#define XCSH_CSUPPORT_H
// Small C shims for what Swift cannot call directly. Each is named for what it does.
#include <stddef.h>
#include "engine_shims.h"  // XCEngine's shims
#endif
