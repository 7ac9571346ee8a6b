/* pthread_mutex_trylock: EBUSY while another thread holds the mutex, 0 once
 * it is released; then 4 threads count to 40000 using only trylock (a
 * failed attempt retries after sched_yield). */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <semaphore.h>
#include <stdio.h>

static pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
static sem_t held, release;
static long counter;
static int busy_seen;

static void *holder(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&m);
    sem_post(&held);
    sem_wait(&release);
    pthread_mutex_unlock(&m);
    return NULL;
}

static void *counter_thread(void *arg)
{
    (void)arg;
    for (int done = 0; done < 10000;) {
        int r = pthread_mutex_trylock(&m);
        if (r == EBUSY) {
            __atomic_store_n(&busy_seen, 1, __ATOMIC_RELAXED);
            sched_yield();
            continue;
        }
        if (r != 0) return (void *)1;
        counter++;
        done++;
        pthread_mutex_unlock(&m);
    }
    return NULL;
}

int main(void)
{
    pthread_t t;
    sem_init(&held, 0, 0);
    sem_init(&release, 0, 0);
    pthread_create(&t, NULL, holder, NULL);
    sem_wait(&held);
    int r = pthread_mutex_trylock(&m);
    printf("trylock while another thread holds it: %s\n", r == EBUSY ? "EBUSY" : "not EBUSY");
    sem_post(&release);
    pthread_join(t, NULL);
    r = pthread_mutex_trylock(&m);
    printf("trylock after the holder released it: %d\n", r);
    if (r == 0) pthread_mutex_unlock(&m);

    pthread_t c[4];
    int bad = 0;
    for (int i = 0; i < 4; i++) pthread_create(&c[i], NULL, counter_thread, NULL);
    for (int i = 0; i < 4; i++) {
        void *ret;
        pthread_join(c[i], &ret);
        bad |= ret != NULL;
    }
    printf("counted with trylock only: %ld%s\n", counter, bad ? " (an unexpected error)" : "");
    return 0;
}
