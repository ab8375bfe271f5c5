#ifndef XCSH_CSUPPORT_H
#define XCSH_CSUPPORT_H
// Small C shims for what Swift cannot call directly. Each is named for what it does.
#include <stddef.h>
#include "engine_shims.h"  // XCEngine's shims
#include "cs_sha256.h"     // XCEngine's SHA-256 blocks (SHA extensions when present)
#endif
