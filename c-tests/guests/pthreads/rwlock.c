/* pthread_rwlock_t: 4 readers hold the read lock at the same time (they meet
 * at a barrier while holding it); a writer is excluded while they do and
 * excludes readers while it writes; 4 writers and 4 readers then run
 * together and no reader ever sees a half-done update. */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>

#define R 4

static pthread_rwlock_t lock = PTHREAD_RWLOCK_INITIALIZER;
static pthread_barrier_t inside, leave;
static long x, y; /* always equal when read under the lock */
static int stop;

static void *reader_together(void *arg)
{
    (void)arg;
    pthread_rwlock_rdlock(&lock);
    pthread_barrier_wait(&inside); /* all R readers hold the lock at once */
    pthread_barrier_wait(&leave);
    pthread_rwlock_unlock(&lock);
    return NULL;
}

static void *try_read(void *arg)
{
    (void)arg;
    int r = pthread_rwlock_tryrdlock(&lock);
    if (r == 0) pthread_rwlock_unlock(&lock);
    return (void *)(intptr_t)r;
}

static void *writer(void *arg)
{
    (void)arg;
    for (int i = 0; i < 5000; i++) {
        pthread_rwlock_wrlock(&lock);
        x++;
        y++;
        pthread_rwlock_unlock(&lock);
    }
    return NULL;
}

static void *reader(void *arg)
{
    (void)arg;
    long torn = 0;
    while (!__atomic_load_n(&stop, __ATOMIC_ACQUIRE)) {
        pthread_rwlock_rdlock(&lock);
        if (x != y) torn++;
        pthread_rwlock_unlock(&lock);
    }
    return (void *)(intptr_t)torn;
}

static const char *name(int r)
{
    return r == 0 ? "0" : r == EBUSY ? "EBUSY" : "other error";
}

int main(void)
{
    pthread_t t[2 * R];
    pthread_barrier_init(&inside, NULL, R + 1);
    pthread_barrier_init(&leave, NULL, R + 1);
    for (int i = 0; i < R; i++) pthread_create(&t[i], NULL, reader_together, NULL);
    pthread_barrier_wait(&inside);
    printf("%d readers hold the lock together\n", R);
    int w = pthread_rwlock_trywrlock(&lock);
    printf("trywrlock while they read: %s\n", name(w));
    int r = pthread_rwlock_tryrdlock(&lock);
    printf("tryrdlock while they read: %s\n", name(r));
    if (r == 0) pthread_rwlock_unlock(&lock);
    pthread_barrier_wait(&leave);
    for (int i = 0; i < R; i++) pthread_join(t[i], NULL);

    printf("wrlock: %s\n", name(pthread_rwlock_wrlock(&lock)));
    void *ret;
    pthread_create(&t[0], NULL, try_read, NULL);
    pthread_join(t[0], &ret);
    printf("tryrdlock from another thread while writing: %s\n", name((int)(intptr_t)ret));
    pthread_rwlock_unlock(&lock);
    pthread_create(&t[0], NULL, try_read, NULL);
    pthread_join(t[0], &ret);
    printf("tryrdlock from another thread after unlock: %s\n", name((int)(intptr_t)ret));

    for (int i = 0; i < R; i++) pthread_create(&t[i], NULL, reader, NULL);
    for (int i = 0; i < R; i++) pthread_create(&t[R + i], NULL, writer, NULL);
    for (int i = 0; i < R; i++) pthread_join(t[R + i], NULL);
    __atomic_store_n(&stop, 1, __ATOMIC_RELEASE);
    long torn = 0;
    for (int i = 0; i < R; i++) {
        pthread_join(t[i], &ret);
        torn += (long)(intptr_t)ret;
    }
    printf("%d writers: x = %ld, y = %ld; readers saw x != y %ld times\n", R, x, y, torn);
    return 0;
}
