/* stack.c — running our handlers off civetweb's worker stacks.
 *
 * civetweb's worker threads have small stacks (Debian's build: 100 KB): enough
 * for routing, not for an upload's decoding and analysis, nor for jansson's
 * and printf's frames under AddressSanitizer. Work that may go deep runs on a
 * thread of its own with SERVER_LARGE_STACK bytes of stack (only the pages
 * touched are committed) while the worker waits for it: a thread start, tens
 * of microseconds, per request or WebSocket message. */
#include <pthread.h>

#include "server/internal.h"

#define SERVER_LARGE_STACK ((size_t)8 << 20)

typedef struct {
    void (*fn)(void *);
    void *arg;
} large_stack_job;

static void *large_stack_main(void *p) {
    large_stack_job *j = p;
    j->fn(j->arg);
    return NULL;
}

int server_large_stack_run(void (*fn)(void *), void *arg) {
    large_stack_job j = {fn, arg};
    pthread_attr_t attr;
    pthread_t th;
    if (pthread_attr_init(&attr) != 0) return -1;
    int rc = pthread_attr_setstacksize(&attr, SERVER_LARGE_STACK) == 0 &&
                     pthread_create(&th, &attr, large_stack_main, &j) == 0
                 ? 0
                 : -1;
    pthread_attr_destroy(&attr);
    if (rc == 0) pthread_join(th, NULL);
    return rc;
}
