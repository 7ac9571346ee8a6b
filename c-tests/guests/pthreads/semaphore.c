/* sem_t: trywait on an empty semaphore is EAGAIN, sem_timedwait times out
 * with ETIMEDOUT; 4 producers post 2500 times each and 4 consumers take them
 * all; a semaphore of 3 lets at most 3 of 10 threads in at once. */
#include <errno.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

static sem_t items, room;
static int inside, most_inside, taken;

static void *producer(void *arg)
{
    (void)arg;
    for (int i = 0; i < 2500; i++) sem_post(&items);
    return NULL;
}

static void *consumer(void *arg)
{
    (void)arg;
    for (int i = 0; i < 2500; i++) {
        while (sem_wait(&items) != 0) {}
        __atomic_fetch_add(&taken, 1, __ATOMIC_RELAXED);
    }
    return NULL;
}

static void *limited(void *arg)
{
    (void)arg;
    for (int i = 0; i < 5; i++) {
        sem_wait(&room);
        int n = __atomic_add_fetch(&inside, 1, __ATOMIC_SEQ_CST);
        int m = __atomic_load_n(&most_inside, __ATOMIC_SEQ_CST);
        while (n > m && !__atomic_compare_exchange_n(&most_inside, &m, n, 0, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST)) {}
        usleep(2000);
        __atomic_sub_fetch(&inside, 1, __ATOMIC_SEQ_CST);
        sem_post(&room);
    }
    return NULL;
}

int main(void)
{
    int v = -1;
    sem_init(&items, 0, 0);
    int r = sem_trywait(&items);
    printf("trywait on 0: %d, %s\n", r, r == -1 && errno == EAGAIN ? "EAGAIN" : "not EAGAIN");
    struct timespec deadline;
    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_nsec += 100 * 1000000L;
    if (deadline.tv_nsec >= 1000000000L) {
        deadline.tv_sec++;
        deadline.tv_nsec -= 1000000000L;
    }
    r = sem_timedwait(&items, &deadline);
    printf("timedwait on 0: %d, %s\n", r, r == -1 && errno == ETIMEDOUT ? "ETIMEDOUT" : "not ETIMEDOUT");

    pthread_t t[10];
    for (int i = 0; i < 4; i++) pthread_create(&t[i], NULL, consumer, NULL);
    for (int i = 4; i < 8; i++) pthread_create(&t[i], NULL, producer, NULL);
    for (int i = 0; i < 8; i++) pthread_join(t[i], NULL);
    sem_getvalue(&items, &v);
    printf("consumers took %d posts, value now %d\n", taken, v);

    sem_init(&room, 0, 3);
    for (int i = 0; i < 10; i++) pthread_create(&t[i], NULL, limited, NULL);
    for (int i = 0; i < 10; i++) pthread_join(t[i], NULL);
    sem_getvalue(&room, &v);
    printf("at most 3 inside at once: %s, value back to %d\n", most_inside <= 3 && most_inside >= 1 ? "yes" : "no", v);
    sem_destroy(&items);
    sem_destroy(&room);
    return 0;
}
