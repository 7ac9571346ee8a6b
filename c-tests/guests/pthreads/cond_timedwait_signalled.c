/* pthread_cond_timedwait with a 30 s deadline is woken by a signal long
 * before it: it returns 0 with the mutex held and sees the flag set. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

static pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t c = PTHREAD_COND_INITIALIZER;
static int waiting, flag, result = -1;
static long long waited_ms;

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

static void *waiter(void *arg)
{
    (void)arg;
    struct timespec deadline;
    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += 30;
    pthread_mutex_lock(&m);
    waiting = 1;
    long long start = now_ms();
    while (!flag) {
        result = pthread_cond_timedwait(&c, &m, &deadline);
        if (result != 0) break;
    }
    waited_ms = now_ms() - start;
    pthread_mutex_unlock(&m);
    return NULL;
}

int main(void)
{
    pthread_t t;
    pthread_create(&t, NULL, waiter, NULL);
    for (;;) { /* until the waiter is inside pthread_cond_timedwait */
        pthread_mutex_lock(&m);
        if (waiting) break;
        pthread_mutex_unlock(&m);
        usleep(1000);
    }
    flag = 1;
    pthread_cond_signal(&c);
    pthread_mutex_unlock(&m);
    pthread_join(t, NULL);
    printf("timedwait returned %d, flag %d, woken before the deadline: %s\n", result, flag,
           waited_ms < 10000 ? "yes" : "no");
    return 0;
}
