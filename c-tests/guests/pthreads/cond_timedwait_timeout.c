/* pthread_cond_timedwait that nobody signals returns ETIMEDOUT, not before
 * its deadline: on CLOCK_REALTIME (the default) and on CLOCK_MONOTONIC
 * (pthread_condattr_setclock), in main and in a thread at the same time.
 * The mutex is held again when it returns. */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#define WAIT_MS 200

struct waiter {
    clockid_t clock;
    pthread_mutex_t m;
    pthread_cond_t c;
    int result, relocked;
    long long waited_ms;
};

static long long now_ms(clockid_t clock)
{
    struct timespec ts;
    clock_gettime(clock, &ts);
    return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

static void *wait_once(void *arg)
{
    struct waiter *w = arg;
    struct timespec deadline;
    pthread_mutex_lock(&w->m);
    clock_gettime(w->clock, &deadline);
    deadline.tv_nsec += WAIT_MS * 1000000L;
    if (deadline.tv_nsec >= 1000000000L) {
        deadline.tv_sec++;
        deadline.tv_nsec -= 1000000000L;
    }
    long long start = now_ms(CLOCK_MONOTONIC);
    do
        w->result = pthread_cond_timedwait(&w->c, &w->m, &deadline);
    while (w->result == 0); /* a spurious wakeup: wait on */
    w->waited_ms = now_ms(CLOCK_MONOTONIC) - start;
    w->relocked = pthread_mutex_trylock(&w->m) == EBUSY;
    pthread_mutex_unlock(&w->m);
    return NULL;
}

static void init(struct waiter *w, clockid_t clock)
{
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, clock);
    w->clock = clock;
    pthread_mutex_init(&w->m, NULL);
    pthread_cond_init(&w->c, &ca);
    pthread_condattr_destroy(&ca);
}

static void report(const char *who, const struct waiter *w)
{
    printf("%s: %s, waited >= %d ms: %s, mutex held on return: %s\n", who,
           w->result == ETIMEDOUT ? "ETIMEDOUT" : "not ETIMEDOUT", WAIT_MS,
           w->waited_ms >= WAIT_MS - 1 ? "yes" : "no", w->relocked ? "yes" : "no");
}

int main(void)
{
    struct waiter w[4];
    pthread_t t[3];
    init(&w[0], CLOCK_REALTIME);
    init(&w[1], CLOCK_MONOTONIC);
    init(&w[2], CLOCK_REALTIME);
    init(&w[3], CLOCK_MONOTONIC);
    for (int i = 0; i < 3; i++) pthread_create(&t[i], NULL, wait_once, &w[i + 1]);
    wait_once(&w[0]);
    for (int i = 0; i < 3; i++) pthread_join(t[i], NULL);
    report("main, CLOCK_REALTIME", &w[0]);
    report("thread, CLOCK_MONOTONIC", &w[1]);
    report("thread, CLOCK_REALTIME", &w[2]);
    report("thread, CLOCK_MONOTONIC", &w[3]);
    return 0;
}
