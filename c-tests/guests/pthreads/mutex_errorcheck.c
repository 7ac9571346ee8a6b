/* PTHREAD_MUTEX_ERRORCHECK reports misuse instead of deadlocking: relocking
 * by the owner is EDEADLK, unlocking by another thread or when unlocked is
 * EPERM. */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

static pthread_mutex_t m;

static const char *name(int r)
{
    return r == 0 ? "0" : r == EDEADLK ? "EDEADLK" : r == EPERM ? "EPERM" : r == EBUSY ? "EBUSY" : strerror(r);
}

static void *unlock_from_other(void *arg)
{
    (void)arg;
    return (void *)(intptr_t)pthread_mutex_unlock(&m);
}

static void *lock_from_other(void *arg)
{
    (void)arg;
    int r = pthread_mutex_lock(&m);
    if (r == 0) r = pthread_mutex_unlock(&m);
    return (void *)(intptr_t)r;
}

static int in_thread(void *(*f)(void *))
{
    pthread_t t;
    void *r;
    pthread_create(&t, NULL, f, NULL);
    pthread_join(t, &r);
    return (int)(intptr_t)r;
}

int main(void)
{
    pthread_mutexattr_t attr;
    pthread_mutexattr_init(&attr);
    pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_ERRORCHECK);
    pthread_mutex_init(&m, &attr);
    pthread_mutexattr_destroy(&attr);

    printf("unlock while unlocked: %s\n", name(pthread_mutex_unlock(&m)));
    printf("lock: %s\n", name(pthread_mutex_lock(&m)));
    printf("lock again by the owner: %s\n", name(pthread_mutex_lock(&m)));
    printf("trylock by the owner: %s\n", name(pthread_mutex_trylock(&m)));
    printf("unlock by another thread: %s\n", name(in_thread(unlock_from_other)));
    printf("unlock by the owner: %s\n", name(pthread_mutex_unlock(&m)));
    printf("unlock again: %s\n", name(pthread_mutex_unlock(&m)));
    printf("lock+unlock by another thread: %s\n", name(in_thread(lock_from_other)));
    return 0;
}
