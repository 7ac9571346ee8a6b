/* Sleeping in threads: nanosleep, usleep, clock_nanosleep on CLOCK_MONOTONIC
 * (relative and TIMER_ABSTIME) and CLOCK_REALTIME each sleep at least as
 * long as asked; 8 threads sleeping 300 ms at once finish together, not one
 * after another. */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#define MS 50

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

static void *sleeper(void *arg)
{
    int how = (int)(intptr_t)arg;
    struct timespec d = {0, MS * 1000000L}, abs;
    int r = 0;
    long long start = now_ms();
    switch (how) {
    case 0: r = nanosleep(&d, NULL); break;
    case 1: r = usleep(MS * 1000); break;
    case 2: r = clock_nanosleep(CLOCK_MONOTONIC, 0, &d, NULL); break;
    case 3:
        clock_gettime(CLOCK_MONOTONIC, &abs);
        abs.tv_nsec += MS * 1000000L;
        if (abs.tv_nsec >= 1000000000L) {
            abs.tv_sec++;
            abs.tv_nsec -= 1000000000L;
        }
        r = clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &abs, NULL);
        break;
    case 4: r = clock_nanosleep(CLOCK_REALTIME, 0, &d, NULL); break;
    }
    long long slept = now_ms() - start;
    return (void *)(intptr_t)(r != 0 ? -1 : slept >= MS - 1 ? 1 : 0);
}

static void *long_sleep(void *arg)
{
    (void)arg;
    struct timespec d = {0, 300 * 1000000L};
    nanosleep(&d, NULL);
    return NULL;
}

int main(void)
{
    static const char *names[] = {"nanosleep", "usleep", "clock_nanosleep(MONOTONIC)",
                                  "clock_nanosleep(MONOTONIC, TIMER_ABSTIME)", "clock_nanosleep(REALTIME)"};
    pthread_t t[8];
    for (intptr_t i = 0; i < 5; i++) pthread_create(&t[i], NULL, sleeper, (void *)i);
    for (int i = 0; i < 5; i++) {
        void *r;
        pthread_join(t[i], &r);
        intptr_t v = (intptr_t)r;
        printf("%s in a thread: %s\n", names[i], v < 0 ? "error" : v ? "slept >= 50 ms" : "woke early");
    }
    long long start = now_ms();
    for (int i = 0; i < 8; i++) pthread_create(&t[i], NULL, long_sleep, NULL);
    for (int i = 0; i < 8; i++) pthread_join(t[i], NULL);
    long long took = now_ms() - start;
    printf("8 threads sleeping 300 ms at once: %s\n",
           took < 299 ? "too fast" : took < 8 * 300 ? "done together" : "one after another");
    return 0;
}
