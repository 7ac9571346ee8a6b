/* A wasi-libc pthread guest for the Python tests. Modes (argv[1]):
 *   count N      N threads add 10000 each to a mutex-protected counter
 *   callback N   N threads call the host import env.host_add(tid, i) 100 times
 *                (only when built with -DWITH_HOST_ADD, which adds the import)
 *   files DIR    8 threads write DIR/t<i>.txt, then main reads them back
 *   exit         a thread calls exit(3) while main waits on a condition variable
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef WITH_HOST_ADD
__attribute__((import_module("env"), import_name("host_add"))) int32_t host_add(int32_t a, int32_t b);
#endif

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t never = PTHREAD_COND_INITIALIZER;
static long counter;
static const char *dir;

static void *count(void *arg)
{
    (void)arg;
    for (int i = 0; i < 10000; i++) {
        pthread_mutex_lock(&lock);
        counter++;
        pthread_mutex_unlock(&lock);
    }
    return NULL;
}

#ifdef WITH_HOST_ADD
static void *callback(void *arg)
{
    intptr_t id = (intptr_t)arg;
    int32_t sum = 0;
    for (int i = 0; i < 100; i++) sum += host_add((int32_t)id, i);
    return (void *)(intptr_t)sum;
}
#endif

static void *write_file(void *arg)
{
    char path[256];
    snprintf(path, sizeof path, "%s/t%d.txt", dir, (int)(intptr_t)arg);
    FILE *f = fopen(path, "w");
    if (!f) return (void *)1;
    fprintf(f, "thread %d\n", (int)(intptr_t)arg);
    return (void *)(intptr_t)(fclose(f) != 0);
}

static void *exit_soon(void *arg)
{
    (void)arg;
    exit(3);
}

int main(int argc, char **argv)
{
    if (argc < 2) return 2;
    int n = argc > 2 ? atoi(argv[2]) : 4;
    pthread_t t[64];
    if (n > 64) n = 64;
    if (strcmp(argv[1], "count") == 0) {
        for (int i = 0; i < n; i++) pthread_create(&t[i], NULL, count, NULL);
        for (int i = 0; i < n; i++) pthread_join(t[i], NULL);
        printf("counter = %ld\n", counter);
        return 0;
    }
#ifdef WITH_HOST_ADD
    if (strcmp(argv[1], "callback") == 0) {
        long total = 0;
        for (intptr_t i = 0; i < n; i++) pthread_create(&t[i], NULL, callback, (void *)i);
        for (int i = 0; i < n; i++) {
            void *r;
            pthread_join(t[i], &r);
            total += (long)(intptr_t)r;
        }
        printf("total = %ld\n", total);
        return 0;
    }
#endif
    if (strcmp(argv[1], "files") == 0 && argc > 2) {
        dir = argv[2];
        int failed = 0;
        for (intptr_t i = 0; i < 8; i++) pthread_create(&t[i], NULL, write_file, (void *)i);
        for (int i = 0; i < 8; i++) {
            void *r;
            pthread_join(t[i], &r);
            failed += r != NULL;
        }
        if (failed) {
            printf("%d writes failed\n", failed);
            return 1;
        }
        for (int i = 0; i < 8; i++) {
            char path[256], line[64];
            snprintf(path, sizeof path, "%s/t%d.txt", dir, i);
            FILE *f = fopen(path, "r");
            if (!f || !fgets(line, sizeof line, f)) return 1;
            fputs(line, stdout);
            fclose(f);
        }
        return 0;
    }
    if (strcmp(argv[1], "exit") == 0) {
        pthread_create(&t[0], NULL, exit_soon, NULL);
        pthread_mutex_lock(&lock);
        for (;;) pthread_cond_wait(&never, &lock);
    }
    return 2;
}
