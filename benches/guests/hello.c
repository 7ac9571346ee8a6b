/* The start-up benchmark's guest: two threads print a line each. The same
 * source builds natively (see sys.h). */
#define MAX_STACKS 2
#include "sys.h"

static void say(void *arg) { write_all(1, arg, 18); }

static void run(void)
{
    static thr_t a, b;
    if (thr_create(&a, say, "hello, thread one\n") != 0) EXIT(13);
    if (thr_create(&b, say, "hello, thread two\n") != 0) EXIT(13);
    thr_join(&a);
    thr_join(&b);
}

#ifdef __wasm__
void _start(void) { run(); }
#else
int main(void)
{
    run();
    return 0;
}
#endif
