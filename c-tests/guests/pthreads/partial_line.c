/* Partial lines: four threads, one after the other, write "tN;" with
 * write(2) and no newline; main ends with printf("done") and no newline,
 * which wasi-libc flushes at exit. Every byte must reach the host. */
#include <pthread.h>
#include <stdio.h>
#include <unistd.h>

static void *thread_main(void *arg)
{
    char buf[3] = {'t', (char)('0' + (int)(long)arg), ';'};
    if (write(1, buf, sizeof buf) != (ssize_t)sizeof buf) return (void *)1;
    return NULL;
}

int main(void)
{
    for (long i = 0; i < 4; i++) {
        pthread_t t;
        void *ret = NULL;
        if (pthread_create(&t, NULL, thread_main, (void *)i) != 0) return 2;
        if (pthread_join(t, &ret) != 0 || ret != NULL) return 3;
    }
    printf("done");
    return 0;
}
