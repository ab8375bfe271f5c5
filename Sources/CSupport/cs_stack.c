// How much stack the calling thread has left: the evaluator refuses to recurse deeper when
// little is left, so a deep script fails with a diagnostic instead of a segfault, whatever
// the thread's stack size (worker threads have less than the main thread).
#define _GNU_SOURCE
#include "cs_stack.h"
#include <pthread.h>
#include <stdint.h>

static __thread uintptr_t stack_low = 0;
static __thread int stack_known = -1;  // -1: not looked up yet, 0: unknown, 1: known

size_t cs_stack_remaining(void) {
  char here;
  if (stack_known < 0) {
    stack_known = 0;
#ifdef __linux__
    pthread_attr_t attr;
    if (pthread_getattr_np(pthread_self(), &attr) == 0) {
      void *addr = NULL;
      size_t size = 0;
      if (pthread_attr_getstack(&attr, &addr, &size) == 0 && addr != NULL) {
        stack_low = (uintptr_t)addr;
        stack_known = 1;
      }
      pthread_attr_destroy(&attr);
    }
#endif
  }
  if (stack_known != 1) return SIZE_MAX;
  uintptr_t sp = (uintptr_t)&here;
  return sp > stack_low ? (size_t)(sp - stack_low) : 0;
}
