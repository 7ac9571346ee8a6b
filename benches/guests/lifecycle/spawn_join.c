/* Spawn and join: pthread_create + pthread_join of one thread at a time,
 * argv[1] times (default 5000). Prints the time per thread between the
 * 200th and the last, in ns, measured with CLOCK_MONOTONIC (the slope
 * leaves out start-up and the first threads' warm-up). */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static void *child(void *arg)
{
    return arg;
}

static double now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e9 + ts.tv_nsec;
}

int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 5000, i;
    const int skip = 200;
    double t0 = 0;
    if (n <= skip) return 2;
    for (i = 0; i < n; i++) {
        pthread_t t;
        void *ret;
        if (i == skip) t0 = now_ns();
        if (pthread_create(&t, NULL, child, &n) || pthread_join(t, &ret) || ret != &n) {
            fprintf(stderr, "thread %d failed\n", i);
            return 1;
        }
    }
    printf("%.0f\n", (now_ns() - t0) / (n - skip));
    return 0;
}
