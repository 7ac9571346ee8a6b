/* Never a deadlock: a worker pool under load with producer/consumer queues,
 * condition variables, timed waits and sleeps, repeated many times. Every
 * moment some thread is running, sleeping or waiting with a timeout, so
 * weft's deadlock detector must never fire. Prints the checksum. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#define WORKERS 4
#define ROUNDS 200
#define JOBS 64
#define CAP 4

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t not_empty = PTHREAD_COND_INITIALIZER;
static pthread_cond_t not_full = PTHREAD_COND_INITIALIZER;
static pthread_cond_t idle = PTHREAD_COND_INITIALIZER;
static int queue[CAP], head, count, busy, stop;
static long long total;
static int timed; /* with an argument, worker 0 uses timed waits */

static void *worker(void *arg)
{
    long id = (long)arg;
    pthread_mutex_lock(&lock);
    for (;;) {
        while (count == 0 && !stop) {
            if (id == 0 && timed) {
                /* one worker waits with a timeout: still never a deadlock */
                struct timespec ts;
                clock_gettime(CLOCK_REALTIME, &ts);
                ts.tv_nsec += 1000000;
                if (ts.tv_nsec >= 1000000000) ts.tv_sec++, ts.tv_nsec -= 1000000000;
                pthread_cond_timedwait(&not_empty, &lock, &ts);
            } else {
                pthread_cond_wait(&not_empty, &lock);
            }
        }
        if (count == 0 && stop) break;
        int v = queue[head];
        head = (head + 1) % CAP;
        count--;
        busy++;
        pthread_cond_signal(&not_full);
        pthread_mutex_unlock(&lock);
        long long x = 0;
        for (int i = 0; i < v * 50; i++) x += i % 7;
        if (v % 16 == 0) usleep(50);
        pthread_mutex_lock(&lock);
        total += x;
        busy--;
        if (busy == 0 && count == 0) pthread_cond_broadcast(&idle);
    }
    pthread_mutex_unlock(&lock);
    return NULL;
}

int main(int argc, char **argv)
{
    pthread_t t[WORKERS];
    (void)argv;
    timed = argc > 1;
    for (long i = 0; i < WORKERS; i++) pthread_create(&t[i], NULL, worker, (void *)i);
    for (int r = 0; r < ROUNDS; r++) {
        for (int j = 0; j < JOBS; j++) {
            pthread_mutex_lock(&lock);
            while (count == CAP) pthread_cond_wait(&not_full, &lock);
            queue[(head + count++) % CAP] = j + 1;
            pthread_cond_signal(&not_empty);
            pthread_mutex_unlock(&lock);
        }
        /* wait until the pool is idle (main parked, workers parked soon after:
         * the last worker to finish wakes main) */
        pthread_mutex_lock(&lock);
        while (busy > 0 || count > 0) pthread_cond_wait(&idle, &lock);
        pthread_mutex_unlock(&lock);
    }
    pthread_mutex_lock(&lock);
    stop = 1;
    pthread_cond_broadcast(&not_empty);
    pthread_mutex_unlock(&lock);
    for (int i = 0; i < WORKERS; i++) pthread_join(t[i], NULL);
    printf("total %lld\n", total);
    return 0;
}
